# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, freethreading_compatible=True
"""C kernels of rlecodec: parse, validate, write, scan and format run-length masks.

Every kernel is ``noexcept nogil`` and returns an error code; the binding classes at the
bottom release the GIL around them and raise :class:`KernelError` with the raw facts
(code, token index, byte offset), which the pure-Python facade turns into ``RLEError``.
Everything is 64-bit: a pixel index or run length is ``int64_t``, a byte stride
``Py_ssize_t``.  The only global state, which reader of plain pairs suits this CPU, is set
once at import and only read afterwards.
"""

from libc.stdint cimport int64_t, uint64_t, uint8_t, uint16_t, uint32_t, INT64_MAX
from libc.stdlib cimport malloc, calloc, realloc, free
from libc.string cimport memset, memcpy, memcmp
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_RECORDS, PyBUF_RECORDS_RO
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_AsUTF8AndSize

import numpy as np

cdef extern from "Python.h":
    ctypedef struct PyObject
    const Py_ssize_t PY_SSIZE_T_MAX
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void* PyUnicode_DATA(object o)
    # The same, as owned raw pointers: a string written in place, then cut to its length.
    PyObject *PyUnicode_New_raw "PyUnicode_New"(Py_ssize_t size, Py_UCS4 maxchar)
    void *PyUnicode_DATA_raw "PyUnicode_DATA"(PyObject *o)
    int PyUnicode_Resize(PyObject **unicode, Py_ssize_t length)
    void Py_DECREF(PyObject *o)

cdef extern from "<stdlib.h>" nogil:
    void qsort(void *base, size_t nmemb, size_t size,
               int (*compar)(const void *, const void *) noexcept nogil)

cdef extern from "rle_scan.h" nogil:
    uint64_t rle_load64(const uint8_t *p)
    int rle_ctz64(uint64_t x)
    uint64_t rle_mask64(const uint8_t *p)
    uint64_t rle_spaces64(const uint8_t *p, uint64_t *other)
    bint rle_any64(const uint8_t *p)
    Py_ssize_t rle_skip_zero64(const uint8_t *p, Py_ssize_t k, Py_ssize_t n)
    uint64_t rle_mask_tail(const uint8_t *p, Py_ssize_t n)
    uint32_t rle_diff32(const uint8_t *a, const uint8_t *b)
    void rle_expand64(uint64_t bits, uint8_t value, uint8_t *dst, Py_ssize_t n)
    void rle_expand16(uint32_t bits, uint8_t value, uint8_t *dst)
    void rle_fill_bytes(uint8_t *dst, uint8_t value, Py_ssize_t n)
    int rle_put_digits8(char *dst, uint32_t v)

cdef extern from "rle_parse.h" nogil:
    ctypedef struct RleUsual:
        int64_t *out
        int64_t *out_end
        int64_t base
        int64_t limit
        int64_t prev_end
    uint64_t rle_swar8(uint64_t x)
    int rle_usual_pairs(const uint8_t *s, Py_ssize_t n, Py_ssize_t *pos, RleUsual *u,
                        uint64_t *pair, Py_ssize_t *next)
    const char *rle_parse_select()
    enum:
        RLE_PAIRS_END
        RLE_PAIRS_OTHER
        RLE_PAIRS_FULL

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

#: The plain-pair reader chosen for this CPU at import: "ssse3" or "swar" (rle_parse.h).
PARSER = rle_parse_select().decode("ascii")


# ------------------------------------------------------------------------------ error codes
cdef enum:
    OK = 0
    E_NOMEM = 1
    E_ODD = 2
    E_NOT_NUMBER = 3
    E_NEGATIVE = 4
    E_OVERFLOW = 5
    E_BELOW_BASE = 6
    E_PAST_END = 7
    E_ZERO_LENGTH = 8
    E_UNSORTED = 9
    E_OVERLAP = 10
    E_SIZE = 11          # COCO counts that do not add up to h * w
    # Internal, never raised: a sweep's segments outgrew the room it was given.
    E_MANY_SEGMENTS = 12

ERROR_NAMES = {
    E_NOMEM: "out_of_memory",
    E_ODD: "odd_token_count",
    E_NOT_NUMBER: "not_a_number",
    E_NEGATIVE: "negative",
    E_OVERFLOW: "overflow",
    E_BELOW_BASE: "below_base",
    E_PAST_END: "past_end",
    E_ZERO_LENGTH: "zero_length",
    E_UNSORTED: "unsorted",
    E_OVERLAP: "overlap",
    E_SIZE: "size_mismatch",
}


class KernelError(Exception):
    """Raw failure of a kernel: ``(reason, token, offset, length, item)``.

    ``offset``/``length`` locate the offending token (or run) in the input bytes; for
    integer input they are token indices.  The facade formats the user-facing message.
    """

    def __init__(self, reason, token, offset, length, item=None):
        super().__init__(reason, token, offset, length, item)
        self.reason = reason
        self.token = token
        self.offset = offset
        self.length = length
        self.item = item


ctypedef struct ErrInfo:
    int code
    int64_t token      # index of the offending token (a run's start token for run errors)
    int64_t offset     # byte offset of that token in the text
    int64_t length     # byte length of the token (or of the whole run)


# ------------------------------------------------------------------------------ run buffers
ctypedef struct RunBuf:
    int64_t *data      # interleaved (start, length), 0-based starts
    Py_ssize_t n       # number of runs
    Py_ssize_t cap     # runs that fit without growing


cdef int runbuf_reserve(RunBuf *rb, Py_ssize_t need) noexcept nogil:
    cdef Py_ssize_t cap = rb.cap if rb.cap > 0 else 64
    cdef int64_t *grown
    if need <= rb.cap:
        return OK
    while cap < need:
        cap *= 2
    grown = <int64_t *> realloc(rb.data, <size_t> cap * 2 * sizeof(int64_t))
    if grown == NULL:
        return E_NOMEM
    rb.data = grown
    rb.cap = cap
    return OK


cdef inline int runbuf_push(RunBuf *rb, int64_t start, int64_t length) noexcept nogil:
    if rb.n == rb.cap and runbuf_reserve(rb, rb.n + 1) != OK:
        return E_NOMEM
    rb.data[2 * rb.n] = start
    rb.data[2 * rb.n + 1] = length
    rb.n += 1
    return OK


cdef inline int runbuf_push_merged(RunBuf *rb, int64_t start, int64_t length) noexcept nogil:
    """Append a run, extending the last one instead when the two touch."""
    if rb.n > 0 and rb.data[2 * rb.n - 2] + rb.data[2 * rb.n - 1] == start:
        rb.data[2 * rb.n - 1] += length
        return OK
    return runbuf_push(rb, start, length)


cdef void runbuf_free(RunBuf *rb) noexcept nogil:
    free(rb.data)
    rb.data = NULL
    rb.n = 0
    rb.cap = 0


# ------------------------------------------------------------------------------ validation
ctypedef struct CocoStream:
    # A compressed COCO string written a batch of runs at a time (coco_stream_runs).
    char *out
    Py_ssize_t cap      # characters out can hold
    Py_ssize_t p        # characters written
    RleCocoState state  # runs written, where the last one ended, the counts before the next
    bint failed         # out of memory


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
    cdef uint64_t v = 0, x, flags
    cdef int code
    while True:
        while pos < n and is_space(s[pos]):
            pos += 1
        if pos >= n:
            return k
        if pos + 8 <= n:
            x = rle_load64(s + pos) ^ 0x3030303030303030ULL
            # High bit of each byte that is not a digit (a carry only leaks upward from a
            # byte that is flagged anyway, so the lowest flag is exact).
            flags = ((x + 0x7676767676767676ULL) | x) & 0x8080808080808080ULL
            if flags != 0:
                ndig = rle_ctz64(flags) >> 3
                if ndig > 0 and is_space(s[pos + ndig]):
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


# ------------------------------------------------------------------------------ sources
cdef enum:
    SRC_EMPTY = 0
    SRC_TEXT = 1
    SRC_TOKENS = 2
    SRC_COCO_TEXT = 3      # pycocotools' compressed counts
    SRC_COCO_COUNTS = 4    # uncompressed counts, int64


cdef class CocoCounts:
    """The counts of one COCO RLE as a decoding source: compressed ``bytes`` or a 1-D
    int64 array (background, foreground, background, ... from pixel 0, column-major)."""
    cdef readonly object data

    def __cinit__(self, object data):
        self.data = data

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
    """Runs of COCO counts: a compressed string (decoded here) or an array of counts,
    copied first so that a caller's array changed meanwhile is read once."""
    cdef int64_t *counts = <int64_t *> malloc(<size_t> (src.n + 1) * sizeof(int64_t))
    cdef Py_ssize_t m = 0
    if counts == NULL:
        err.code = E_NOMEM
        return E_NOMEM
    if src.kind == SRC_COCO_COUNTS:
        if src.n:
            memcpy(counts, src.tokens, <size_t> src.n * sizeof(int64_t))
        coco_runs(counts, src.n, rb, total, err)
    elif coco_decode_counts(src.text, src.n, counts, &m, err) == OK:
        coco_runs(counts, m, rb, total, err)
    free(counts)
    return err.code


# ------------------------------------------------------------------------------ layouts
# A mask of H x W pixels numbered in `order` is seen as M "outer" lines of L "inner" pixels:
# order F has L = H (a column), order C has L = W (a row).  Pixel p sits at inner i = p % L,
# outer o = p // L, at byte offset i * s_in + o * s_out.
ctypedef struct Grid:
    char *ptr
    int64_t L
    int64_t M
    Py_ssize_t s_in
    Py_ssize_t s_out
    int itemsize


cdef enum:
    LAYOUT_FLAT = 0        # pixel p at p * s_in: one straight line of memory
    LAYOUT_ALONG = 1       # inner lines are the faster memory axis
    LAYOUT_ACROSS = 2      # inner lines cut across memory: transpose in run space


cdef inline Py_ssize_t absval(Py_ssize_t x) noexcept nogil:
    return -x if x < 0 else x


cdef void grid_init(Grid *g, char *ptr, int64_t h, int64_t w, Py_ssize_t s0, Py_ssize_t s1,
                    int itemsize, bint order_f) noexcept nogil:
    g.ptr = ptr
    g.itemsize = itemsize
    if order_f:
        g.L, g.M, g.s_in, g.s_out = h, w, s0, s1
    else:
        g.L, g.M, g.s_in, g.s_out = w, h, s1, s0


cdef int grid_layout(Grid *g) noexcept nogil:
    """Classify how the numbering walks memory; a length-1 axis has no meaningful stride,
    so fold it away first."""
    if g.L == 1:
        # One pixel per outer line: pixel p sits at p * s_out.
        g.s_in = g.s_out
        g.L = g.M
        g.M = 1
    if g.M == 1:
        g.s_out = g.L * g.s_in
    if g.s_out == g.L * g.s_in:
        return LAYOUT_FLAT
    if absval(g.s_in) <= absval(g.s_out):
        return LAYOUT_ALONG
    return LAYOUT_ACROSS


# ------------------------------------------------------------------------------ decode: write
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
    out.segs.data = NULL
    out.segs.n = 0
    out.segs.cap = 0
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
                      bint zeros) noexcept nogil:
    """Write runs whose lines cut across memory.  Into zeroed memory the transposed segments
    go straight out.  Otherwise they are sorted by memory line and each line is written
    front to back, gaps and segments alike (or, when its segments are short, zeroed whole
    and then given them while in cache): one sequential pass over the output."""
    cdef SortedSegments st
    cdef int64_t k, i, j, covered, done, pos = 0
    cdef const int64_t *seg
    cdef char *line
    cdef int code
    if not zeros:
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


# Column-major runs into a row-major byte mask through bit matrices: the runs of 64
# columns are set as bits of one bit string (64 pixels per word operation, no per-line
# bookkeeping), each 64 x 64 block is read out of it and transposed in registers, and every
# row of the block is written as 64 bytes at once.  Blocks without a run are written as
# zeros without a transpose.
cdef enum:
    BITS_MAX_LINE = 131072     # the bits of 64 columns stay within 1 MiB


cdef inline void set_bits(uint64_t *col, int64_t i0, int64_t i1) noexcept nogil:
    """Set bits i0 .. i1-1 of a bitmap."""
    cdef int64_t w0 = i0 >> 6, w1 = (i1 - 1) >> 6, k
    cdef uint64_t lo = ~(<uint64_t> 0) << (i0 & 63)
    cdef uint64_t hi = ~(<uint64_t> 0) >> (63 - ((i1 - 1) & 63))
    if w0 == w1:
        col[w0] |= lo & hi
        return
    col[w0] |= lo
    for k in range(w0 + 1, w1):
        col[k] = ~(<uint64_t> 0)
    col[w1] |= hi


cdef inline uint64_t bits_at(const uint64_t *a, int64_t i) noexcept nogil:
    """Bits i .. i+63 of a bit string (whose word past bit i's word is readable)."""
    cdef int64_t q = i >> 6, sh = i & 63
    # Shifting by 1 and then 63 - sh keeps every shift below 64 when sh is 0.
    return (a[q] >> sh) | ((a[q + 1] << 1) << (63 - sh))


cdef int write_across_bits(const RunBuf *rb, const Grid *g, uint8_t value) noexcept nogil:
    """Write every pixel (runs and zeros) of a byte mask whose inner lines (L pixels) cut
    across memory and whose outer lines are adjacent bytes (``s_out == 1``).

    The pixels of 64 consecutive outer lines are consecutive in the numbering, so their
    runs are set in one bit string without splitting them at line ends."""
    cdef int64_t L = g.L, M = g.M
    cdef int64_t band_words = L + 1  # 64 lines of L bits, and the word bits_at reads past
    cdef int64_t c0, cw, j, rg, row, rows, s, e, lo, stop
    cdef Py_ssize_t r = 0
    cdef uint64_t t[64]
    cdef uint64_t any_bits, keep
    cdef uint64_t *bits = <uint64_t *> calloc_i64(band_words)
    cdef uint8_t *dst
    if bits == NULL:
        return E_NOMEM
    for c0 in range(0, M, 64):
        cw = 64 if M - c0 >= 64 else M - c0
        lo = c0 * L
        stop = lo + cw * L
        # The runs (or their parts) in lines c0 .. c0+cw-1: bit p - lo is pixel p.
        while r < rb.n:
            s = rb.data[2 * r]
            if s >= stop:
                break
            e = s + rb.data[2 * r + 1]
            if s < lo:
                s = lo  # the rest of a run begun in the band before
            if e > stop:
                set_bits(bits, s - lo, stop - lo)
                break  # and its rest goes to the next band
            set_bits(bits, s - lo, e - lo)
            r += 1
        for rg in range(0, L, 64):
            rows = L - rg if L - rg < 64 else 64
            keep = ~(<uint64_t> 0) if rows == 64 else ((<uint64_t> 1) << rows) - 1
            any_bits = 0
            for j in range(cw):
                # (Bits of the next line, past `rows`, would only land in rows not written;
                # masked so that an empty block is seen as one.)
                t[j] = bits_at(bits, j * L + rg) & keep
                any_bits |= t[j]
            dst = <uint8_t *> g.ptr + rg * g.s_in + c0
            if any_bits == 0:
                for row in range(rows):
                    rle_fill_bytes(dst + row * g.s_in, 0, cw)
                continue
            for j in range(cw, 64):
                t[j] = 0
            transpose64(t)  # t[row] bit j: pixel (rg + row, c0 + j)
            for row in range(rows):
                rle_expand64(t[row], value, dst + row * g.s_in, cw)
        memset(bits, 0, <size_t> ((cw * L + 63) // 64) * sizeof(uint64_t))
    free(bits)
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


cdef int write_runs(const RunBuf *rb, Grid *g, uint64_t pattern, bint zeros) noexcept nogil:
    """Set the pixels of sorted, disjoint runs to ``pattern``.  With ``zeros`` every other
    pixel is set to 0 in the same pass; without, the output must already be zero."""
    cdef Py_ssize_t r
    cdef int64_t s, e, area = 0, done = 0
    cdef Cursor cur
    cdef int layout = grid_layout(g)
    cur.o = 0
    cur.first = 0
    if layout == LAYOUT_ACROSS:
        for r in range(rb.n):
            area += rb.data[2 * r + 1]
        if area >= SCATTER_MEAN_RUN * rb.n:
            return write_across(rb, g, pattern, zeros)
        # Short runs (noise): through bit matrices for bytes, else pixel by pixel.
        if zeros and g.itemsize == 1 and g.s_out == 1 and g.L <= BITS_MAX_LINE:
            return write_across_bits(rb, g, <uint8_t> pattern)
        if zeros:
            zero_grid(g)
            zeros = False
        layout = LAYOUT_ALONG
    for r in range(rb.n):
        s = rb.data[2 * r]
        e = s + rb.data[2 * r + 1]
        if zeros:
            fill_pixels(g, done, s, 0, layout, &cur)
        fill_pixels(g, s, e, pattern, layout, &cur)
        done = e
    if zeros:
        fill_pixels(g, done, g.L * g.M, 0, layout, &cur)
    return OK


# ------------------------------------------------------------------------------ encode: scan
cdef enum:
    FG_NONZERO = 0     # on where the value is not zero
    FG_ABOVE = 1       # on where the value is above a threshold
    FG_ALL = 2         # the threshold is below every value of the dtype
    FG_NONE = 3        # the threshold is at or above every value of the dtype

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
    piece.data = NULL
    piece.n = 0
    piece.cap = 0
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


cdef void transpose64(uint64_t *a) noexcept nogil:
    """Transpose a 64 x 64 bit matrix in place: afterwards bit k of a[j] is what bit j of
    a[k] was (the classic log-step swap of ever smaller blocks)."""
    cdef int j = 32, k
    cdef uint64_t m = 0x00000000FFFFFFFFULL, t
    while j:
        k = 0
        while k < 64:
            t = ((a[k] >> j) ^ a[k | j]) & m
            a[k] ^= t << j
            a[k | j] ^= t
            k = ((k | j) + 1) & ~j
        j >>= 1
        m ^= m << j


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


cdef void *calloc_i64(int64_t n) noexcept nogil:
    cdef void *p = malloc(<size_t> n * sizeof(int64_t))
    if p != NULL:
        memset(p, 0, <size_t> n * sizeof(int64_t))
    return p


cdef void memory_order(const Grid *g, Grid *t) noexcept nogil:
    """``t``: the same pixels numbered in memory order (lines along the fast axis)."""
    t[0] = g[0]
    t.L, t.M, t.s_in, t.s_out = g.M, g.L, g.s_out, g.s_in


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
    sample.data = NULL
    sample.n = 0
    sample.cap = 0
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
    along.data = NULL
    along.n = 0
    along.cap = 0
    code = scan_along(&t, fg, &along, grid_layout(&t))
    if code == OK:
        code = runs_across(&along, g, rb)
    runbuf_free(&along)
    return code


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


# ------------------------------------------------------------------------------ encode: labels
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


# ------------------------------------------------------------------------------ format
cdef const char *DIGIT_PAIRS = (
    b"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    b"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    b"8081828384858687888990919293949596979899")


cdef inline int count_digits(uint64_t v) noexcept nogil:
    cdef int n = 1
    while v >= 10000:
        v //= 10000
        n += 4
    if v >= 1000:
        return n + 3
    if v >= 100:
        return n + 2
    if v >= 10:
        return n + 1
    return n


cdef inline char *write_number(char *dst, uint64_t v) noexcept nogil:
    """Write ``v`` in decimal at ``dst`` and return the end.  A number of 3 to 8 digits is
    one 8-byte store, so 8 bytes at ``dst`` must be writable."""
    cdef int n
    cdef char *p
    cdef uint64_t q
    if v < 10:
        dst[0] = <char> (48 + v)
        return dst + 1
    if v < 100:
        memcpy(dst, DIGIT_PAIRS + 2 * v, 2)
        return dst + 2
    if v < 100000000:
        return dst + rle_put_digits8(dst, <uint32_t> v)
    n = count_digits(v)
    p = dst + n
    while v >= 100:
        q = v // 100
        p -= 2
        memcpy(p, DIGIT_PAIRS + 2 * (v - q * 100), 2)
        v = q
    if v >= 10:
        memcpy(p - 2, DIGIT_PAIRS + 2 * v, 2)
    else:
        (p - 1)[0] = <char> (48 + v)
    return dst + n


cdef inline uint64_t written_start(const int64_t *runs, Py_ssize_t r, int64_t base,
                                   bint relative) noexcept nogil:
    if relative and r > 0:
        return <uint64_t> (runs[2 * r] - runs[2 * r - 2] - runs[2 * r - 1])
    return <uint64_t> (runs[2 * r] + base)


cdef Py_ssize_t formatted_bound(const RunBuf *rb, int64_t base) noexcept nogil:
    """Room enough for the text of sorted, disjoint runs (all that is ever formatted: the
    scanner's, or runs that check_runs accepted).  No number written (a start plus
    ``base``, a gap or a length) exceeds the last run's end plus ``base``, so none has more
    digits; reading one run instead of all of them spares a pass over the buffer."""
    cdef uint64_t top = 0
    if rb.n > 0:
        top = <uint64_t> rb.data[2 * rb.n - 2] + <uint64_t> rb.data[2 * rb.n - 1]
    # (+ 8: write_number stores 8 bytes at once.)
    return rb.n * (2 * count_digits(top + <uint64_t> base) + 2) + 8


cdef Py_ssize_t format_runs(const RunBuf *rb, int64_t base, bint relative,
                            char *dst) noexcept nogil:
    """Write the runs as text at ``dst`` (room: :func:`formatted_bound`); return its length."""
    cdef Py_ssize_t r, n = rb.n
    cdef char *at = dst
    # In locals: the text's char stores could alias the buffer's fields, which would then
    # be reloaded for every number.
    cdef const int64_t *runs = rb.data
    for r in range(n):
        if r > 0:
            at[0] = 32
            at += 1
        at = write_number(at, written_start(runs, r, base, relative))
        at[0] = 32
        at = write_number(at + 1, <uint64_t> runs[2 * r + 1])
    return at - dst


cdef int check_runs(const int64_t *runs, Py_ssize_t n, int64_t base, ErrInfo *err) noexcept nogil:
    """Runs given by the user to format: non-negative, non-empty, increasing, no overflow."""
    cdef Py_ssize_t r
    cdef int64_t s, length, prev_end = 0
    err.code = OK
    for r in range(n):
        s = runs[2 * r]
        length = runs[2 * r + 1]
        err.token = 2 * r
        if s < 0:
            err.code = E_NEGATIVE
        elif length < 0:
            err.code = E_NEGATIVE
            err.token = 2 * r + 1
        elif length == 0:
            err.code = E_ZERO_LENGTH
        elif s > INT64_MAX - base or length > INT64_MAX - s:
            err.code = E_OVERFLOW
        elif r > 0 and s < prev_end:
            err.code = E_UNSORTED if s < runs[2 * r - 2] else E_OVERLAP
        if err.code != OK:
            err.offset = err.token
            err.length = 1
            return err.code
        prev_end = s + length
    return OK


# ------------------------------------------------------------------------------ bindings
cdef object runbuf_to_array(const RunBuf *rb):
    """A copy of the runs as a new ``(N, 2)`` int64 array."""
    cdef int64_t[:, ::1] view
    result = np.empty((rb.n, 2), dtype=np.int64)
    if rb.n:
        view = result
        memcpy(&view[0, 0], rb.data, <size_t> rb.n * 2 * sizeof(int64_t))
    return result


cdef object runs_to_str(const RunBuf *rb, int64_t base, bint relative):
    """The runs as a new str, formatted straight into it (room for the most the text can
    take, then cut to its length: no copy of a text that may be megabytes)."""
    cdef Py_ssize_t size
    cdef char *buf
    cdef PyObject *text = PyUnicode_New_raw(formatted_bound(rb, base), 127)
    if text == NULL:
        raise MemoryError("rlecodec: out of memory while encoding")
    buf = <char *> PyUnicode_DATA_raw(text)
    with nogil:  # (nobody else can see the string yet)
        size = format_runs(rb, base, relative, buf)
    if PyUnicode_Resize(&text, size) != 0:
        Py_DECREF(text)
        raise MemoryError("rlecodec: out of memory while encoding")
    result = <object> text
    Py_DECREF(text)
    return result


cdef void raise_error(const ErrInfo *err, object item) except *:
    if err.code == E_NOMEM:
        raise MemoryError("rlecodec: out of memory")
    raise KernelError(ERROR_NAMES[err.code], err.token, err.offset, err.length, item)


# Checks of the arguments the facade passes: the classes and functions here are private,
# but private is no safety boundary in Python, so nothing a caller passes may make a kernel
# read or write outside the buffers it was given.
cdef int check_base_arg(int64_t base) except -1:
    if base != 0 and base != 1:
        raise ValueError(f"base must be 0 or 1, got {base}")
    return 0


cdef int check_range(Py_ssize_t i0, Py_ssize_t i1, Py_ssize_t n) except -1:
    if not 0 <= i0 <= i1 <= n:
        raise IndexError(f"range [{i0}, {i1}) is not within [0, {n})")
    return 0


cdef int check_out_view(const Py_buffer *view, int64_t h, int64_t w, bint stack) except -1:
    """``view`` is a 2-D ``(h, w)`` buffer (or with ``stack``, also ``(N, h, w)``) of 1, 2,
    4 or 8-byte items: what the writers can fill."""
    if not (view.ndim == 2 or (stack and view.ndim == 3)):
        raise ValueError(f"out must be {'2-D or 3-D' if stack else '2-D'}, got {view.ndim}-D")
    if view.shape[view.ndim - 2] != h or view.shape[view.ndim - 1] != w:
        raise ValueError(f"out's last two dimensions are not ({h}, {w})")
    if view.itemsize not in (1, 2, 4, 8):
        raise ValueError(f"out's items must have 1, 2, 4 or 8 bytes, not {view.itemsize}")
    return 0


cdef class _Buffer:
    """A strided N-D view of an object's memory (PEP 3118), released on collection."""
    cdef Py_buffer view
    cdef bint held

    def __cinit__(self, object obj, bint writable):
        PyObject_GetBuffer(obj, &self.view, PyBUF_RECORDS if writable else PyBUF_RECORDS_RO)
        self.held = True

    def __dealloc__(self):
        if self.held:
            PyBuffer_Release(&self.view)


ctypedef struct Target:
    # Where decoded runs go and how they are read: an (H, W) output, or (N, H, W) whose
    # mask k starts k * s_item bytes in.
    char *buf
    Py_ssize_t s_item, s0, s1
    int itemsize
    int64_t h, w, base, total
    bint order_f, relative, strict
    uint64_t pattern
    bint zeroed         # the output is known to be all zeros: only the runs need writing


cdef void target_init(Target *t, const Py_buffer *view, int64_t h, int64_t w, bint order_f,
                      int64_t base, bint relative, bint strict, uint64_t pattern,
                      bint zeroed) noexcept:
    t.buf = <char *> view.buf
    t.itemsize = <int> view.itemsize
    if view.ndim == 3:
        t.s_item, t.s0, t.s1 = view.strides[0], view.strides[1], view.strides[2]
    else:
        t.s_item, t.s0, t.s1 = 0, view.strides[0], view.strides[1]
    t.h, t.w, t.total, t.order_f = h, w, h * w, order_f
    t.base, t.relative, t.strict, t.pattern, t.zeroed = base, relative, strict, pattern, zeroed


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


cdef int target_write(const Target *t, Py_ssize_t slot, RunBuf *rb, ErrInfo *err) noexcept nogil:
    """Write parsed runs into mask ``slot`` of the output, then free them."""
    cdef Grid g
    cdef int code = OK
    if t.h != 0 and t.w != 0:
        grid_init(&g, t.buf + slot * t.s_item, t.h, t.w, t.s0, t.s1, t.itemsize, t.order_f)
        code = write_runs(rb, &g, t.pattern, not t.zeroed)
    runbuf_free(rb)
    err.code = code
    return code


def decode_one(object rle, object out, int64_t h, int64_t w, bint order_f, int64_t base,
               bint relative, bint strict, uint64_t pattern, bint zeroed):
    """Parse one normalised source and write it into the 2-D array ``out`` (untouched if the
    source is malformed: parsing ends before writing starts), with the GIL released."""
    cdef RunBuf rb = RunBuf(NULL, 0, 0)
    cdef ErrInfo err
    cdef Target t
    cdef int code
    cdef _Buffer buf = _Buffer(out, True)
    check_out_view(&buf.view, h, w, False)
    try:
        parse_into(rle, &rb, base, h * w, relative, strict, False)
        target_init(&t, &buf.view, h, w, order_f, base, relative, strict, pattern, zeroed)
        with nogil:
            code = target_write(&t, 0, &rb, &err)
        if code != OK:
            raise_error(&err, None)
    finally:
        runbuf_free(&rb)


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
            raise MemoryError()
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
                raise MemoryError("rlecodec: out of memory")

    cdef (int64_t, int64_t) lines(self, int64_t n, Py_ssize_t k) noexcept nogil:
        """Band k's share [a, b) of n lines."""
        return n * k // self.nbands, n * (k + 1) // self.nbands


cdef int band_runs(const RunBuf *rb, int64_t L, int64_t a, int64_t b, RunBuf *out) noexcept nogil:
    """The parts of sorted, disjoint runs (outer lines of L pixels) at inner indices [a, b)
    of every outer line, numbered as a mask of outer lines of b - a pixels."""
    cdef Py_ssize_t r
    cdef int64_t s, e, i0, i1
    cdef Cursor cur
    cur.o = 0
    cur.first = 0
    for r in range(rb.n):
        s = rb.data[2 * r]
        e = s + rb.data[2 * r + 1]
        while s < e:
            cursor_seek(&cur, s, L)
            i0 = max(s - cur.first, a)
            i1 = min(e - cur.first, b)
            if i0 < i1 and runbuf_push_merged(out, cur.o * (b - a) + i0 - a, i1 - i0) != OK:
                return E_NOMEM
            s = cur.first + L
    return OK


cdef Py_ssize_t first_run_after(const RunBuf *rb, int64_t x, bint by_end) noexcept nogil:
    """The first run whose end (or start) is above x (or at least x), by bisection."""
    cdef Py_ssize_t lo = 0, hi = rb.n, mid
    while lo < hi:
        mid = (lo + hi) // 2
        if (rb.data[2 * mid] + rb.data[2 * mid + 1] > x) if by_end else (rb.data[2 * mid] >= x):
            hi = mid
        else:
            lo = mid + 1
    return lo


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
            runs.data = NULL
            runs.n = 0
            runs.cap = 0
            part.ptr = self.g.ptr + a * self.g.s_in
            part.L = b - a
            if b > a:
                code = band_runs(&self.rb, self.g.L, a, b, &runs)
                if code == OK:
                    code = write_runs(&runs, &part, self.pattern, False)
            runbuf_free(&runs)
            return code
        # Outer lines [a, b): pixels [a * L, b * L), the runs between, its two ends cut.
        a, b = self.lines(self.g.M, k)
        lo = first_run_after(&self.rb, a * self.g.L, True)
        hi = first_run_after(&self.rb, b * self.g.L, False)
        if hi - lo > 2:
            runs.data = self.rb.data + 2 * (lo + 1)
            runs.n = hi - lo - 2
            code = write_runs(&runs, &part, self.pattern, False)
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
            code = write_runs(&runs, &part, self.pattern, False)
        return code


cdef class DecodeBatch:
    """Parse N run-length inputs and write them into an ``(N, H, W)`` or ``(H, W)`` array.

    ``process(i0, i1, parse, write)`` validates items without touching the output, writes
    parsed ones, or does both item by item (into a fresh output).  It releases the GIL, so
    disjoint item ranges can run in parallel threads.
    """
    cdef Source *sources
    cdef RunBuf *runs
    cdef ErrInfo *errors
    cdef uint8_t *parsed    # item i's runs are parsed, checked and not yet written
    cdef Py_ssize_t n
    cdef list keep
    cdef _Buffer out
    cdef Target target
    cdef const int64_t[::1] slots
    cdef bint has_slots

    def __cinit__(self, list items, object out, int64_t h, int64_t w, bint order_f,
                  int64_t base, bint relative, bint strict, uint64_t pattern, bint zeroed,
                  object slots=None):
        """``zeroed``: ``out`` is known to be all zeros, so only the runs need writing.
        ``slots``: item i goes to ``out[slots[i]]`` (several items to one slot make their
        union, with ``zeroed``); by default to ``out[i]``."""
        cdef Py_ssize_t i, nslots
        check_base_arg(base)
        # Every per-item field is valid (empty) before anything can raise: __dealloc__
        # frees them all, whichever item failed.
        self.n = len(items)
        self.sources = <Source *> calloc(<size_t> self.n + 1, sizeof(Source))
        self.runs = <RunBuf *> calloc(<size_t> self.n + 1, sizeof(RunBuf))
        self.errors = <ErrInfo *> calloc(<size_t> self.n + 1, sizeof(ErrInfo))
        self.parsed = <uint8_t *> calloc(<size_t> self.n + 1, sizeof(uint8_t))
        if (self.sources == NULL or self.runs == NULL or self.errors == NULL
                or self.parsed == NULL):
            raise MemoryError()
        self.out = _Buffer(out, True)
        check_out_view(&self.out.view, h, w, True)
        nslots = self.out.view.shape[0] if self.out.view.ndim == 3 else 1
        self.has_slots = slots is not None
        if self.has_slots:
            self.slots = slots
            if self.slots.shape[0] != self.n:
                raise ValueError("one slot per item")
            for i in range(self.n):
                if not 0 <= self.slots[i] < nslots:
                    raise ValueError("slot out of range")
        elif self.out.view.ndim == 3 and self.n > nslots:
            raise ValueError(f"{self.n} items but room for {nslots}")
        self.keep = [items]
        for i in range(self.n):
            source_set(&self.sources[i], items[i], self.keep)
        target_init(&self.target, &self.out.view, h, w, order_f, base, relative, strict,
                    pattern, zeroed)

    def __dealloc__(self):
        cdef Py_ssize_t i
        if self.runs != NULL:
            for i in range(self.n):
                runbuf_free(&self.runs[i])
        free(self.runs)
        free(self.sources)
        free(self.errors)
        free(self.parsed)

    def process(self, Py_ssize_t i0, Py_ssize_t i1, bint parse, bint write):
        """Parse and/or write items i0 .. i1-1 with the GIL released; stop at a failure.
        Only items parsed without error are written, each once."""
        cdef Py_ssize_t i
        check_range(i0, i1, self.n)
        with nogil:
            for i in range(i0, i1):
                if parse and not self.parsed[i] and self.errors[i].code == OK:
                    if parse_source(&self.sources[i], &self.runs[i], self.target.base,
                                    self.target.total, self.target.relative,
                                    self.target.strict, False, NULL, &self.errors[i]) != OK:
                        break
                    self.parsed[i] = 1
                if write and self.parsed[i]:
                    self.parsed[i] = 0
                    if target_write(&self.target, self.slots[i] if self.has_slots else i,
                                    &self.runs[i], &self.errors[i]) != OK:
                        break

    def check(self, bint batch):
        """Raise for the first failed item, if any."""
        cdef Py_ssize_t i
        for i in range(self.n):
            if self.errors[i].code != OK:
                raise_error(&self.errors[i], i if batch else None)


cdef int mask_setup(const Py_buffer *view, tuple foreground, bint order_f, Grid *g,
                    Foreground *fg) except -1:
    """Describe a 2-D mask buffer and how its foreground is told, for the scan."""
    if view.ndim != 2:
        raise ValueError("expected 2-D masks")
    grid_init(g, <char *> view.buf, view.shape[0], view.shape[1], view.strides[0],
              view.strides[1], <int> view.itemsize, order_f)
    kind, mode, thr_f, thr_i, thr_u = foreground
    if not ((kind in "biu" and view.itemsize in (1, 2, 4, 8))
            or (kind == "f" and view.itemsize in (4, 8))):
        raise ValueError(f"cannot read masks of kind {kind!r}, {view.itemsize} bytes")
    fg.kind = ord(kind)
    fg.mode = mode
    fg.thr_f = thr_f
    fg.thr_i = thr_i
    fg.thr_u = thr_u
    return 0


cdef inline int mask_scan(Grid *g, const Foreground *fg, RunBuf *rb) noexcept nogil:
    if g.L > 0 and g.M > 0:
        return scan_runs(g, fg, rb)
    return OK


def encode_one(object mask, tuple foreground, bint order_f, int64_t base, bint relative):
    """Encode one 2-D mask buffer to text, scanned and formatted with the GIL released."""
    cdef Py_buffer view
    cdef Grid g
    cdef Foreground fg
    cdef RunBuf rb
    cdef int code
    rb.data = NULL
    rb.n = 0
    rb.cap = 0
    check_base_arg(base)
    PyObject_GetBuffer(mask, &view, PyBUF_RECORDS_RO)
    try:
        mask_setup(&view, foreground, order_f, &g, &fg)
        with nogil:
            code = mask_scan(&g, &fg, &rb)
        if code != OK:
            raise MemoryError("rlecodec: out of memory while encoding")
        return runs_to_str(&rb, base, relative)
    finally:
        runbuf_free(&rb)
        PyBuffer_Release(&view)


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
            raise MemoryError()
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
        along.data = rb.data = NULL
        along.n = rb.n = 0
        along.cap = rb.cap = 0
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
                raise MemoryError("rlecodec: out of memory while encoding")
            return runs_to_str(&rb if self.across else &along, base, relative)
        finally:
            runbuf_free(&along)
            runbuf_free(&rb)


cdef class EncodeBatch:
    """Encode N masks (each any strided 2-D buffer of bool/int/float) to run-length text.

    ``run(i0, i1)`` scans and formats items with the GIL released; ``result(i)`` returns
    item i's text.
    """
    cdef list buffers
    cdef Grid *grids
    cdef Foreground *fgs
    cdef RunBuf *runs
    cdef char **texts
    cdef Py_ssize_t *sizes
    cdef int *codes
    cdef Py_ssize_t n
    cdef bint order_f, relative, keep_runs
    cdef int64_t base

    def __cinit__(self, list masks, list foregrounds, bint order_f, int64_t base, bint relative,
                  bint keep_runs=False):
        """``foregrounds[i]`` is ``(kind, mode, thr_f, thr_i, thr_u)`` for ``masks[i]``;
        with ``keep_runs`` the runs are kept for :meth:`take_runs` instead of formatted."""
        cdef Py_ssize_t i
        cdef _Buffer buf
        if len(foregrounds) != len(masks):
            raise ValueError("one foreground per mask")
        check_base_arg(base)
        self.n = len(masks)
        self.buffers = []
        self.grids = <Grid *> malloc(<size_t> (self.n + 1) * sizeof(Grid))
        self.fgs = <Foreground *> malloc(<size_t> (self.n + 1) * sizeof(Foreground))
        self.runs = <RunBuf *> malloc(<size_t> (self.n + 1) * sizeof(RunBuf))
        self.texts = <char **> malloc(<size_t> (self.n + 1) * sizeof(char *))
        self.sizes = <Py_ssize_t *> malloc(<size_t> (self.n + 1) * sizeof(Py_ssize_t))
        self.codes = <int *> malloc(<size_t> (self.n + 1) * sizeof(int))
        if (self.grids == NULL or self.fgs == NULL or self.runs == NULL or self.texts == NULL
                or self.sizes == NULL or self.codes == NULL):
            raise MemoryError()
        self.order_f, self.base, self.relative = order_f, base, relative
        self.keep_runs = keep_runs
        for i in range(self.n):
            self.runs[i].data = NULL
            self.runs[i].n = 0
            self.runs[i].cap = 0
            self.texts[i] = NULL
            self.sizes[i] = 0
            self.codes[i] = OK
        for i in range(self.n):
            buf = _Buffer(masks[i], False)
            self.buffers.append(buf)
            mask_setup(&buf.view, foregrounds[i], order_f, &self.grids[i], &self.fgs[i])

    def __dealloc__(self):
        cdef Py_ssize_t i
        if self.runs != NULL and self.texts != NULL:
            for i in range(self.n):
                runbuf_free(&self.runs[i])
                free(self.texts[i])
        free(self.grids)
        free(self.fgs)
        free(self.runs)
        free(self.texts)
        free(self.sizes)
        free(self.codes)

    cdef int encode_item(self, Py_ssize_t i) noexcept nogil:
        cdef int code = mask_scan(&self.grids[i], &self.fgs[i], &self.runs[i])
        if self.keep_runs:
            self.codes[i] = code
            return code
        if code == OK:
            self.texts[i] = <char *> malloc(<size_t> formatted_bound(&self.runs[i], self.base) + 1)
            if self.texts[i] == NULL:
                code = E_NOMEM
            else:
                self.sizes[i] = format_runs(&self.runs[i], self.base, self.relative,
                                            self.texts[i])
        runbuf_free(&self.runs[i])
        self.codes[i] = code
        return code

    def run(self, Py_ssize_t i0, Py_ssize_t i1):
        cdef Py_ssize_t i
        check_range(i0, i1, self.n)
        with nogil:
            for i in range(i0, i1):
                if self.encode_item(i) != OK:
                    break

    def take_runs(self, Py_ssize_t i):
        """Item i's runs as an ``(N, 2)`` int64 array (0-based starts, lengths)."""
        check_range(i, i + 1, self.n)
        if self.codes[i] != OK:
            raise MemoryError("rlecodec: out of memory while encoding")
        try:
            return runbuf_to_array(&self.runs[i])
        finally:
            runbuf_free(&self.runs[i])

    def result(self, Py_ssize_t i):
        cdef object text
        check_range(i, i + 1, self.n)
        if self.codes[i] != OK or self.texts[i] == NULL:
            raise MemoryError("rlecodec: out of memory while encoding")
        text = PyUnicode_New(self.sizes[i], 127)
        memcpy(PyUnicode_DATA(text), self.texts[i], <size_t> self.sizes[i])
        free(self.texts[i])
        self.texts[i] = NULL
        return text


cdef int parse_into(object rle, RunBuf *rb, int64_t base, int64_t total, bint relative,
                    bint strict, bint faithful, CocoStream *stream=NULL) except -1:
    """Parse one input into ``rb`` (initialised empty here) with the GIL released; raise
    KernelError if it is malformed (``rb`` is then the caller's to free).  With a
    ``stream``, runs may go to it on the way (see Builder.stream)."""
    cdef Source src
    cdef ErrInfo err
    cdef list keep = []
    cdef int code
    rb.data = NULL
    rb.n = 0
    rb.cap = 0
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


cdef int copy_checked_runs(const int64_t[:, ::1] runs, int64_t base, RunBuf *rb) except -1:
    """A private copy of a caller's ``(N, 2)`` runs in ``rb`` (initialised empty), checked
    with :func:`check_runs` (KernelError if not).  Checked and used from the copy: the
    caller's array may change meanwhile, and what is sized from it must stay true."""
    cdef ErrInfo err
    cdef Py_ssize_t n = runs.shape[0]
    cdef int code = OK
    check_base_arg(base)
    if runs.shape[1] != 2:
        raise ValueError("runs must be an (N, 2) array")
    if n == 0:
        return 0
    if runbuf_reserve(rb, n) != OK:
        raise MemoryError("rlecodec: out of memory")
    with nogil:
        memcpy(rb.data, &runs[0, 0], <size_t> n * 2 * sizeof(int64_t))
        rb.n = n
        code = check_runs(rb.data, n, base, &err)
    if code != OK:
        raise_error(&err, None)
    return 0


def from_runs(const int64_t[:, ::1] runs, int64_t base, bint relative):
    """Format an ``(N, 2)`` int64 array of 0-based starts and lengths as text."""
    cdef RunBuf rb = RunBuf(NULL, 0, 0)
    try:
        copy_checked_runs(runs, base, &rb)
        return runs_to_str(&rb, base, relative)
    finally:
        runbuf_free(&rb)


# ------------------------------------------------------------------------------ COCO counts
# COCO's compressed RLE string (as pycocotools writes it): each count, minus the count two
# before it from the third on, in 5-bit groups, low first; a group's 0x20 bit says "more
# follow", the 0x10 bit of the last group is the sign; each group is stored as chr(48 + g).

cdef int coco_decode_counts(const uint8_t *s, Py_ssize_t n, int64_t *out, Py_ssize_t *count,
                            ErrInfo *err) noexcept nogil:
    # The error code is a local: stores to `out` could alias `err`'s fields, which would
    # then be reloaded for every count.
    cdef Py_ssize_t p = 0, m = 0, start
    cdef int64_t x
    cdef uint64_t ux
    cdef int c, k, code = OK
    cdef bint more
    while p < n:
        start = p
        c = <int> s[p] - 48
        if <unsigned int> c < 32:
            # One character (no 0x20: nothing follows): 5 bits, 0x10 the sign.
            x = c - ((c & 0x10) << 1)
            p += 1
        else:
            ux = 0
            k = 0
            more = True
            while more:
                if p >= n:
                    code = E_ODD  # truncated: the last count never ended
                    break
                c = <int> s[p] - 48
                if c < 0 or c > 63:
                    code = E_NOT_NUMBER
                    break
                if k >= 13:  # 13 groups hold 65 bits: more is not a 64-bit count
                    code = E_OVERFLOW
                    break
                ux |= <uint64_t> (c & 0x1f) << (5 * k)
                more = (c & 0x20) != 0
                p += 1
                k += 1
                if not more and (c & 0x10) and 5 * k < 64:
                    ux |= ~(<uint64_t> 0) << (5 * k)  # the sign: negative delta
            x = <int64_t> ux
        if code == OK and m > 2:
            if x > 0 and out[m - 2] > INT64_MAX - x:  # out[m - 2] >= 0: only x > 0 overflows
                code = E_OVERFLOW
            else:
                x += out[m - 2]
        if code == OK and x < 0:
            code = E_NEGATIVE
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


cdef Py_ssize_t coco_encode_counts(const int64_t *cnts, Py_ssize_t m, char *out) noexcept nogil:
    """Write the compressed string of ``m`` non-negative counts into ``out`` (room for
    ``RLE_COCO_MAX_CHARS`` per count) and return its length; from the fourth on, each count is
    written as its difference from the count two before."""
    cdef Py_ssize_t i, p = 0
    for i in range(m):
        # (Both counts are >= 0: the difference cannot overflow.)
        p += rle_coco_put(out + p, cnts[i] - cnts[i - 2] if i > 2 else cnts[i])
    return p


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
    rb.data = NULL
    rb.n = 0
    rb.cap = 0
    ls.itemsize = <int> buf.view.itemsize
    ls.binary = binary
    ls.out = &rb
    with nogil:
        code = label_segments_scan(&ls, <const char *> buf.view.buf, buf.view.shape[0],
                                   buf.view.shape[1], buf.view.shape[2], buf.view.strides[0],
                                   buf.view.strides[1], buf.view.strides[2])
    try:
        if code != OK:
            raise MemoryError("rlecodec: out of memory while encoding")
        return runbuf_to_array(&rb).reshape(-1, 4)
    finally:
        runbuf_free(&rb)


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
            raise MemoryError()
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
    cdef RunBuf rb = RunBuf(NULL, 0, 0)
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


def coco_string_from_counts(const int64_t[::1] counts):
    """The compressed COCO string of non-negative int64 counts, as bytes."""
    cdef Py_ssize_t m = counts.shape[0], size
    cdef const int64_t *cnts = &counts[0] if m else NULL
    cdef char *buf = <char *> malloc(<size_t> (m * RLE_COCO_MAX_CHARS + 2))
    if buf == NULL:
        raise MemoryError()
    try:
        with nogil:
            size = coco_encode_counts(cnts, m, buf)
        return PyBytes_FromStringAndSize(buf, size)
    finally:
        free(buf)


def coco_runs_from_counts(const int64_t[::1] counts, int64_t total):
    """Foreground runs ``(N, 2)`` (0-based start, length) of COCO counts, empty runs dropped
    and touching ones joined (KernelError unless non-negative and adding up to ``total``)."""
    cdef RunBuf rb
    cdef ErrInfo err
    rb.data = NULL
    rb.n = 0
    rb.cap = 0
    with nogil:
        coco_runs(&counts[0] if counts.shape[0] else NULL, counts.shape[0], &rb, total, &err)
    try:
        if err.code != OK:
            raise_error(&err, None)
        return runbuf_to_array(&rb)
    finally:
        runbuf_free(&rb)
