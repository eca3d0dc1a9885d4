"""The size of each image's mask when images differ in size: from height and width columns of
the CSV, from the image files' headers in a folder (:class:`ImageSizes`), or one fixed
``--shape``, and the rule when two of them disagree (:class:`Shapes`).  Reading the CSV is
_table.py's."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from ._csvfile import TableError
from ._options import check_shape

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp",
                  ".dcm", ".jp2")
# Height and width columns, matched whatever their case.
SIZE_COLUMNS = (("height", "width"), ("img_height", "img_width"),
                ("image_height", "image_width"))

Shape = tuple[int, int]


class SizeError(ValueError):
    """An image whose size cannot be known, or whose sources of size disagree."""


class ImageSizes:
    """``image_id -> (height, width)`` from the image files in ``folder`` (nested folders
    too), reading only each file's header (Pillow, the ``image`` extra).

    An id names its file by its path under ``folder``, by its file name, or by its file name
    without the extension (``.png``, ``.jpg``, ``.tif`` and the like); the folder is listed
    once, when the first size is asked for.  It pickles as its folder, so it can be given
    to a :class:`~rlecodec.MaskTable` used in worker processes.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> folder = tempfile.mkdtemp()
    >>> Image.new("L", (5, 3)).save(os.path.join(folder, "a.png"))
    >>> ImageSizes(folder)("a"), ImageSizes(folder)("a.png")
    ((3, 5), (3, 5))
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = os.fspath(folder)
        if not os.path.isdir(self.folder):
            raise SizeError(f"{self.folder} is not a folder of images")
        self._paths: dict[str, str | None] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"folder": self.folder, "_paths": None}

    def path_of(self, image: str) -> str:
        """The file of ``image`` (SizeError if there is none, or more than one)."""
        exact = os.path.join(self.folder, image)
        if os.path.isfile(exact):
            return exact
        if self._paths is None:
            self._paths = self._index()
        path = self._paths.get(image, self._paths.get(os.path.basename(image)))
        if path is None:
            state = "several files" if image in self._paths else "no image file"
            raise SizeError(f"image {image!r}: {state} in {self.folder} (by path, name, or "
                            "name without its extension)")
        return path

    def __call__(self, image: str) -> Shape:
        path = self.path_of(image)
        try:
            from PIL import Image
        except ImportError:
            raise SizeError("sizes from image files need Pillow: "
                            "pip install 'rlecodec[image]'") from None
        try:
            with Image.open(path) as opened:  # (the header only: no pixel is decoded)
                width, height = opened.size
        except (OSError, ValueError, SyntaxError) as err:
            raise SizeError(f"image {image!r}: cannot read the size of {path}: {err}"
                            ) from None
        return int(height), int(width)

    def _index(self) -> dict[str, str | None]:
        """Every image file by name and by name without its extension (and UW-Madison's
        scans by their id, see :func:`uw_madison_id`); None where two files claim one
        key."""
        paths: dict[str, str | None] = {}
        for root, _, files in os.walk(self.folder):
            for name in files:
                if not name.lower().endswith(IMAGE_SUFFIXES):
                    continue
                path = os.path.join(root, name)
                keys = {name, os.path.splitext(name)[0], uw_madison_id(path)} - {None}
                for key in keys:
                    assert key is not None
                    paths[key] = None if key in paths and paths[key] != path else path
        return paths


def uw_madison_id(path: str) -> str | None:
    """The id of a UW-Madison GI tract scan from its path, or None:
    ``case123/case123_day20/scans/slice_0001_266_266_1.50_1.50.png`` is
    ``case123_day20_slice_0001`` in the competition's CSV (its size is in the name too,
    but the header is read like any other's).

    >>> uw_madison_id("train/case7/case7_day0/scans/slice_0042_266_266_1.50_1.50.png")
    'case7_day0_slice_0042'
    """
    parts = os.path.normpath(path).split(os.sep)
    if len(parts) < 3 or parts[-2] != "scans":
        return None
    stem = parts[-1].split("_")
    if len(stem) < 2 or stem[0] != "slice":
        return None
    return f"{parts[-3]}_{stem[0]}_{stem[1]}"


def find_size_columns(fields: list[str], height_col: str | None,
                      width_col: str | None) -> tuple[str, str] | None:
    """The height and width columns of a header: as named, or a known pair in any case."""
    if (height_col is None) != (width_col is None):
        raise TableError("name both the height and the width column, or neither")
    if height_col is not None and width_col is not None:
        missing = [c for c in (height_col, width_col) if c not in fields]
        if missing:
            raise TableError(f"no column {missing[0]!r}; the columns are {fields}")
        return height_col, width_col
    lower = {name.lower(): name for name in fields}
    for height, width in SIZE_COLUMNS:
        if height in lower and width in lower:
            return lower[height], lower[width]
    return None


def sizes_per_image(heights: npt.NDArray[Any], widths: npt.NDArray[Any], lines: Any,
                    image_of_row: npt.NDArray[Any], n_images: int,
                    path: str) -> npt.NDArray[np.int64]:
    """``(n_images, 2)`` sizes from each row's height and width fields (bytes), checked:
    whole non-negative numbers, the same on every row of an image."""
    sizes = np.zeros((len(heights), 2), np.int64)
    for k, column in enumerate((heights, widths)):
        digits = np.char.isdigit(column)
        if not digits.all():
            r = int(np.flatnonzero(~digits)[0])
            raise TableError(f"{path}:{int(lines[r])}: the image size {column[r]!r} is not "
                             "a whole number")
        sizes[:, k] = column.astype(np.int64)
    per_image = np.zeros((n_images, 2), np.int64)
    per_image[image_of_row] = sizes
    clash = np.flatnonzero((per_image[image_of_row] != sizes).any(axis=1))
    if clash.size:
        r = int(clash[0])
        same_image = image_of_row == image_of_row[r]
        other = int(np.flatnonzero(same_image & (sizes != sizes[r]).any(axis=1))[0])
        rows = sorted((int(lines[other]), int(lines[r])))
        raise TableError(f"{path}: lines {rows[0]} and {rows[1]} give image sizes "
                         f"{tuple(sizes[other].tolist())} and {tuple(sizes[r].tolist())} "
                         "for one image")
    return per_image


class Shapes:
    """The size of image number k's mask, from whichever sources there are: a fixed
    ``shape``, a callable ``image_id -> (height, width)`` (:class:`ImageSizes`, say), and
    the CSV's size columns.  Two sources that disagree are a SizeError unless
    ``prefer_columns`` (then the columns win)."""

    def __init__(self, shape: Shape | Callable[[str], Shape] | None,
                 columns: npt.NDArray[np.int64] | None, prefer_columns: bool = False) -> None:
        self.fixed = check_shape(shape) if shape is not None and not callable(shape) else None
        self.lookup = shape if callable(shape) else None
        self.columns = columns
        self.prefer_columns = prefer_columns
        if self.fixed is None and self.lookup is None and columns is None:
            raise SizeError("the mask size is unknown: give a shape (--shape HxW), an image "
                            "folder (--images DIR), or a CSV with height and width columns")

    def __call__(self, k: int, image: str) -> Shape:
        given = self.fixed if self.lookup is None else check_shape(self.lookup(image))
        if self.columns is None:
            assert given is not None
            return given
        h, w = self.columns[k].tolist()
        from_columns = check_shape((h, w))
        if given is None or self.prefer_columns or given == from_columns:
            return from_columns
        raise SizeError(f"image {image!r}: its size columns say {h}x{w} but the "
                        f"{'shape' if self.lookup is None else 'image file'} says "
                        f"{given[0]}x{given[1]} (--prefer-columns lets the columns win)")
