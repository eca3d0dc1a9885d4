"""Run-length CSV files as tables of images: column detection, the rows of each image (in
numpy arrays, from one indexing pass of _csvfile.py), and an image's rows decoded in a
layout.  Shared by the command and MaskTable; writing files is _cli.py's."""

from __future__ import annotations

import csv
import dataclasses
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _codec
from ._classes import decode_classes, decode_instances, stack_rows
from ._csvfile import RowIndex, TableError, read_bytes, read_header
from ._decode import DecodeOptions, decode, decode_options, lazy_zeros, writable_out
from ._errors import RLEError
from ._inputs import as_source
from ._sizes import find_size_columns, sizes_per_image

RLE_COLUMNS = ("EncodedPixels", "rle_mask", "segmentation", "annotation", "rle",
               "encoded_pixels", "predicted")
ID_COLUMNS = ("ImageId", "image_id", "id", "Id", "ImageID")
CLASS_COLUMNS = ("ClassId", "class_id", "class", "Class", "label")
# Columns that pack "<image>_<class>" into one field (Severstal v1, Understanding Clouds).
PACKED_COLUMNS = ("ImageId_ClassId", "Image_Label")


@dataclasses.dataclass(frozen=True)
class Columns:
    """Which CSV columns hold the image id, the class (optional) and the run-length text."""

    id: str
    rle: str
    cls: str | None = None
    packed: bool = False  # id column is "<image>_<class>"

    def split(self, row: dict[str, str]) -> tuple[str, str | None]:
        """The (image id, class) of a row."""
        key = row[self.id]
        if self.packed:
            image, _, cls = key.rpartition("_")
            return image, cls
        return key, (row[self.cls] if self.cls else None)


def _pick(fields: list[str], wanted: str | None, known: tuple[str, ...],
          what: str) -> str | None:
    if wanted is not None:
        if wanted not in fields:
            raise TableError(f"no {what} column {wanted!r}; the columns are {fields}")
        return wanted
    for name in known:
        if name in fields:
            return name
    return None


def _require(fields: list[str], wanted: str | None, known: tuple[str, ...], what: str) -> str:
    name = _pick(fields, wanted, known, what)
    if name is None:
        raise TableError(f"cannot tell which column holds the {what} among {fields}; "
                         f"name it with --{what}-col")
    return name


def detect_columns(fields: list[str], id_col: str | None = None, class_col: str | None = None,
                   rle_col: str | None = None) -> Columns:
    """Match the header (names stripped of spaces) against the common layouts."""
    rle = _require(fields, rle_col, RLE_COLUMNS, "rle")
    if id_col is None and class_col is None:
        for packed in PACKED_COLUMNS:
            if packed in fields:
                return Columns(id=packed, rle=rle, packed=True)
    ident = _require(fields, id_col, ID_COLUMNS, "id")
    cls = _pick(fields, class_col, CLASS_COLUMNS, "class")
    return Columns(id=ident, rle=rle, cls=cls)


@dataclasses.dataclass
class Row:
    line: int          # 1-based line number in the file (the header is line 1)
    image: str
    cls: str | None
    rle: str | bytes   # the text (bytes as the file holds it, for the decoder)


class Images:
    """The rows of a run-length CSV file grouped by image, from one indexing pass: image ids
    in order of first appearance, and for each row its image, class, line and the span of
    its text, in numpy arrays (about 55 bytes a row, pickled).  Rows of one image need not be
    contiguous.  Pickled, it leaves the file's bytes behind (:meth:`attach` them again).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(path, "w").write("ImageId,ClassId,EncodedPixels\\nb,2,1 3\\na,1,5 2\\nb,1,\\n")
    >>> images = Images(path, dict(id_col=None, class_col=None, rle_col=None))
    >>> images.ids, images.classes, images.rows_of(0).tolist()
    (['b', 'a'], ['1', '2'], [0, 2])
    """

    data: npt.NDArray[np.uint8] | None
    _csv_rows: _codec.CsvRows  # made when first needed, never pickled

    def __init__(self, path: str, columns_hint: dict[str, str | None]) -> None:
        self.path = path
        self.data, self.form = read_bytes(path)
        fields, body = read_header(self.data, path)
        hint = dict(columns_hint)
        height_col, width_col = hint.pop("height_col", None), hint.pop("width_col", None)
        try:
            self.columns = detect_columns(fields, **hint)
            size_columns = find_size_columns(fields, height_col, width_col)
        except TableError as err:
            raise TableError(f"{path}: {err}") from None
        wanted = [self.columns.id, self.columns.rle, self.columns.cls or self.columns.id]
        if size_columns:
            wanted += size_columns
        index = RowIndex(self.data, path, fields, body, list(dict.fromkeys(wanted)))
        place = {name: k for k, name in enumerate(dict.fromkeys(wanted))}
        # Per row: the span of its text, whether it holds "" escapes, its class (filled
        # in below); one array, so that an image's rows are gathered in one step.
        self.row_info = np.empty((len(index), 4), np.int64)
        self.row_info[:, :2] = index.bounds[:, 1]
        self.row_info[:, 2] = index.escaped[:, 1]
        self.lines = index.lines.astype(np.int32 if len(index) < 2**31 - 1 else np.int64)
        ids = index.values(0)
        classes = index.values(place[self.columns.cls]) if self.columns.cls else None
        if self.columns.packed:
            heads, _, tails = (np.char.rpartition(ids, b"_").T if len(ids)
                               else (ids, ids, ids))
            ids, classes = np.char.strip(heads), np.char.strip(tails)
        # Images in order of first appearance; a row's image is its index among them.
        unique, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        self.image_of_row = rank[inverse.reshape(-1)].astype(np.int32)
        self.sorted_ids = unique            # sorted, for lookups by bisection
        self.id_rank = rank                 # sorted position -> image number
        self.ids = [index.text(raw, int(first[k])) for k, raw in
                    zip(order.tolist(), unique[order].tolist(), strict=True)]
        self.row_info[:, 3] = -1
        self.file_classes: list[str] = []
        if classes is not None:
            names, inverse = np.unique(classes, return_inverse=True)
            texts = [raw.decode("utf-8", "replace") for raw in names.tolist()]
            self.file_classes = [t for t in texts if t]
            self.row_info[:, 3] = np.array([self.file_classes.index(t) if t else -1
                                            for t in texts], np.int64)[inverse.reshape(-1)]
        #: (images, 2) heights and widths from the size columns, or None without them.
        self.sizes = None if size_columns is None else sizes_per_image(
            index.values(place[size_columns[0]]), index.values(place[size_columns[1]]),
            self.lines, self.image_of_row, len(self.ids), path)
        # Rows grouped by image, in file order within each image.
        self.row_order = np.argsort(self.image_of_row, kind="stable").astype(np.int32)
        self.row_start = np.searchsorted(self.image_of_row[self.row_order],
                                         np.arange(len(self.ids) + 1)).astype(np.int64)

    @property
    def classes(self) -> list[str]:
        """Every class label in the file, numeric labels in numeric order."""
        return sorted(self.file_classes,
                      key=lambda c: (0, int(c), "") if c.isdigit() else (1, 0, c))

    def find(self, image: str) -> int:
        """The number of ``image`` in :attr:`ids`, or -1 (by bisection in the sorted ids;
        the lookups of one process are remembered, a dict entry an image asked for)."""
        try:
            return self._found[image]
        except KeyError:
            pass
        except AttributeError:  # (a new table, or one just unpickled)
            self._found: dict[str, int] = {}
        key = image.encode("utf-8", "surrogatepass")
        k = int(np.searchsorted(self.sorted_ids, key))
        found = int(self.id_rank[k]) if (k < len(self.sorted_ids)
                                          and self.sorted_ids[k] == key) else -1
        if found >= 0:
            self._found[image] = found
        return found

    def rows_of(self, image: int) -> npt.NDArray[np.int32]:
        """The rows of image number ``image``, in file order."""
        return self.row_order[self.row_start[image]:self.row_start[image + 1]]

    def row(self, r: int, raw: bool = False) -> Row:
        """Row ``r`` as a :class:`Row`: its text as str, or as the file's bytes (``raw``,
        what the decoder reads fastest)."""
        assert self.data is not None, "attach the file's bytes first"
        start, end, escaped, cls = self.row_info[r].tolist()
        text = self.data[start:end].tobytes()
        if escaped:
            text = text.replace(b'""', b'"')
        name = self.file_classes[cls] if cls >= 0 else (None if self.columns.cls is None
                                                         and not self.columns.packed else "")
        return Row(int(self.lines[r]), self.ids[int(self.image_of_row[r])], name,
                   text if raw else text.decode("utf-8", "surrogateescape"))

    def texts_of(self, image: int) -> tuple[list[bytes], list[str | None]]:
        """The texts (as the file's bytes) and classes of image number ``image``'s rows: what
        an :class:`ImageDecoder` takes, without a :class:`Row` each."""
        assert self.data is not None, "attach the file's bytes first"
        texts, numbers = self.rows().texts(image)
        names = self.file_classes
        return texts, [names[cls] if cls >= 0 else None for cls in numbers]

    def decode_stack(self, image: int, channel_of_class: npt.NDArray[np.int64],
                     out: npt.NDArray[Any], opts: DecodeOptions, clear: bool) -> bool:
        """Image number ``image``'s rows straight from the file's bytes into the C-contiguous
        ``(H, W, C)`` array ``out`` (zeroed first if ``clear``), a row of class number k
        into channel ``channel_of_class[k]``: True when done; False, ``out`` untouched, when
        a row needs the general path (a malformed one, whose error that path words)."""
        return bool(self.rows().decode_stack(image, channel_of_class, out, opts.order_f,
                                              opts.base, opts.relative, opts.strict,
                                              opts.pattern, clear) < 0)

    def rows(self) -> _codec.CsvRows:
        """The file's bytes and the row index, checked once, as the kernels read them."""
        try:
            return self._csv_rows
        except AttributeError:
            assert self.data is not None, "attach the file's bytes first"
            self._csv_rows = _codec.CsvRows(self.data, self.row_info, self.row_order,
                                            self.row_start)
            return self._csv_rows

    def attach(self, data: npt.NDArray[np.uint8]) -> None:
        """The file's bytes again, after unpickling."""
        self.data = data

    def __getstate__(self) -> dict[str, Any]:
        state = {**self.__dict__, "data": None}
        state.pop("_found", None)  # (remembered lookups stay in their process)
        state.pop("_csv_rows", None)  # (it holds the file's bytes)
        return state

    def __len__(self) -> int:
        return len(self.lines)


def read_rows(path: str, columns_hint: dict[str, str | None]) -> Iterator[Row]:
    """Every row of ``path`` in file order."""
    images = Images(path, columns_hint)
    for r in range(len(images)):
        yield images.row(r)


def image_groups(images: Images) -> Iterator[list[Row]]:
    """The rows of each image, images in order of first appearance."""
    for k in range(len(images.ids)):
        yield [images.row(int(r), raw=True) for r in images.rows_of(k)]


class ImageDecoder:
    """One image's rows (their texts and classes) as an array in ``layout``: "channels"
    ``(H, W, C)`` for ``classes`` (a row of another class goes to the first), "labels"
    ``(H, W)`` class numbers 1..C, or "union" ``(H, W)``.  ``options`` are decode_classes'
    (order, base, relative, strict, dtype, value, last_wins), checked once here; RLEError
    names the class.  Shared by the command and MaskTable, called once per image."""

    def __init__(self, layout: str, classes: list[str], options: dict[str, Any]) -> None:
        self.layout, self.classes = layout, list(classes)
        self._options = dict(options)
        self._last_wins = self._options.pop("last_wins", False)
        self._channel: dict[str | None, int] = {cls: k for k, cls in enumerate(self.classes)}
        self.channels_options = self._checked(self._options.get("dtype", "u1"))
        self.stacked = layout == "channels" and bool(self.classes)
        # The channel of each class number of the Images last decoded straight.
        self._slots: tuple[list[str], npt.NDArray[np.int64]] | None = None

    def straight(self, images: Images, image: int, shape: tuple[int, int],
                 out: npt.NDArray[Any] | None) -> npt.NDArray[Any] | None:
        """Image number ``image`` of ``images`` in the channels layout, decoded from the
        file's bytes in one kernel call (no texts or objects per row between: the path of
        every sample a data loader reads); None where that path does not apply (another
        layout; an ``out`` that is not a writable C-contiguous array of the dtype; a row it
        does not take), for :meth:`__call__` to decode or word the error."""
        if not self.stacked:
            return None
        opts, full = self.channels_options, (*shape, len(self.classes))
        if out is None:
            lazy = self.zeros_first(shape)
            stack, clear = (np.zeros if lazy else np.empty)(full, opts.dtype), not lazy
        elif (type(out) is np.ndarray and out.shape == full and out.dtype == opts.dtype
              and out.flags.c_contiguous and out.flags.writeable):
            stack, clear = out, True
        else:
            return None
        return stack if images.decode_stack(image, self.channel_slots(images), stack, opts,
                                            clear) else None

    def zeros_first(self, shape: tuple[int, int]) -> bool:
        """Whether a new channel stack of an image of ``shape`` is made as np.zeros (see
        lazy_zeros), so that only the runs are written, rather than cleared by the kernel."""
        return lazy_zeros(self.channels_options.dtype.itemsize * shape[0] * shape[1]
                          * len(self.classes))

    def channel_slots(self, images: Images) -> npt.NDArray[np.int64]:
        """The channel of each class number of ``images`` (another class: the first)."""
        if self._slots is None or self._slots[0] is not images.file_classes:
            self._slots = images.file_classes, np.array(
                [self._channel.get(name, 0) for name in images.file_classes], np.int64)
        return self._slots[1]

    def _checked(self, dtype: Any) -> DecodeOptions:
        opts = self._options
        return decode_options(opts.get("order", "F"), opts.get("base", 1),
                              opts.get("relative", False), opts.get("strict", True), dtype,
                              opts.get("value", 1))

    def __call__(self, texts: Sequence[Any], row_classes: Sequence[str | None],
                 shape: tuple[int, int], out: npt.NDArray[Any] | None = None
                 ) -> npt.NDArray[Any]:
        if self.stacked:
            return self._channels(texts, row_classes, shape, out)
        classes, opts = self.classes, self._options
        if self.layout == "union" or not classes:
            union = decode_instances(texts, shape, out=None if out is None
                                     or self.layout == "channels" else out, **opts)
            if self.layout != "channels":
                return union
            if out is None:
                return union[:, :, None]
            out[:, :, 0] = union
            return out
        by_class: dict[str, list[Any]] = {}
        for text, cls in zip(texts, row_classes, strict=True):
            by_class.setdefault(cls if cls is not None and cls in self._channel
                                else classes[0], []).append(text)
        options_ = {k: v for k, v in opts.items() if k != "value"}
        return decode_classes(by_class, shape, classes=classes, layout="labels",
                              last_wins=self._last_wins, out=out, **options_)

    def _channels(self, texts: Sequence[Any], row_classes: Sequence[str | None],
                  shape: tuple[int, int], out: npt.NDArray[Any] | None
                  ) -> npt.NDArray[Any]:
        """The channels layout, straight to the writer (no mapping of classes to build):
        the path of every sample a data loader reads, kept short."""
        options = self.channels_options
        if out is not None:
            out = writable_out(out, 3)
            if out.shape != (*shape, len(self.classes)):
                raise ValueError(f"out must have shape {(*shape, len(self.classes))}, got "
                                 f"{out.shape}")
            if out.dtype != options.dtype:
                options = self._checked(out.dtype)
        channel = self._channel
        return stack_rows([t if type(t) is bytes else as_source(t) for t in texts],
                          [channel.get(cls, 0) for cls in row_classes], len(self.classes),
                          shape, options, out, lambda row: f"class {row_classes[row]!r}")


def row_problem(row: Row, shape: tuple[int, int], options: dict[str, Any]) -> RLEError | None:
    """What is wrong with one row on its own (``options`` as for :class:`ImageDecoder`)."""
    try:
        decode(row.rle, shape, order=options.get("order", "F"), base=options.get("base", 1),
               relative=options.get("relative", False), strict=options.get("strict", True),
               dtype=bool)
    except RLEError as err:
        return err
    return None


def where(path: str, row: Row) -> str:
    """``path:line: image 'id' class 'c'`` for a message about ``row``."""
    return (f"{path}:{row.line}: image {row.image!r}"
            f"{'' if row.cls is None else f' class {row.cls!r}'}")


def image_error(path: str, rows: Sequence[Row], err: RLEError, shape: tuple[int, int],
                options: dict[str, Any]) -> RLEError:
    """``err`` (from an :class:`ImageDecoder`) as the error of the first row that fails on its
    own, naming the file, line, image and class; or of the image (classes that overlap)."""
    for row in rows:
        problem = row_problem(row, shape, options)
        if problem is not None:
            return RLEError(f"{where(path, row)}: {problem}", token=problem.token,
                            reason=problem.reason)
    return RLEError(f"{path}: image {rows[0].image!r}: {err}", token=err.token,
                    reason=err.reason)


# Masks of large images are long strings: the csv module's 128 KiB field limit is lifted
# while a record is read, and put back after it (the limit is the whole process's).
_FIELD_LIMIT = 2**31 - 1
_field_limit_lock = threading.Lock()


def next_record(reader: Any, path: str) -> list[str] | None:
    """The next record of a ``csv.reader`` over ``path`` (None at the end); a malformed one
    is a TableError naming the line."""
    with _field_limit_lock:
        before = csv.field_size_limit(_FIELD_LIMIT)
        try:
            record: list[str] = next(reader)
        except StopIteration:
            return None
        except csv.Error as err:
            raise TableError(f"{path}:{reader.line_num}: {err}") from None
        finally:
            csv.field_size_limit(before)
    return record
