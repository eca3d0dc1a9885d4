# Runs into text: digits, the bound on a text's length, the formatter, the checks of runs a
# caller gives (from_runs) and the str they are written into.  Reading text is parse.pxi's.

cdef extern from "rle_digits.h" nogil:
    int rle_put_digits8(char *dst, uint32_t v)


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


cdef object runs_to_str(const RunBuf *rb, int64_t base, bint relative):
    """The runs as a new str, formatted straight into it (room for the most the text can
    take, then cut to its length: no copy of a text that may be megabytes)."""
    cdef Py_ssize_t size
    cdef char *buf
    cdef PyObject *text = PyUnicode_New_raw(formatted_bound(rb, base), 127)
    if text == NULL:
        raise_nomem()
    buf = <char *> PyUnicode_DATA_raw(text)
    with nogil:  # (nobody else can see the string yet)
        size = format_runs(rb, base, relative, buf)
    if PyUnicode_Resize(&text, size) != 0:
        Py_DECREF(text)
        raise_nomem()
    result = <object> text
    Py_DECREF(text)
    return result


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
        raise_nomem()
    with nogil:
        memcpy(rb.data, &runs[0, 0], <size_t> n * 2 * sizeof(int64_t))
        rb.n = n
        code = check_runs(rb.data, n, base, &err)
    if code != OK:
        raise_error(&err, None)
    return 0


def from_runs(const int64_t[:, ::1] runs, int64_t base, bint relative):
    """Format an ``(N, 2)`` int64 array of 0-based starts and lengths as text."""
    cdef RunBuf rb = runbuf_empty()
    try:
        copy_checked_runs(runs, base, &rb)
        return runs_to_str(&rb, base, relative)
    finally:
        runbuf_free(&rb)
