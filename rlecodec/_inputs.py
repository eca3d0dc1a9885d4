"""Normalising what users pass in: run-length inputs for decoding (``as_source``) and
masks for encoding (``as_mask``).  Option checks are _options.py's; nothing here calls
a kernel."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from ._errors import RLEError
from ._options import INT64_MAX, Foreground, foreground


def _is_missing(rle: Any) -> bool:
    """None, a float NaN (pandas' empty cell) or pandas.NA."""
    if rle is None:
        return True
    if isinstance(rle, (float, np.floating)):
        return math.isnan(rle)
    return type(rle).__name__ == "NAType"


def as_source(rle: Any) -> Any:
    """Turn a run-length input into what the kernel reads.

    Returns ``None`` (empty mask), a ``str`` or ``bytes`` (text, parsed in C), or a
    contiguous 1-D ``int64`` array of flat ``start, length`` tokens.
    """
    kind = type(rle)
    if kind is str or kind is bytes:
        return rle
    if _is_missing(rle):
        return None
    if isinstance(rle, str):
        return str(rle)
    if isinstance(rle, (bytes, bytearray, memoryview)):
        return bytes(rle)
    if isinstance(rle, (float, np.floating)):
        raise TypeError(f"a run-length input cannot be a number ({rle!r}); pass a string")
    return _as_tokens(rle)


def _as_tokens(rle: Any) -> npt.NDArray[Any]:
    arr = np.asarray(rle)
    if arr.ndim == 0:
        raise TypeError(f"expected a run-length string or a sequence of integers, got {rle!r}")
    if arr.ndim == 2 and arr.shape[1] == 2:
        arr = arr.reshape(-1)
    elif arr.ndim != 1:
        raise ValueError(
            f"integer runs must be flat pairs or an (N, 2) array, got shape {arr.shape}")
    if arr.size == 0:
        return np.zeros(0, np.int64)
    if arr.dtype.kind == "O":
        arr = _object_tokens(arr)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"integer runs must have an integer dtype, got {arr.dtype}")
    return as_int64(arr, lambda k: f"token {k} ({int(arr[k])}) of run {k // 2} does not fit "
                                   "in a 64-bit integer")


def as_int64(arr: npt.NDArray[Any], overflow: Callable[[int], str]) -> npt.NDArray[np.int64]:
    """An integer array as contiguous int64 (same shape); a uint64 value above 2**63 - 1 is
    an RLEError with the message ``overflow(k)``, k its flat index."""
    if arr.dtype.kind == "u" and arr.dtype.itemsize == 8:
        too_big = np.flatnonzero(arr.reshape(-1) > INT64_MAX)
        if too_big.size:
            k = int(too_big[0])
            raise RLEError(overflow(k), token=k, reason="overflow")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _object_tokens(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Python ints too large for numpy's int64, or mixed objects: check one by one."""
    out = np.empty(arr.size, np.int64)
    for k, v in enumerate(arr.tolist()):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise TypeError(f"token {k} ({v!r}) of run {k // 2} is not an integer")
        if v > INT64_MAX:
            raise RLEError(f"token {k} ({v}) of run {k // 2} does not fit in a 64-bit integer",
                           token=k, reason="overflow")
        if v < 0:
            raise RLEError(f"token {k} ({v}) of run {k // 2} is negative", token=k,
                           reason="negative")
        out[k] = v
    return out


def read_in_place(dtype: np.dtype[Any]) -> bool:
    """Whether the encoder's scan reads masks of ``dtype`` where they lie: native bools and
    integers of 1, 2, 4 or 8 bytes, native floats of 4 or 8."""
    return dtype.isnative and (dtype.itemsize in (4, 8) if dtype.kind == "f" else
                               dtype.kind in "biu" and dtype.itemsize in (1, 2, 4, 8))


def as_mask(mask: Any, threshold: Any = None) -> tuple[npt.NDArray[Any], Foreground]:
    """A 2-D array the encoder can read where it lies (no copy for the usual dtypes), and
    how its foreground is told (``!= 0``, or ``> threshold`` as numpy compares them)."""
    arr = mask if isinstance(mask, np.ndarray) else np.asarray(mask)
    if arr.ndim != 2:
        raise ValueError(f"expected a 2-D mask (height, width), got shape {arr.shape}")
    dt = arr.dtype
    if read_in_place(dt):
        return arr, foreground(dt, threshold)
    if dt.kind == "f":
        # The threshold is rounded in the mask's own precision first.
        fg = foreground(dt, threshold)
        if dt.itemsize <= 8:  # float16 and byte-swapped floats widen exactly
            return arr.astype(np.float32 if dt.itemsize <= 4 else np.float64), fg
        # Long double: float64 would flush 1e-400 to zero; numpy compares it exactly.
        on = arr != 0 if threshold is None else arr > threshold
        return on, foreground(on.dtype, None)
    arr = native_integers(arr)
    return arr, foreground(arr.dtype, threshold)


def native_integers(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A bool or integer array in native byte order (a copy only when it is not)."""
    if arr.dtype.kind not in "biu":
        raise TypeError(f"a mask must hold bools, integers or floats, got dtype {arr.dtype}")
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))
