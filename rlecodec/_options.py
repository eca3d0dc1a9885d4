"""Validation of the options shared by every entry point: order, base, shape, dtype,
value, threshold (as the kernel's foreground modes) and thread counts.  Inputs themselves
are _inputs.py's."""

from __future__ import annotations

import math
import numbers
import operator
import os
from typing import Any

import numpy as np

from . import _codec

INT64_MAX = 2**63 - 1


def check_order(order: Any) -> bool:
    """Return True for column-major ``"F"``, False for row-major ``"C"``."""
    if order == "F" or order == "f":
        return True
    if order == "C" or order == "c":
        return False
    raise ValueError(f"order must be 'F' (column-major, Kaggle) or 'C' (row-major), got {order!r}")


def _is_integer(x: Any) -> bool:
    """An int or numpy integer, not a bool (True is not a size, a base or a count)."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def check_integer(value: Any, name: str) -> int:
    """``value`` as an int: a Python or numpy integer, not a bool (TypeError naming it)."""
    if not _is_integer(value):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return int(value)


def check_base(base: Any) -> int:
    if type(base) is int and (base == 1 or base == 0):
        return base  # the common case, checked cheaply
    if not _is_integer(base) or base not in (0, 1):
        raise ValueError(f"base must be 1 (Kaggle) or 0, got {base!r}")
    return int(base)


def check_shape(shape: Any) -> tuple[int, int]:
    """A mask shape ``(height, width)`` of non-negative integers."""
    if type(shape) is tuple and len(shape) == 2:
        h, w = shape
        if type(h) is int and type(w) is int and 0 <= h < 2**31 and 0 <= w < 2**31:
            return shape  # the common case, checked cheaply
    if shape is None:
        raise TypeError("shape=(height, width) is required unless out= is given")
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"shape must be a (height, width) pair, got {shape!r}") from None
    if len(dims) != 2:
        raise ValueError(f"shape must have 2 dimensions (height, width), got {shape!r}")
    if not all(_is_integer(d) for d in dims):
        raise TypeError(f"shape must hold integers, got {shape!r}")
    h, w = (operator.index(d) for d in dims)
    if h < 0 or w < 0:
        raise ValueError(f"shape must not be negative, got {shape!r}")
    if h and w and h > INT64_MAX // w:
        raise ValueError(f"shape {shape!r} has more pixels than fit in 64 bits")
    return h, w


_FILL_ITEMSIZES = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def check_output_dtype(dtype: Any) -> np.dtype[Any]:
    dt: np.dtype[Any] = np.dtype(dtype)
    if dt.kind not in "biuf" or dt.itemsize not in _FILL_ITEMSIZES:
        raise TypeError(f"dtype must be bool, an integer or a float of 1-8 bytes, got {dt}")
    return dt


def fill_pattern(dtype: np.dtype[Any], value: Any) -> int:
    """The bit pattern of ``value`` stored in ``dtype``, as an unsigned integer (whether it
    is stored exactly is judged by the value's own type: 1.5 is not an exact uint8)."""
    if isinstance(value, (str, bytes)) or not (
            isinstance(value, numbers.Number) or np.asarray(value).dtype.kind in "biuf"):
        raise TypeError(f"value must be a number, got {value!r}")
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            stored = np.array(value, dtype=dtype)
    except (OverflowError, ValueError, TypeError) as exc:
        raise ValueError(f"value {value!r} cannot be stored in dtype {dtype}: {exc}") from None
    if stored.ndim != 0:
        raise ValueError(f"value must be a scalar, got {value!r}")
    if dtype.kind == "f":  # rounding is fine, overflowing to infinity is not
        exact = bool(np.isfinite(stored)) or not math.isfinite(float(value))
    elif dtype.kind == "b":
        exact = value in (0, 1)
    else:
        exact = stored.item() == value
    if not exact:
        raise ValueError(f"value {value!r} cannot be stored exactly in dtype {dtype}")
    return int(stored.view(_FILL_ITEMSIZES[dtype.itemsize]))


Foreground = tuple[str, int, float, int, int]
NONZERO, ABOVE, ALL, NONE = (_codec.FOREGROUND_NONZERO, _codec.FOREGROUND_ABOVE,
                             _codec.FOREGROUND_ALL, _codec.FOREGROUND_NONE)


def foreground(dtype: np.dtype[Any], threshold: Any) -> Foreground:
    """How the kernel tells foreground: ``(kind, mode, thr_float, thr_int, thr_uint)``, the
    mode one of the kernel's ``FOREGROUND_*`` constants (value != 0, value > threshold, every
    pixel, no pixel).  Integer masks
    compare with an exact integer threshold (a float would round 2**53 + 1); float masks
    in their own precision, as numpy's ``mask > threshold`` does.
    """
    kind = dtype.kind
    if threshold is None:
        return kind, NONZERO, 0.0, 0, 0
    if isinstance(threshold, (str, bytes)) or not isinstance(
            threshold, (numbers.Real, np.bool_, np.integer, np.floating)):
        raise TypeError(f"threshold must be a real number, got {threshold!r}")
    exact_int = isinstance(threshold, (int, np.integer, np.bool_))
    if not exact_int and math.isnan(float(threshold)):
        raise ValueError("threshold must not be NaN")
    if kind == "f":
        with np.errstate(over="ignore"):
            return kind, ABOVE, float(np.asarray(float(threshold)).astype(dtype)), 0, 0
    # Integers (and bools as 0/1): x > t  <=>  x > floor(t).
    if kind == "b":
        lo, hi = 0, 1
    else:
        info = np.iinfo(dtype)
        lo, hi = int(info.min), int(info.max)
    if not exact_int and math.isinf(float(threshold)):
        return kind, (ALL if threshold < 0 else NONE), 0.0, 0, 0
    if isinstance(threshold, (int, np.integer, np.bool_)):
        t_int = int(threshold)
    else:
        t_int = int(math.floor(threshold))
    if t_int < lo:
        return kind, ALL, 0.0, 0, 0
    if t_int >= hi:
        return kind, NONE, 0.0, 0, 0
    if kind == "i":
        return kind, ABOVE, 0.0, t_int, 0
    return kind, ABOVE, 0.0, 0, t_int


def available_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "process_cpu_count"):
        return int(os.process_cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def resolve_threads(threads: Any, n_items: int) -> int:
    """Worker count: ``None`` means every available core."""
    if threads is None:
        wanted = available_cores()
    else:
        if not _is_integer(threads):
            raise TypeError(f"threads must be a whole number or None, got {threads!r}")
        wanted = int(threads)
        if wanted < 1:
            raise ValueError(f"threads must be at least 1, got {wanted}")
    return max(1, min(wanted, n_items))
