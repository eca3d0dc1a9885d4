# Every piece of COCO's run-length format: compressed counts read and written, counts turned
# into runs and runs into counts (a whole mask or streamed while a text is parsed), and the
# bindings that the facade's rlecodec.coco calls.  Kaggle text belongs in parse.pxi.

cdef extern from "rle_coco.h" nogil:
    enum:
        RLE_COCO_MAX_CHARS
    ctypedef struct RleCocoState:
        int64_t runs
        int64_t end
        int64_t prev_gap
        int64_t prev_length
    int rle_coco_put(char *out, int64_t x)
    char *rle_coco_runs(char *out, const int64_t *runs, Py_ssize_t n, RleCocoState *st)
    enum:
        RLE_COUNT_OK
        RLE_COUNT_TRUNCATED
        RLE_COUNT_NOT_NUMBER
    int rle_coco_read_count(const uint8_t *s, Py_ssize_t n, Py_ssize_t *p, int64_t *x)
    int64_t rle_coco_undo(int64_t x, int64_t back2, int64_t m)

ctypedef struct CocoStream:
    # A compressed COCO string written a batch of runs at a time (coco_stream_runs).
    char *out
    Py_ssize_t cap      # characters out can hold
    Py_ssize_t p        # characters written
    RleCocoState state  # runs written, where the last one ended, the counts before the next
    bint failed         # out of memory


cdef class CocoCounts:
    """The counts of one COCO RLE as a decoding source: compressed ``bytes`` or a 1-D
    int64 array (background, foreground, background, ... from pixel 0, column-major)."""
    cdef readonly object data

    def __cinit__(self, object data):
        self.data = data

cdef object coco_usual(object obj):
    """``(h, w, counts)`` of the usual COCO object, ``{"size": [h, w], "counts": ...}``
    with ints under 2**31 and compressed counts (``bytes``, or ``str`` as UTF-8 with lone
    surrogates kept, whose bytes the reader rejects); None for anything else."""
    cdef object size, counts, h, w
    if type(obj) is not dict:
        return None
    size = (<dict> obj).get("size")
    counts = (<dict> obj).get("counts")
    if type(size) is not list or len(<list> size) != 2:
        return None
    h, w = size
    if type(h) is not int or type(w) is not int or not (0 <= h < 2 ** 31 and 0 <= w < 2 ** 31):
        return None
    if type(counts) is str:
        counts = (<str> counts).encode("utf-8", "surrogatepass")
    elif type(counts) is not bytes:
        return None
    return h, w, counts


cdef int coco_runs(const int64_t *counts, Py_ssize_t m, RunBuf *rb, int64_t total,
                   ErrInfo *err) noexcept nogil:
    """Foreground runs of COCO counts (empty ones dropped, touching ones joined); the
    counts must be non-negative and add up to exactly ``total``."""
    cdef Py_ssize_t i
    cdef int64_t pos = 0, c
    cdef RunBuf out
    err.code = runbuf_reserve(rb, rb.n + m // 2 + 1)  # room for every foreground count
    if err.code != OK:
        return err.code
    # Filled through a local copy: stores to the runs cannot alias its fields, so they stay
    # in registers (through rb they were reloaded for every count).
    out = rb[0]
    for i in range(m):
        c = counts[i]
        if c < 0 or c > total - pos:  # no overflow: 0 <= pos <= total
            err.code = E_NEGATIVE if c < 0 else E_SIZE
            err.token = i
            break
        if i & 1 and c > 0:
            runbuf_push_merged(&out, pos, c)  # cannot fail: the room is reserved
        pos += c
    rb[0] = out
    if err.code == OK and pos != total:
        err.code = E_SIZE
        err.token = m - 1 if m > 0 else 0
    if err.code != OK:
        err.offset = err.token
        err.length = 1
    return err.code


cdef int coco_parse(const Source *src, RunBuf *rb, int64_t total, ErrInfo *err) noexcept nogil:
    """Runs of COCO counts: a compressed string (read straight into runs) or an array of
    counts, copied first so that a caller's array changed meanwhile is read once."""
    cdef int64_t *counts
    if src.kind == SRC_COCO_TEXT:
        return coco_string_runs(src.text, src.n, rb, total, err)
    counts = <int64_t *> malloc(<size_t> (src.n + 1) * sizeof(int64_t))
    if counts == NULL:
        err.code = E_NOMEM
        return E_NOMEM
    if src.n:
        memcpy(counts, src.tokens, <size_t> src.n * sizeof(int64_t))
    coco_runs(counts, src.n, rb, total, err)
    free(counts)
    return err.code


cdef inline int read_count(const uint8_t *s, Py_ssize_t n, Py_ssize_t *p,
                           int64_t *x) noexcept nogil:
    """One count as written, character by character from ``s[p[0]]`` (rle_coco_read_count;
    see coco_decode_counts below for the format); ``p[0]`` moves past what was read.
    E_TRUNCATED, E_NOT_NUMBER or E_OVERFLOW if it is not a count."""
    cdef int found = rle_coco_read_count(s, n, p, x)
    if found == RLE_COUNT_OK:
        return OK
    if found == RLE_COUNT_TRUNCATED:
        return E_TRUNCATED  # the last count never ended
    return E_NOT_NUMBER if found == RLE_COUNT_NOT_NUMBER else E_OVERFLOW


cdef inline int delta_error(int64_t count) noexcept nogil:
    """The error of an rle_coco_undo result below 0."""
    return E_OVERFLOW if count == -2 else E_NEGATIVE


cdef extern from "rle_coco_read.h" nogil:
    ctypedef struct RleCocoReading:
        int64_t *runs
        int64_t nruns
        int64_t total
        int64_t pos
        int64_t back2
        int64_t back1
        int64_t last_end
        int64_t m
    Py_ssize_t rle_coco_read_steps(const uint8_t *s, Py_ssize_t n, Py_ssize_t p,
                                   RleCocoReading *st)


cdef inline int take_count(RleCocoReading *r, Py_ssize_t *too_big, int64_t x) noexcept nogil:
    """Count m (as written: a delta from count m - 2 from the fourth on): check it and
    extend the runs (until a count passes the mask's end: ``too_big[0]``, its index, is
    set and only checking goes on); E_OVERFLOW or E_NEGATIVE if it cannot be a count."""
    x = rle_coco_undo(x, r.back2, r.m)
    if x < 0:
        return delta_error(x)
    if too_big[0] < 0:
        if x > r.total - r.pos:
            too_big[0] = r.m
        else:
            if r.m & 1 and x > 0:  # a run (joined to the last if a count of 0 was between)
                if r.last_end == r.pos:
                    r.runs[2 * r.nruns - 1] += x
                else:
                    r.runs[2 * r.nruns] = r.pos
                    r.runs[2 * r.nruns + 1] = x
                    r.nruns += 1
                r.last_end = r.pos + x
            r.pos += x
    r.back2 = r.back1
    r.back1 = x
    r.m += 1
    return OK


cdef int coco_string_runs(const uint8_t *s, Py_ssize_t n, RunBuf *rb, int64_t total,
                          ErrInfo *err) noexcept nogil:
    """Foreground runs of a compressed COCO string, read in one pass: what
    ``coco_decode_counts`` then ``coco_runs`` give, errors included (a malformed count
    anywhere is reported before counts that do not add up to ``total``).

    Whole steps of four or eight short counts where they apply (rle_coco_read_steps),
    else one count at a time, character by character."""
    cdef Py_ssize_t p = 0, start = 0, too_big = -1
    cdef int64_t x
    cdef int code = runbuf_reserve(rb, rb.n + n // 2 + 1)  # a count takes a character
    cdef RleCocoReading r
    if code != OK:
        err.code = code
        return code
    r.runs, r.nruns, r.total, r.pos, r.back2, r.back1, r.last_end, r.m = \
        rb.data, rb.n, total, 0, 0, 0, -1, 0
    while p < n and code == OK:
        if too_big < 0:
            p = rle_coco_read_steps(s, n, p, &r)
            if p >= n:
                break
        start = p
        code = read_count(s, n, &p, &x)
        if code == OK:
            code = take_count(&r, &too_big, x)
    rb.n = r.nruns
    if code != OK:
        # A bad character stops inside the count (it is part of what is reported).
        err.length = (p if p < n else n) - start + 1
        err.token = r.m
        err.offset = start
    elif too_big >= 0 or r.pos != total:
        code = E_SIZE
        err.token = too_big if too_big >= 0 else (r.m - 1 if r.m > 0 else 0)
        err.offset = err.token
        err.length = 1
    err.code = code
    return code


# ------------------------------------------------------------------------------ COCO counts
# COCO's compressed RLE string (as pycocotools writes it): each count, minus the count two
# before it from the fourth on (index 3), in 5-bit groups, low first; a group's 0x20 bit
# says "more follow", the 0x10 bit of the last group is the sign; each is chr(48 + group).

cdef int coco_decode_counts(const uint8_t *s, Py_ssize_t n, int64_t *out, Py_ssize_t *count,
                            ErrInfo *err) noexcept nogil:
    """The counts of a compressed string into ``out`` (room for n), ``count[0]`` of them."""
    # The error code is a local: stores to `out` could alias `err`'s fields, which would
    # then be reloaded for every count.
    cdef Py_ssize_t p = 0, m = 0, start
    cdef int64_t x
    cdef int code = OK
    while p < n:
        start = p
        code = read_count(s, n, &p, &x)
        if code == OK:
            x = rle_coco_undo(x, out[m - 2] if m > 2 else 0, m)
            if x < 0:
                code = delta_error(x)
        if code != OK:
            # A bad character stops inside the count (it is part of what is reported).
            err.length = (p if p < n else n) - start + 1
            err.token = m
            err.offset = start
            break
        out[m] = x
        m += 1
    err.code = code
    count[0] = m
    return code


def coco_counts_from_string(const uint8_t[::1] text):
    """The counts of a compressed COCO string, as an int64 array (KernelError if bad)."""
    cdef Py_ssize_t n = text.shape[0], m = 0
    cdef ErrInfo err
    cdef int code
    result = np.empty(n + 1, dtype=np.int64)
    cdef int64_t[::1] view = result
    with nogil:
        code = coco_decode_counts(&text[0] if n else NULL, n, &view[0], &m, &err)
    if code != OK:
        raise_error(&err, None)
    return result[:m]


cdef Py_ssize_t counts_of_runs(const RunBuf *rb, int64_t total, int64_t *counts) noexcept nogil:
    """COCO counts (background first, a trailing background only when not empty) of sorted
    runs that neither overlap nor touch, in a mask of ``total`` pixels; returns how many
    (at most ``2 * rb.n + 1``)."""
    cdef Py_ssize_t r, m = 0
    cdef int64_t end = 0
    for r in range(rb.n):
        counts[m] = rb.data[2 * r] - end
        counts[m + 1] = rb.data[2 * r + 1]
        end = rb.data[2 * r] + rb.data[2 * r + 1]
        m += 2
    if m == 0 or end < total:
        counts[m] = total - end
        m += 1
    return m


cdef void coco_stream_init(CocoStream *cs) noexcept nogil:
    cs.out = NULL
    cs.cap = 0
    cs.p = 0
    cs.state.runs = 0
    cs.state.end = 0
    cs.state.prev_gap = 0
    cs.state.prev_length = 0
    cs.failed = False


cdef bint coco_stream_reserve(CocoStream *cs, Py_ssize_t runs) noexcept nogil:
    """Room for the counts of ``runs`` more runs and the last count; False if out of
    memory (the stream is then failed)."""
    cdef Py_ssize_t cap = cs.p + (2 * runs + 1) * RLE_COCO_MAX_CHARS
    cdef char *grown
    if cs.failed or cap <= cs.cap:
        return not cs.failed
    cap = max(cap, 2 * cs.cap)
    grown = <char *> realloc(cs.out, <size_t> cap)
    if grown == NULL:
        cs.failed = True
        return False
    cs.out = grown
    cs.cap = cap
    return True


cdef void coco_stream_runs(CocoStream *cs, const int64_t *runs, Py_ssize_t n) noexcept nogil:
    """Write the counts of ``n`` more runs (sorted, disjoint, not touching, after those
    written so far), growing the string as needed."""
    if coco_stream_reserve(cs, n):
        cs.p = rle_coco_runs(cs.out + cs.p, runs, n, &cs.state) - cs.out


cdef object coco_stream_finish(CocoStream *cs, int64_t total):
    """The stream's string as bytes, with the last background count unless it is empty
    (and the only count of an empty mask); frees the stream."""
    try:
        if cs.failed:
            raise_nomem()
        if cs.state.runs == 0 or cs.state.end < total:
            cs.p += rle_coco_put(cs.out + cs.p, total - cs.state.end - cs.state.prev_gap)
        return PyBytes_FromStringAndSize(cs.out, cs.p)
    finally:
        free(cs.out)
        cs.out = NULL


cdef object coco_from_runbuf(const RunBuf *rb, int64_t total, bint compressed,
                             CocoStream *cs):
    """The COCO counts of sorted, disjoint, non-touching runs: an int64 array, or the
    compressed ``bytes`` that ``cs`` (initialised; it may hold the runs before these, see
    Builder.stream) makes of them; ``cs`` is finished and freed."""
    cdef Py_ssize_t m = 2 * rb.n + 1
    cdef int64_t[::1] view
    if not compressed:
        result = np.empty(m, dtype=np.int64)
        view = result
        with nogil:
            m = counts_of_runs(rb, total, &view[0])
        return result[:m]
    with nogil:
        coco_stream_runs(cs, rb.data, rb.n)
    return coco_stream_finish(cs, total)


def coco_from_runs(const int64_t[:, ::1] runs, int64_t total, bint compressed):
    """COCO counts of an ``(N, 2)`` array of sorted, disjoint runs inside ``total`` pixels
    (KernelError if not)."""
    cdef RunBuf rb = runbuf_empty()
    cdef CocoStream cs
    cdef ErrInfo err
    coco_stream_init(&cs)
    try:
        copy_checked_runs(runs, 0, &rb)
        if rb.n and rb.data[2 * rb.n - 2] + rb.data[2 * rb.n - 1] > total:
            err.code, err.token, err.offset, err.length = E_PAST_END, 2 * rb.n - 2, 0, 1
            raise_error(&err, None)
        return coco_from_runbuf(&rb, total, compressed, &cs)
    finally:
        runbuf_free(&rb)
        free(cs.out)  # (already freed, and NULL, once finished)


def kaggle_to_coco(object rle, int64_t total, int64_t base, bint relative, bint compressed):
    """Kaggle text (column-major runs, checked strictly against a mask of ``total``
    pixels) as COCO counts: compressed ``bytes``, or an int64 array.  The compressed string
    is written while parsing, a chunk of runs at a time."""
    cdef RunBuf rb
    cdef CocoStream cs
    coco_stream_init(&cs)
    try:
        parse_into(rle, &rb, base, total, relative, True, False, &cs if compressed else NULL)
        return coco_from_runbuf(&rb, total, compressed, &cs)
    finally:
        runbuf_free(&rb)
        free(cs.out)  # (already freed, and NULL, unless parsing failed)


def coco_runs_from_counts(const int64_t[::1] counts, int64_t total):
    """Foreground runs ``(N, 2)`` (0-based start, length) of COCO counts, empty runs dropped
    and touching ones joined (KernelError unless non-negative and adding up to ``total``)."""
    cdef RunBuf rb
    cdef ErrInfo err
    runbuf_init(&rb)
    with nogil:
        coco_runs(&counts[0] if counts.shape[0] else NULL, counts.shape[0], &rb, total, &err)
    try:
        if err.code != OK:
            raise_error(&err, None)
        return runbuf_to_array(&rb)
    finally:
        runbuf_free(&rb)


# ------------------------------------------------------------------------------ counts as given
cdef Py_ssize_t coco_encode_counts(const int64_t *cnts, Py_ssize_t m, char *out) noexcept nogil:
    """Write the compressed string of ``m`` non-negative counts into ``out`` (room for
    ``RLE_COCO_MAX_CHARS`` per count) and return its length; from the fourth on, each count is
    written as its difference from the count two before."""
    cdef Py_ssize_t i, p = 0
    for i in range(m):
        # (Both counts are >= 0: the difference cannot overflow.)
        p += rle_coco_put(out + p, cnts[i] - cnts[i - 2] if i > 2 else cnts[i])
    return p


def coco_string_from_counts(const int64_t[::1] counts):
    """The compressed COCO string of non-negative int64 counts exactly as given (zero
    counts included), as bytes: what ``coco.merge`` of one object returns, as pycocotools
    copies its counts; written by rle_coco_put, as the COCO stream is."""
    cdef Py_ssize_t m = counts.shape[0], size
    cdef const int64_t *cnts = &counts[0] if m else NULL
    cdef char *buf = <char *> malloc(<size_t> (m * RLE_COCO_MAX_CHARS + 2))
    if buf == NULL:
        raise_nomem()
    try:
        with nogil:
            size = coco_encode_counts(cnts, m, buf)
        return PyBytes_FromStringAndSize(buf, size)
    finally:
        free(buf)
