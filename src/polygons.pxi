# Polygons and boxes rasterised into COCO RLEs exactly as pycocotools' frPyObjects does,
# written from the algorithm: vertices scaled by 5 and rounded, each edge walked a point per
# step of its longer side, a toggle wherever the walk crosses the centre line of a pixel
# column, and the pixels between an odd number of toggles in a column are the polygon's.

ctypedef struct Toggles:
    # A toggle at pixel (x, y) is kept as x << 32 | y (both below 2**31), so that sorting
    # keys sorts pixels column-major; x * h + y is computed once they are sorted.
    int64_t *data
    int64_t *spare      # room for a copy (the sort's other half)
    Py_ssize_t n
    Py_ssize_t cap
    int64_t xmin, xmax
    Py_ssize_t *starts  # the sort's buckets, one per column in [xmin, xmax]
    Py_ssize_t nstarts

cdef enum:
    POLY_SCALE = 5
    # A longer walk means coordinates far outside any image (pycocotools would allocate
    # gigabytes for it): refused instead.
    POLY_MAX_STEPS = 1 << 28
    E_POLY_LONG = 14


# Coordinates are refused from this magnitude on (and NaN): scaled by 5, they stay far
# inside int64 (and the walk's length check refuses what is too long to walk anyway).
cdef double COORD_LIMIT = 2.0 ** 40


cdef inline int toggles_push(Toggles *tg, int64_t x, int64_t y) noexcept nogil:
    cdef int64_t *grown
    cdef Py_ssize_t cap
    if tg.n == tg.cap:
        cap = max(64, 2 * tg.cap)
        grown = <int64_t *> realloc(tg.data, <size_t> cap * sizeof(int64_t))
        if grown == NULL:
            return E_NOMEM
        tg.data = grown
        grown = <int64_t *> realloc(tg.spare, <size_t> cap * sizeof(int64_t))
        if grown == NULL:
            return E_NOMEM
        tg.spare = grown
        tg.cap = cap
    tg.data[tg.n] = x << 32 | y
    tg.n += 1
    if x < tg.xmin:
        tg.xmin = x
    if x > tg.xmax:
        tg.xmax = x
    return OK


cdef void toggles_clear(Toggles *tg) noexcept nogil:
    tg.n = 0
    tg.xmin = INT64_MAX
    tg.xmax = -1


cdef void toggles_free(Toggles *tg) noexcept nogil:
    free(tg.data)
    free(tg.spare)
    free(tg.starts)
    tg.data = tg.spare = NULL
    tg.starts = NULL
    tg.n = tg.cap = tg.nstarts = 0


cdef inline void insertion_sort(int64_t *a, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, j
    cdef int64_t p
    for i in range(1, n):
        p = a[i]
        j = i
        while j > 0 and a[j - 1] > p:
            a[j] = a[j - 1]
            j -= 1
        a[j] = p


cdef int sort_toggles(Toggles *tg) noexcept nogil:
    """Sort the toggles' keys: by insertion when few, else by column (a counting sort over
    the columns the polygon spans) and by insertion within each column, where toggles
    are few unless the polygon zigzags (then qsort)."""
    cdef Py_ssize_t i, k, n = tg.n, span, begin
    cdef Py_ssize_t *grown
    cdef int64_t *swap
    if n <= 32:
        insertion_sort(tg.data, n)
        return OK
    span = <Py_ssize_t> (tg.xmax - tg.xmin + 1)
    if span + 1 > tg.nstarts:
        grown = <Py_ssize_t *> realloc(tg.starts, <size_t> (span + 1) * sizeof(Py_ssize_t))
        if grown == NULL:
            return E_NOMEM
        tg.starts = grown
        tg.nstarts = span + 1
    memset(tg.starts, 0, <size_t> (span + 1) * sizeof(Py_ssize_t))
    for i in range(n):
        tg.starts[(tg.data[i] >> 32) - tg.xmin + 1] += 1
    for k in range(span):
        tg.starts[k + 1] += tg.starts[k]
    for i in range(n):                  # starts[k] moves to the end of column k's bucket
        k = <Py_ssize_t> ((tg.data[i] >> 32) - tg.xmin)
        tg.spare[tg.starts[k]] = tg.data[i]
        tg.starts[k] += 1
    begin = 0
    for k in range(span):
        if tg.starts[k] - begin > 32:
            qsort(tg.spare + begin, <size_t> (tg.starts[k] - begin), sizeof(int64_t),
                  compare_i64)
        else:
            insertion_sort(tg.spare + begin, tg.starts[k] - begin)
        begin = tg.starts[k]
    swap = tg.data
    tg.data = tg.spare
    tg.spare = swap
    return OK


cdef int compare_i64(const void *a, const void *b) noexcept nogil:
    cdef int64_t x = (<const int64_t *> a)[0], y = (<const int64_t *> b)[0]
    return (x > y) - (x < y)


cdef inline int64_t scaled(double c) noexcept nogil:
    """A coordinate on the 5x finer grid, rounded half up (toward zero below -0.5)."""
    return <int64_t> (POLY_SCALE * c + .5)


cdef inline int64_t ceil_fifth(int64_t a) noexcept nogil:
    return a // POLY_SCALE + (1 if a > 0 and a % POLY_SCALE else 0)


cdef inline int push_toggle(Toggles *tg, int64_t c, int64_t v, int64_t h) noexcept nogil:
    """The toggle where a step whose upper point is at fine row v crosses fine column
    c = 5x + 2 (the centre line of pixel column x): at the first pixel centre of column x
    below that point, clamped to [0, h]."""
    cdef int64_t y = ceil_fifth(v - 2)
    return toggles_push(tg, (c - 2) // POLY_SCALE, 0 if y < 0 else (h if y > h else y))


cdef inline int toggle_at(Toggles *tg, int64_t u, int64_t v, int64_t pu, int64_t pv,
                          int64_t h, int64_t w) noexcept nogil:
    """The walk stepped from (pu, pv) to (u, v) on the fine grid, pu != u.  It crosses the
    centre line of pixel column x if the fine column it leaves rightward (or enters
    leftward) is 5x + 2; the toggle is at the first pixel centre of that column below the
    walk's upper point (push_toggle)."""
    cdef int64_t c = u if u < pu else u - 1
    if c < 2 or (c - 2) % POLY_SCALE or (c - 2) // POLY_SCALE > w - 1:
        return OK
    return push_toggle(tg, c, v if v < pv else pv, h)


cdef int walk_wide(Toggles *tg, int64_t xs, int64_t ys, int64_t D, double s, int64_t h,
                   int64_t w) noexcept nogil:
    """An edge whose x changes on every step: from its lower-x end (xs, ys), point t is
    (xs + t, ys + s t rounded), t = 0 .. D.  The step between points t and t + 1 (in either
    direction) leaves fine column xs + t, so only the t with xs + t = 5x + 2 can toggle,
    at the higher of the two points."""
    cdef int64_t t, c, v0, v1, first, last
    # Fine columns 5x + 2 with 0 <= x <= w - 1, among xs .. xs + D - 1.
    first = max(xs, 2)
    first += ((2 - first) % POLY_SCALE + POLY_SCALE) % POLY_SCALE
    last = min(xs + D - 1, POLY_SCALE * (w - 1) + 2)
    c = first
    while c <= last:
        t = c - xs
        v0 = <int64_t> (ys + s * t + .5)
        v1 = <int64_t> (ys + s * (t + 1) + .5)
        if push_toggle(tg, c, v0 if v0 < v1 else v1, h) != OK:
            return E_NOMEM
        c += POLY_SCALE
    return OK


cdef inline int64_t tall_u(int64_t xs, double s, int64_t t) noexcept nogil:
    return <int64_t> (xs + s * t + .5)


cdef int walk_tall(Toggles *tg, int64_t xs, int64_t ys, int64_t D, double s, int64_t h,
                   int64_t w) noexcept nogil:
    """An edge whose y changes on every step: from its lower-y end, point t is (xs + s t
    rounded, ys + t), t = 0 .. D.  x is monotone in t and moves by at most one per step, so
    it crosses from fine column c to c + 1 exactly once for each c between its two ends;
    the toggle is at that step's upper point.  Only crossings with c = 5x + 2 count: each
    is found by estimate and checked against the exact rounding, not by walking."""
    cdef int64_t u0 = tall_u(xs, s, 0), uD = tall_u(xs, s, D), c, last, t
    cdef double estimate
    c = max(min(u0, uD), 2)
    c += ((2 - c) % POLY_SCALE + POLY_SCALE) % POLY_SCALE
    last = min(max(u0, uD) - 1, POLY_SCALE * (w - 1) + 2)
    while c <= last:
        # t: the first point past the crossing (x >= c + 1 going right, x <= c going left)
        estimate = (c + .5 - xs) / s
        t = 1 if not estimate >= 1 else (D if estimate > D else <int64_t> estimate)
        if s > 0:
            while t > 1 and tall_u(xs, s, t - 1) >= c + 1:
                t -= 1
            while t < D and tall_u(xs, s, t) < c + 1:
                t += 1
        else:
            while t > 1 and tall_u(xs, s, t - 1) <= c:
                t -= 1
            while t < D and tall_u(xs, s, t) > c:
                t += 1
        if push_toggle(tg, c, ys + t - 1, h) != OK:
            return E_NOMEM
        c += POLY_SCALE
    return OK


cdef int poly_walk(const double *xy, Py_ssize_t k, int64_t h, int64_t w,
                   Toggles *tg) noexcept nogil:
    """The toggles of the polygon with vertices (xy[2j], xy[2j + 1]), j < k, into ``tg``
    (unsorted; coordinates checked finite and small enough by the caller).

    Each edge is computed from its lower end, so both directions give the same points,
    and walked from its first vertex to its second; consecutive edges share a vertex, but
    rounding can put an edge's last point one fine column from the next edge's first,
    and that step counts too."""
    cdef Py_ssize_t j
    cdef int64_t xs, xe, ys, ye, dx, dy, D, u0, v0, u1, v1, pu = 0, pv = 0, steps = 0
    cdef bint flip, started = False
    cdef double s
    cdef int code = OK
    for j in range(k):
        xs, ys = scaled(xy[2 * j]), scaled(xy[2 * j + 1])
        xe, ye = scaled(xy[(2 * j + 2) % (2 * k)]), scaled(xy[(2 * j + 3) % (2 * k)])
        dx, dy = (xe - xs if xe > xs else xs - xe), (ye - ys if ye > ys else ys - ye)
        D = max(dx, dy)
        steps += D + 1
        if steps > POLY_MAX_STEPS:
            return E_POLY_LONG
        flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if flip:
            xs, xe = xe, xs
            ys, ye = ye, ys
        if D == 0:                     # one point, the vertex itself
            u0 = u1 = xs
            v0 = v1 = ys
        elif dx >= dy:
            s = <double> (ye - ys) / dx
            u0, v0 = xs, ys            # the points at t = 0 and t = D
            u1, v1 = xs + D, <int64_t> (ys + s * D + .5)
            code = walk_wide(tg, xs, ys, D, s, h, w)
        else:
            s = <double> (xe - xs) / dy
            u0, v0 = <int64_t> (xs + .5), ys
            u1, v1 = <int64_t> (xs + s * D + .5), ys + D
            code = walk_tall(tg, xs, ys, D, s, h, w)
        if code != OK:
            return code
        if flip:                       # walked from t = D to t = 0
            u0, v0, u1, v1 = u1, v1, u0, v0
        if started and u0 != pu:
            code = toggle_at(tg, u0, v0, pu, pv, h, w)
            if code != OK:
                return code
        pu, pv, started = u1, v1, True
    return OK


cdef inline int64_t key_pixel(int64_t key, int64_t h) noexcept nogil:
    """The pixel number x * h + y of a toggle's key x << 32 | y."""
    return (key >> 32) * h + (key & ((<int64_t> 1 << 32) - 1))


cdef Py_ssize_t toggles_counts(const Toggles *tg, int64_t h, int64_t total,
                               int64_t *counts) noexcept nogil:
    """COCO counts (room for tg.n + 1) of the sorted toggles: two at one pixel undo each
    other (pixel (x, h) is pixel (x + 1, 0)), any at ``total`` are dropped."""
    cdef Py_ssize_t i = 0, m = 0
    cdef int64_t p, last = 0
    while i < tg.n:
        p = key_pixel(tg.data[i], h)
        i += 1
        if i < tg.n and key_pixel(tg.data[i], h) == p:
            i += 1
            continue
        if p >= total:
            break
        counts[m] = p - last
        last = p
        m += 1
    counts[m] = total - last
    return m + 1


cdef object poly_string(const double *xy, Py_ssize_t k, int64_t h, int64_t w, Toggles *tg):
    """The compressed COCO counts (bytes) of one polygon; ``tg`` is reused scratch."""
    cdef int code
    cdef Py_ssize_t m, size
    cdef int64_t *counts
    cdef char *buf
    toggles_clear(tg)
    with nogil:
        code = poly_walk(xy, k, h, w, tg)
        if code == OK:
            code = sort_toggles(tg)
    if code == E_POLY_LONG:
        raise ValueError("its edges are too long to walk (coordinates far outside the image)")
    if code != OK:
        raise_nomem()
    counts = <int64_t *> malloc(<size_t> (tg.n + 1) * sizeof(int64_t))
    buf = <char *> malloc(<size_t> ((tg.n + 1) * RLE_COCO_MAX_CHARS + 2))
    try:
        if counts == NULL or buf == NULL:
            raise_nomem()
        with nogil:
            m = toggles_counts(tg, h, h * w, counts)
            size = coco_encode_counts(counts, m, buf)
        return PyBytes_FromStringAndSize(buf, size)
    finally:
        free(counts)
        free(buf)


def polygons_to_coco(list polygons, int64_t h, int64_t w):
    """The compressed COCO counts (bytes) of each polygon, a C-contiguous float64 array of
    at least 3 (x, y) points with finite coordinates of magnitude below 2**40: ValueError
    naming the polygon otherwise, or if it cannot be walked."""
    cdef Toggles tg
    cdef const double[::1] xy
    cdef Py_ssize_t i, j
    cdef list out = []
    if not is_mask_size(h, w):
        raise ValueError(f"not a mask shape: ({h}, {w})")
    tg.data, tg.spare, tg.starts, tg.n, tg.cap, tg.nstarts = NULL, NULL, NULL, 0, 0, 0
    try:
        for i in range(len(polygons)):
            xy = polygons[i]
            if xy.shape[0] % 2:
                raise ValueError(f"polygon {i} has an odd number of coordinates "
                                 f"({xy.shape[0]})")
            if xy.shape[0] < 6:
                raise ValueError(f"polygon {i} has {xy.shape[0] // 2} points; a polygon "
                                 "needs at least 3")
            for j in range(xy.shape[0]):
                if not -COORD_LIMIT < xy[j] < COORD_LIMIT:
                    raise ValueError(f"polygon {i}: coordinate {j} is {xy[j]}, not a finite "
                                     f"number of magnitude below 2**40")
            try:
                out.append(poly_string(&xy[0], xy.shape[0] // 2, h, w, &tg))
            except ValueError as err:
                raise ValueError(f"polygon {i}: {err}") from None
    finally:
        toggles_free(&tg)
    return out


def boxes_to_coco(const double[:, ::1] boxes, int64_t h, int64_t w):
    """The compressed COCO counts of each ``[x, y, width, height]`` box, rasterised as the
    polygon (x, y), (x, y + height), (x + width, y + height), (x + width, y)."""
    cdef Toggles tg
    cdef double corners[8]
    cdef double x, y
    cdef Py_ssize_t i, j
    cdef list out = []
    if boxes.shape[1] != 4:
        raise ValueError("boxes must be [x, y, width, height] rows")
    if not is_mask_size(h, w):
        raise ValueError(f"not a mask shape: ({h}, {w})")
    tg.data, tg.spare, tg.starts, tg.n, tg.cap, tg.nstarts = NULL, NULL, NULL, 0, 0, 0
    try:
        for i in range(boxes.shape[0]):
            for j in range(4):
                if not -COORD_LIMIT < boxes[i, j] < COORD_LIMIT or (j >= 2 and boxes[i, j] < 0):
                    raise ValueError(f"box {i}: value {j} is {boxes[i, j]}; a box is finite, "
                                     "its width and height at least 0")
            x, y = boxes[i, 0], boxes[i, 1]
            corners[:] = [x, y, x, y + boxes[i, 3], x + boxes[i, 2], y + boxes[i, 3],
                          x + boxes[i, 2], y]
            try:
                out.append(poly_string(corners, 4, h, w, &tg))
            except ValueError as err:
                raise ValueError(f"box {i}: {err}") from None
    finally:
        toggles_free(&tg)
    return out
