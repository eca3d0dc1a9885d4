# The decoder's writers: sorted, disjoint runs into the pixels of any strided layout, along
# memory, across it (sweeps, row-sorted segments, 32-column groups, tiles) or flat.
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


ctypedef struct SortedSegments:
    # Segments from sweep_runs, as the pairs (line, first), (end, 0), put in order of line.
    RunBuf segs
    int64_t *order      # segment indices, line by line
    int64_t *ends       # ends[line]: one past that line's last entry in `order`
    int64_t n


cdef int transpose_sorted(const RunBuf *rb, const Grid *g, int64_t nlines,
                          Py_ssize_t max_segments, SortedSegments *out) noexcept nogil:
    """Transpose sorted runs in run space (sweep_runs) and sort the perpendicular segments
    by the line they lie on, stably: a line's segments were closed in increasing order, so
    they stay so (a counting sort, no comparisons).  E_MANY_SEGMENTS when there are (well)
    over ``max_segments``."""
    cdef int64_t k, line
    cdef int code
    runbuf_init(&out.segs)
    out.order = NULL
    out.ends = NULL
    code = sweep_runs(rb, g, 0, &out.segs, 2 * max_segments)
    out.n = out.segs.n // 2
    if code != OK:
        return code
    out.ends = <int64_t *> calloc_i64(nlines + 1)
    out.order = <int64_t *> malloc(<size_t> (out.n + 1) * sizeof(int64_t))
    if out.ends == NULL or out.order == NULL:
        return E_NOMEM
    for k in range(out.n):
        out.ends[out.segs.data[4 * k] + 1] += 1
    for line in range(nlines):
        out.ends[line + 1] += out.ends[line]
    for k in range(out.n):
        line = out.segs.data[4 * k]
        out.order[out.ends[line]] = k
        out.ends[line] += 1
    return OK


cdef void sorted_segments_free(SortedSegments *s) noexcept nogil:
    free(s.order)
    free(s.ends)
    runbuf_free(&s.segs)


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


cdef inline void fill_line(const Grid *g, char *line, int64_t o0, int64_t o1,
                           uint64_t pattern) noexcept nogil:
    """Fill outer lines [o0, o1) of the memory line at ``line`` (o0 <= o1): for a byte mask
    whose lines are rows, one memset, the line writer's usual case."""
    if g.itemsize == 1 and g.s_out == 1:
        memset(line + o0, <int> <uint8_t> pattern, <size_t> (o1 - o0))
    else:
        fill(line + o0 * g.s_out, o1 - o0, g.s_out, g.itemsize, pattern)


cdef int write_across(const RunBuf *rb, const Grid *g, uint64_t pattern,
                      bint zeroed) noexcept nogil:
    """Write runs whose lines cut across memory.  Into zeroed memory the transposed segments
    go straight out.  Otherwise they are sorted by memory line and each line is written
    front to back, gaps and segments alike (or, when its segments are short, zeroed whole
    and then given them while in cache): one sequential pass over the output."""
    cdef SortedSegments st
    cdef int64_t k, i, j, covered, done, pos = 0
    cdef const int64_t *seg
    cdef char *line
    cdef int code
    if zeroed:
        return sweep_runs(rb, g, pattern, NULL, 0)
    if g.L * g.M * g.itemsize <= ZERO_FIRST_BYTES:
        # Small enough to stay in cache: zero it all, then fill the segments as the sweep
        # closes them (no sorting by line, no gap fills).
        zero_grid(g)
        if g.itemsize == 1 and g.s_out == 1:
            return write_across_groups(rb, g, <uint8_t> pattern)
        return sweep_runs(rb, g, pattern, NULL, 0)
    # (Room for far more segments than the usual few per run and line, but not for the
    # one per pixel and line of, say, stripes across the lines: sorting those would take
    # memory in proportion to the area.  They are filled as they come, into zeros.)
    code = transpose_sorted(rb, g, g.L, 4 * (rb.n + g.L), &st)
    if code == E_MANY_SEGMENTS:
        sorted_segments_free(&st)
        zero_grid(g)
        return sweep_runs(rb, g, pattern, NULL, 0)
    if code == OK:
        for i in range(g.L):
            line = g.ptr + i * g.s_in
            covered = 0
            for j in range(pos, st.ends[i]):
                seg = st.segs.data + 4 * st.order[j]
                covered += seg[2] - seg[1]
            if covered * 4 < g.M:
                # Mostly background: zero the line in one call, then set its few short
                # segments while it is in cache (fewer calls than alternating).
                fill_line(g, line, 0, g.M, 0)
                done = g.M
            else:
                done = 0
            while pos < st.ends[i]:
                seg = st.segs.data + 4 * st.order[pos]
                if done < g.M:
                    fill_line(g, line, done, seg[1], 0)
                    done = seg[2]
                fill_line(g, line, seg[1], seg[2], pattern)
                pos += 1
            if done < g.M:
                fill_line(g, line, done, g.M, 0)
    sorted_segments_free(&st)
    return code


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
