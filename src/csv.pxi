# A CSV file's bytes indexed for random access: one pass that finds where the wanted fields of
# every record start and end (RFC 4180 quotes, "" escapes, \n or \r\n line ends), and each
# record's line; then one image's rows read from the bytes (CsvRows) and a table's images
# as new channel stacks (StackReader).  What the fields mean is rlecodec/_table.py's.

cdef enum:
    CSV_OK = 0
    CSV_FIELDS = 1         # a record with another number of fields than the header
    CSV_AFTER_QUOTE = 2    # text between a closing quote and the next comma or line end
    CSV_OPEN_QUOTE = 3     # the file ends inside a quoted field


ctypedef struct CsvScan:
    const uint8_t *s
    Py_ssize_t n
    Py_ssize_t ncols
    const int64_t *slot    # column -> its place among the wanted fields, or -1
    Py_ssize_t k           # wanted fields per record
    int64_t *bounds        # per record and wanted field: start, end (byte offsets)
    uint8_t *escaped       # per record and wanted field: 1 if it holds "" escapes
    int64_t *lines         # per record: the line it starts on
    Py_ssize_t nrec        # records stored
    Py_ssize_t cap         # records there is room for
    int64_t line           # the line being read
    int64_t bad_line       # the line of the record in error
    Py_ssize_t bad_fields  # its field count (CSV_FIELDS)


cdef inline bint csv_blank(uint8_t c) noexcept nogil:
    return c == 32 or c == 9 or c == 13


cdef int csv_field(CsvScan *cs, Py_ssize_t *pos, int64_t *start, int64_t *end, bint *escaped,
                   bint *content) noexcept nogil:
    """Read the field at ``pos`` up to (not past) the comma or line end after it."""
    cdef const uint8_t *s = cs.s
    cdef Py_ssize_t p = pos[0], n = cs.n
    escaped[0] = False
    if p < n and s[p] == 34:  # a quoted field: up to the quote that is not doubled
        p += 1
        start[0] = p
        while True:
            if p >= n:
                return CSV_OPEN_QUOTE
            if s[p] == 34:
                if p + 1 < n and s[p + 1] == 34:
                    escaped[0] = True
                    content[0] = True
                    p += 2
                    continue
                break
            if s[p] == 10:
                cs.line += 1
            elif not csv_blank(s[p]):
                content[0] = True
            p += 1
        end[0] = p
        p += 1
        if p < n and s[p] == 13 and p + 1 < n and s[p + 1] == 10:
            p += 1
        if p < n and s[p] != 44 and s[p] != 10:
            return CSV_AFTER_QUOTE
    else:
        start[0] = p
        while p < n and s[p] != 44 and s[p] != 10:
            if not content[0] and not csv_blank(s[p]):
                content[0] = True
            p += 1
        end[0] = p
        if p > start[0] and s[p - 1] == 13 and (p == n or s[p] == 10):
            end[0] = p - 1  # (\r\n line ends)
    pos[0] = p
    return CSV_OK


cdef int csv_scan(CsvScan *cs, Py_ssize_t pos) noexcept nogil:
    """Index every record from byte ``pos`` on; records of blank fields only are skipped."""
    cdef Py_ssize_t field, r
    cdef int64_t start = 0, end = 0, first_line
    cdef int64_t *b
    cdef bint escaped, content
    cdef int code
    cdef Py_ssize_t k = cs.k
    while pos < cs.n:
        first_line = cs.line
        field = 0
        content = False
        r = cs.nrec
        if r >= cs.cap:
            return CSV_FIELDS  # (cannot happen: room for a record per line)
        b = cs.bounds + 2 * k * r
        while True:
            code = csv_field(cs, &pos, &start, &end, &escaped, &content)
            if code != CSV_OK:
                cs.bad_line = first_line
                return code
            if field < cs.ncols and cs.slot[field] >= 0:
                b[2 * cs.slot[field]] = start
                b[2 * cs.slot[field] + 1] = end
                cs.escaped[k * r + cs.slot[field]] = escaped
            field += 1
            if pos < cs.n and cs.s[pos] == 44:
                pos += 1
                continue
            break
        if pos < cs.n:  # the line end
            pos += 1
            cs.line += 1
        if not content:
            continue
        if field != cs.ncols:
            cs.bad_line = first_line
            cs.bad_fields = field
            return CSV_FIELDS
        cs.lines[r] = first_line
        cs.nrec += 1
    return CSV_OK


cdef Py_ssize_t count_line_ends(const uint8_t *s, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t count = 0
    cdef const uint8_t *end = s + n
    while s < end:
        s = <const uint8_t *> memchr(s, 10, <size_t> (end - s))
        if s == NULL:
            break
        count += 1
        s += 1
    return count


def csv_index(const uint8_t[::1] data, Py_ssize_t pos, int64_t first_line, Py_ssize_t ncols,
              const int64_t[::1] slot, Py_ssize_t k):
    """Index the records of ``data`` from byte ``pos`` (on line ``first_line``), ``ncols``
    fields each, of which column c is wanted as field ``slot[c]`` (-1: not wanted) of ``k``.

    Returns ``(bounds, escaped, lines)``: int64 ``(N, k, 2)`` byte offsets of each wanted
    field's content (inside its quotes), uint8 ``(N, k)`` flags of fields with "" escapes,
    and int64 ``(N,)`` lines; or raises ValueError ``(reason, line, fields)``."""
    cdef CsvScan cs
    cdef Py_ssize_t n = data.shape[0], cap, c
    cdef int code
    if slot.shape[0] != ncols or k < 1 or not 0 <= pos <= n:
        raise ValueError("bad arguments")
    for c in range(ncols):
        if not -1 <= slot[c] < k:
            raise ValueError("bad arguments")
    # A record takes at least one line end, or ends the file: room for one per line.
    with nogil:
        cap = (count_line_ends(&data[pos], n - pos) if n > pos else 0) + 1
    bounds = np.empty((cap, k, 2), np.int64)
    escaped = np.zeros((cap, k), np.uint8)
    lines = np.empty(cap, np.int64)
    cdef int64_t[:, :, ::1] bv = bounds
    cdef uint8_t[:, ::1] ev = escaped
    cdef int64_t[::1] lv = lines
    cs.s = &data[0] if n else NULL
    cs.n = n
    cs.ncols = ncols
    cs.slot = &slot[0]
    cs.k = k
    cs.bounds = &bv[0, 0, 0]
    cs.escaped = &ev[0, 0]
    cs.lines = &lv[0]
    cs.nrec = 0
    cs.cap = cap
    cs.line = first_line
    cs.bad_line = 0
    cs.bad_fields = 0
    with nogil:
        code = csv_scan(&cs, pos)
    if code != CSV_OK:
        reason = {CSV_FIELDS: "fields", CSV_AFTER_QUOTE: "after_quote",
                  CSV_OPEN_QUOTE: "open_quote"}[code]
        raise ValueError(reason, cs.bad_line, cs.bad_fields)
    return bounds[:cs.nrec], escaped[:cs.nrec], lines[:cs.nrec]


cdef class CsvRows:
    """An indexed CSV file's bytes with its rows grouped by image, checked once, for reading
    one image's rows at a time: ``row_info`` holds each row's text start and end in
    ``data``, its "" escape flag and its class number (-1: none); image k's rows are
    ``row_order[row_start[k]:row_start[k + 1]]``."""
    cdef const uint8_t[::1] data
    cdef const int64_t[:, ::1] row_info
    cdef const int32_t[::1] row_order
    cdef const int64_t[::1] row_start

    def __cinit__(self, const uint8_t[::1] data, const int64_t[:, ::1] row_info,
                  const int32_t[::1] row_order, const int64_t[::1] row_start):
        cdef Py_ssize_t k, r, n = data.shape[0], rows = row_info.shape[0]
        if row_info.shape[1] != 4 or row_start.shape[0] < 1 or row_start[0] != 0 or \
                row_start[row_start.shape[0] - 1] != row_order.shape[0]:
            raise ValueError("bad arguments")
        for r in range(rows):
            if not 0 <= row_info[r, 0] <= row_info[r, 1] <= n:
                raise ValueError("bad arguments")
        for k in range(row_order.shape[0]):
            if not 0 <= row_order[k] < rows:
                raise ValueError("bad arguments")
        for k in range(row_start.shape[0] - 1):
            if row_start[k] > row_start[k + 1]:
                raise ValueError("bad arguments")
        self.data, self.row_info, self.row_order = data, row_info, row_order
        self.row_start = row_start

    cdef int64_t first_row(self, Py_ssize_t image) except -1:
        if not 0 <= image < self.row_start.shape[0] - 1:
            raise IndexError("no such image")
        return self.row_start[image]

    def texts(self, Py_ssize_t image):
        """The texts of image ``image``'s rows as bytes ("" escapes undone) and their class
        numbers.  One call instead of a few numpy operations: a mask is read right after a
        megabyte of zeros has been written, when every numpy code path is cold."""
        cdef int64_t k, r, start, end, first = self.first_row(image)
        texts, classes = [], []
        for k in range(first, self.row_start[image + 1]):
            r = self.row_order[k]
            start, end = self.row_info[r, 0], self.row_info[r, 1]
            text = PyBytes_FromStringAndSize(
                <const char *> &self.data[start] if end > start else NULL, end - start)
            texts.append(text.replace(b'""', b'"') if self.row_info[r, 2] else text)
            classes.append(self.row_info[r, 3])
        return texts, classes

    def decode_stack(self, Py_ssize_t image, const int64_t[::1] channel_of_class, object out,
                     bint order_f, int64_t base, bint relative, bint strict,
                     uint64_t pattern, bint clear):
        """Image ``image``'s rows decoded straight from the file's bytes into channel
        ``channel_of_class[class]`` of the C-contiguous ``(H, W, C)`` array ``out`` (a row
        without a class into channel 0), with the GIL released: every row parsed first,
        then ``out`` zeroed (``clear``) and only the runs written, a channel's rows OR-ed.
        Returns -1 when done, else the place among the image's rows of the first row it
        does not take (malformed, or holding "" escapes), ``out`` untouched: the general
        path then decodes it or words the error."""
        cdef _Buffer buf = _Buffer(out, True)
        return self.stack_into(image, &channel_of_class[0] if channel_of_class.shape[0] else
                               NULL, channel_of_class.shape[0], &buf.view, order_f, base,
                               relative, strict, pattern, clear)

    cdef int64_t stack_into(self, Py_ssize_t image, const int64_t *channel_of_class,
                            Py_ssize_t nclasses, Py_buffer *v, bint order_f, int64_t base,
                            bint relative, bint strict, uint64_t pattern,
                            bint clear) except -2:
        """decode_stack into the buffer ``v``."""
        cdef int64_t first = self.first_row(image), k, r, cls, rows, bad = -1
        cdef Target t
        cdef Source src
        cdef ErrInfo err
        cdef int code = OK
        cdef RunBuf *runs
        cdef int64_t *slot
        if (v.ndim != 3 or v.itemsize not in (1, 2, 4, 8) or v.strides[2] != v.itemsize
                or v.strides[1] != v.shape[2] * v.itemsize
                or v.strides[0] != v.shape[1] * v.strides[1]):
            raise ValueError("bad arguments")
        check_base_arg(base)
        rows = self.row_start[image + 1] - first
        runs = <RunBuf *> calloc(<size_t> rows + 1, sizeof(RunBuf))
        slot = <int64_t *> calloc(<size_t> rows + 1, sizeof(int64_t))
        if runs == NULL or slot == NULL:
            free(runs)
            free(slot)
            raise_nomem()
        for k in range(rows):  # (checked here, with the GIL, before the kernels)
            cls = self.row_info[self.row_order[first + k], 3]
            slot[k] = channel_of_class[cls] if 0 <= cls < nclasses else (0 if cls < 0 else -1)
            if not 0 <= slot[k] < v.shape[2]:
                free(runs)
                free(slot)
                raise ValueError("bad arguments")
        target_init(&t, v, v.shape[0], v.shape[1], order_f, base, relative, strict, pattern,
                    True)
        t.s_item, t.s0, t.s1 = v.strides[2], v.strides[0], v.strides[1]  # (channels last)
        memset(&err, 0, sizeof(err))
        src.kind, src.tokens = SRC_TEXT, NULL
        with nogil:
            for k in range(rows):
                r = self.row_order[first + k]
                if self.row_info[r, 2]:
                    bad = k
                    break
                src.text = &self.data[0] + self.row_info[r, 0] if self.data.shape[0] else NULL
                src.n = self.row_info[r, 1] - self.row_info[r, 0]
                code = parse_source(&src, &runs[k], base, t.total, relative, strict, False,
                                    NULL, &err)
                if code != OK:
                    bad = k
                    break
            if bad < 0:
                if clear:
                    memset(v.buf, 0, <size_t> (v.shape[0] * v.strides[0]))
                for k in range(rows):
                    if code == OK:
                        code = target_write(&t, slot[k], &runs[k], &err)  # (which frees them)
                    else:
                        runbuf_free(&runs[k])
            else:
                for k in range(rows):
                    runbuf_free(&runs[k])
        free(runs)
        free(slot)
        if code == E_NOMEM:
            raise_nomem()
        return bad


cdef inline int compare_padded(const uint8_t *entry, Py_ssize_t width, const uint8_t *key,
                               Py_ssize_t n) noexcept nogil:
    """Order of a zero-padded ``width``-byte entry (a numpy bytes array's) against ``key``
    (``n`` bytes, no zero byte), as numpy sorts them: below 0, 0 (equal) or above."""
    cdef int c = memcmp(entry, key, <size_t> (n if n < width else width))
    if c != 0:
        return c
    if n > width:
        return -1
    return 1 if n < width and entry[n] != 0 else 0


cdef class StackReader:
    """A table's images as new channel stacks, one call each (MaskTable.__getitem__'s path
    for a fixed shape): an id found by bisection in the sorted ids, its rows decoded from
    the file's bytes (CsvRows) into a new ``(H, W, C)`` array.  ``get`` returns None
    wherever the general path takes over: an id not in the file (or with a zero byte),
    a position out of range, a row it does not take."""
    cdef CsvRows rows
    cdef const uint8_t[:, ::1] sorted_ids   # zero-padded, one per row, numpy's order
    cdef const int64_t[::1] id_rank         # sorted position -> image number
    cdef const int64_t[::1] channel_of_class
    cdef tuple shape
    cdef object dtype, make
    cdef bint clear, order_f, relative, strict
    cdef int64_t base
    cdef uint64_t pattern

    def __cinit__(self, CsvRows rows, const uint8_t[:, ::1] sorted_ids,
                  const int64_t[::1] id_rank, const int64_t[::1] channel_of_class,
                  tuple shape, object dtype, bint zeros, bint order_f, int64_t base,
                  bint relative, bint strict, uint64_t pattern):
        cdef Py_ssize_t k
        if (sorted_ids.shape[0] != id_rank.shape[0]
                or id_rank.shape[0] != rows.row_start.shape[0] - 1):
            raise ValueError("bad arguments")
        for k in range(id_rank.shape[0]):
            if not 0 <= id_rank[k] < id_rank.shape[0]:
                raise ValueError("bad arguments")
        check_base_arg(base)
        self.rows, self.sorted_ids, self.id_rank = rows, sorted_ids, id_rank
        self.channel_of_class, self.shape, self.dtype = channel_of_class, shape, dtype
        self.make, self.clear = (np.zeros, False) if zeros else (np.empty, True)
        self.order_f, self.base, self.relative, self.strict = order_f, base, relative, strict
        self.pattern = pattern

    cdef Py_ssize_t find(self, str key) except -2:
        """The image number of ``key``, or -1."""
        cdef Py_ssize_t n = 0, lo = 0, hi = self.sorted_ids.shape[0], mid
        cdef Py_ssize_t width = self.sorted_ids.shape[1]
        cdef const uint8_t *text
        try:
            text = <const uint8_t *> PyUnicode_AsUTF8AndSize(key, &n)
        except UnicodeEncodeError:
            return -1  # (lone surrogates: the general path encodes them its way)
        if n and memchr(text, 0, <size_t> n) != NULL or hi == 0:
            return -1
        while lo < hi:
            mid = lo + (hi - lo) // 2
            if compare_padded(&self.sorted_ids[mid, 0], width, text, n) < 0:
                lo = mid + 1
            else:
                hi = mid
        if lo < self.sorted_ids.shape[0] and compare_padded(&self.sorted_ids[lo, 0], width,
                                                            text, n) == 0:
            return self.id_rank[lo]
        return -1

    def get(self, object key):
        """Image ``key`` (an id, or a position) as a new stack, or None."""
        cdef Py_ssize_t k, images = self.id_rank.shape[0]
        if type(key) is str:
            k = self.find(<str> key)
            if k < 0:
                return None
        elif type(key) is int and -images <= key < images:
            k = key
            if k < 0:
                k += images
        else:
            return None
        stack = self.make(self.shape, self.dtype)
        cdef _Buffer buf = _Buffer(stack, True)
        if self.rows.stack_into(k, &self.channel_of_class[0] if self.channel_of_class.shape[0]
                                else NULL, self.channel_of_class.shape[0], &buf.view,
                                self.order_f, self.base, self.relative, self.strict,
                                self.pattern, self.clear) >= 0:
            return None
        return stack
