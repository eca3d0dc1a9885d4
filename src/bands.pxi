# One large mask split into bands of memory lines, a band per thread with the GIL released:
# the shared _Bands, BandWrite (decode into fresh memory) and BandScan (encode), and the cut
# of runs to a window of lines (window_runs: a band, or slides.pxi's windows).  Items of a
# batch in threads are decode.pxi's and encode.pxi's.

cdef class _Bands:
    """Work on one mask split into ``nbands`` bands of memory lines, a band per call of
    ``band(k)`` with the GIL released; ``run(k0, k1)`` is what each thread calls."""
    cdef Py_ssize_t nbands
    cdef int *codes

    cdef int start(self, Py_ssize_t nbands) except -1:
        """Room for each band's result: the first thing a subclass's __cinit__ does."""
        if nbands < 1:
            raise ValueError(f"at least one band, not {nbands}")
        self.nbands = nbands
        self.codes = <int *> calloc(<size_t> nbands + 1, sizeof(int))
        if self.codes == NULL:
            raise_nomem()
        return 0

    def __dealloc__(self):
        free(self.codes)

    cdef int band(self, Py_ssize_t k) noexcept nogil:
        return OK

    def run(self, Py_ssize_t k0, Py_ssize_t k1):
        """Do bands k0 .. k1-1."""
        cdef Py_ssize_t k
        check_range(k0, k1, self.nbands)
        with nogil:
            for k in range(k0, k1):
                self.codes[k] = self.band(k)

    def check(self):
        """Raise MemoryError if a band ran out of memory."""
        cdef Py_ssize_t k
        for k in range(self.nbands):
            if self.codes[k] != OK:
                raise_nomem()

    cdef (int64_t, int64_t) lines(self, int64_t n, Py_ssize_t k) noexcept nogil:
        """Band k's share [a, b) of n lines."""
        return n * k // self.nbands, n * (k + 1) // self.nbands


cdef Py_ssize_t first_run_after(const int64_t *runs, Py_ssize_t n, int64_t x,
                                bint by_end) noexcept nogil:
    """The first of n sorted runs (start, length) whose end (or start) is above x (or at
    least x), by bisection.  Sums are unsigned: runs that a caller changes meanwhile give
    a wrong index, never undefined behaviour."""
    cdef Py_ssize_t lo = 0, hi = n, mid
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if (<uint64_t> runs[2 * mid] + <uint64_t> runs[2 * mid + 1] > <uint64_t> x if by_end
                else runs[2 * mid] >= x):
            hi = mid
        else:
            lo = mid + 1
    return lo


cdef int window_runs(const int64_t *runs, Py_ssize_t n, int64_t shift, int64_t total,
                     int64_t L, int64_t o0, int64_t o1, int64_t i0, int64_t i1,
                     RunBuf *out) noexcept nogil:
    """The parts of n sorted, disjoint runs (starts ``shift`` above their 0-based pixel; a
    mask of ``total`` pixels in outer lines of L) inside outer lines [o0, o1) and inner
    indices [i0, i1), numbered as the window's own mask of outer lines of i1 - i0 pixels.

    Only the runs between the window's first and last pixel are read.  ``runs`` may be a
    caller's checked array that another thread changes meanwhile: each value is read once,
    and a run outside the mask or out of order is skipped, so ``out`` stays sorted and
    inside the window whatever happens."""
    cdef Py_ssize_t r
    cdef int64_t s, e, length, a, b, first, last, at, n_in = i1 - i0, done = 0
    cdef Cursor cur
    cur.o = 0
    cur.first = 0
    out.n = 0
    if o0 >= o1 or i0 >= i1:
        return OK
    first = o0 * L + i0
    last = (o1 - 1) * L + i1           # one past the window's last pixel
    r = first_run_after(runs, n, first + shift, True)
    while r < n:
        s = runs[2 * r]
        length = runs[2 * r + 1]
        r += 1
        if s < shift or length <= 0 or s - shift >= total or length > total - (s - shift):
            continue
        s -= shift
        if s >= last:
            break
        e = min(s + length, last)
        s = max(s, first)
        while s < e:                   # the run's part in each outer line it meets
            cursor_seek(&cur, s, L)
            a = max(s - cur.first, i0)
            b = min(e - cur.first, i1)
            at = (cur.o - o0) * n_in + a - i0
            if a < b and at >= done:
                if runbuf_push_merged(out, at, b - a) != OK:
                    return E_NOMEM
                done = at + b - a
            s = cur.first + L
    return OK


cdef inline void cut_run(const RunBuf *rb, Py_ssize_t r, int64_t p0, int64_t p1,
                         int64_t *pair) noexcept nogil:
    """Run r cut to pixels [p0, p1), as (start, length) at pair."""
    pair[0] = max(rb.data[2 * r], p0)
    pair[1] = min(rb.data[2 * r] + rb.data[2 * r + 1], p1) - pair[0]


cdef class BandWrite(_Bands):
    """One large decode into zeros, written in bands of memory lines, the bands in threads
    (``run``): the source is parsed and checked whole first (a malformed one raises
    KernelError before any write), then each band writes the parts of the runs in its
    lines.  Bands of memory lines touch pages of their own, so the threads do not wait on
    each other's first touches of fresh memory."""
    cdef RunBuf rb
    cdef _Buffer buf
    cdef Grid g
    cdef bint inner     # memory lines are g's inner indices (its lines cut across memory)
    cdef uint64_t pattern

    def __cinit__(self, object rle, object out, int64_t h, int64_t w, bint order_f,
                  int64_t base, bint relative, bint strict, uint64_t pattern,
                  Py_ssize_t nbands):
        self.start(nbands)
        self.buf = _Buffer(out, True)
        check_out_view(&self.buf.view, h, w, False)
        parse_into(rle, &self.rb, base, h * w, relative, strict, False)
        grid_init(&self.g, <char *> self.buf.view.buf, h, w, self.buf.view.strides[0],
                  self.buf.view.strides[1], <int> self.buf.view.itemsize, order_f)
        self.inner = absval(self.g.s_in) > absval(self.g.s_out)
        self.pattern = pattern

    def __dealloc__(self):
        runbuf_free(&self.rb)

    cdef int band(self, Py_ssize_t k) noexcept nogil:
        cdef Grid part = self.g
        cdef RunBuf runs
        cdef int64_t a, b
        cdef int64_t edges[4]
        cdef Py_ssize_t lo, hi
        cdef int code = OK
        if self.inner:
            # Every run may have parts in these lines: copied out, numbered in the band.
            a, b = self.lines(self.g.L, k)
            runbuf_init(&runs)
            part.ptr = self.g.ptr + a * self.g.s_in
            part.L = b - a
            if b > a:
                code = window_runs(self.rb.data, self.rb.n, 0, self.g.L * self.g.M,
                                   self.g.L, 0, self.g.M, a, b, &runs)
                if code == OK:
                    code = write_runs(&runs, &part, self.pattern, True)
            runbuf_free(&runs)
            return code
        # Outer lines [a, b): pixels [a * L, b * L), the runs between, its two ends cut.
        a, b = self.lines(self.g.M, k)
        lo = first_run_after(self.rb.data, self.rb.n, a * self.g.L, True)
        hi = first_run_after(self.rb.data, self.rb.n, b * self.g.L, False)
        if hi - lo > 2:
            runs.data = self.rb.data + 2 * (lo + 1)
            runs.n = hi - lo - 2
            code = write_runs(&runs, &part, self.pattern, True)
        # The first run and the last (one run if they are the same), cut to the band.
        runs.data = edges
        runs.n = 0
        if hi > lo:
            cut_run(&self.rb, lo, a * self.g.L, b * self.g.L, edges)
            runs.n = 1
        if hi - 1 > lo:
            cut_run(&self.rb, hi - 1, a * self.g.L, b * self.g.L, edges + 2)
            runs.n = 2
        part = self.g  # (write_runs folds the grid it is given)
        if code == OK and runs.n:
            code = write_runs(&runs, &part, self.pattern, True)
        return code


cdef class BandScan(_Bands):
    """One large mask scanned in bands of memory lines, the bands in threads (``run(k0,
    k1)``, with the GIL released), then joined and formatted (``text``).  For a numbering
    that follows memory, or cuts across it with long runs (the runs of memory order are
    then transposed); ``usable`` is false for the rest (noise-like runs across memory),
    which :func:`encode_one` scans."""
    cdef _Buffer buf
    cdef Grid g             # the requested numbering
    cdef Grid t             # memory order
    cdef Foreground fg
    cdef bint across
    cdef RunBuf *bands
    cdef readonly bint usable

    def __cinit__(self, object mask, tuple foreground, bint order_f, Py_ssize_t nbands):
        self.start(nbands)
        self.buf = _Buffer(mask, False)
        mask_setup(&self.buf.view, foreground, order_f, &self.g, &self.fg)
        self.bands = <RunBuf *> calloc(<size_t> nbands + 1, sizeof(RunBuf))
        if self.bands == NULL:
            raise_nomem()
        if self.g.L == 0 or self.g.M == 0:
            return
        self.across = grid_layout(&self.g) == LAYOUT_ACROSS
        if self.across:
            memory_order(&self.g, &self.t)
        else:
            self.t = self.g
        with nogil:
            self.usable = (self.t.M >= nbands > 1
                           and not (self.across and mostly_short_runs(&self.g, &self.fg)))

    def __dealloc__(self):
        cdef Py_ssize_t k
        if self.bands != NULL:
            for k in range(self.nbands):
                runbuf_free(&self.bands[k])
        free(self.bands)

    cdef int band(self, Py_ssize_t k) noexcept nogil:
        """Scan band k: outer lines of memory order, split evenly."""
        cdef Grid part = self.t
        cdef int64_t o0, o1
        cdef Py_ssize_t r
        cdef int code
        o0, o1 = self.lines(self.t.M, k)
        part.ptr = self.t.ptr + o0 * self.t.s_out
        part.M = o1 - o0
        code = scan_along(&part, &self.fg, &self.bands[k], grid_layout(&part))
        for r in range(self.bands[k].n):  # numbered from the band's first pixel: shift
            self.bands[k].data[2 * r] += o0 * self.t.L
        return code

    def text(self, int64_t base, bint relative):
        """The runs of every band, joined (a run across a seam is one run) and formatted."""
        cdef RunBuf along, rb
        cdef Py_ssize_t k, r
        cdef int code = OK
        check_base_arg(base)
        self.check()
        runbuf_init(&along)
        runbuf_init(&rb)
        try:
            with nogil:
                for k in range(self.nbands):
                    for r in range(self.bands[k].n):
                        if code == OK:
                            code = runbuf_push_merged(&along, self.bands[k].data[2 * r],
                                                      self.bands[k].data[2 * r + 1])
                    runbuf_free(&self.bands[k])
                if code == OK and self.across:
                    code = runs_across(&along, &self.g, &rb)
            if code != OK:
                raise_nomem()
            return runs_to_str(&rb if self.across else &along, base, relative)
        finally:
            runbuf_free(&along)
            runbuf_free(&rb)
