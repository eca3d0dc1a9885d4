# The decoding bindings: where parsed runs go (Target), COCO strings that skip runs and go
# straight into pixels (coco_line_kind), one source into an array (decode_one) and a batch
# into a stack (DecodeBatch), with the GIL released around the kernels.  The kernels
# themselves are parse.pxi's, write.pxi's and rle_coco_line.h's.

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


cdef int target_write(const Target *t, Py_ssize_t slot, RunBuf *rb, ErrInfo *err) noexcept nogil:
    """Write parsed runs into mask ``slot`` of the output, then free them."""
    cdef Grid g
    cdef int code = OK
    if t.h != 0 and t.w != 0:
        grid_init(&g, t.buf + slot * t.s_item, t.h, t.w, t.s0, t.s1, t.itemsize, t.order_f)
        code = write_runs(rb, &g, t.pattern, t.zeroed)
    runbuf_free(rb)
    err.code = code
    return code


cdef extern from "rle_coco_line.h" nogil:
    int rle_coco_line(const uint8_t *s, Py_ssize_t n, uint8_t *dst, int64_t total,
                      uint8_t value, int zeroed)


cdef enum:
    LINE_NONE = 0       # through runs (parse.pxi / coco.pxi, then write.pxi)
    LINE_DIRECT = 1     # a compressed COCO string straight into the mask's memory
    LINE_TRANSPOSED = 2  # ... into a line of scratch memory, then transposed into the mask
    LINE_COPIED = 3     # ... into a line of scratch memory, then copied into the mask
    LINE_SCRATCH_MAX = 32 << 20


cdef int coco_line_kind(const Source *src, const Target *t) noexcept nogil:
    """Whether a source goes straight into pixels without runs between (rle_coco_line), and
    how: LINE_DIRECT for a compressed COCO string into a mask whose memory order is COCO's
    pixel order, a byte per pixel; LINE_TRANSPOSED for such a string of short runs (a
    character for every 16 pixels or more: noise) into a row-major byte mask of at most
    32 MiB, which the runs' writer would otherwise cut into rows run by run.  (Zeros are
    written too: never for a slot that gathers several items.)"""
    if src.kind != SRC_COCO_TEXT or t.itemsize != 1 or t.total <= 0:
        return LINE_NONE
    if t.order_f and t.s0 == 1 and t.s1 == t.h:
        return LINE_DIRECT
    if (t.order_f and t.s1 == 1 and t.s0 >= t.w and t.total <= LINE_SCRATCH_MAX
            and 16 * <int64_t> src.n >= t.total):
        return LINE_TRANSPOSED
    return LINE_NONE


cdef int coco_line_write(const Source *src, const Target *t, Py_ssize_t slot, int kind,
                         bint write) noexcept nogil:
    """rle_coco_line for source ``src`` into mask ``slot`` of ``t`` the ``kind`` way (only
    checked unless ``write``): OK; E_SIZE if the string is not one the line reader takes
    (the exact reader then says why); E_NOMEM without scratch memory.  A write through
    scratch (LINE_TRANSPOSED, LINE_COPIED) leaves the mask untouched unless it is OK."""
    cdef uint8_t *dst = <uint8_t *> (t.buf + slot * t.s_item)
    cdef uint8_t *line
    cdef int code
    if not write:
        dst = NULL
    elif kind == LINE_TRANSPOSED or kind == LINE_COPIED:
        line = <uint8_t *> malloc(<size_t> t.total)
        if line == NULL:
            return E_NOMEM
        code = rle_coco_line(src.text, src.n, line, t.total, <uint8_t> t.pattern, False)
        if code == 0 and kind == LINE_COPIED:
            memcpy(dst, line, <size_t> t.total)
        elif code == 0:
            rle_transpose_bytes(line, t.h, dst, t.s0, t.h, t.w)
        free(line)
        return OK if code == 0 else E_SIZE
    return OK if rle_coco_line(src.text, src.n, dst, t.total, <uint8_t> t.pattern,
                               t.zeroed) == 0 else E_SIZE


def decode_one(object rle, object out, int64_t h, int64_t w, bint order_f, int64_t base,
               bint relative, bint strict, uint64_t pattern, bint zeroed, bint fresh=False):
    """Parse one normalised source and write it into the 2-D array ``out`` (untouched if the
    source is malformed: parsing ends before writing starts, unless ``out`` is ``fresh``,
    new and dropped by the caller on an error), with the GIL released."""
    cdef Target t
    cdef Source src
    cdef list keep = []
    cdef _Buffer buf = _Buffer(out, True)
    check_out_view(&buf.view, h, w, False)
    check_base_arg(base)
    target_init(&t, &buf.view, h, w, order_f, base, relative, strict, pattern, zeroed)
    source_set(&src, rle, keep)
    decode_source(&src, &t, fresh)


cdef int decode_source(const Source *src, const Target *t, bint fresh) except -1:
    """decode_one's work, once its source and target are set: a compressed COCO string the
    straight way where it goes (coco_line_kind), else parsed, then written."""
    cdef RunBuf rb = runbuf_empty()
    cdef ErrInfo err
    cdef int code = E_SIZE, kind = coco_line_kind(src, t)
    if kind == LINE_DIRECT and not fresh and t.total <= LINE_SCRATCH_MAX:
        kind = LINE_COPIED  # (one pass into scratch and a copy beat checking, then writing)
    if kind != LINE_NONE:
        with nogil:
            if kind == LINE_DIRECT and not fresh:
                code = coco_line_write(src, t, 0, kind, False)
            if fresh or kind != LINE_DIRECT or code == OK:
                code = coco_line_write(src, t, 0, kind, True)
        if code == OK:
            return 0
    memset(&err, 0, sizeof(err))  # (an out-of-memory failure sets only the code)
    with nogil:
        code = parse_source(src, &rb, t.base, t.total, t.relative, t.strict, False, NULL,
                            &err)
        if code == OK:
            code = target_write(t, 0, &rb, &err)  # (which frees the runs)
        else:
            runbuf_free(&rb)
    if code != OK:
        raise_error(&err, None)
    return 0


def coco_decode_usual(object obj, object dtype, uint64_t pattern, bint fortran,
                      int64_t max_bytes):
    """The usual COCO decode: ``obj`` (coco_usual's kind) into a new ``(H, W)`` array of
    ``dtype`` (Fortran-ordered if ``fortran``) of fewer than ``max_bytes``, as decode_one
    writes a fresh mask; None for any other object or size, left to the facade's general
    path.  KernelError if malformed."""
    cdef object usual = coco_usual(obj), mask
    cdef int64_t h, w
    cdef Target t
    cdef Source src
    cdef list keep = []
    if usual is None:
        return None
    h, w, counts = usual
    if h * w >= max_bytes // <int64_t> dtype.itemsize:
        return None
    source_set(&src, CocoCounts(counts), keep)
    mask = np.empty((w, h), dtype).T if fortran else np.empty((h, w), dtype)
    cdef _Buffer buf = _Buffer(mask, True)
    target_init(&t, &buf.view, h, w, True, 0, False, True, pattern, False)
    decode_source(&src, &t, True)
    return mask


cdef class DecodeBatch:
    """Parse N run-length inputs and write them into an ``(N, H, W)`` or ``(H, W)`` array.

    ``process(i0, i1, parse, write)`` validates items without touching the output, writes
    parsed ones, or does both item by item (into a fresh output).  It releases the GIL, so
    disjoint item ranges can run in parallel threads.
    """
    cdef Source *sources
    cdef RunBuf *runs
    cdef ErrInfo *errors
    cdef uint8_t *parsed    # item i is checked and not yet written: its runs parsed (1), or
                            # a COCO string to go straight into pixels (2)
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
            raise_nomem()
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

    cdef inline int line_kind(self, Py_ssize_t i) noexcept nogil:
        """coco_line_kind of item i (none where a slot gathers several items)."""
        return LINE_NONE if self.has_slots else coco_line_kind(&self.sources[i], &self.target)

    def process(self, Py_ssize_t i0, Py_ssize_t i1, bint parse, bint write):
        """Parse and/or write items i0 .. i1-1 with the GIL released; stop at a failure.
        Only items parsed without error are written, each once."""
        cdef Py_ssize_t i
        cdef int kind
        check_range(i0, i1, self.n)
        with nogil:
            for i in range(i0, i1):
                if parse and not self.parsed[i] and self.errors[i].code == OK:
                    kind = self.line_kind(i)
                    if kind != LINE_NONE:
                        if write and coco_line_write(&self.sources[i], &self.target, i,
                                                     kind, True) == OK:
                            continue  # (into a fresh output: checked as it is written)
                        if not write and coco_line_write(&self.sources[i], &self.target, i,
                                                         kind, False) == OK:
                            self.parsed[i] = 2
                            continue
                    if parse_source(&self.sources[i], &self.runs[i], self.target.base,
                                    self.target.total, self.target.relative,
                                    self.target.strict, False, NULL, &self.errors[i]) != OK:
                        break
                    self.parsed[i] = 1
                if write and self.parsed[i] == 2:
                    self.parsed[i] = 0
                    self.errors[i].code = coco_line_write(&self.sources[i], &self.target, i,
                                                          self.line_kind(i), True)  # (or E_NOMEM)
                    if self.errors[i].code != OK:
                        break
                elif write and self.parsed[i]:
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

    def run(self, object out, bint validate_first, bint clear):
        """Every item on this thread in one call (``out`` is the array given at creation):
        parsed and written item by item, or, with ``validate_first``, all validated, then
        ``out`` zeroed (``clear``) and written; raise for the first failed item."""
        if not validate_first:
            self.process(0, self.n, True, True)
        else:
            self.process(0, self.n, True, False)
            self.check(True)
            if clear:
                out.fill(0)
            self.process(0, self.n, False, True)
        self.check(True)


def coco_line(const uint8_t[::1] text, int64_t total, uint8_t value, bint zeroed):
    """The pixels of compressed string ``text`` as ``total`` bytes in COCO's order, as the
    straight path writes them (rle_coco_line; ``zeroed``: told the line is zeros, as it
    is), or None where that path refuses the string (and the exact reader takes over): for
    tests of that path on its own."""
    if total < 0:
        raise ValueError("bad arguments")
    out = bytearray(total)
    cdef uint8_t *dst = <uint8_t *> (<char *> out) if total else NULL
    cdef int code
    with nogil:
        code = rle_coco_line(&text[0] if text.shape[0] else NULL, text.shape[0], dst, total,
                             value, zeroed)
    return bytes(out) if code == 0 else None
