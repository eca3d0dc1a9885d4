# Many COCO objects at once, as pycocotools.mask handles lists: each parsed and checked
# into runs once (CocoList), then measured (areas, boxes) or compared (the IoU matrix, with
# pycocotools' box test first) without a Python object per object.

cdef tuple coco_raw(object obj, object slow):
    """``(h, w, counts)`` of a COCO object, the counts compressed ``bytes`` or an int64
    array: the usual kind read by coco_usual, anything else by ``slow(obj)``, which returns
    ``((h, w), counts)`` or raises."""
    cdef object usual = coco_usual(obj)
    if usual is not None:
        return usual
    size, counts = slow(obj)
    return size[0], size[1], counts


cdef int usual_area(const Source *src, int64_t total, int64_t *area) noexcept nogil:
    """The foreground pixels of one COCO source of ``total`` pixels, as CocoList counts
    them; an error code (unworded) if it is malformed."""
    cdef RunBuf rb
    cdef ErrInfo err
    cdef int code
    runbuf_init(&rb)
    code = coco_parse(src, &rb, total, &err)
    if code == OK:
        area[0] = runs_area(rb.data, rb.n)
    runbuf_free(&rb)
    return code


def coco_area_usual(object obj):
    """The area of one COCO object of coco_usual's kind, as CocoList finds it, without
    CocoList's arrays (most of the time an area of one small object took); None for any
    other object, or for a malformed one, which CocoList then reads to word the error."""
    cdef object usual = coco_usual(obj)
    cdef Source src
    cdef list keep = []
    cdef int64_t h, w, area = 0
    cdef int code
    if usual is None:
        return None
    h, w, data = usual
    if not is_mask_size(h, w):
        return None
    source_set(&src, CocoCounts(data), keep)
    if src.n < (1 << 16):  # (a short string: handing the GIL over would cost more)
        code = usual_area(&src, h * w, &area)
    else:
        with nogil:
            code = usual_area(&src, h * w, &area)
    return area if code == OK else None


cdef inline int64_t column_of(int64_t p, int64_t h, double inv_h) noexcept nogil:
    """p // h for 0 <= p < 2**52, through a multiplication by 1 / h, corrected by one
    where rounding put it off (a division costs several times as much)."""
    cdef int64_t q = <int64_t> (p * inv_h)
    if q * h > p:
        q -= 1
    elif (q + 1) * h <= p:
        q += 1
    return q


cdef void runs_box(const RunBuf *rb, int64_t h, double *bb) noexcept nogil:
    """``[x, y, width, height]`` of the foreground of sorted column-major runs in columns
    of h pixels (zeros if empty): a run that reaches into the next column covers the last
    row of one and the first of the other."""
    cdef int64_t r, first, last, c0, c1, y0 = INT64_MAX, y1 = -1
    cdef double inv_h = 1.0 / h if h else 0.0
    cdef bint exact = rb.n and rb.data[2 * rb.n - 2] + rb.data[2 * rb.n - 1] < (<int64_t> 1 << 52)
    if rb.n == 0 or h == 0:
        bb[0] = bb[1] = bb[2] = bb[3] = 0
        return
    for r in range(rb.n):
        first = rb.data[2 * r]
        last = first + rb.data[2 * r + 1] - 1
        c0 = column_of(first, h, inv_h) if exact else first // h
        c1 = column_of(last, h, inv_h) if exact else last // h
        if c1 > c0:
            y0, y1 = 0, h - 1
        else:
            y0 = min(y0, first - c0 * h)
            y1 = max(y1, last - c1 * h)
    c0 = rb.data[0] // h
    c1 = (rb.data[2 * rb.n - 2] + rb.data[2 * rb.n - 1] - 1) // h
    bb[0], bb[1], bb[2], bb[3] = c0, y0, c1 - c0 + 1, y1 - y0 + 1


cdef class CocoList:
    """N COCO objects (``{"size": [h, w], "counts": ...}``), each parsed and checked once:
    KernelError naming the first bad item; ``slow(obj)`` reads objects of unusual kinds.
    Each item's area is kept, its box with ``boxes``, its runs with ``keep_runs`` (else one
    buffer serves every item in turn)."""
    cdef RunBuf *runs       # the runs of each item (keep_runs), or one scratch buffer
    cdef int64_t *hw        # h, w of each item
    cdef int64_t *area_of
    cdef double *box_of     # x, y, width, height of each item
    cdef Py_ssize_t n
    cdef bint kept, boxed

    def __cinit__(self, list objs, object slow, bint keep_runs=True, bint boxes=True):
        cdef Py_ssize_t i = 0, unread_at
        cdef Source *sources
        cdef ErrInfo err
        cdef list keep = []
        cdef int code = OK
        cdef int64_t h, w
        cdef RunBuf *rb
        cdef object unread = None
        self.n = len(objs)
        unread_at = self.n
        self.kept = keep_runs
        self.boxed = boxes
        self.runs = <RunBuf *> calloc(<size_t> (self.n if keep_runs else 0) + 1, sizeof(RunBuf))
        self.hw = <int64_t *> malloc((<size_t> self.n + 1) * 2 * sizeof(int64_t))
        self.area_of = <int64_t *> malloc((<size_t> self.n + 1) * sizeof(int64_t))
        self.box_of = <double *> malloc((<size_t> self.n + 1) * 4 * sizeof(double))
        if self.runs == NULL or self.hw == NULL or self.area_of == NULL or self.box_of == NULL:
            raise_nomem()
        # Every object read first, with the GIL, then every string parsed in one GIL-free
        # pass (small objects: a GIL hand-over each cost as much as their parse).  The
        # first failure in item order is raised, whichever pass found it.
        sources = <Source *> calloc(<size_t> self.n + 1, sizeof(Source))
        if sources == NULL:
            raise_nomem()
        try:
            for i in range(self.n):
                try:
                    h, w, data = coco_raw(objs[i], slow)
                    if not is_mask_size(h, w):
                        raise ValueError(f"item {i}: not a mask size: ({h}, {w})")
                except Exception as exc:
                    unread, unread_at = exc, i
                    break
                self.hw[2 * i], self.hw[2 * i + 1] = h, w
                keep.append(data)  # (the sources point into it until the parse is done)
                source_set(&sources[i], CocoCounts(data), keep)
            memset(&err, 0, sizeof(err))
            with nogil:
                for i in range(unread_at):
                    rb = &self.runs[i] if keep_runs else &self.runs[0]
                    rb.n = 0
                    code = coco_parse(&sources[i], rb, self.hw[2 * i] * self.hw[2 * i + 1],
                                      &err)
                    if code != OK:
                        break
                    self.area_of[i] = runs_area(rb.data, rb.n)
                    if self.boxed:
                        runs_box(rb, self.hw[2 * i], self.box_of + 4 * i)
        finally:
            free(sources)
        if code != OK:
            raise_error(&err, i)
        if unread is not None:
            raise unread

    def __dealloc__(self):
        cdef Py_ssize_t i
        if self.runs != NULL:
            for i in range(self.n if self.kept else 1):
                runbuf_free(&self.runs[i])
        free(self.runs)
        free(self.hw)
        free(self.area_of)
        free(self.box_of)

    def __len__(self):
        return self.n

    def size(self, Py_ssize_t i):
        """``(h, w)`` of item i."""
        check_range(i, i + 1, self.n)
        return self.hw[2 * i], self.hw[2 * i + 1]

    def areas(self):
        """Foreground pixels of each item, int64."""
        result = np.empty(self.n, np.int64)
        cdef int64_t[::1] out = result
        if self.n:
            memcpy(&out[0], self.area_of, <size_t> self.n * sizeof(int64_t))
        return result

    def area(self, Py_ssize_t i):
        """Foreground pixels of item i."""
        check_range(i, i + 1, self.n)
        return self.area_of[i]

    cdef int need_runs(self) except -1:
        if not self.kept:
            raise ValueError("this CocoList kept no runs")
        return 0

    def merge(self, bint intersect):
        """The compressed COCO counts of the union (or intersection) of every item, as
        bytes; ValueError naming the first item whose size is not item 0's."""
        cdef RunBuf acc = runbuf_empty(), step = runbuf_empty(), swap
        cdef CocoStream cs
        cdef Py_ssize_t i
        cdef int code = OK
        self.need_runs()
        if self.n == 0:
            raise ValueError("merge needs at least one item")
        for i in range(1, self.n):
            if self.hw[2 * i] != self.hw[0] or self.hw[2 * i + 1] != self.hw[1]:
                raise ValueError(f"item {i} has size {[self.hw[2 * i], self.hw[2 * i + 1]]}, "
                                 f"not {[self.hw[0], self.hw[1]]}")
        coco_stream_init(&cs)
        try:
            with nogil:
                if not intersect:
                    code = union_many(self.runs, self.n, self.hw[0] * self.hw[1], &acc)
                else:
                    code = union_two(self.runs[0].data, self.runs[0].n, NULL, 0, &acc)
                for i in range(1, self.n if intersect else 0):
                    if code != OK:
                        break
                    step.n = 0
                    code = combine(acc.data, acc.n, self.runs[i].data, self.runs[i].n,
                                   OP_INTERSECTION if intersect else OP_UNION, &step)
                    swap = acc
                    acc = step
                    step = swap
            if code != OK:
                raise_nomem()
            return coco_from_runbuf(&acc, self.hw[0] * self.hw[1], True, &cs)
        finally:
            runbuf_free(&acc)
            runbuf_free(&step)
            free(cs.out)

    def boxes(self):
        """``(N, 4)`` float64 ``[x, y, width, height]`` of each item's foreground."""
        if not self.boxed:
            raise ValueError("this CocoList kept no boxes")
        result = np.empty((self.n, 4), np.float64)
        cdef double[:, ::1] out = result
        if self.n:
            memcpy(&out[0, 0], self.box_of, <size_t> self.n * 4 * sizeof(double))
        return result

    def iou(self, CocoList gt, const uint8_t[::1] crowd):
        """The ``(len(self), len(gt))`` IoU matrix, pycocotools' way: 0 where the boxes do
        not overlap, else the run-space intersection over the union (over this item's own
        area where ``crowd[j]``).  Every item of both lists must have one size."""
        cdef Py_ssize_t i, j, m = self.n, n = gt.n
        cdef double iw, ih, inter, union
        if crowd.shape[0] != n:
            raise ValueError(f"iscrowd has {crowd.shape[0]} entries for {n} ground truths")
        if not (self.boxed and gt.boxed):
            raise ValueError("iou needs CocoLists that kept their boxes")
        if m and n:
            for i in range(m + n):
                h_w = (self.hw[2 * i], self.hw[2 * i + 1]) if i < m else (
                    gt.hw[2 * (i - m)], gt.hw[2 * (i - m) + 1])
                if h_w != (self.hw[0], self.hw[1]):
                    raise ValueError(f"every RLE must have one size, got {list(h_w)} and "
                                     f"{[self.hw[0], self.hw[1]]}")
        self.need_runs()
        gt.need_runs()
        result = np.zeros((m, n), np.float64, order="F")
        cdef double[::1, :] out = result
        cdef const double *db = self.box_of
        cdef const double *gb = gt.box_of
        cdef const int64_t *da = self.area_of
        cdef const int64_t *ga = gt.area_of
        with nogil:
            for j in range(n):
                for i in range(m):
                    # (the box test in pycocotools' arithmetic: x + w, then min - max)
                    iw = (min(db[4 * i + 2] + db[4 * i], gb[4 * j + 2] + gb[4 * j])
                          - max(db[4 * i], gb[4 * j]))
                    ih = (min(db[4 * i + 3] + db[4 * i + 1], gb[4 * j + 3] + gb[4 * j + 1])
                          - max(db[4 * i + 1], gb[4 * j + 1]))
                    if iw <= 0 or ih <= 0:
                        continue
                    inter = <double> overlap_area(self.runs[i].data, self.runs[i].n,
                                                  gt.runs[j].data, gt.runs[j].n)
                    union = <double> da[i] if crowd[j] else <double> (da[i] + ga[j]) - inter
                    out[i, j] = inter / union if inter > 0 else 0.0
        return result
