"""Reading run-length CSV files: column detection and streaming rows grouped by image,
shared by every command.  Decoding the rows is the callers'; writing files is _cli.py's."""

from __future__ import annotations

import csv
import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

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


class TableError(ValueError):
    """A CSV file that cannot be read as run-length masks."""


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
    rle: str


def read_columns(path: str, columns_hint: dict[str, str | None]) -> Columns:
    """The columns of ``path``, from its header."""
    return _open(path, columns_hint)[0]


# Masks of large images are long strings: the csv module's 128 KiB field limit is lifted
# while a record is read, and put back after it (the limit is the whole process's).
_FIELD_LIMIT = 2**31 - 1
_field_limit_lock = threading.Lock()


def next_record(reader: Any, path: str) -> list[str] | None:
    """The next record of a ``csv.reader`` over ``path`` (None at the end); a malformed or
    undecodable one is a TableError naming the line."""
    with _field_limit_lock:
        before = csv.field_size_limit(_FIELD_LIMIT)
        try:
            record: list[str] = next(reader)
        except StopIteration:
            return None
        except csv.Error as err:
            raise TableError(f"{path}:{reader.line_num}: {err}") from None
        except UnicodeDecodeError:
            # (Text is decoded a block at a time: the bad byte is somewhere after this line.)
            after = f" (a bad byte after line {reader.line_num})" if reader.line_num else ""
            raise TableError(f"{path} is not UTF-8 text{after}; save it as UTF-8") from None
        finally:
            csv.field_size_limit(before)
    return record


def read_rows(path: str, columns_hint: dict[str, str | None]) -> Iterator[Row]:
    """Stream the rows of ``path`` (the file stays open only while they are read)."""
    columns, fields, handle, reader = _open(path, columns_hint)
    index = {name: k for k, name in enumerate(fields)}
    with handle:
        while True:
            record = next_record(reader, path)
            if record is None:
                return
            line = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(record) != len(fields):
                raise TableError(f"{path}:{line}: {len(record)} fields, expected {len(fields)}")
            row = {name: record[k] for name, k in index.items()}
            image, cls = columns.split(row)
            yield Row(line, image.strip(), None if cls is None else cls.strip(), row[columns.rle])


def _open(path: str, columns_hint: dict[str, str | None]) -> tuple[Columns, list[str], Any, Any]:
    try:
        handle = open(path, newline="", encoding="utf-8")
    except OSError as err:
        raise TableError(f"cannot open {path}: {err.strerror}") from None
    reader = csv.reader(handle)
    try:
        header = next_record(reader, path)
        if header is None:
            raise TableError(f"{path} is empty")
        fields = [name.strip() for name in header]
        columns = detect_columns(fields, **columns_hint)
    except BaseException:
        handle.close()
        raise
    return columns, fields, handle, reader


def group_by_image(rows: Iterator[Row], path: str) -> Iterator[list[Row]]:
    """Consecutive rows of one image, as lists; an image whose rows are split apart is an
    error (sort the file by image id), since holding every image open would not stream."""
    done: set[str] = set()
    group: list[Row] = []
    for row in rows:
        if group and row.image != group[0].image:
            done.add(group[0].image)
            yield group
            group = []
        if not group and row.image in done:
            raise TableError(f"{path}:{row.line}: rows of image {row.image!r} are not "
                             "contiguous; sort the file by image id")
        group.append(row)
    if group:
        yield group
