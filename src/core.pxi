# The core every other file of the extension builds on: error codes and how they are raised,
# run buffers, the grid that maps pixel numbers to memory, bit-matrix helpers, buffers and the
# checks of the facade's arguments.  No parsing, writing, scanning or formatting lives here.

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

cdef extern from "rle_base.h" nogil:
    uint64_t rle_load64(const uint8_t *p)
    int rle_ctz64(uint64_t x)


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
    E_TRUNCATED = 13     # a compressed COCO string that ends inside a count

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
    E_TRUNCATED: "truncated",
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


cdef class KernelErrors:
    """``with KernelErrors(explain, *context):`` a :class:`KernelError` raised inside leaves
    as the exception ``explain(err, *context)`` returns.  The facade's one place for turning
    kernel reports into ``RLEError`` is ``rlecodec._errors.kernel_errors``, which is this
    class: it is written here, in C, because every small decode passes through it."""
    cdef object explain
    cdef tuple context

    def __cinit__(self, object explain, *context):
        self.explain = explain
        self.context = context

    def __enter__(self):
        return None

    def __exit__(self, kind, err, tb):
        if isinstance(err, KernelError):
            raise self.explain(err, *self.context) from None
        return False


ctypedef struct ErrInfo:
    int code
    int64_t token      # index of the offending token (a run's start token for run errors)
    int64_t offset     # byte offset of that token in the text
    int64_t length     # byte length of the token (or of the whole run)


cdef int raise_nomem() except -1:
    """The one MemoryError of the extension (its kernels report E_NOMEM)."""
    raise MemoryError("rlecodec: out of memory")


cdef void raise_error(const ErrInfo *err, object item) except *:
    if err.code == E_NOMEM:
        raise_nomem()
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


cdef inline bint is_mask_size(int64_t h, int64_t w) noexcept nogil:
    """h and w are a mask's height and width: neither negative, h * w inside int64."""
    return h >= 0 and w >= 0 and not (h and w > INT64_MAX // h)


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


# ------------------------------------------------------------------------------ run buffers
ctypedef struct RunBuf:
    int64_t *data      # interleaved (start, length), 0-based starts
    Py_ssize_t n       # number of runs
    Py_ssize_t cap     # runs that fit without growing


cdef inline RunBuf runbuf_empty() noexcept nogil:
    """A buffer with no runs and no memory: what every RunBuf starts as."""
    cdef RunBuf rb
    rb.data = NULL
    rb.n = 0
    rb.cap = 0
    return rb


cdef inline void runbuf_init(RunBuf *rb) noexcept nogil:
    rb[0] = runbuf_empty()


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
    runbuf_init(rb)


cdef object runbuf_to_array(const RunBuf *rb):
    """A copy of the runs as a new ``(N, 2)`` int64 array."""
    cdef int64_t[:, ::1] view
    result = np.empty((rb.n, 2), dtype=np.int64)
    if rb.n:
        view = result
        memcpy(&view[0, 0], rb.data, <size_t> rb.n * 2 * sizeof(int64_t))
    return result


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


cdef void memory_order(const Grid *g, Grid *t) noexcept nogil:
    """``t``: the same pixels numbered in memory order (lines along the fast axis)."""
    t[0] = g[0]
    t.L, t.M, t.s_in, t.s_out = g.M, g.L, g.s_out, g.s_in


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


cdef void *calloc_i64(int64_t n) noexcept nogil:
    cdef void *p = malloc(<size_t> n * sizeof(int64_t))
    if p != NULL:
        memset(p, 0, <size_t> n * sizeof(int64_t))
    return p


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
