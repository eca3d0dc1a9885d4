# Masks compared and combined in run space, never decoded: the overlap of two sorted,
# disjoint run lists, their union, intersection and difference, and the matrix of overlaps
# of two lists of masks.  Parsing the runs is parse.pxi's and coco.pxi's.

cdef enum:
    OP_UNION = 0
    OP_INTERSECTION = 1
    OP_DIFFERENCE = 2

#: The set operations of runs_combine, as module constants for the facade.
COMBINE_UNION, COMBINE_INTERSECTION, COMBINE_DIFFERENCE = (OP_UNION, OP_INTERSECTION,
                                                           OP_DIFFERENCE)


cdef int64_t overlap_area(const int64_t *a, Py_ssize_t na, const int64_t *b,
                          Py_ssize_t nb) noexcept nogil:
    """Pixels that two lists of sorted, disjoint runs share: one merge-like pass."""
    cdef Py_ssize_t i = 0, j = 0
    cdef int64_t total = 0, lo, hi, ea, eb
    while i < na and j < nb:
        ea = a[2 * i] + a[2 * i + 1]
        eb = b[2 * j] + b[2 * j + 1]
        lo = a[2 * i] if a[2 * i] > b[2 * j] else b[2 * j]
        hi = ea if ea < eb else eb
        if hi > lo:
            total += hi - lo
        if ea <= eb:
            i += 1
        else:
            j += 1
    return total


cdef int64_t runs_area(const int64_t *a, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    cdef int64_t total = 0
    for i in range(n):
        total += a[2 * i + 1]
    return total


cdef int combine(const int64_t *a, Py_ssize_t na, const int64_t *b, Py_ssize_t nb, int op,
                 RunBuf *out) noexcept nogil:
    """``a`` op ``b`` as sorted, disjoint, non-touching runs: a sweep over the run edges of
    both, a pixel on where the operation of "in a" and "in b" holds."""
    cdef Py_ssize_t i = 0, j = 0
    cdef int64_t x, na_next, nb_next, start = 0
    cdef bint in_a = False, in_b = False, on = False, now
    while i < 2 * na or j < 2 * nb:
        # The next edge: a run of a or b starts or ends there (starts at even k, ends odd).
        na_next = (a[i] if i % 2 == 0 else a[i - 1] + a[i]) if i < 2 * na else INT64_MAX
        nb_next = (b[j] if j % 2 == 0 else b[j - 1] + b[j]) if j < 2 * nb else INT64_MAX
        x = na_next if na_next < nb_next else nb_next
        while i < 2 * na and (a[i] if i % 2 == 0 else a[i - 1] + a[i]) == x:
            in_a = i % 2 == 0
            i += 1
        while j < 2 * nb and (b[j] if j % 2 == 0 else b[j - 1] + b[j]) == x:
            in_b = j % 2 == 0
            j += 1
        if op == OP_UNION:
            now = in_a or in_b
        elif op == OP_INTERSECTION:
            now = in_a and in_b
        else:
            now = in_a and not in_b
        if now and not on:
            start = x
        elif on and not now:
            if runbuf_push_merged(out, start, x - start) != OK:
                return E_NOMEM
        on = now
    return OK


cdef int union_two(const int64_t *a, Py_ssize_t na, const int64_t *b, Py_ssize_t nb,
                   RunBuf *out) noexcept nogil:
    """The union of two lists of sorted, disjoint runs, appended to ``out`` as sorted,
    disjoint, non-touching runs: the runs of both taken by start, each joined to the last
    when it overlaps or touches it."""
    cdef Py_ssize_t i = 0, j = 0
    cdef int64_t s, e, cs = 0, ce = -1
    cdef bint a_first
    if runbuf_reserve(out, out.n + na + nb) != OK:
        return E_NOMEM
    while i < na or j < nb:
        a_first = j >= nb or (i < na and a[2 * i] <= b[2 * j])
        if a_first:
            s, e = a[2 * i], a[2 * i] + a[2 * i + 1]
            i += 1
        else:
            s, e = b[2 * j], b[2 * j] + b[2 * j + 1]
            j += 1
        if s <= ce:
            if e > ce:
                ce = e
        else:
            if ce >= 0:
                out.data[2 * out.n] = cs
                out.data[2 * out.n + 1] = ce - cs
                out.n += 1
            cs, ce = s, e
    if ce >= 0:
        out.data[2 * out.n] = cs
        out.data[2 * out.n + 1] = ce - cs
        out.n += 1
    return OK


cdef inline void set_bit_range(uint64_t *bits, int64_t s, int64_t e) noexcept nogil:
    """Bits s .. e - 1 (e > s) of a bitmap of 64-bit words."""
    cdef int64_t first = s >> 6, last = (e - 1) >> 6
    cdef uint64_t head = ~(<uint64_t> 0) << (s & 63)
    cdef uint64_t tail = ~(<uint64_t> 0) >> (63 - ((e - 1) & 63))
    if first == last:
        bits[first] |= head & tail
        return
    bits[first] |= head
    if last > first + 1:
        memset(bits + first + 1, 0xFF, <size_t> (last - first - 1) * sizeof(uint64_t))
    bits[last] |= tail


cdef int union_bitmap(const RunBuf *lists, Py_ssize_t k, int64_t total,
                      RunBuf *out) noexcept nogil:
    """The union of k run lists inside ``total`` pixels through a bitmap of the mask:
    every run set, then the runs read back from where the bits change."""
    cdef int64_t words = (total + 63) >> 6, wi, p, start = 0
    cdef uint64_t x, changes, carry = 0
    cdef uint64_t *bits = <uint64_t *> calloc(<size_t> words + 1, sizeof(uint64_t))
    cdef Py_ssize_t i, r
    cdef bint on = False
    if bits == NULL:
        return E_NOMEM
    for i in range(k):
        for r in range(lists[i].n):
            if lists[i].data[2 * r + 1] > 0:
                set_bit_range(bits, lists[i].data[2 * r],
                              lists[i].data[2 * r] + lists[i].data[2 * r + 1])
    for wi in range(words):
        x = bits[wi]
        changes = x ^ ((x << 1) | carry)  # bit b: pixel 64 wi + b differs from the one before
        carry = x >> 63
        while changes:
            p = (wi << 6) + rle_ctz64(changes)
            changes &= changes - 1
            if on:
                if runbuf_push(out, start, p - start) != OK:
                    free(bits)
                    return E_NOMEM
            else:
                start = p
            on = not on
    free(bits)
    if on and runbuf_push(out, start, total - start) != OK:
        return E_NOMEM
    return OK


cdef int union_many(const RunBuf *lists, Py_ssize_t k, int64_t total,
                    RunBuf *out) noexcept nogil:
    """The union of k lists of sorted, disjoint runs inside ``total`` pixels, into ``out``
    (empty): through a bitmap when the mask's words are few next to the runs, else by
    joining lists two at a time, in rounds (each run is handled about log2(k) times)."""
    cdef Py_ssize_t i, n, runs = 0
    cdef RunBuf *level
    cdef RunBuf *joined
    cdef RunBuf *swap
    cdef int code = OK
    for i in range(k):
        runs += lists[i].n
    if k > 2 and (total + 63) >> 6 <= 4 * runs + 1024:
        return union_bitmap(lists, k, total, out)
    if k <= 2:
        return union_two(lists[0].data, lists[0].n, lists[1].data if k == 2 else NULL,
                         lists[1].n if k == 2 else 0, out)
    # Round by round, list i of the next round joins lists 2i and 2i + 1 of this one.
    level = <RunBuf *> calloc(<size_t> k, sizeof(RunBuf))
    joined = <RunBuf *> calloc(<size_t> k, sizeof(RunBuf))
    if level == NULL or joined == NULL:
        free(level)
        free(joined)
        return E_NOMEM
    for i in range((k + 1) // 2):       # (the first round reads the given lists)
        if code == OK:
            code = union_two(lists[2 * i].data, lists[2 * i].n,
                             lists[2 * i + 1].data if 2 * i + 1 < k else NULL,
                             lists[2 * i + 1].n if 2 * i + 1 < k else 0, &level[i])
    n = (k + 1) // 2
    while code == OK and n > 2:
        for i in range((n + 1) // 2):
            joined[i].n = 0
            if code == OK:
                code = union_two(level[2 * i].data, level[2 * i].n,
                                 level[2 * i + 1].data if 2 * i + 1 < n else NULL,
                                 level[2 * i + 1].n if 2 * i + 1 < n else 0, &joined[i])
        swap = level
        level = joined
        joined = swap
        n = (n + 1) // 2
    if code == OK:
        code = union_two(level[0].data, level[0].n, level[1].data, level[1].n, out)
    for i in range(k):
        runbuf_free(&level[i])
        runbuf_free(&joined[i])
    free(level)
    free(joined)
    return code


cdef const int64_t *runs_view(const int64_t[:, ::1] runs, Py_ssize_t *n) except NULL:
    """The rows of an ``(N, 2)`` run array (a pointer that is never NULL)."""
    cdef const int64_t *none = <const int64_t *> &n[0]  # (any pointer: nothing is read)
    if runs.shape[1] != 2:
        raise ValueError("runs must be an (N, 2) array")
    n[0] = runs.shape[0]
    return &runs[0, 0] if n[0] else none


def runs_overlap(const int64_t[:, ::1] a, const int64_t[:, ::1] b):
    """Pixels shared by two ``(N, 2)`` arrays of sorted, disjoint runs."""
    cdef Py_ssize_t na, nb
    cdef const int64_t *pa = runs_view(a, &na)
    cdef const int64_t *pb = runs_view(b, &nb)
    cdef int64_t total
    with nogil:
        total = overlap_area(pa, na, pb, nb)
    return total


def runs_measure(const int64_t[:, ::1] a, const int64_t[:, ::1] b):
    """``(shared, area of a, area of b)`` of two run arrays, in one call."""
    cdef Py_ssize_t na, nb
    cdef const int64_t *pa = runs_view(a, &na)
    cdef const int64_t *pb = runs_view(b, &nb)
    cdef int64_t shared, area_a, area_b
    with nogil:
        shared = overlap_area(pa, na, pb, nb)
        area_a = runs_area(pa, na)
        area_b = runs_area(pb, nb)
    return shared, area_a, area_b


def runs_combine(const int64_t[:, ::1] a, const int64_t[:, ::1] b, int op):
    """The union, intersection or difference (``COMBINE_*``) of two run arrays."""
    cdef Py_ssize_t na, nb
    cdef const int64_t *pa = runs_view(a, &na)
    cdef const int64_t *pb = runs_view(b, &nb)
    cdef RunBuf out = runbuf_empty()
    cdef int code
    if op not in (OP_UNION, OP_INTERSECTION, OP_DIFFERENCE):
        raise ValueError(f"no such operation {op}")
    try:
        with nogil:
            code = combine(pa, na, pb, nb, op, &out)
        if code != OK:
            raise_nomem()
        return runbuf_to_array(&out)
    finally:
        runbuf_free(&out)


cdef class OverlapMatrix:
    """Overlaps of every mask of list A with every mask of list B, each an ``(N, 2)`` array
    of sorted, disjoint runs: ``run(i0, i1)`` fills rows i0 .. i1-1 with the GIL released
    (pairs whose extents do not meet are 0 without a pass), ``result()`` is the
    ``(len(A), len(B))`` int64 matrix."""
    cdef list keep
    cdef const int64_t **pa
    cdef const int64_t **pb
    cdef Py_ssize_t *na
    cdef Py_ssize_t *nb
    cdef Py_ssize_t m, n
    cdef object matrix
    cdef int64_t *out

    def __cinit__(self, list a, list b):
        cdef Py_ssize_t i
        cdef const int64_t[:, ::1] view
        self.m, self.n = len(a), len(b)
        self.keep = []
        self.pa = <const int64_t **> calloc(<size_t> self.m + 1, sizeof(int64_t *))
        self.pb = <const int64_t **> calloc(<size_t> self.n + 1, sizeof(int64_t *))
        self.na = <Py_ssize_t *> calloc(<size_t> self.m + 1, sizeof(Py_ssize_t))
        self.nb = <Py_ssize_t *> calloc(<size_t> self.n + 1, sizeof(Py_ssize_t))
        if self.pa == NULL or self.pb == NULL or self.na == NULL or self.nb == NULL:
            raise_nomem()
        for i in range(self.m):
            view = a[i]
            self.keep.append(view)
            self.pa[i] = runs_view(view, &self.na[i])
        for i in range(self.n):
            view = b[i]
            self.keep.append(view)
            self.pb[i] = runs_view(view, &self.nb[i])
        self.matrix = np.zeros((self.m, self.n), np.int64)
        cdef int64_t[:, ::1] mv = self.matrix
        self.out = &mv[0, 0] if self.m and self.n else NULL

    def __dealloc__(self):
        free(self.pa)
        free(self.pb)
        free(self.na)
        free(self.nb)

    def run(self, Py_ssize_t i0, Py_ssize_t i1):
        cdef Py_ssize_t i, j
        cdef int64_t a0, a1
        check_range(i0, i1, self.m)
        with nogil:
            for i in range(i0, i1):
                if self.na[i] == 0:
                    continue
                a0 = self.pa[i][0]
                a1 = self.pa[i][2 * self.na[i] - 2] + self.pa[i][2 * self.na[i] - 1]
                for j in range(self.n):
                    if self.nb[j] == 0 or self.pb[j][0] >= a1 or (
                            self.pb[j][2 * self.nb[j] - 2] + self.pb[j][2 * self.nb[j] - 1]
                            <= a0):
                        continue
                    self.out[i * self.n + j] = overlap_area(self.pa[i], self.na[i],
                                                            self.pb[j], self.nb[j])

    def result(self):
        return self.matrix
