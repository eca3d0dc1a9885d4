"""Run arrays: parse text into ``(start, length)`` pairs (``to_runs``) and format pairs
as text (``from_runs``), no mask involved.  Masks are _decode.py's and _encode.py's."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from . import _codec
from ._errors import describe_item, kernel_errors
from ._inputs import as_int64, as_source
from ._options import check_base


def to_runs(rle: Any, *, base: int = 1, relative: bool = False,
            strict: bool = True) -> npt.NDArray[np.int64]:
    """Parse run-length text into an ``(N, 2)`` int64 array of 0-based starts and lengths.

    The runs are returned as written (not merged or sorted); with ``strict=True`` they
    must be increasing, non-overlapping and non-empty.

    Examples
    --------
    >>> import rlecodec
    >>> rlecodec.to_runs("1 3 10 2").tolist()
    [[0, 3], [9, 2]]
    """
    base = check_base(base)
    source = as_source(rle)
    with kernel_errors(describe_item, [source], base, None):
        return _codec.to_runs(source, base, bool(relative), bool(strict))


def from_runs(runs: Any, *, base: int = 1, relative: bool = False) -> str:
    """Format an ``(N, 2)`` array of 0-based starts and lengths as run-length text.

    Runs must be increasing, non-overlapping and non-empty (``RLEError`` otherwise).

    Examples
    --------
    >>> import rlecodec
    >>> rlecodec.from_runs([[0, 3], [9, 2]])
    '1 3 10 2'
    >>> rlecodec.from_runs([[0, 3], [9, 2]], base=0, relative=True)
    '0 3 6 2'
    """
    base = check_base(base)
    arr = np.asarray(runs)
    if arr.size == 0:
        return ""
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(
            f"runs must be an (N, 2) array of starts and lengths, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"runs must hold integers, got dtype {arr.dtype}")
    flat = as_int64(arr, lambda k: f"token {k} of run {k // 2} does not fit in a 64-bit integer")
    with kernel_errors(describe_item, [flat.reshape(-1)], base, None):
        return _codec.from_runs(flat, base, bool(relative))
