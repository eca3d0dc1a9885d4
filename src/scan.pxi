# The encoder's scanners: the runs of one mask of any dtype, layout and threshold, read along
# memory, across it through 64 x 64 bit transposes, or along memory and then transposed in
# run space.  Formatting runs as text is format.pxi's; several labels at once, labels.pxi's.

cdef extern from "rle_bytes.h" nogil:
    uint64_t rle_mask64(const uint8_t *p)
    Py_ssize_t rle_skip_zero64(const uint8_t *p, Py_ssize_t k, Py_ssize_t n)
    uint64_t rle_mask_tail(const uint8_t *p, Py_ssize_t n)
    uint32_t rle_diff32(const uint8_t *a, const uint8_t *b)


cdef enum:
    FG_NONZERO = 0     # on where the value is not zero
    FG_ABOVE = 1       # on where the value is above a threshold
    FG_ALL = 2         # the threshold is below every value of the dtype
    FG_NONE = 3        # the threshold is at or above every value of the dtype

# The same modes as module constants, for the facade that chooses them (rlecodec._options).
FOREGROUND_NONZERO = FG_NONZERO
FOREGROUND_ABOVE = FG_ABOVE
FOREGROUND_ALL = FG_ALL
FOREGROUND_NONE = FG_NONE

ctypedef struct Foreground:
    int mode           # FG_NONZERO or FG_ABOVE
    char kind          # numpy kind of the mask: 'b' bool, 'u', 'i', 'f'
    double thr_f
    int64_t thr_i
    uint64_t thr_u


cdef inline uint64_t load_item(const char *p, int itemsize) noexcept nogil:
    """The integer item of 1, 2, 4 or 8 bytes at ``p``, zero-extended (no alignment needed)."""
    cdef uint16_t u16
    cdef uint32_t u32
    cdef uint64_t u64
    if itemsize == 1:
        return (<const uint8_t *> p)[0]
    if itemsize == 2:
        memcpy(&u16, p, 2)
        return u16
    if itemsize == 4:
        memcpy(&u32, p, 4)
        return u32
    memcpy(&u64, p, 8)
    return u64


cdef inline void store_item(char *p, uint64_t v, int itemsize) noexcept nogil:
    cdef uint16_t u16 = <uint16_t> v
    cdef uint32_t u32 = <uint32_t> v
    if itemsize == 1:
        (<uint8_t *> p)[0] = <uint8_t> v
    elif itemsize == 2:
        memcpy(p, &u16, 2)
    elif itemsize == 4:
        memcpy(p, &u32, 4)
    else:
        memcpy(p, &v, 8)


cdef inline int64_t sign_extend(uint64_t v, int itemsize) noexcept nogil:
    """A signed integer of ``itemsize`` bytes, loaded by :func:`load_item`, as int64."""
    if itemsize == 1:
        return <signed char> v
    if itemsize == 2:
        return <short> v
    if itemsize == 4:
        return <int> v
    return <int64_t> v


cdef inline bint is_on(const char *p, int itemsize, const Foreground *fg) noexcept nogil:
    cdef uint64_t u64
    cdef float f32
    cdef double f64
    if fg.mode >= FG_ALL:
        return fg.mode == FG_ALL
    if fg.kind == b'f':
        if itemsize == 4:
            memcpy(&f32, p, 4)
            f64 = f32
        else:
            memcpy(&f64, p, 8)
        return f64 > fg.thr_f if fg.mode == FG_ABOVE else f64 != 0
    u64 = load_item(p, itemsize)
    if fg.mode == FG_NONZERO:
        return u64 != 0
    if fg.kind == b'i':
        return sign_extend(u64, itemsize) > fg.thr_i
    return u64 > fg.thr_u


cdef inline const uint8_t *read_line(const char *p, int64_t n, Py_ssize_t stride, int itemsize,
                              const Foreground *fg, uint8_t *scratch) noexcept nogil:
    """A line of ``n`` pixels as bytes that are non-zero where the pixel is on: the mask's
    own memory when it already is that, else ``scratch`` filled from it."""
    cdef int64_t k
    if itemsize == 1 and stride == 1 and fg.mode == FG_NONZERO and fg.kind != b'f':
        return <const uint8_t *> p
    if itemsize == 1 and fg.mode == FG_NONZERO and fg.kind != b'f':
        for k in range(n):
            scratch[k] = <uint8_t> p[k * stride]
        return scratch
    for k in range(n):
        scratch[k] = is_on(p + k * stride, itemsize, fg)
    return scratch


cdef inline uint64_t line_mask(const uint8_t *line, int64_t k, int64_t n) noexcept nogil:
    """Bits for pixels k .. k+63 of a line of n (bit j: pixel k + j is on)."""
    if k + 64 <= n:
        return rle_mask64(line + k)
    return rle_mask_tail(line + k, n - k)


ctypedef struct EdgeState:
    bint is_open       # a run has started and not ended yet
    int64_t start      # where it started


cdef inline int take_edges(uint64_t edges, int64_t at, EdgeState *st,
                           RunBuf *rb) noexcept nogil:
    """Each set bit k of ``edges`` is a state change at pixel ``at + k``: alternately the
    start and the end of a run.  Runs that touch the previous one are merged into it.

    A word holds at most 32 runs, so room for them is made once and the runs go through a
    local copy of the buffer (stores to the runs cannot alias its fields, so they stay in
    registers), each for two bit scans."""
    cdef int64_t start = st.start, end
    cdef bint is_open = st.is_open
    cdef RunBuf out
    if rb.n + 33 > rb.cap and runbuf_reserve(rb, rb.n + 33) != OK:
        return E_NOMEM
    out = rb[0]
    while edges:
        if not is_open:
            start = at + rle_ctz64(edges)
            edges &= edges - 1
            is_open = True
            if not edges:
                break
        end = at + rle_ctz64(edges)
        edges &= edges - 1
        is_open = False
        runbuf_push_merged(&out, start, end - start)  # cannot fail: the room is reserved
    rb[0] = out
    st.start = start
    st.is_open = is_open
    return OK


cdef int scan_along(const Grid *g, const Foreground *fg, RunBuf *rb, int layout) noexcept nogil:
    """Runs of a mask whose numbering follows memory.  Each line is read 64 pixels at a time
    into a bit mask; its on/off edges are the set bits of ``mask ^ (mask << 1)``, taken one
    by one with count-trailing-zeros.  A run open at the end of a line continues into the
    next."""
    cdef int64_t o, k, n, base, nlines
    cdef uint64_t m, edges, carry = 0
    cdef EdgeState st
    cdef const uint8_t *line
    cdef uint8_t *scratch = NULL
    cdef Py_ssize_t stride = g.s_in
    st.is_open = False
    st.start = 0
    if layout == LAYOUT_FLAT:
        n = g.L * g.M
        nlines = 1
    else:
        n = g.L
        nlines = g.M
    if not (g.itemsize == 1 and stride == 1 and fg.mode == FG_NONZERO and fg.kind != b'f'):
        # Read in bounded chunks so the scratch line stays small and in cache.
        if layout == LAYOUT_FLAT and n > 65536:
            return scan_flat_chunked(g, fg, rb)
        scratch = <uint8_t *> malloc(<size_t> n + 1)
        if scratch == NULL:
            return E_NOMEM
    for o in range(nlines):
        line = read_line(g.ptr + o * g.s_out, n, stride, g.itemsize, fg, scratch)
        base = o * n
        k = 0
        while k < n:
            if carry == 0:
                # Blocks of 64 pixels off after an off pixel hold no edge.
                k = rle_skip_zero64(line, k, n)
                if k >= n:
                    break
            m = line_mask(line, k, n)
            edges = m ^ ((m << 1) | carry)
            carry = m >> 63 if k + 64 <= n else (m >> (n - k - 1)) & 1
            if n - k < 64:
                edges &= (<uint64_t> 1 << (n - k)) - 1
            if edges and take_edges(edges, base + k, &st, rb) != OK:
                free(scratch)
                return E_NOMEM
            k += 64
    free(scratch)
    if st.is_open:
        return runbuf_push(rb, st.start, nlines * n - st.start)
    return OK


cdef int scan_flat_chunked(const Grid *g, const Foreground *fg, RunBuf *rb) noexcept nogil:
    cdef Grid part
    cdef int64_t total = g.L * g.M, chunk = 65536, done = 0, k
    cdef RunBuf piece
    cdef int code = OK
    runbuf_init(&piece)
    part = g[0]
    while done < total and code == OK:
        part.ptr = g.ptr + done * g.s_in
        part.L = chunk if total - done > chunk else total - done
        part.M = 1
        piece.n = 0
        code = scan_along(&part, fg, &piece, LAYOUT_FLAT)
        k = 0
        while code == OK and k < piece.n:
            code = runbuf_push_merged(rb, done + piece.data[2 * k], piece.data[2 * k + 1])
            k += 1
        done += part.L
    runbuf_free(&piece)
    return code


cdef enum:
    # Outer lines handled per tile in scan_across: 64 x 64 = 4096 pixels of each memory line,
    # long enough for the hardware prefetcher to stream, short enough to stay in cache.
    TILE_WORDS = 64


cdef int scan_across(const Grid *g, const Foreground *fg, RunBuf *rb) noexcept nogil:
    """Runs of a mask whose numbering cuts across memory (column-major runs of a row-major
    array, say).  Take a tile of up to 64 x TILE_WORDS outer lines at a time: read that
    stretch of every memory line into 64-bit masks, transpose each 64 x 64 block of bits so
    that a word holds 64 consecutive pixels of one outer line, and find the edges there as
    along memory.  Runs come out in order; the extra memory is one tile of bits: L x 8
    bytes per word of the tile's width (L x 512 bytes at most; L x 8 for a mask less than
    65 pixels wide)."""
    cdef int64_t L = g.L, M = g.M, nblocks = (L + 63) // 64
    cdef int64_t c0, width, nwords, b, t, k, i, j, base
    cdef int64_t tile_words = min(<int64_t> TILE_WORDS, (M + 63) // 64)
    cdef uint64_t w, edges, carry
    cdef EdgeState st
    cdef uint64_t *bits = <uint64_t *> malloc(
        <size_t> nblocks * tile_words * 64 * sizeof(uint64_t))
    cdef uint64_t any_on[TILE_WORDS]
    cdef uint64_t all_on[TILE_WORDS]
    cdef uint8_t scratch[TILE_WORDS * 64]
    cdef const uint8_t *line = NULL
    st.is_open = False
    st.start = 0
    if bits == NULL:
        return E_NOMEM
    c0 = 0
    while c0 < M:
        width = M - c0 if M - c0 < TILE_WORDS * 64 else TILE_WORDS * 64
        nwords = (width + 63) // 64
        for b in range(nblocks):
            for t in range(nwords):
                any_on[t] = 0
                all_on[t] = ~(<uint64_t> 0)
            for k in range(64):
                i = b * 64 + k
                if i < L:
                    line = read_line(g.ptr + i * g.s_in + c0 * g.s_out, width, g.s_out,
                                     g.itemsize, fg, scratch)
                for t in range(nwords):
                    w = line_mask(line, t * 64, width) if i < L else 0
                    bits[(t * nblocks + b) * 64 + k] = w
                    any_on[t] |= w
                    all_on[t] &= w
            for t in range(nwords):
                # Blocks all off or all on read the same either way round.
                if any_on[t] != 0 and all_on[t] != ~(<uint64_t> 0):
                    transpose64(bits + (t * nblocks + b) * 64)
        for j in range(width):
            base = (c0 + j) * L
            carry = 0
            for b in range(nblocks):
                # One word-column's blocks are contiguous: scanning its 64 lines stays
                # in cache.
                w = bits[((j >> 6) * nblocks + b) * 64 + (j & 63)]
                edges = w ^ ((w << 1) | carry)
                carry = w >> 63
                if edges and take_edges(edges, base + b * 64, &st, rb) != OK:
                    free(bits)
                    return E_NOMEM
            if st.is_open:
                # The line ends on: close here (the next line may continue it: merged).
                if runbuf_push_merged(rb, st.start, base + L - st.start) != OK:
                    free(bits)
                    return E_NOMEM
                st.is_open = False
        c0 += width
    free(bits)
    return OK


cdef bint mostly_short_runs(const Grid *g, const Foreground *fg) noexcept nogil:
    """Sample up to 16 memory lines spread over the mask: are runs there short
    (noise-like)?  (Few lines: on a mask of long runs the sample is pure overhead.)"""
    cdef Grid t, band
    cdef RunBuf sample
    cdef int64_t lines = g.L if g.L < 16 else 16
    cdef int64_t step = g.L // lines
    cdef bint short = False
    memory_order(g, &t)
    band = t
    band.ptr = t.ptr + (step // 2) * t.s_out
    band.s_out = t.s_out * step
    band.M = lines
    runbuf_init(&sample)
    if scan_along(&band, fg, &sample, grid_layout(&band)) == OK:
        short = sample.n * SCATTER_MEAN_RUN > lines * g.M
    runbuf_free(&sample)
    return short


cdef int scan_transposing_runs(const Grid *g, const Foreground *fg, RunBuf *rb) noexcept nogil:
    """Runs of a mask whose numbering cuts across memory, for masks of long runs: scan it
    in memory order (streaming), then transpose those runs (runs_across)."""
    cdef Grid t
    cdef RunBuf along
    cdef int code
    memory_order(g, &t)
    runbuf_init(&along)
    code = scan_along(&t, fg, &along, grid_layout(&t))
    if code == OK:
        code = runs_across(&along, g, rb)
    runbuf_free(&along)
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


cdef int runs_across(const RunBuf *along, const Grid *g, RunBuf *rb) noexcept nogil:
    """The runs of g's numbering from those of memory order (``along``): a transpose in run
    space (work ~ runs + boundary length), the segments put in order with a counting
    sort."""
    cdef Grid t
    cdef SortedSegments st
    cdef const int64_t *seg
    cdef int64_t k
    cdef int code
    st.order = st.ends = st.segs.data = NULL
    # The sweep reads runs numbered with inner extent t.L (pixels per memory line); its
    # segments lie on outer lines of g: (o, first inner), (end inner, 0).
    memory_order(g, &t)
    code = transpose_sorted(along, &t, g.M, PY_SSIZE_T_MAX // 2, &st)
    if code == OK:
        for k in range(st.n):
            seg = st.segs.data + 4 * st.order[k]
            code = runbuf_push_merged(rb, seg[0] * g.L + seg[1], seg[2] - seg[1])
            if code != OK:
                break
    sorted_segments_free(&st)
    return code


cdef int scan_runs(Grid *g, const Foreground *fg, RunBuf *rb) noexcept nogil:
    cdef int layout = grid_layout(g)
    rb.n = 0
    if layout == LAYOUT_ACROSS:
        if mostly_short_runs(g, fg):
            return scan_across(g, fg, rb)
        return scan_transposing_runs(g, fg, rb)
    return scan_along(g, fg, rb, layout)
