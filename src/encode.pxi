# The encoding bindings: a mask buffer described for the scanners, one mask into text
# (encode_one) and a batch (EncodeBatch), with the GIL released around the kernels.  The
# kernels themselves are scan.pxi's and format.pxi's.

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
    runbuf_init(&rb)
    check_base_arg(base)
    PyObject_GetBuffer(mask, &view, PyBUF_RECORDS_RO)
    try:
        mask_setup(&view, foreground, order_f, &g, &fg)
        with nogil:
            code = mask_scan(&g, &fg, &rb)
        if code != OK:
            raise_nomem()
        return runs_to_str(&rb, base, relative)
    finally:
        runbuf_free(&rb)
        PyBuffer_Release(&view)


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

    def __cinit__(self, object masks, object foregrounds, bint order_f, int64_t base,
                  bint relative, bint keep_runs=False, int stack_axis=-1):
        """``foregrounds[i]`` is ``(kind, mode, thr_f, thr_i, thr_u)`` for ``masks[i]``;
        with ``keep_runs`` the runs are kept for :meth:`take_runs` instead of formatted.
        With a ``stack_axis`` (0 to 2), ``masks`` is one 3-D array whose masks lie along
        that axis, all with the one ``foregrounds`` tuple (no Python object per mask)."""
        cdef Py_ssize_t i, a, b
        cdef _Buffer buf
        cdef Py_buffer item
        cdef Py_ssize_t shape2[2]
        cdef Py_ssize_t strides2[2]
        check_base_arg(base)
        if stack_axis >= 0:
            buf = _Buffer(masks, False)
            if buf.view.ndim != 3 or stack_axis > 2:
                raise ValueError("expected a 3-D stack")
            self.n = buf.view.shape[stack_axis]
        else:
            if len(foregrounds) != len(masks):
                raise ValueError("one foreground per mask")
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
            raise_nomem()
        self.order_f, self.base, self.relative = order_f, base, relative
        self.keep_runs = keep_runs
        for i in range(self.n):
            runbuf_init(&self.runs[i])
            self.texts[i] = NULL
            self.sizes[i] = 0
            self.codes[i] = OK
        if stack_axis >= 0:
            self.buffers.append(buf)
            # Each mask as a 2-D view of the stack: the other two axes, in order.
            a, b = (1, 2) if stack_axis == 0 else ((0, 2) if stack_axis == 1 else (0, 1))
            item = buf.view
            item.ndim = 2
            shape2[0], shape2[1] = buf.view.shape[a], buf.view.shape[b]
            strides2[0], strides2[1] = buf.view.strides[a], buf.view.strides[b]
            item.shape, item.strides = shape2, strides2
            for i in range(self.n):
                item.buf = <char *> buf.view.buf + i * buf.view.strides[stack_axis]
                mask_setup(&item, foregrounds, order_f, &self.grids[i], &self.fgs[i])
            return
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
            raise_nomem()
        try:
            return runbuf_to_array(&self.runs[i])
        finally:
            runbuf_free(&self.runs[i])

    def all_coco(self, int64_t total):
        """take_coco of every item, as a list."""
        return [self.take_coco(i, total) for i in range(self.n)]

    def take_coco(self, Py_ssize_t i, int64_t total):
        """Item i's runs (kept; column-major, ``total`` pixels) as pycocotools' compressed
        COCO counts, bytes, written straight from the runs."""
        cdef CocoStream cs
        check_range(i, i + 1, self.n)
        if self.codes[i] != OK:
            raise_nomem()
        coco_stream_init(&cs)
        try:
            return coco_from_runbuf(&self.runs[i], total, True, &cs)
        finally:
            runbuf_free(&self.runs[i])
            free(cs.out)

    def result(self, Py_ssize_t i):
        cdef object text
        check_range(i, i + 1, self.n)
        if self.codes[i] != OK or self.texts[i] == NULL:
            raise_nomem()
        text = PyUnicode_New(self.sizes[i], 127)
        memcpy(PyUnicode_DATA(text), self.texts[i], <size_t> self.sizes[i])
        free(self.texts[i])
        self.texts[i] = NULL
        return text
