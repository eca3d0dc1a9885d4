# The decoder's writers: sorted, disjoint runs into the pixels of any strided layout, along
# memory, across it (sweeps, line by line from toggles, 32-column groups, tiles) or flat.
# Runs arrive checked; parsing is parse.pxi's, the binding classes are decode.pxi's.

cdef extern from "rle_fill.h" nogil:
    void rle_expand64(uint64_t bits, uint8_t value, uint8_t *dst, Py_ssize_t n)
    void rle_expand16(uint32_t bits, uint8_t value, uint8_t *dst)
    void rle_fill_bytes(uint8_t *dst, uint8_t value, Py_ssize_t n)
    Py_ssize_t rle_write_line(uint8_t *dst, const int64_t *runs, Py_ssize_t n, int64_t total,
                              uint8_t value, int64_t origin)


cdef inline void fill(char *p, int64_t count, Py_ssize_t stride, int itemsize,
                      uint64_t pattern) noexcept nogil:
    """Store ``count`` items of ``pattern`` at ``p``, ``stride`` bytes apart."""
    cdef int64_t k
    cdef uint8_t v8 = <uint8_t> pattern
    cdef uint16_t v16 = <uint16_t> pattern
    cdef uint32_t v32 = <uint32_t> pattern
    if itemsize == 1:
        if stride == 1:
            rle_fill_bytes(<uint8_t *> p, v8, count)
        else:
            for k in range(count):
                p[k * stride] = <char> v8
    elif itemsize == 2:
        for k in range(count):
            memcpy(p + k * stride, &v16, 2)
    elif itemsize == 4:
        for k in range(count):
            memcpy(p + k * stride, &v32, 4)
    else:
        for k in range(count):
            memcpy(p + k * stride, &pattern, 8)


ctypedef struct Cursor:
    # The outer line o holding a pixel, and its first pixel o * L.  Pixels visited in
    # increasing order step it forward without a 64-bit division per run.
    int64_t o
    int64_t first


cdef inline void cursor_seek(Cursor *c, int64_t p, int64_t L) noexcept nogil:
    if p - c.first >= 8 * L or p < c.first:
        c.o = p // L
        c.first = c.o * L
    else:
        while p >= c.first + L:
            c.o += 1
            c.first += L


ctypedef struct Sweep:
    # State of a run-space transpose: for every inner index i whose pixel in the current outer
    # line is on, open_at[i] is the outer line where its perpendicular segment began.
    int64_t *open_at
    int64_t *prev       # interval bounds (inner) of the previous outer line, then a sentinel
    int64_t *cur        # those of the current outer line
    Py_ssize_t nprev    # intervals in prev
    Py_ssize_t ncur


cdef int sweep_init(Sweep *sw, int64_t L) noexcept nogil:
    # A line holds at most (L + 1) // 2 separate intervals; one more slot for the sentinel.
    cdef size_t bounds = <size_t> (L // 2 + 2) * 2 * sizeof(int64_t)
    sw.open_at = <int64_t *> malloc(<size_t> L * sizeof(int64_t))
    sw.prev = <int64_t *> malloc(bounds)
    sw.cur = <int64_t *> malloc(bounds)
    sw.nprev = 0
    sw.ncur = 0
    if sw.open_at == NULL or sw.prev == NULL or sw.cur == NULL:
        return E_NOMEM
    return OK


cdef void sweep_free(Sweep *sw) noexcept nogil:
    free(sw.open_at)
    free(sw.prev)
    free(sw.cur)


cdef inline void fill_across(const Grid *g, int64_t i, int64_t o0, int64_t o1,
                             uint64_t pattern) noexcept nogil:
    """Fill outer lines [o0, o1) at inner index i: a stretch of one memory line."""
    if o1 > o0:
        fill(g.ptr + i * g.s_in + o0 * g.s_out, o1 - o0, g.s_out, g.itemsize, pattern)


cdef void zero_grid(const Grid *g) noexcept nogil:
    """Set every pixel to 0: one memset when the lines are back to back in memory."""
    cdef int64_t i
    if g.s_out == g.itemsize and g.s_in == g.M * g.itemsize:
        memset(g.ptr, 0, <size_t> (g.L * g.M * g.itemsize))
        return
    for i in range(g.L):
        fill_across(g, i, 0, g.M, 0)


cdef inline int close_segment(const Sweep *sw, int64_t i, int64_t o, const Grid *g,
                              uint64_t pattern, RunBuf *sink) noexcept nogil:
    """Pixel ``i`` turned off at outer line ``o``: fill its segment, or record it in
    ``sink`` as the pairs (i, o0), (o, 0)."""
    if sink == NULL:
        fill_across(g, i, sw.open_at[i], o, pattern)
        return OK
    if runbuf_push(sink, i, sw.open_at[i]) != OK or runbuf_push(sink, o, 0) != OK:
        return E_NOMEM
    return OK


cdef int sweep_step(Sweep *sw, int64_t o, const Grid *g, uint64_t pattern,
                    RunBuf *sink) noexcept nogil:
    """Move from the previous outer line to line ``o`` (whose intervals are in ``cur``):
    close the segments of pixels that turned off, open those that turned on.  A closed
    segment is filled, or with a ``sink`` recorded as the pairs (i, o0), (o1, 0).

    One merge of the two sorted bound lists: between consecutive bounds a pixel range is
    in both lines, in neither, or in just one (turned off or on)."""
    cdef const int64_t *a = sw.prev
    cdef const int64_t *b = sw.cur
    cdef Py_ssize_t ia = 0, ib = 0
    cdef int64_t x = 0, y, ya, yb, i
    cdef int64_t *tmp
    cdef int64_t a0, a1, b0, b1
    if sw.nprev == 1 and sw.ncur == 1:
        # The common case, without the merge's data-dependent branches: A minus B for single
        # intervals is [a0, min(a1, b0)) and [max(a0, b1), a1), whatever their overlap.
        a0 = a[0]
        a1 = a[1]
        b0 = b[0]
        b1 = b[1]
        for i in range(a0, min(a1, b0)):
            if close_segment(sw, i, o, g, pattern, sink) != OK:
                return E_NOMEM
        for i in range(max(a0, b1), a1):
            if close_segment(sw, i, o, g, pattern, sink) != OK:
                return E_NOMEM
        for i in range(b0, min(b1, a0)):
            sw.open_at[i] = o
        for i in range(max(b0, a1), b1):
            sw.open_at[i] = o
        sw.prev = sw.cur
        sw.cur = <int64_t *> a
        sw.ncur = 0
        return OK
    sw.prev[2 * sw.nprev] = INT64_MAX
    sw.cur[2 * sw.ncur] = INT64_MAX
    while True:
        ya = a[ia]
        yb = b[ib]
        y = ya if ya < yb else yb
        if y == INT64_MAX:
            break
        if (ia & 1) and not (ib & 1):
            for i in range(x, y):
                if close_segment(sw, i, o, g, pattern, sink) != OK:
                    return E_NOMEM
        elif (ib & 1) and not (ia & 1):
            for i in range(x, y):
                sw.open_at[i] = o
        ia += ya == y
        ib += yb == y
        x = y
    tmp = sw.prev
    sw.prev = sw.cur
    sw.cur = tmp
    sw.nprev = sw.ncur
    sw.ncur = 0
    return OK


cdef int sweep_runs(const RunBuf *rb, const Grid *g, uint64_t pattern,
                    RunBuf *sink, Py_ssize_t sink_limit) noexcept nogil:
    """Transpose sorted, disjoint runs whose lines cut across memory into perpendicular
    segments that run along it (work ~ runs + boundary length, not area).  A ``sink`` that
    comes to hold more than ``sink_limit`` pairs ends the sweep with E_MANY_SEGMENTS."""
    cdef Sweep sw
    cdef Cursor cur
    cdef Py_ssize_t r
    cdef int64_t s, e, o, i0, i1, line = -1
    cdef int code = sweep_init(&sw, g.L)
    cur.o = 0
    cur.first = 0
    for r in range(rb.n):
        if code != OK:
            break
        s = rb.data[2 * r]
        e = s + rb.data[2 * r + 1]
        while s < e and code == OK:
            cursor_seek(&cur, s, g.L)
            o = cur.o
            i0 = s - cur.first
            i1 = e - cur.first
            if i1 > g.L:
                i1 = g.L
            if o != line:
                if line >= 0:
                    code = sweep_step(&sw, line, g, pattern, sink)
                    if code == OK and o > line + 1 and sw.nprev > 0:
                        code = sweep_step(&sw, line + 1, g, pattern, sink)
                    if code == OK and sink != NULL and sink.n > sink_limit:
                        code = E_MANY_SEGMENTS
                line = o
            sw.cur[2 * sw.ncur] = i0
            sw.cur[2 * sw.ncur + 1] = i1
            sw.ncur += 1
            s = cur.first + i1
    if line >= 0 and code == OK:
        code = sweep_step(&sw, line, g, pattern, sink)
        if code == OK:
            code = sweep_step(&sw, line + 1, g, pattern, sink)
    sweep_free(&sw)
    return code


cdef int place_toggles(const RunBuf *rb, int64_t L, int64_t *at,
                       int32_t **toggles) noexcept nogil:
    """The toggles of runs whose inner lines have L pixels, sorted by inner index: the
    outer line of every run's start and of its end within each outer line it crosses (an
    end at L is none).  ``at`` (L + 1 zeros) ends with at[i] one past index i's toggles;
    within an index they come in the runs' order, so by outer line.  A counting sort: the
    runs are walked twice, to count and then to place."""
    cdef int64_t s, e, i0, i1, k
    cdef Py_ssize_t r
    cdef int place
    cdef Cursor cur
    toggles[0] = NULL
    for place in range(2):
        cur.o = 0
        cur.first = 0
        if place:
            for k in range(L):
                at[k + 1] += at[k]
            toggles[0] = <int32_t *> malloc(<size_t> (at[L] + 1) * sizeof(int32_t))
            if toggles[0] == NULL:
                return E_NOMEM
        for r in range(rb.n):
            s = rb.data[2 * r]
            e = s + rb.data[2 * r + 1]
            while s < e:
                cursor_seek(&cur, s, L)
                i0 = s - cur.first
                i1 = e - cur.first
                if place:
                    toggles[0][at[i0]] = <int32_t> cur.o
                    at[i0] += 1
                    if i1 < L:
                        toggles[0][at[i1]] = <int32_t> cur.o
                        at[i1] += 1
                else:
                    at[i0 + 1] += 1
                    if i1 < L:
                        at[i1 + 1] += 1
                s = cur.first + (i1 if i1 < L else L)
    return OK


cdef inline int64_t toggle_bounds(const int32_t *toggles, int64_t k, int64_t n,
                                  int64_t *adds) noexcept nogil:
    """The toggles ``toggles[k:n]`` (sorted outer lines) as sorted segment bounds in
    ``adds`` (pixel o is the segment [o, o + 1), adjacent ones joined); returns how many.
    Two toggles of one outer line in a row (a run ending where the next starts) cancel."""
    cdef int64_t c, nt = 0
    while k < n:
        c = toggles[k]
        if k + 1 < n and toggles[k + 1] == c:
            k += 2
            continue
        if nt and adds[nt - 1] == c:
            nt -= 1
        else:
            adds[nt] = c
            nt += 1
        adds[nt] = c + 1
        nt += 1
        k += 1
    return nt


cdef inline int64_t merge_bounds(const int64_t *a, int64_t na, const int64_t *b, int64_t nb,
                                 int64_t *out) noexcept nogil:
    """The bounds of the segments of ``a`` flipped by those of ``b`` (both sorted): their
    merge, where a bound in both cancels; returns how many went to ``out``."""
    cdef int64_t i = 0, j = 0, w = 0
    while i < na and j < nb:
        if a[i] < b[j]:
            out[w] = a[i]
            i += 1
        elif b[j] < a[i]:
            out[w] = b[j]
            j += 1
        else:
            i += 1
            j += 1
            continue
        w += 1
    while i < na:
        out[w] = a[i]
        i += 1
        w += 1
    while j < nb:
        out[w] = b[j]
        j += 1
        w += 1
    return w


cdef void fill_line_segments(const Grid *g, int64_t i, const int64_t *bounds, int64_t nb,
                             uint64_t pattern, bint zeroed) noexcept nogil:
    """Memory line i: ``pattern`` on the segments bounds[0]:bounds[1], ..., zeros between,
    each pixel written once, or (mostly background) zeroed in one call and its few
    segments set while it is in cache.  A ``zeroed`` line gets its segments only."""
    cdef int64_t j, done = 0, covered = 0
    if not zeroed:
        for j in range(0, nb, 2):
            covered += bounds[j + 1] - bounds[j]
        if covered * 4 >= g.M:
            for j in range(0, nb, 2):
                fill_across(g, i, done, bounds[j], 0)
                fill_across(g, i, bounds[j], bounds[j + 1], pattern)
                done = bounds[j + 1]
            fill_across(g, i, done, g.M, 0)
            return
        fill_across(g, i, 0, g.M, 0)
    for j in range(0, nb, 2):
        fill_across(g, i, bounds[j], bounds[j + 1], pattern)


cdef int write_across_lines(const RunBuf *rb, const Grid *g, uint64_t pattern,
                            bint zeroed) noexcept nogil:
    """Every pixel (runs and zeros; only the runs into ``zeroed`` memory) of a mask whose
    inner lines (L pixels) cut across memory, memory line by memory line, each written once
    and front to back.

    Memory line i differs from line i - 1 at the outer lines whose runs start or end at
    inner index i (place_toggles).  A line is kept as the sorted bounds of its segments
    (set from bounds[0] to bounds[1], and so on); line i's toggles, as bounds, are merged
    in (equal bounds cancel), and the line is filled segment by segment.  Work: the output
    once, plus the toggles and each line's bounds, however long the runs across memory."""
    cdef int64_t L = g.L, M = g.M, i, j, k, n = 0, nb = 0, nt
    cdef int code = OK
    cdef int32_t *toggles = NULL
    cdef int64_t *at = <int64_t *> calloc_i64(L + 1)
    cdef int64_t *room = <int64_t *> malloc(<size_t> (3 * (M + 2)) * sizeof(int64_t))
    cdef int64_t *bounds = room
    cdef int64_t *merged = room + (M + 2)
    cdef int64_t *adds = room + 2 * (M + 2)
    cdef int64_t *swap
    cdef uint8_t *line = NULL
    cdef uint8_t value = <uint8_t> pattern
    cdef bint bytewise = g.itemsize == 1 and g.s_out == 1
    if at == NULL or room == NULL or place_toggles(rb, L, at, &toggles) != OK:
        code = E_NOMEM
    else:
        for i in range(L):
            k = n
            n = at[i]
            if line != NULL:
                for k in range(k, n):
                    line[toggles[k]] ^= value
            else:
                nt = toggle_bounds(toggles, k, n, adds)
                if nt:
                    nb = merge_bounds(bounds, nb, adds, nt, merged)
                    swap = bounds
                    bounds = merged
                    merged = swap
                if zeroed or not (bytewise and nb > M // 8):
                    fill_line_segments(g, i, bounds, nb, pattern, zeroed)
                    continue
                # Segments of under 16 pixels on average (stripes across the lines): from
                # here on the line is kept as bytes, flipped where toggled, and copied out
                # (not into zeroed memory, which may hold other sources' pixels).
                line = <uint8_t *> adds  # (room for M + 2 bounds: no longer needed)
                memset(line, 0, <size_t> M)
                for j in range(0, nb, 2):
                    memset(line + bounds[j], value, <size_t> (bounds[j + 1] - bounds[j]))
            memcpy(g.ptr + i * g.s_in, line, <size_t> M)
    free(at)
    free(toggles)
    free(room)
    return code


cdef int write_across_groups(const RunBuf *rb, const Grid *g, uint8_t value) noexcept nogil:
    """Runs whose lines (L pixels) cut across memory, into a zeroed byte mask whose outer
    lines are adjacent bytes (``s_out == 1``), 32 outer lines at a time.

    Each part of a run in one outer line toggles that line's bit in a 32-bit word at its
    first inner index and again past its last; a running XOR down the inner indices then
    gives each memory line's 32 bytes, made with SSE2 compares and two stores.  No per-line
    bookkeeping and hardly a data-dependent branch: the work is the toggles plus, for each
    group, the memory lines between its first and last run.  (Groups of 32 beat 16 and 64
    on severstal: fewer lines to walk than 16, fewer bytes of zeros rewritten than 64.)"""
    cdef int64_t L = g.L, M = g.M
    cdef int64_t c0, cw, stop, s = -1, e, lo, hi, i, i0, i1
    cdef Py_ssize_t r = 0
    cdef Cursor cur
    cdef uint32_t m
    cdef uint8_t *base = <uint8_t *> g.ptr
    cdef Py_ssize_t at
    cdef uint32_t *toggles = <uint32_t *> calloc_i64(L // 2 + 1)  # L + 1 words, zeroed
    if toggles == NULL:
        return E_NOMEM
    cur.o = 0
    cur.first = 0
    for c0 in range(0, M, 32):
        cw = 32 if M - c0 >= 32 else M - c0
        stop = (c0 + cw) * L
        lo = L
        hi = 0
        while r < rb.n:
            if s < 0:
                s = rb.data[2 * r]
            if s >= stop:
                break
            e = rb.data[2 * r] + rb.data[2 * r + 1]
            cursor_seek(&cur, s, L)
            i0 = s - cur.first
            i1 = e - cur.first
            if i1 > L:
                i1 = L
            toggles[i0] ^= (<uint32_t> 1) << (cur.o - c0)
            toggles[i1] ^= (<uint32_t> 1) << (cur.o - c0)
            lo = min(lo, i0)
            hi = max(hi, i1)
            s = cur.first + i1
            if s >= e:
                r += 1
                s = -1
        if hi <= lo:
            continue  # no run in these lines
        # (A byte offset, not a pointer, steps down the lines: it may pass the end.)
        at = c0 + lo * g.s_in
        m = 0
        if cw == 32:
            for i in range(lo, hi):
                m ^= toggles[i]
                toggles[i] = 0
                rle_expand16(m, value, base + at)
                rle_expand16(m >> 16, value, base + at + 16)
                at += g.s_in
        else:
            for i in range(lo, hi):
                m ^= toggles[i]
                toggles[i] = 0
                rle_expand64(m, value, base + at, cw)
                at += g.s_in
        toggles[hi] = 0
    free(toggles)
    return OK


cdef enum:
    ZERO_FIRST_BYTES = 1 << 19  # outputs up to this size are zeroed first (within L2)
    SWEEP_ZEROED_BYTES = 1 << 22  # zeroed ones up to this size take the sweep's scattered
                                  # writes (mostly in cache), larger ones go line by line


cdef int write_across(const RunBuf *rb, const Grid *g, uint64_t pattern,
                      bint zeroed) noexcept nogil:
    """Write runs whose lines cut across memory.  Into zeroed memory, only the runs: memory
    line by memory line if the output is large and the runs many for the lines to walk (a
    whole-slide mask: its fresh pages then fill in order), else transposed segment by
    segment (sweep_runs: work ~ runs and boundary).  A byte mask small enough to stay in
    cache is zeroed, then given its runs 32 outer lines at a time (write_across_groups);
    anything else is written memory line by memory line, zeros and segments alike
    (write_across_lines): one sequential pass over the output."""
    if zeroed:
        if (g.L * g.M * g.itemsize > SWEEP_ZEROED_BYTES and 4 * rb.n >= g.L
                and g.M <= INT32_MAX):
            return write_across_lines(rb, g, pattern, True)
        return sweep_runs(rb, g, pattern, NULL, 0)
    if g.L * g.M * g.itemsize <= ZERO_FIRST_BYTES and g.itemsize == 1 and g.s_out == 1:
        zero_grid(g)
        return write_across_groups(rb, g, <uint8_t> pattern)
    if g.M > INT32_MAX:  # (outer lines numbered past int32: hardly a mask)
        zero_grid(g)
        return sweep_runs(rb, g, pattern, NULL, 0)
    return write_across_lines(rb, g, pattern, False)


# Column-major runs into a row-major byte mask through tiles: the pixels of up to 64
# columns are written as one straight line (short runs as overlapping stores, no
# bookkeeping per line), in cache, then transposed into the rows 16 x 16 bytes at a time.
cdef extern from "rle_transpose.h" nogil:
    void rle_transpose_bytes(const uint8_t *src, Py_ssize_t src_stride, uint8_t *dst,
                             Py_ssize_t dst_stride, Py_ssize_t rows, Py_ssize_t cols)

cdef enum:
    TILE_BYTES = 1 << 20        # a tile's lines fit in L2 ...
    TILE_MAX_LINE = 1 << 17     # ... down to 16 of them; longer lines go pixel by pixel


cdef int write_across_tiles(const RunBuf *rb, const Grid *g, uint8_t value) noexcept nogil:
    """Write every pixel (runs and zeros) of a byte mask whose inner lines (L pixels) cut
    across memory and whose outer lines are adjacent bytes (``s_out == 1``): the pixels of
    ``cw`` consecutive outer lines are consecutive in the numbering, so they are written as
    one line of a tile (rle_write_line, runs clipped to it) and the tile is transposed
    into memory."""
    cdef int64_t L = g.L, M = g.M
    cdef int64_t c0 = 0, cw, width = 64, lo, hi
    cdef Py_ssize_t r = 0, r1
    cdef uint8_t *tile
    while width > 16 and width * L > TILE_BYTES:
        width //= 2
    tile = <uint8_t *> malloc(<size_t> (width * L))
    if tile == NULL:
        return E_NOMEM
    while c0 < M:
        cw = width if M - c0 >= width else M - c0
        lo = c0 * L
        hi = lo + cw * L
        r1 = r + rle_write_line(tile, rb.data + 2 * r, rb.n - r, hi - lo, value, lo)
        rle_transpose_bytes(tile, L, <uint8_t *> g.ptr + c0, g.s_in, L, cw)
        # The next tile starts with the rest of a run that passes this one's end.
        r = r1 - 1 if r1 > r and rb.data[2 * r1 - 2] + rb.data[2 * r1 - 1] > hi else r1
        c0 += cw
    free(tile)
    return OK


cdef void fill_pixels(const Grid *g, int64_t p0, int64_t p1, uint64_t pattern, int layout,
                      Cursor *cur) noexcept nogil:
    """Fill pixels [p0, p1) of the numbering, one piece per inner line unless flat.
    Calls must come in increasing pixel order (``cur`` tracks the line)."""
    cdef int64_t i0, i1
    if layout == LAYOUT_FLAT:
        if p1 > p0:
            fill(g.ptr + p0 * g.s_in, p1 - p0, g.s_in, g.itemsize, pattern)
        return
    while p0 < p1:
        cursor_seek(cur, p0, g.L)
        i0 = p0 - cur.first
        i1 = p1 - cur.first
        if i1 > g.L:
            i1 = g.L
        fill(g.ptr + cur.o * g.s_out + i0 * g.s_in, i1 - i0, g.s_in, g.itemsize, pattern)
        p0 = cur.first + i1


cdef enum:
    # Below this mean run length, writing across memory pixel by pixel beats the transpose.
    SCATTER_MEAN_RUN = 8


cdef int write_runs(const RunBuf *rb, Grid *g, uint64_t pattern, bint zeroed) noexcept nogil:
    """Set the pixels of sorted, disjoint runs to ``pattern``.  ``zeroed``: the output is
    already all zeros, so only the runs are written; otherwise every other pixel is set to
    0 in the same pass."""
    cdef Py_ssize_t r
    cdef int64_t s, e, area = 0, done = 0
    cdef Cursor cur
    cdef int layout = grid_layout(g)
    cur.o = 0
    cur.first = 0
    if layout == LAYOUT_FLAT and g.itemsize == 1 and g.s_in == 1 and not zeroed:
        rle_write_line(<uint8_t *> g.ptr, rb.data, rb.n, g.L * g.M, <uint8_t> pattern, 0)
        return OK
    if layout == LAYOUT_ACROSS:
        if SCATTER_MEAN_RUN * rb.n <= g.L * g.M:  # (else the runs are short for certain)
            for r in range(rb.n):
                area += rb.data[2 * r + 1]
        if area >= SCATTER_MEAN_RUN * rb.n:
            return write_across(rb, g, pattern, zeroed)
        # Short runs (noise): through tiles for bytes (which write the zeros too: not into
        # a mask that gathers several sources), else pixel by pixel.
        if not zeroed and g.itemsize == 1 and g.s_out == 1 and g.L <= TILE_MAX_LINE:
            return write_across_tiles(rb, g, <uint8_t> pattern)
        if not zeroed:
            zero_grid(g)
            zeroed = True
        layout = LAYOUT_ALONG
    for r in range(rb.n):
        s = rb.data[2 * r]
        e = s + rb.data[2 * r + 1]
        if not zeroed:
            fill_pixels(g, done, s, 0, layout, &cur)
        fill_pixels(g, s, e, pattern, layout, &cur)
        done = e
    if not zeroed:
        fill_pixels(g, done, g.L * g.M, 0, layout, &cur)
    return OK
