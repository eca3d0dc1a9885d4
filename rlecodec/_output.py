"""What the command writes, and how it stays whole: file names that never collide (and the
index.csv that records them), files written under a temporary name and renamed, .npy files
written and checked from the format's definition, temporary files of killed runs removed,
and clean stops on SIGTERM and SIGINT.  What goes into the files is _cli.py's."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".dcm")
INDEX_NAME = "index.csv"
# Characters no file name on Linux, macOS or Windows may hold (and '%', the escape itself).
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|%]')
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", os.uname().nodename if hasattr(os, "uname")
               else os.environ.get("COMPUTERNAME", ""))[:40] or "host"


def _escape(text: str) -> str:
    text = _UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), text)
    if text.startswith("."):  # (no hidden files, no "." or "..")
        text = "%2E" + text[1:]
    if text.endswith((" ", ".")):  # (Windows drops them)
        text = text[:-1] + f"%{ord(text[-1]):02X}"
    return text or "%00"


def base_name(image: str) -> str:
    """The usual file name of ``image`` (without ``.npy``): the id without its image
    extension, characters no file system takes written as ``%XX``.

    >>> base_name("0002cc93b.jpg"), base_name("case1/day2.png")
    ('0002cc93b', 'case1%2Fday2')
    """
    stem = image
    if stem.lower().endswith(IMAGE_SUFFIXES):
        stem = stem.rsplit(".", 1)[0]
    return _escape(stem)


def output_names(images: Iterable[str]) -> dict[str, str]:
    """A ``.npy`` file name for every image id, no two alike even where case is ignored
    (macOS, Windows): :func:`base_name`; where two ids share one (``x.jpg`` and ``x.png``,
    ``A.png`` and ``a.png``), the whole id escaped, and if that too is shared, the id's
    hash added.  It depends only on the set of ids, so every shard of a run agrees.

    >>> sorted(output_names(["x.jpg", "x.png", "y.jpg"]).values())
    ['x.jpg.npy', 'x.png.npy', 'y.npy']
    """
    ids = list(dict.fromkeys(images))
    names = {image: base_name(image) for image in ids}
    for attempt in range(3):
        taken: dict[str, list[str]] = {}
        for image in ids:
            taken.setdefault(names[image].casefold(), []).append(image)
        clashes = [group for group in taken.values() if len(group) > 1]
        if not clashes:
            break
        for group in clashes:
            for image in group:
                whole = _escape(image)
                names[image] = whole if attempt == 0 and names[image] != whole else (
                    f"{whole}~{_digest(image)}")
    return {image: name + ".npy" for image, name in names.items()}


def _digest(image: str) -> str:
    import hashlib

    return hashlib.sha1(image.encode("utf-8", "surrogatepass")).hexdigest()[:12]


class Stopped(Exception):
    """The run was asked to stop (SIGTERM, SIGINT) before it finished."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.message = ""

    def with_message(self, message: str) -> Stopped:
        self.message = message
        return self

    def __str__(self) -> str:
        return self.message or super().__str__()


class StopSignals:
    """While active, SIGTERM and SIGINT set :attr:`stop` (workers look at it) and raise
    :class:`Stopped` in the main thread, except inside :meth:`deferred` blocks; SIGXFSZ is
    ignored, so a file-size limit is an error (``File too large``) rather than a kill.  Used
    as a context manager."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.signum = 0
        self._deferred = 0
        self._before: dict[int, Any] = {}
        #: On leaving, ignore SIGTERM and SIGINT instead of restoring the handlers before:
        #: for a process that only exits afterwards (a late signal would kill it with its
        #: work done).
        self.ignore_after = False

    def _handle(self, signum: int, frame: Any) -> None:
        first = not self.stop.is_set()
        self.signum = self.signum or signum
        self.stop.set()
        if first and not self._deferred:
            raise Stopped(signum)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """A block the signals do not break into: one that waits on workers or takes
        locks, which an exception raised by a handler between two of their bytecodes
        would leave held or half released.  A stop asked for meanwhile is raised when the
        block ends (and by :meth:`check` calls inside it, at points the block chooses)."""
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1
        self.check()

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for name in ("SIGTERM", "SIGINT", "SIGXFSZ"):
                if hasattr(signal, name):
                    num = getattr(signal, name)
                    handler = signal.SIG_IGN if name == "SIGXFSZ" else self._handle
                    self._before[num] = signal.signal(num, handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for num, handler in self._before.items():
            late = self.ignore_after and num != getattr(signal, "SIGXFSZ", None)
            signal.signal(num, signal.SIG_IGN if late else handler)
        self._before.clear()

    def check(self) -> None:
        """Raise Stopped if a stop was asked for (in a worker, or in a deferred block)."""
        if self.stop.is_set():
            raise Stopped(self.signum or signal.SIGTERM)


def temporary_name(path: str) -> str:
    """Where ``path`` is written before it is renamed: this host, process and thread."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, f".{name}.tmp-{_HOST}-{os.getpid()}-{threading.get_ident()}")


@contextlib.contextmanager
def atomic_file(path: str, mode: str, *, sync: bool = False, stop: StopSignals | None = None,
                **kwargs: Any) -> Iterator[Any]:
    """A file written under a temporary name in the same folder and renamed to ``path``
    only once complete: a crash, a kill or a stop never leaves a truncated ``path``, and an
    error or a stop (``stop.check()`` just before the rename) removes the temporary file.
    ``sync`` also flushes it to the disk first, so it survives a power loss."""
    tmp = temporary_name(path)
    try:
        with open(tmp, mode, **kwargs) as handle:
            yield handle
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        if stop is not None:
            stop.check()
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def remove_stale_temporaries(folder: str) -> int:
    """Remove the temporary files that runs of this host left behind when they were killed
    (their process is gone); return how many.  Files of other hosts (a shared folder) and of
    live processes stay."""
    if os.name != "posix" or not os.path.isdir(folder):
        return 0
    pattern = re.compile(rf"^\..+\.tmp-{re.escape(_HOST)}-(\d+)-\d+$")
    removed = 0
    for name in os.listdir(folder):
        match = pattern.match(name)
        if match is None or _alive(int(match.group(1))):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(folder, name))
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _quoted(field: str) -> str:
    return '"' + field.replace('"', '""') + '"'


def write_index(folder: str, names: dict[str, str], stop: StopSignals | None = None) -> None:
    """``index.csv`` in ``folder``: every image id of the CSV and its file, written
    atomically (every shard writes the same one).  Every field is quoted, as a CSV reader
    takes it; written here rather than by the csv module, which before Python 3.11 cannot
    write an id that holds a NUL."""
    with atomic_file(os.path.join(folder, INDEX_NAME), "w", newline="",
                     encoding="utf-8", errors="surrogateescape", stop=stop) as handle:
        handle.write('"ImageId","file"\r\n')
        for image, name in names.items():
            handle.write(f"{_quoted(image)},{_quoted(name)}\r\n")


def save_npy(path: str, array: npt.NDArray[Any], sync: bool,
             stop: StopSignals | None = None) -> None:
    """``array`` as a .npy file (format 1.0, written here from its definition so that a
    short write is the file system's own error, ENOSPC or EFBIG), atomically."""
    array = np.ascontiguousarray(array)
    header = (f"{{'descr': {array.dtype.str!r}, 'fortran_order': False, "
              f"'shape': {array.shape!r}, }}")
    pad = -(10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    with atomic_file(path, "wb", sync=sync, stop=stop) as handle:
        handle.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little"))
        handle.write(header.encode("latin-1"))
        handle.write(array.data.cast("B") if array.size else b"")


def is_complete_npy(path: str) -> bool:
    """Whether ``path`` is a whole .npy file: a valid header and exactly the bytes it
    announces (what a power loss after an unsynced rename can break).  The header is read
    from the format's definition (magic, version, header length, a dict literal)."""
    import ast

    try:
        with open(path, "rb") as handle:
            start = handle.read(8)
            if len(start) < 8 or not start.startswith(b"\x93NUMPY"):
                return False
            major = start[6]
            if major not in (1, 2, 3):  # a newer format: redo it rather than guess
                return False
            width = 2 if major == 1 else 4
            header_len = int.from_bytes(handle.read(width), "little")
            header = ast.literal_eval(handle.read(header_len).decode(
                "latin-1" if major < 3 else "utf-8"))
            if not isinstance(header, dict) or not isinstance(header.get("shape"), tuple):
                return False
            items = 1
            for dim in header["shape"]:
                items *= int(dim)
            expected = handle.tell() + items * np.dtype(header["descr"]).itemsize
            return os.fstat(handle.fileno()).st_size == expected
    except (OSError, ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
