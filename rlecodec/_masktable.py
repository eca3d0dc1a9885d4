"""``MaskTable``: the masks of a run-length CSV file by image id, decoded on demand (in a
data loader, say) from an index of the file made in one pass.  Reading the file is
_csvfile.py's and _table.py's; decoding is ImageDecoder's."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _codec
from ._csvfile import TableError, read_bytes
from ._decode import decode_options
from ._errors import RLEError
from ._options import check_shape
from ._sizes import Shapes, SizeError
from ._table import ImageDecoder, Images, Row, image_error, row_problem, where

Shape = tuple[int, int]


class MaskTable:
    """The masks of a run-length CSV file, by image id, decoded when asked for.

    Opening makes an index of the file in one pass (numpy arrays: no Python object per
    row) and reads no text; each mask is decoded from the file's bytes when it is asked for.
    A table pickles small (the index and options, never an open file), so it works in
    data-loader workers started by fork or spawn, and in several threads at once.

    Parameters
    ----------
    path : str or os.PathLike
        A CSV file as downloaded: plain, or ``.gz``, ``.bz2``, ``.xz``, or a ``.zip``
        holding one file (read into memory once), with or without a byte-order mark,
        ``\\n`` or ``\\r\\n`` line ends, quoted fields.
    shape : (int, int), callable or None
        ``(height, width)`` of every mask, or ``image_id -> (height, width)`` (such as
        ``rlecodec.ImageSizes(folder)``, which reads the image files' headers); None when
        the file has height and width columns (``height``/``width``, ``img_height``/
        ``img_width``, ``image_height``/``image_width``, any case; or ``height_col``,
        ``width_col``).  Where a shape and the columns disagree, that image is an error
        unless ``prefer_columns``.
    layout : {"channels", "labels", "union"}, optional
        As for ``rlecodec decode``: ``(H, W, C)`` channels of ``classes``, an ``(H, W)``
        map of class numbers 1..C, or the ``(H, W)`` union of every row.  Default:
        channels when the file has a class column, else union.
    classes : sequence, optional
        The channels (Severstal: ``[1, 2, 3, 4]``), whatever the file holds; default: every
        class in the file, numeric ones in numeric order.  A row of another class goes to
        the first channel.
    order, base, relative, dtype, value, strict
        As for :func:`rlecodec.decode`.
    last_wins : bool
        Labels layout: a later class overwrites an earlier one instead of an error.
    id_col, class_col, rle_col : str, optional
        The columns, when their names are not among the usual ones.

    Examples
    --------
    >>> import os, tempfile, rlecodec
    >>> path = os.path.join(tempfile.mkdtemp(), "train.csv")
    >>> _ = open(path, "w").write("ImageId,ClassId,EncodedPixels\\na.jpg,1,1 2\\n"
    ...                           "b.jpg,2,3 1\\na.jpg,3,4 1\\n")
    >>> table = rlecodec.MaskTable(path, (2, 2))
    >>> len(table), table.ids, table.classes
    (2, ['a.jpg', 'b.jpg'], ['1', '2', '3'])
    >>> table["a.jpg"][:, :, 0].tolist(), table["a.jpg"][:, :, 2].tolist()
    ([[1, 0], [1, 0]], [[0, 0], [0, 1]])
    >>> table.texts("a.jpg")
    {'1': '1 2', '3': '4 1'}
    """

    _reader: _codec.StackReader | None  # made at the first table[key], never pickled

    def __init__(self, path: str | os.PathLike[str],
                 shape: Shape | Callable[[str], Shape] | None = None, *,
                 layout: str | None = None, classes: Sequence[Any] | None = None,
                 order: str = "F", base: int = 1, relative: bool = False,
                 dtype: npt.DTypeLike = np.uint8, value: Any = 1, strict: bool = True,
                 last_wins: bool = False, id_col: str | None = None,
                 class_col: str | None = None, rle_col: str | None = None,
                 height_col: str | None = None, width_col: str | None = None,
                 prefer_columns: bool = False) -> None:
        self.path = os.fspath(path)
        if shape is not None and not callable(shape):
            shape = check_shape(shape)
        decode_options(order, base, relative, strict, dtype, value)  # checked now, not later
        self._options: dict[str, Any] = dict(order=order, base=base, relative=relative,
                                             strict=strict, dtype=np.dtype(dtype), value=value,
                                             last_wins=bool(last_wins))
        self._images = Images(self.path, dict(id_col=id_col, class_col=class_col,
                                              rle_col=rle_col, height_col=height_col,
                                              width_col=width_col))
        self._shapes = Shapes(shape, self._images.sizes, prefer_columns)
        has_classes = bool(self._images.columns.cls or self._images.columns.packed)
        if layout is None:
            layout = "channels" if has_classes else "union"
        if layout not in ("channels", "labels", "union"):
            raise ValueError(f"layout must be 'channels', 'labels' or 'union', got {layout!r}")
        self.layout = layout
        self._keys = list(classes) if classes is not None else (
            self._images.classes if has_classes else [])
        if classes is not None and not self._keys:
            raise ValueError("classes must name at least one class")
        self._names = [str(k) for k in self._keys]  # as the file writes them
        self._decode_image = ImageDecoder(self.layout, self._names, self._options)
        self._stamp = _stamp(self.path)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ the index
    def __len__(self) -> int:
        return len(self._images.ids)

    @property
    def ids(self) -> list[str]:
        """The image ids, in order of first appearance in the file."""
        return list(self._images.ids)

    @property
    def classes(self) -> list[Any]:
        """The classes of the channels (or label numbers 1..C), as given or as in the file."""
        return list(self._keys)

    def __contains__(self, image: object) -> bool:
        return isinstance(image, str) and self._images.find(image) >= 0

    def __repr__(self) -> str:
        return (f"MaskTable({self.path!r}: {len(self)} images, {len(self._images)} rows, "
                f"layout={self.layout!r})")

    # ------------------------------------------------------------------ masks
    def __getitem__(self, key: str | int) -> npt.NDArray[Any]:
        """The mask of image ``key`` (an id, or a position in :attr:`ids`), a new array."""
        try:
            reader = self._reader
        except AttributeError:
            reader = self._reader = self._stack_reader()
        if reader is not None:
            mask = reader.get(key)
            if mask is not None:
                return mask
        return self._decode(self._number(key), None)

    def decode(self, image: str | int, out: npt.NDArray[Any] | None = None) -> npt.NDArray[Any]:
        """The mask of ``image`` written into ``out`` (any memory layout, untouched if a row
        is bad) and returned, or a new array."""
        return self._decode(self._number(image), out)

    def get(self, image: str, out: npt.NDArray[Any] | None = None) -> npt.NDArray[Any]:
        """The mask of ``image``, or all background for an id the file does not hold."""
        k = self._images.find(image)
        if k < 0:
            return self._empty(image, out)
        return self._decode(k, out)

    def texts(self, image: str | int) -> dict[str, Any] | list[str]:
        """The raw text of ``image``'s rows: ``{class: text}`` (a list where a class has
        several rows) when the file has classes, else the list of its rows' texts."""
        rows = self._rows(self._number(image))
        if not (self._images.columns.cls or self._images.columns.packed):
            return [_text(row) for row in rows]
        by_class: dict[str, Any] = {}
        for row in rows:
            cls = row.cls or ""
            if cls in by_class:
                held = by_class[cls]
                by_class[cls] = [*held, _text(row)] if isinstance(held, list) else [
                    held, _text(row)]
            else:
                by_class[cls] = _text(row)
        return by_class

    def check(self) -> list[str]:
        """Every bad row, one message each (file, line, image, class, token), and every
        image whose size cannot be known; [] if none."""
        problems = []
        for k in range(len(self)):
            try:
                shape = self._shapes(k, self._images.ids[k])
            except SizeError as err:
                problems.append(f"{self.path}:{int(self._images.lines[self._images.rows_of(k)[0]])}"
                                f": {err}")
                continue
            for row in self._rows(k):
                problem = row_problem(row, shape, self._options)
                if problem is not None:
                    problems.append(f"{where(self.path, row)}: {problem}")
        return problems

    def shape_of(self, image: str) -> Shape:
        """The ``(height, width)`` of ``image``'s mask (SizeError if it cannot be known)."""
        return self._shapes(self._images.find(image), image)

    # ------------------------------------------------------------------ inside
    def _number(self, key: str | int) -> int:
        if isinstance(key, str):
            k = self._images.find(key)
            if k < 0:
                raise KeyError(key)
            return k
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)):
            raise TypeError(f"an image is an id (str) or a position (int), not {key!r}")
        k = int(key)
        if not -len(self) <= k < len(self):
            raise IndexError(f"image {k} of {len(self)}")
        return k % len(self)

    def _rows(self, k: int) -> list[Row]:
        self._open()
        return [self._images.row(int(r), raw=True) for r in self._images.rows_of(k)]

    def _decode(self, k: int, out: npt.NDArray[Any] | None) -> npt.NDArray[Any]:
        self._open()
        image = self._images.ids[k]
        shape = self._shapes(k, image)
        stack = self._decode_image.straight(self._images, k, shape, out)
        if stack is not None:
            return stack
        texts, classes = self._images.texts_of(k)
        try:
            return self._decode_image(texts, classes, shape, out)
        except RLEError as err:  # (the rows again, as Rows: only to name the bad one)
            raise image_error(self.path, self._rows(k), err, shape, self._options) from None

    def _empty(self, image: str, out: npt.NDArray[Any] | None) -> npt.NDArray[Any]:
        if self._shapes.lookup is not None:
            shape = check_shape(self._shapes.lookup(image))
        elif self._shapes.fixed is not None:
            shape = self._shapes.fixed
        else:
            raise SizeError(f"image {image!r} is not in {self.path}, whose size columns "
                            "are the only source of sizes")
        return self._decode_image([], [], shape, out)

    def _stack_reader(self) -> _codec.StackReader | None:
        """__getitem__'s one-call path (StackReader), for the channels layout of a fixed
        shape; None for any other table."""
        decoder, shape = self._decode_image, self._shapes.fixed
        if not decoder.stacked or shape is None or self._shapes.lookup is not None \
                or self._shapes.columns is not None:
            return None
        self._open()
        images, opts = self._images, decoder.channels_options
        full = (*shape, len(decoder.classes))
        ids = images.sorted_ids
        return _codec.StackReader(
            images.rows(), ids.view(np.uint8).reshape(len(ids), ids.dtype.itemsize),
            images.id_rank, decoder.channel_slots(images), full, opts.dtype,
            decoder.zeros_first(shape), opts.order_f, opts.base, opts.relative, opts.strict,
            opts.pattern)

    def _open(self) -> None:
        """The file's bytes, opened again in a process this table was pickled into."""
        if self._images.data is not None:
            return
        with self._lock:
            if self._images.data is None:
                if _stamp(self.path) != self._stamp:
                    raise TableError(f"{self.path} changed since the table was opened: "
                                     "open it again")
                self._images.attach(read_bytes(self.path)[0])

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_lock"]
        state.pop("_reader", None)  # (it holds the file's bytes)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


def _stamp(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns


def _text(row: Row) -> str:
    return row.rle.decode("utf-8", "surrogateescape") if isinstance(row.rle, bytes) else row.rle
