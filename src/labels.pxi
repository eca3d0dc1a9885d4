# Several masks in one pass over an integer array: the segments of every label of a label map,
# or of every channel of a stack, found 32 bytes at a time, and the label_segments binding.
# One binary mask is scan.pxi's.

# Several masks in one pass: the segments of equal non-zero value along the lines of a 3-D
# integer array V[g, p, q] (line g * Q + q, position p).  A label map is V[g, p, 0] with the
# label as value; a stack of binary channels is V[g, p, q] with channel q, value 1 where the
# pixel is not zero ("binary").  Values are compared as raw bytes, so a 32-byte block that
# matches the previous row (or the current value, along a line) is skipped at once.
ctypedef struct LabelScan:
    int itemsize
    bint binary        # value = 1 where not zero, else the raw value
    RunBuf *out        # per segment two pairs: (line, start), (length, value)


cdef inline int emit_segment(const LabelScan *ls, int64_t line, int64_t start, int64_t end,
                             uint64_t value) noexcept nogil:
    if value == 0:
        return OK
    if runbuf_push(ls.out, line, start) != OK:
        return E_NOMEM
    return runbuf_push(ls.out, end - start, <int64_t> (1 if ls.binary else value))


cdef inline int label_step(const LabelScan *ls, uint64_t v, char *state, int64_t *start,
                           int64_t p, int64_t line) noexcept nogil:
    """Pixel ``p`` of ``line`` holds ``v``; ``state`` holds the line's previous raw value."""
    cdef uint64_t cur = load_item(state, ls.itemsize)
    cdef int code = OK
    if v == cur:
        return OK
    if not ls.binary or (v != 0) != (cur != 0):
        code = emit_segment(ls, line, start[0], p, cur)
        start[0] = p
    store_item(state, v, ls.itemsize)
    return code


cdef inline void spread_item(char *pattern, const char *item, int itemsize) noexcept nogil:
    """32 bytes of ``item`` repeated."""
    cdef uint64_t word = load_item(item, itemsize) * (
        1 if itemsize == 8 else 0x0000000100000001ULL if itemsize == 4 else
        0x0001000100010001ULL if itemsize == 2 else 0x0101010101010101ULL)
    memcpy(pattern, &word, 8)
    memcpy(pattern + 8, &word, 8)
    memcpy(pattern + 16, &word, 8)
    memcpy(pattern + 24, &word, 8)


cdef int label_lines(const LabelScan *ls, const char *ptr, int64_t G, int64_t P, int64_t Q,
                     Py_ssize_t sg, Py_ssize_t sq) noexcept nogil:
    """Lines whose pixels are adjacent in memory: one line at a time, 32 bytes compared with
    the current value at once."""
    cdef int64_t g, q, k, start
    cdef int isz = ls.itemsize, per_block = 32 // ls.itemsize
    cdef uint32_t diff
    cdef const char *line
    cdef char state[8]
    cdef char pattern[32]
    cdef int code
    for g in range(G):
        for q in range(Q):
            line = ptr + g * sg + q * sq
            memcpy(state, line, <size_t> isz)
            spread_item(pattern, state, isz)
            start = 0
            k = 1
            while k < P:
                if k + per_block <= P:
                    diff = rle_diff32(<const uint8_t *> (line + k * isz),
                                      <const uint8_t *> pattern)
                    if diff == 0:
                        k += per_block
                        continue
                    k += rle_ctz64(diff) // isz
                elif load_item(line + k * isz, isz) == load_item(state, isz):
                    k += 1
                    continue
                code = label_step(ls, load_item(line + k * isz, isz), state, &start, k,
                                  g * Q + q)
                if code != OK:
                    return code
                spread_item(pattern, state, isz)
                k += 1
            code = emit_segment(ls, g * Q + q, start, P, load_item(state, isz))
            if code != OK:
                return code
    return OK


cdef int label_changes(const LabelScan *ls, uint32_t diff, const char *data, Py_ssize_t x,
                       Py_ssize_t nbytes, int64_t p0, char *state, int64_t *starts,
                       int64_t line0) noexcept nogil:
    """Visit the items whose bytes are flagged in ``diff`` (bit j: byte ``x + j`` of
    ``data``, a run of tile rows ``nbytes`` long, the first being position ``p0``)."""
    cdef int isz = ls.itemsize, off
    cdef uint32_t item_bits = (1U << isz) - 1
    cdef Py_ssize_t b
    cdef int64_t i
    cdef int code
    while diff:
        off = rle_ctz64(diff) // isz * isz
        b = x + off
        i = (b % nbytes) // isz
        code = label_step(ls, load_item(data + b, isz), state + i * isz, &starts[i],
                          p0 + b // nbytes, line0 + i)
        if code != OK:
            return code
        diff &= ~(item_bits << off)
    return OK


cdef int label_bytes(const LabelScan *ls, const char *data, const char *before,
                     Py_ssize_t end, Py_ssize_t nbytes, int64_t p0, char *state,
                     int64_t *starts, int64_t line0) noexcept nogil:
    """Compare ``end`` bytes of tile rows at ``data`` with ``before`` 32 at a time and
    visit the items that changed; the last few bytes are all visited (unchanged items
    are no-ops)."""
    cdef Py_ssize_t x = 0
    cdef uint32_t diff
    cdef int code
    while x < end:
        if x + 32 <= end:
            diff = rle_diff32(<const uint8_t *> (data + x), <const uint8_t *> (before + x))
        else:
            diff = (1U << (end - x)) - 1
        code = label_changes(ls, diff, data, x, nbytes, p0, state, starts, line0)
        if code != OK:
            return code
        x += 32
    return OK


cdef int label_tile(const LabelScan *ls, const char *ptr, int64_t nb, int64_t P, int64_t Q,
                    Py_ssize_t sg, Py_ssize_t sp, Py_ssize_t sq, int64_t line0,
                    char *state, int64_t *starts) noexcept nogil:
    """Lines g .. g+nb (times Q) walked together, one position p at a time, so memory is
    read row by row.  When a row of the tile is contiguous, it is compared with the
    previous row 32 bytes at a time and only the items that changed are visited; when the
    rows also follow one another (a C-ordered stack read row-major), all rows at once."""
    cdef int64_t n = nb * Q, g, q, i, p
    cdef int isz = ls.itemsize
    cdef bint contiguous = (Q == 1 or sq == isz) and (nb == 1 or sg == Q * isz)
    cdef Py_ssize_t nbytes = <Py_ssize_t> n * isz
    cdef const char *row
    cdef int code = OK
    for g in range(nb):
        for q in range(Q):
            memcpy(state + (g * Q + q) * isz, ptr + g * sg + q * sq, <size_t> isz)
    for i in range(n):
        starts[i] = 0
    if contiguous and sp == nbytes:
        code = label_bytes(ls, ptr + nbytes, ptr, (P - 1) * nbytes, nbytes, 1, state, starts,
                           line0)
    else:
        for p in range(1, P):
            row = ptr + p * sp
            if contiguous:
                code = label_bytes(ls, row, state, nbytes, nbytes, p, state, starts, line0)
            else:
                for g in range(nb):
                    for q in range(Q):
                        i = g * Q + q
                        code = label_step(ls, load_item(row + g * sg + q * sq, isz),
                                          state + i * isz, &starts[i], p, line0 + i)
                        if code != OK:
                            return code
            if code != OK:
                return code
    if code != OK:
        return code
    for i in range(n):
        code = emit_segment(ls, line0 + i, starts[i], P, load_item(state + i * isz, isz))
        if code != OK:
            return code
    return OK


cdef int label_segments_scan(const LabelScan *ls, const char *ptr, int64_t G, int64_t P,
                             int64_t Q, Py_ssize_t sg, Py_ssize_t sp,
                             Py_ssize_t sq) noexcept nogil:
    cdef int isz = ls.itemsize
    cdef int64_t block, g0, nb
    cdef char *state
    cdef int64_t *starts
    cdef int code = OK
    if G == 0 or P == 0 or Q == 0:
        return OK
    if sp == isz:
        return label_lines(ls, ptr, G, P, Q, sg, sq)
    # Tiles of lines whose rows span ~256 bytes when the tile's rows are contiguous.
    block = 1
    if (Q == 1 or sq == isz) and sg == Q * isz:
        block = 256 // (Q * isz) if Q * isz < 256 else 1
    if block > G:
        block = G
    state = <char *> malloc(<size_t> (block * Q * isz))
    starts = <int64_t *> malloc(<size_t> (block * Q) * sizeof(int64_t))
    if state == NULL or starts == NULL:
        code = E_NOMEM
    g0 = 0
    while code == OK and g0 < G:
        nb = block if G - g0 >= block else G - g0
        code = label_tile(ls, ptr + g0 * sg, nb, P, Q, sg, sp, sq, g0 * Q, state, starts)
        g0 += nb
    free(state)
    free(starts)
    return code


def label_segments(object view, bint binary):
    """Segments of equal non-zero value along axis 1 of a 3-D integer buffer ``V[g, p, q]``
    as an ``(N, 4)`` int64 array of (line ``g * Q + q``, start, length, value bits); value
    is 1 with ``binary``.  Segments are grouped by tile, not sorted."""
    cdef _Buffer buf = _Buffer(view, False)
    cdef LabelScan ls
    cdef RunBuf rb
    cdef int code
    if buf.view.ndim != 3 or buf.view.itemsize not in (1, 2, 4, 8):
        raise ValueError("expected a 3-D buffer of 1, 2, 4 or 8-byte items")
    runbuf_init(&rb)
    ls.itemsize = <int> buf.view.itemsize
    ls.binary = binary
    ls.out = &rb
    with nogil:
        code = label_segments_scan(&ls, <const char *> buf.view.buf, buf.view.shape[0],
                                   buf.view.shape[1], buf.view.shape[2], buf.view.strides[0],
                                   buf.view.strides[1], buf.view.strides[2])
    try:
        if code != OK:
            raise_nomem()
        return runbuf_to_array(&rb).reshape(-1, 4)
    finally:
        runbuf_free(&rb)
