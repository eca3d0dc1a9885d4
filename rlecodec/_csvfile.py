"""CSV files as they arrive, opened for random access: plain (memory-mapped), or compressed
(.gz, .bz2, .xz, a .zip holding one file: read into memory once), a UTF-8 byte-order mark
and \\r\\n line ends allowed; and the index of their rows (:class:`RowIndex`) that the
command and MaskTable share.  Which columns mean what is _table.py's."""

from __future__ import annotations

import csv
import io
import mmap
import os
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _codec

BOM = b"\xef\xbb\xbf"
# Ids longer than this are gathered one by one rather than into a fixed-width array.
_WIDE_ID = 1024
_GATHER_ROWS = 1 << 16


class TableError(ValueError):
    """A CSV file that cannot be read as run-length masks."""


def read_bytes(path: str) -> tuple[npt.NDArray[np.uint8], str]:
    """The bytes of ``path`` as a read-only uint8 array, and what the file was: "plain"
    (memory-mapped, nothing read yet) or the compression it was undone from."""
    try:
        with open(path, "rb") as handle:
            magic = handle.read(6)
            handle.seek(0)
            size = os.fstat(handle.fileno()).st_size
            # (The decompressors are imported only for the files that need them.)
            if magic.startswith(b"\x1f\x8b"):
                import gzip
                return _unpacked(path, "gzip", lambda: gzip.GzipFile(fileobj=handle).read())
            if magic.startswith(b"BZh"):
                import bz2
                return _unpacked(path, "bzip2", lambda: bz2.BZ2File(handle).read())
            if magic.startswith(b"\xfd7zXZ\x00"):
                import lzma
                return _unpacked(path, "xz", lambda: lzma.LZMAFile(handle).read())
            if magic.startswith(b"PK\x03\x04"):
                return _unpacked(path, "zip", lambda: _only_member(path, handle))
            if size == 0:
                return np.zeros(0, np.uint8), "plain"
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            return np.frombuffer(mapped, np.uint8), "plain"
    except OSError as err:
        raise TableError(f"cannot open {path}: {err.strerror or err}") from None


def _unpacked(path: str, kind: str, read: Any) -> tuple[npt.NDArray[np.uint8], str]:
    import lzma
    import zipfile

    try:
        data = read()
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile) as err:
        raise TableError(f"{path}: cannot undo its {kind} compression: {err}") from None
    return np.frombuffer(data, np.uint8), kind


def _only_member(path: str, handle: Any) -> bytes:
    import zipfile

    with zipfile.ZipFile(handle) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        if len(names) != 1:
            raise TableError(f"{path}: a zip archive must hold exactly one CSV file, it holds "
                             f"{len(names)}: {names[:5]}")
        return archive.read(names[0])


def read_header(data: npt.NDArray[np.uint8], path: str) -> tuple[list[str], int]:
    """The header's field names (stripped of spaces) and the byte where the rows begin."""
    start = len(BOM) if data[:3].tobytes() == BOM else 0
    newline = np.flatnonzero(data[start:start + (1 << 20)] == 10)
    end = start + int(newline[0]) + 1 if len(newline) else min(len(data), start + (1 << 20))
    raw = data[start:end].tobytes()
    if not raw.strip():
        raise TableError(f"{path} is empty")
    if b"\0" in raw:
        raise TableError(f"{path} is not a CSV text file (its first line holds NUL bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TableError(f"{path} is not UTF-8 text (its header is not); save it as UTF-8"
                         ) from None
    fields = next(csv.reader(io.StringIO(text)), [])
    return [name.strip() for name in fields], end


class RowIndex:
    """Where each row's fields lie in a CSV file's bytes, in numpy arrays (no Python object
    per row): for every record, the byte span of each wanted field, whether it holds ""
    escapes, and its line (the header is line 1).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = open(path, "w").write('ImageId,EncodedPixels\\na.jpg,1 3\\n"b.jpg",5 2\\n')
    >>> data, _ = read_bytes(path)
    >>> fields, body = read_header(data, path)
    >>> rows = RowIndex(data, path, fields, body, ["ImageId", "EncodedPixels"])
    >>> rows.strings(0), rows.field(1, 1)
    (['a.jpg', 'b.jpg'], b'5 2')
    """

    def __init__(self, data: npt.NDArray[np.uint8], path: str, fields: list[str], body: int,
                 wanted: list[str]) -> None:
        self.data, self.path = data, path
        slot = np.full(len(fields), -1, np.int64)
        for k, name in enumerate(wanted):
            slot[fields.index(name)] = k
        try:
            self.bounds, self.escaped, self.lines = _codec.csv_index(
                data, body, 2, len(fields), slot, len(wanted))
        except ValueError as err:
            raise TableError(_index_error(path, err, len(fields))) from None

    def __len__(self) -> int:
        return len(self.lines)

    def field(self, k: int, row: int) -> bytes:
        """The raw bytes of wanted field ``k`` of ``row`` (quotes and escapes undone)."""
        start, end = self.bounds[row, k]
        raw = self.data[start:end].tobytes()
        return raw.replace(b'""', b'"') if self.escaped[row, k] else raw

    def values(self, k: int) -> npt.NDArray[Any]:
        """Wanted field ``k`` of every row as a bytes array (``S`` dtype), spaces stripped."""
        starts, ends = self.bounds[:, k, 0], self.bounds[:, k, 1]
        lengths = ends - starts
        width = int(lengths.max()) if len(lengths) else 1
        if width > _WIDE_ID or self.escaped[:, k].any():
            return np.array([self.field(k, r).strip() for r in range(len(self))], dtype=bytes)
        out = np.empty(len(starts), f"S{max(width, 1)}")
        cols = np.arange(max(width, 1))
        last = max(len(self.data) - 1, 0)
        for r0 in range(0, len(starts), _GATHER_ROWS):
            s, n = starts[r0:r0 + _GATHER_ROWS], lengths[r0:r0 + _GATHER_ROWS]
            at = np.minimum(s[:, None] + cols, last)
            block = np.where(cols < n[:, None], self.data[at], 0).astype(np.uint8)
            out[r0:r0 + len(s)] = block.view(out.dtype).ravel()
        return np.char.strip(out)

    def strings(self, k: int) -> list[str]:
        """Wanted field ``k`` of every row as str, stripped (for the few rows of a check)."""
        return [self.text(raw, r) for r, raw in enumerate(self.values(k).tolist())]

    def text(self, raw: bytes, row: int) -> str:
        """``raw`` (a field of ``row``) as UTF-8 text, or a TableError naming the line."""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise TableError(f"{self.path}:{int(self.lines[row])}: {raw[:40]!r} is not UTF-8 "
                             "text; save the file as UTF-8") from None


def _index_error(path: str, err: ValueError, ncols: int) -> str:
    reason, line, fields = err.args
    if reason == "fields":
        return f"{path}:{line}: {fields} fields, expected {ncols}"
    if reason == "after_quote":
        return f"{path}:{line}: text after a closing quote (a quote inside a quoted field " \
               "must be doubled)"
    return f"{path}:{line}: a quoted field that never ends"


def text_stream(path: str) -> io.TextIOBase:
    """The whole file as text lines for csv.reader (compressed ones undone, the byte-order
    mark dropped): for commands that rewrite every column."""
    data, _ = read_bytes(path)
    raw = data.tobytes()
    if raw.startswith(BOM):
        raw = raw[len(BOM):]
    try:
        return io.StringIO(raw.decode("utf-8"), newline="")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise TableError(f"{path}:{line}: not UTF-8 text; save it as UTF-8") from None
