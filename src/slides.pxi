# Whole-slide masks: one window of a mask decoded without the rest (bands.pxi's window_runs
# cuts the checked runs to it) and a mask encoded from tiles (TileRuns gathers each tile's runs in
# the mask's numbering).  Neither ever holds a buffer the size of the whole mask.

cdef bint plain_runs(const int64_t *tokens, Py_ssize_t ntok, int64_t base,
                     int64_t total) noexcept nogil:
    """Whether flat ``start, length`` tokens are what a strict, absolute parse accepts
    unchanged: an even count, starts from ``base`` on, lengths of 1 or more, each run after
    the previous one and inside a mask of ``total`` pixels.  One pass, nothing copied."""
    cdef Py_ssize_t k
    cdef int64_t s, length, prev_end = base
    if ntok & 1 or total > INT64_MAX - base:
        return False
    for k in range(0, ntok, 2):
        s = tokens[k]
        length = tokens[k + 1]
        if s < prev_end or length < 1 or length > total + base - s:
            return False
        prev_end = s + length
    return True


def decode_window(object rle, object out, int64_t h, int64_t w, int64_t y0, int64_t y1,
                  int64_t x0, int64_t x1, bint order_f, int64_t base, bint relative,
                  bint strict, uint64_t pattern):
    """Check one normalised source of an ``(h, w)`` mask completely (KernelError if it is
    malformed anywhere, ``out`` untouched), then write rows [y0, y1) and columns [x0, x1)
    of it into ``out``, an array of the window's shape.  Text is parsed into runs; an
    array of sorted runs is checked in one pass and read where it lies."""
    cdef RunBuf rb = runbuf_empty(), part = runbuf_empty()
    cdef ErrInfo err
    cdef Grid g
    cdef int code = OK
    cdef int64_t o0, o1, i0, i1, L, shift
    cdef const int64_t[::1] tokens
    cdef const int64_t *data
    cdef Py_ssize_t n, ntok = 0
    cdef _Buffer buf = _Buffer(out, True)
    if not (0 <= y0 <= y1 <= h and 0 <= x0 <= x1 <= w):
        raise ValueError(f"window [{y0}:{y1}, {x0}:{x1}] is not within a {h}x{w} mask")
    check_out_view(&buf.view, y1 - y0, x1 - x0, False)
    if order_f:
        L, o0, o1, i0, i1 = h, x0, x1, y0, y1
    else:
        L, o0, o1, i0, i1 = w, y0, y1, x0, x1
    if isinstance(rle, np.ndarray):
        tokens = rle
        ntok = tokens.shape[0]
    try:
        if ntok and strict and not relative and plain_runs(&tokens[0], ntok, base, h * w):
            # Sorted runs as the caller holds them: bisect them where they lie.
            data, n, shift = &tokens[0], ntok // 2, base
        else:
            parse_into(rle, &rb, base, h * w, relative, strict, False)
            data, n, shift = rb.data, rb.n, 0
        if y1 == y0 or x1 == x0:
            return
        grid_init(&g, <char *> buf.view.buf, y1 - y0, x1 - x0, buf.view.strides[0],
                  buf.view.strides[1], <int> buf.view.itemsize, order_f)
        with nogil:
            code = window_runs(data, n, shift, h * w, L, o0, o1, i0, i1, &part)
            runbuf_free(&rb)
            if code == OK:
                code = write_runs(&part, &g, pattern, False)
        if code != OK:
            err.code = code
            raise_error(&err, None)
    finally:
        runbuf_free(&rb)
        runbuf_free(&part)


# ------------------------------------------------------------------------------ tiles
cdef int sort_pieces(RunBuf *rb, int64_t L, int64_t M) noexcept nogil:
    """Sort disjoint runs of a mask of M outer lines of L pixels by start and join the ones
    that touch.  Bucketed by outer line (a counting sort: tiles added in any order leave
    each line's pieces in few sorted stretches), then each line's bucket sorted if it is
    not already; a plain qsort when there are far more lines than runs."""
    cdef Py_ssize_t i, n = rb.n, begin, end
    cdef int64_t line, s, e, last_end
    cdef int64_t *ends
    cdef int64_t *tmp
    if n < 2:
        return OK
    if M > 4 * n:
        qsort(rb.data, <size_t> n, 2 * sizeof(int64_t), compare_runs)
    else:
        ends = <int64_t *> calloc_i64(M + 1)
        tmp = <int64_t *> malloc(<size_t> n * 2 * sizeof(int64_t))
        if ends == NULL or tmp == NULL:
            free(ends)
            free(tmp)
            return E_NOMEM
        for i in range(n):
            ends[rb.data[2 * i] // L + 1] += 1
        for line in range(M):
            ends[line + 1] += ends[line]
        for i in range(n):              # ends[line] moves from its bucket's start to its end
            line = rb.data[2 * i] // L
            tmp[2 * ends[line]] = rb.data[2 * i]
            tmp[2 * ends[line] + 1] = rb.data[2 * i + 1]
            ends[line] += 1
        begin = 0
        for line in range(M):
            end = ends[line]
            for i in range(begin + 1, end):
                if tmp[2 * i] < tmp[2 * i - 2]:
                    qsort(tmp + 2 * begin, <size_t> (end - begin), 2 * sizeof(int64_t),
                          compare_runs)
                    break
            begin = end
        free(ends)
        free(rb.data)
        rb.data = tmp
        rb.cap = n
    # Join touching runs in place (disjoint by construction: tiles do not overlap).
    rb.n = 1
    last_end = rb.data[0] + rb.data[1]
    for i in range(1, n):
        s = rb.data[2 * i]
        e = s + rb.data[2 * i + 1]
        if s == last_end:
            rb.data[2 * rb.n - 1] += e - s
        else:
            rb.data[2 * rb.n] = s
            rb.data[2 * rb.n + 1] = e - s
            rb.n += 1
        last_end = e
    return OK


cdef class TileRuns:
    """The runs of an ``(h, w)`` mask gathered from tiles: ``add(tile, ...)`` claims the
    tile's rectangle (refused if it overlaps one claimed before), scans it and files its
    runs in the mask's numbering; ``runs``, ``text`` and ``coco`` give the result at any
    time.  Thread-safe: a lock (taken without the GIL) guards the rectangles and the runs,
    and the scans of several threads run at once, all in one GIL-free stretch per tile."""
    cdef RunBuf rb          # pieces in the mask's numbering; sorted and joined if `ordered`
    cdef bint ordered
    cdef int64_t h, w, L, M
    cdef bint order_f
    cdef int64_t *rects     # y0, y1, x0, x1 of each claimed tile
    cdef Py_ssize_t nrects, caprects
    cdef Py_ssize_t added   # tiles added, empty ones included
    cdef PyThread_type_lock lock

    def __cinit__(self, int64_t h, int64_t w, bint order_f):
        runbuf_init(&self.rb)
        self.rects = NULL
        self.nrects = self.caprects = self.added = 0
        self.lock = PyThread_allocate_lock()
        if self.lock == NULL:
            raise_nomem()
        if not is_mask_size(h, w):
            raise ValueError(f"not a mask shape: ({h}, {w})")
        self.ordered = True
        self.h, self.w, self.order_f = h, w, order_f
        self.L, self.M = (h, w) if order_f else (w, h)

    def __dealloc__(self):
        runbuf_free(&self.rb)
        free(self.rects)
        if self.lock != NULL:
            PyThread_free_lock(self.lock)

    cdef Py_ssize_t claim(self, int64_t y, int64_t x, int64_t th, int64_t tw) noexcept nogil:
        """Record the tile at rows [y, y + th), columns [x, x + tw) (lock held); -1, the
        index of a claimed tile it overlaps (nothing recorded), or -2 out of memory."""
        cdef Py_ssize_t k
        cdef int64_t *grown
        if th == 0 or tw == 0:
            return -1
        for k in range(self.nrects):
            if (y < self.rects[4 * k + 1] and self.rects[4 * k] < y + th
                    and x < self.rects[4 * k + 3] and self.rects[4 * k + 2] < x + tw):
                return k
        if self.nrects == self.caprects:
            grown = <int64_t *> realloc(self.rects, <size_t> max(16, 2 * self.caprects) * 4
                                        * sizeof(int64_t))
            if grown == NULL:
                return -2
            self.rects = grown
            self.caprects = max(16, 2 * self.caprects)
        self.rects[4 * self.nrects] = y
        self.rects[4 * self.nrects + 1] = y + th
        self.rects[4 * self.nrects + 2] = x
        self.rects[4 * self.nrects + 3] = x + tw
        self.nrects += 1
        return -1

    cdef void release(self, int64_t y, int64_t x) noexcept nogil:
        """Forget the claimed tile whose corner is (y, x) (lock held): its scan failed."""
        cdef Py_ssize_t k, j
        for k in range(self.nrects):
            if self.rects[4 * k] == y and self.rects[4 * k + 2] == x:
                self.nrects -= 1
                for j in range(4):
                    self.rects[4 * k + j] = self.rects[4 * self.nrects + j]
                return

    cdef int file_runs(self, const RunBuf *tile, int64_t Lt, int64_t o_off,
                       int64_t i_off) noexcept nogil:
        """A tile's runs (its own numbering: lines of Lt pixels, placed at outer line o_off
        and inner index i_off) into the mask's runs (lock held), a piece per tile line."""
        cdef Py_ssize_t r, n0 = self.rb.n
        cdef int64_t s, n, k, o, i
        cdef int64_t last_end = self.rb.data[2 * n0 - 2] + self.rb.data[2 * n0 - 1] if n0 else 0
        for r in range(tile.n):
            s = tile.data[2 * r]
            n = tile.data[2 * r + 1]
            o = s // Lt
            i = s - o * Lt
            while n > 0:
                k = min(n, Lt - i)
                if runbuf_push_merged(&self.rb, (o_off + o) * self.L + i_off + i, k) != OK:
                    self.rb.n = n0
                    return E_NOMEM
                n -= k
                o += 1
                i = 0
        if n0 and self.rb.n > n0 and self.rb.data[2 * n0] < last_end:
            self.ordered = False  # this tile's pieces (each tile's are sorted) start earlier
        return OK

    def add(self, object tile, tuple foreground, int64_t y, int64_t x):
        """Add the 2-D mask buffer ``tile`` with its top-left pixel at (y, x): -1 once it is
        filed, or the index of an earlier tile it overlaps (see ``rect``; nothing done)."""
        cdef _Buffer buf = _Buffer(tile, False)
        cdef Grid g
        cdef Foreground fg
        cdef RunBuf runs = runbuf_empty()
        cdef int64_t th, tw
        cdef Py_ssize_t other
        cdef int code = OK
        mask_setup(&buf.view, foreground, self.order_f, &g, &fg)
        th, tw = buf.view.shape[0], buf.view.shape[1]
        if not (0 <= y and th <= self.h - y and 0 <= x and tw <= self.w - x):
            raise ValueError("tile outside the mask")
        with nogil:
            PyThread_acquire_lock(self.lock, WAIT_LOCK)
            other = self.claim(y, x, th, tw)
            PyThread_release_lock(self.lock)
            if other == -1:
                code = mask_scan(&g, &fg, &runs)
                PyThread_acquire_lock(self.lock, WAIT_LOCK)
                if code == OK:
                    # (the scan may fold g: the tile's lines are th or tw pixels)
                    code = self.file_runs(&runs, th if self.order_f else tw,
                                          x if self.order_f else y, y if self.order_f else x)
                if code == OK:
                    self.added += 1
                else:
                    self.release(y, x)
                PyThread_release_lock(self.lock)
            runbuf_free(&runs)
        if other == -2 or code != OK:
            raise_nomem()
        return other

    def rect(self, Py_ssize_t k):
        """``(y0, y1, x0, x1)`` of claimed tile k."""
        check_range(k, k + 1, self.nrects)
        return tuple(self.rects[4 * k + j] for j in range(4))

    def __len__(self):
        """Tiles added so far, empty ones included."""
        return self.added

    cdef int settle(self) except -1:
        """Take the lock and sort and join the pieces (once; later tiles may unsettle
        them again): the caller releases the lock."""
        cdef int code = OK
        with nogil:
            PyThread_acquire_lock(self.lock, WAIT_LOCK)
            if not self.ordered:
                code = sort_pieces(&self.rb, self.L, self.M)
                self.ordered = code == OK
        if code != OK:
            PyThread_release_lock(self.lock)
            raise_nomem()
        return 0

    def runs(self):
        """The mask's runs so far as an ``(N, 2)`` int64 array (0-based starts)."""
        self.settle()
        try:
            return runbuf_to_array(&self.rb)
        finally:
            PyThread_release_lock(self.lock)

    def text(self, int64_t base, bint relative):
        """The mask's runs so far as run-length text."""
        check_base_arg(base)
        self.settle()
        try:
            return runs_to_str(&self.rb, base, relative)
        finally:
            PyThread_release_lock(self.lock)

    def coco(self, bint compressed):
        """The mask's COCO counts so far (column-major numbering only)."""
        cdef CocoStream cs
        if not self.order_f:
            raise ValueError("COCO counts number pixels column-major (order='F')")
        coco_stream_init(&cs)
        self.settle()
        try:
            return coco_from_runbuf(&self.rb, self.h * self.w, compressed, &cs)
        finally:
            PyThread_release_lock(self.lock)
            free(cs.out)
