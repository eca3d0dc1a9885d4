# Text and integer tokens into checked runs: the Builder's checks of each pair, the plain-pair
# reader (rle_parse.h) and the general tokenizer behind it, sources of every kind, and
# to_runs.  Writing runs into an array is write.pxi's; COCO counts are coco.pxi's.

cdef extern from "rle_parse.h" nogil:
    ctypedef struct RleUsual:
        int64_t *out
        int64_t *out_end
        int64_t base
        int64_t limit
        int64_t prev_end
    uint64_t rle_swar8(uint64_t x)
    int rle_leading_digits8(const uint8_t *p, uint64_t *x)
    int rle_usual_pairs(const uint8_t *s, Py_ssize_t n, Py_ssize_t *pos, RleUsual *u,
                        uint64_t *pair, Py_ssize_t *next)
    const char *rle_parse_select()
    enum:
        RLE_PAIRS_END
        RLE_PAIRS_OTHER
        RLE_PAIRS_FULL

#: The plain-pair reader chosen for this CPU at import: "ssse3" or "swar" (rle_parse.h).
PARSER = rle_parse_select().decode("ascii")


ctypedef struct Builder:
    RunBuf *runs
    int64_t base
    int64_t total      # pixels in the mask; INT64_MAX when there is no mask
    bint relative
    bint strict
    bint faithful      # keep runs exactly as written (to_runs); else merge and drop empties
    bint ordered       # stays true while every run starts at or after the previous end
    int64_t seen       # runs accepted so far
    int64_t prev_start
    int64_t prev_end
    # Strict, merging parsing only: runs that can no longer change (all but the last) may be
    # handed to this stream to make room, so that the buffer stays small and in cache.
    CocoStream *stream


cdef void builder_init(Builder *b, RunBuf *runs, int64_t base, int64_t total, bint relative,
                       bint strict, bint faithful) noexcept nogil:
    b.runs = runs
    b.base = base
    b.total = total
    b.relative = relative
    b.strict = strict
    b.faithful = faithful
    b.ordered = True
    b.seen = 0
    b.prev_start = 0
    b.prev_end = 0
    b.stream = NULL
    runs.n = 0


cdef inline int take_pair(Builder *b, int64_t s, int64_t n, int64_t *dst,
                          Py_ssize_t *w) noexcept nogil:
    """Check one raw ``start length`` pair (already known non-negative) and store it in
    ``dst`` as a run (0-based start, length) at index ``w``, merged unless faithful.

    Callers keep the Builder in a local copy so that its state stays in registers."""
    cdef int64_t start
    if not b.relative or b.seen == 0:
        if s < b.base:
            return E_BELOW_BASE
        start = s - b.base
    else:
        if s > b.total - b.prev_end:
            return E_PAST_END
        start = b.prev_end + s
    if start >= b.total or n > b.total - start:
        # Even an empty run must start on a pixel that exists.
        return E_PAST_END
    if n == 0 and b.strict:
        return E_ZERO_LENGTH
    if start < b.prev_end:  # (prev_end is 0 before the first run)
        if b.strict:
            return E_UNSORTED if start < b.prev_start else E_OVERLAP
        b.ordered = False
    b.seen += 1
    b.prev_start = start
    b.prev_end = start + n
    if b.faithful:
        dst[2 * w[0]] = start
        dst[2 * w[0] + 1] = n
        w[0] += 1
    elif n > 0:
        if w[0] > 0 and dst[2 * w[0] - 2] + dst[2 * w[0] - 1] == start:
            dst[2 * w[0] - 1] += n
        else:
            dst[2 * w[0]] = start
            dst[2 * w[0] + 1] = n
            w[0] += 1
    return OK


cdef int convert_pairs(Builder *b, const int64_t *src, int64_t *dst, Py_ssize_t npairs,
                       Py_ssize_t *bad) noexcept nogil:
    """Check raw pairs into runs with :func:`take_pair`.  ``dst`` may be ``src`` or lie
    before it: runs are never more than pairs.  On error ``bad`` is the failing pair."""
    cdef Builder st = b[0]
    cdef Py_ssize_t r = 0, w = b.runs.n
    cdef int code = OK
    for r in range(npairs):
        code = take_pair(&st, src[2 * r], src[2 * r + 1], dst, &w)
        if code != OK:
            break
    bad[0] = r if code != OK else npairs
    st.runs.n = w
    b[0] = st
    return code


cdef inline bint is_space(uint8_t c) noexcept nogil:
    return c == 32 or <uint8_t> (c - 9) < 5


cdef inline bint is_digit(uint8_t c) noexcept nogil:
    return <uint8_t> (c - 48) < 10


cdef Py_ssize_t token_end(const uint8_t *s, Py_ssize_t pos, Py_ssize_t n) noexcept nogil:
    while pos < n and not is_space(s[pos]):
        pos += 1
    return pos


cdef bint is_empty_marker(const uint8_t *s, Py_ssize_t n) noexcept nogil:
    """True for text that is only whitespace, or a lone ``-`` or ``-1`` token."""
    cdef Py_ssize_t pos = 0, end
    while pos < n and is_space(s[pos]):
        pos += 1
    if pos == n:
        return True
    end = token_end(s, pos, n)
    if not (end - pos == 1 and s[pos] == 45) and not (end - pos == 2 and s[pos] == 45 and s[pos + 1] == 49):
        return False
    while end < n and is_space(s[end]):
        end += 1
    return end == n


cdef int read_token(const uint8_t *s, Py_ssize_t t0, Py_ssize_t n, uint64_t *value,
                    Py_ssize_t *end) noexcept nogil:
    """Read the token at ``t0`` one byte at a time; say why it is not a plain integer."""
    cdef Py_ssize_t pos = t0, stop = token_end(s, t0, n)
    cdef uint64_t v = 0, d
    end[0] = stop
    if s[t0] == 45 and stop > t0 + 1:
        pos = t0 + 1
        while pos < stop and is_digit(s[pos]):
            pos += 1
        return E_NEGATIVE if pos == stop else E_NOT_NUMBER
    while pos < stop:
        if not is_digit(s[pos]):
            return E_NOT_NUMBER
        pos += 1
    for pos in range(t0, stop):
        d = s[pos] - 48
        if v > (<uint64_t> INT64_MAX - d) // 10:
            return E_OVERFLOW
        v = v * 10 + d
    value[0] = v
    return OK


cdef Py_ssize_t tokenize(const uint8_t *s, Py_ssize_t n, Py_ssize_t pos, int64_t first,
                         int64_t *out, ErrInfo *err) noexcept nogil:
    """Read the numbers of ASCII text from byte ``pos`` on into ``out`` (room for
    (n - pos) // 2 + 1) and return how many; on a malformed token stop there and fill
    ``err`` (``first`` is the number of the token at ``pos``, for the report).

    Tokens of up to 7 digits followed by whitespace are read 8 bytes at a time; anything
    else goes through :func:`read_token`."""
    cdef Py_ssize_t k = 0, ndig, stop
    cdef uint64_t v = 0, x
    cdef int code
    while True:
        while pos < n and is_space(s[pos]):
            pos += 1
        if pos >= n:
            return k
        if pos + 8 <= n:
            ndig = rle_leading_digits8(s + pos, &x)
            if 0 < ndig < 8 and is_space(s[pos + ndig]):
                out[k] = <int64_t> rle_swar8(x << (64 - 8 * ndig))
                k += 1
                pos += ndig + 1  # and the separator
                continue
        code = read_token(s, pos, n, &v, &stop)
        if code != OK:
            err.code = code
            err.token = first + k
            err.offset = pos
            err.length = stop - pos
            return k
        out[k] = <int64_t> v
        k += 1
        pos = stop


cdef Py_ssize_t token_start(const uint8_t *s, Py_ssize_t n, int64_t tok) noexcept nogil:
    """Byte offset of token ``tok`` (counting from 0); only used to report errors."""
    cdef Py_ssize_t pos = 0
    cdef int64_t k = 0
    while pos < n:
        while pos < n and is_space(s[pos]):
            pos += 1
        if k == tok:
            return pos
        pos = token_end(s, pos, n)
        k += 1
    return n


cdef enum:
    STREAM_CHUNK_RUNS = 4096   # runs kept between hand-overs to a stream (64 KiB)


cdef Py_ssize_t read_plain_pairs(const uint8_t *s, Py_ssize_t n, Builder *b,
                                 int64_t *done) noexcept nogil:
    """Read and check the leading plain pairs of text into runs (see rle_parse.h); return
    the byte where the rest begins and count the tokens read in ``done``.  The rest (the
    last bytes, or from the first pair that is not plain or fails a check) is for the
    general path, which also words any error.

    Usual pairs are stored by the C reader; any other plain pair comes back here for
    take_pair.  So that ``st`` can stay out of the reader, it is brought up to date only
    then: every run stored since the last sync is one usual pair.  With a stream, the
    reader's room is a chunk of the buffer, and when it is full every run but the last
    goes to the stream."""
    cdef Builder st = b[0]
    cdef RleUsual u
    cdef Py_ssize_t ts = 0, nxt, w = st.runs.n, synced = st.runs.n
    cdef Py_ssize_t room = st.runs.cap
    cdef uint64_t pair[2]
    cdef int64_t seen_before = st.seen
    cdef int status
    if st.stream != NULL and st.strict and not st.faithful and room > STREAM_CHUNK_RUNS:
        room = STREAM_CHUNK_RUNS
    u.out = st.runs.data + 2 * w
    u.out_end = st.runs.data + 2 * room
    u.base = st.base
    u.limit = -1 if st.relative else st.total  # relative starts are never usual
    u.prev_end = st.prev_end
    while True:
        status = rle_usual_pairs(s, n, &ts, &u, pair, &nxt)
        w = (u.out - st.runs.data) // 2
        if w > synced:
            st.seen += w - synced
            st.prev_start = st.runs.data[2 * w - 2]
            st.prev_end = u.prev_end
        if status == RLE_PAIRS_OTHER:
            # One take_pair rejects is read again, and its error worded, by the general path.
            if take_pair(&st, <int64_t> pair[0], <int64_t> pair[1], st.runs.data, &w) != OK:
                break
            ts = nxt
        elif status == RLE_PAIRS_FULL and room < st.runs.cap:
            # (Without a stream the room is the whole buffer, a run per 4 bytes of text,
            # and is never full.)
            coco_stream_runs(st.stream, st.runs.data, w - 1)
            if st.stream.failed:
                break
            # The last run stays: the next pair may extend it.
            st.runs.data[0] = st.runs.data[2 * w - 2]
            st.runs.data[1] = st.runs.data[2 * w - 1]
            w = 1
        else:
            break
        synced = w
        u.out = st.runs.data + 2 * w
        u.prev_end = st.prev_end
    st.runs.n = w
    b[0] = st
    done[0] = 2 * (st.seen - seen_before)  # every pair read was accepted: two tokens each
    return ts


cdef int parse_text(const uint8_t *s, Py_ssize_t n, Builder *b, ErrInfo *err) noexcept nogil:
    """Tokenise ASCII text into ``start length`` pairs and check them into runs.  Errors
    are reported in reading order: a bad run before a bad token wins.

    Plain pairs go through :func:`read_plain_pairs`; the first pair that is anything else,
    and all after it, through :func:`tokenize` and :func:`convert_pairs`."""
    cdef Py_ssize_t ntok, bad, pos, w
    cdef int64_t done = 0       # tokens read by the plain pass
    cdef int code
    if is_empty_marker(s, n):
        return OK
    pos = read_plain_pairs(s, n, b, &done)
    w = b.runs.n
    # The rest: its tokens go after the runs so far and are checked in place.
    ntok = tokenize(s, n, pos, done, b.runs.data + 2 * w, err)
    code = convert_pairs(b, b.runs.data + 2 * w, b.runs.data, ntok // 2, &bad)
    if code != OK:
        err.code = code
        err.token = done + 2 * bad
        err.offset = token_start(s, n, err.token)
        err.length = token_end(s, token_start(s, n, err.token + 1), n) - err.offset
        return code
    if err.code != OK:
        return err.code
    if ntok & 1:
        err.code = E_ODD
        err.token = done + ntok - 1
        err.offset = token_start(s, n, err.token)
        err.length = token_end(s, err.offset, n) - err.offset
    return err.code


cdef int parse_tokens(const int64_t *tokens, Py_ssize_t ntok, Builder *b,
                      ErrInfo *err) noexcept nogil:
    """Check integer tokens (flat ``start, length, ...``) into runs.  The caller's array
    may be changed by another thread meanwhile, so it is read exactly once: copied into the
    run buffer (room for ``ntok // 2 + 1`` runs), where the checks and the runs work in
    place on values nobody else can change."""
    cdef Py_ssize_t k = 0, bad
    cdef int64_t *t = b.runs.data
    cdef int code
    if ntok:
        memcpy(t, tokens, <size_t> ntok * sizeof(int64_t))
    while k < ntok and t[k] >= 0:
        k += 1
    code = convert_pairs(b, t, t, k // 2, &bad)
    if code != OK:
        err.token = 2 * bad
    elif k < ntok:
        code = E_NEGATIVE
        err.token = k
    elif ntok & 1:
        code = E_ODD
        err.token = ntok - 1
    err.code = code
    err.offset = err.token
    err.length = 1
    return code


cdef int compare_runs(const void *a, const void *b) noexcept nogil:
    cdef int64_t x = (<const int64_t *> a)[0], y = (<const int64_t *> b)[0]
    return (x > y) - (x < y)


cdef void normalize_runs(RunBuf *rb) noexcept nogil:
    """Sort runs by start and union overlapping or touching ones (lenient mode)."""
    cdef Py_ssize_t i, w = 0
    cdef int64_t s, e, we
    if rb.n < 2:
        return
    qsort(rb.data, <size_t> rb.n, 2 * sizeof(int64_t), compare_runs)
    for i in range(1, rb.n):
        s = rb.data[2 * i]
        e = s + rb.data[2 * i + 1]
        we = rb.data[2 * w] + rb.data[2 * w + 1]
        if s <= we:
            if e > we:
                rb.data[2 * w + 1] = e - rb.data[2 * w]
        else:
            w += 1
            rb.data[2 * w] = s
            rb.data[2 * w + 1] = e - s
    rb.n = w + 1


cdef enum:
    SRC_EMPTY = 0
    SRC_TEXT = 1
    SRC_TOKENS = 2
    SRC_COCO_TEXT = 3      # pycocotools' compressed counts
    SRC_COCO_COUNTS = 4    # uncompressed counts, int64


ctypedef struct Source:
    int kind
    const uint8_t *text
    const int64_t *tokens
    Py_ssize_t n       # bytes of text, or number of tokens


cdef int source_set(Source *src, object rle, list keep) except -1:
    """Point ``src`` at the bytes of ``rle``; the facade has already normalised its type."""
    cdef Py_ssize_t size = 0
    cdef const int64_t[::1] toks
    cdef bint coco = isinstance(rle, CocoCounts)
    src.text = NULL
    src.tokens = NULL
    src.n = 0
    src.kind = SRC_EMPTY
    if rle is None:
        return 0
    if coco:
        rle = (<CocoCounts> rle).data
    if isinstance(rle, str):
        try:
            # For ASCII text CPython hands out its own buffer here: no copy.
            src.text = <const uint8_t *> PyUnicode_AsUTF8AndSize(rle, &size)
            src.n = size
            src.kind = SRC_TEXT
            return 0
        except UnicodeEncodeError:
            # Lone surrogates (JSON escapes, surrogateescape) have no UTF-8: their bytes as
            # "surrogatepass" writes them are not digits, so the parser rejects the token.
            rle = (<str> rle).encode("utf-8", "surrogatepass")
            keep.append(rle)
    if isinstance(rle, bytes):
        src.text = <const uint8_t *> PyBytes_AS_STRING(rle)
        src.n = PyBytes_GET_SIZE(rle)
        src.kind = SRC_COCO_TEXT if coco else SRC_TEXT
    else:
        toks = rle
        keep.append(toks)
        src.n = toks.shape[0]
        if src.n:
            src.tokens = &toks[0]
        src.kind = SRC_COCO_COUNTS if coco else SRC_TOKENS
    return 0


cdef int builder_reserve(Builder *b, Py_ssize_t runs) noexcept nogil:
    """Room for ``runs`` runs in the buffer, which then never grows while parsing (pages
    never reached are never touched), and in the stream, if there is one, for the counts of
    a chunk of them: it grows as it fills, since the worst case (26 characters a run) is
    many times the usual 2 to 6."""
    if runbuf_reserve(b.runs, runs) != OK:
        return E_NOMEM
    if b.stream != NULL and not coco_stream_reserve(b.stream, min(runs, STREAM_CHUNK_RUNS)):
        return E_NOMEM
    return OK


cdef int source_parse(const Source *src, Builder *b, ErrInfo *err) noexcept nogil:
    err.code = OK
    # Reserve for the most runs the input can hold ("1 1 " is 4 bytes).
    if src.kind == SRC_TEXT:
        err.code = builder_reserve(b, src.n // 4 + 2)
        return err.code or parse_text(src.text, src.n, b, err)
    if src.kind == SRC_TOKENS:
        err.code = builder_reserve(b, src.n // 2 + 1)
        return err.code or parse_tokens(src.tokens, src.n, b, err)
    if src.kind == SRC_COCO_TEXT or src.kind == SRC_COCO_COUNTS:
        return coco_parse(src, b.runs, b.total, err)
    return OK


cdef int parse_source(const Source *src, RunBuf *rb, int64_t base, int64_t total,
                      bint relative, bint strict, bint faithful, CocoStream *stream,
                      ErrInfo *err) noexcept nogil:
    """Parse and check one source into runs: sorted and disjoint unless ``faithful``.
    A ``stream`` (strict parsing only) may take the earlier runs on the way."""
    cdef Builder b
    cdef int code
    builder_init(&b, rb, base, total, relative, strict, faithful)
    b.stream = stream
    code = source_parse(src, &b, err)
    if code == OK and not b.ordered and not faithful:
        normalize_runs(rb)
    err.code = code
    return code


cdef int parse_into(object rle, RunBuf *rb, int64_t base, int64_t total, bint relative,
                    bint strict, bint faithful, CocoStream *stream=NULL) except -1:
    """Parse one input into ``rb`` (initialised empty here) with the GIL released; raise
    KernelError if it is malformed (``rb`` is then the caller's to free).  With a
    ``stream``, runs may go to it on the way (see Builder.stream)."""
    cdef Source src
    cdef ErrInfo err
    cdef list keep = []
    cdef int code
    runbuf_init(rb)
    check_base_arg(base)
    memset(&err, 0, sizeof(err))  # (an out-of-memory failure sets only the code)
    source_set(&src, rle, keep)
    with nogil:
        code = parse_source(&src, rb, base, total, relative, strict, faithful, stream, &err)
    if code != OK:
        raise_error(&err, None)
    return 0


def to_runs(object rle, int64_t base, bint relative, bint strict):
    """Parse ``rle`` into an ``(N, 2)`` int64 array of 0-based starts and lengths."""
    cdef RunBuf rb
    try:
        parse_into(rle, &rb, base, INT64_MAX, relative, strict, True)
        return runbuf_to_array(&rb)
    finally:
        runbuf_free(&rb)


def merged_runs(object rle, int64_t base, int64_t total, bint relative, bint strict):
    """Parse ``rle`` (checked against a mask of ``total`` pixels) into an ``(N, 2)`` int64
    array of sorted, disjoint, non-touching runs: the mask's pixels, whatever the text's
    order or overlaps (``strict=False``)."""
    cdef RunBuf rb
    try:
        parse_into(rle, &rb, base, total, relative, strict, False)
        return runbuf_to_array(&rb)
    finally:
        runbuf_free(&rb)
