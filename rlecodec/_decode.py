"""Decoding run-length text into masks: ``decode`` and ``decode_many``."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _codec
from ._errors import RLEError, describe
from ._inputs import as_source
from ._options import (
    check_base,
    check_order,
    check_output_dtype,
    check_shape,
    fill_pattern,
    resolve_threads,
)
from ._parallel import run_ranges


def _writable_out(out: Any, ndim: int) -> npt.NDArray[Any]:
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array, got {type(out).__name__}")
    if out.ndim != ndim:
        raise ValueError(f"out must be {ndim}-D, got shape {out.shape}")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    return out


def _shape_of_out(shape: Any, out: npt.NDArray[Any]) -> tuple[int, int]:
    h, w = out.shape[-2:]
    if shape is not None and check_shape(shape) != (h, w):
        raise ValueError(f"shape {tuple(shape)} does not match out's shape {out.shape}")
    return int(h), int(w)


# glibc serves allocations above 32 MiB with fresh mmap pages that the OS zeroes lazily:
# there np.zeros is free and only the runs need writing.  Below, memory is recycled and
# zeroing costs a pass, so the kernel writes zeros and runs in one pass over np.empty.
_LAZY_ZEROS_BYTES = 32 << 20


def _check_options(order: Any, base: Any, dtype: Any,
                   value: Any) -> tuple[bool, int, np.dtype[Any], int]:
    order_f = check_order(order)
    base = check_base(base)
    dt = check_output_dtype(dtype)
    return order_f, base, dt, fill_pattern(dt, value)


# Validated options by what the caller passed: most programs decode with one or two
# combinations, and checking them anew (four calls) costs more than a small mask's decode.
# Types are part of the key: True == 1 and 1.0 == 1 are equal keys but not equal options.
_OPTIONS: dict[tuple[Any, ...], tuple[bool, int, np.dtype[Any], int]] = {}


def _checked_options(order: Any, base: Any, dtype: Any,
                     value: Any) -> tuple[bool, int, np.dtype[Any], int]:
    """``(order_f, base, dtype, fill pattern)`` for decoding, each option checked."""
    # 0.0 == -0.0 too, yet they store different bits: a float value's sign is in the key.
    sign = math.copysign(1.0, value) if isinstance(value, (float, np.floating)) else 0.0
    key = (order, base, type(base), dtype, value, type(value), sign)
    try:
        return _OPTIONS[key]
    except KeyError:
        options = _check_options(order, base, dtype, value)
        if len(_OPTIONS) < 256:
            _OPTIONS[key] = options
        return options
    except TypeError:  # an unhashable option (a 0-d array value, say): not cached
        return _check_options(order, base, dtype, value)


Explain = Callable[[Any, "int | None"], RLEError]


def _rle_error(err: Any, sources: list[Any], base: int, shape: tuple[int, int],
               explain: Explain | None) -> RLEError:
    """The user-facing error for a kernel's failure report."""
    item = err.item
    if explain is not None:
        return explain(err, item)
    source = sources[item if item is not None else 0]
    return describe(err, source, base=base, shape=shape, item=item)


def _raise_first_error(batch: Any, sources: list[Any], base: int, shape: tuple[int, int],
                       is_batch: bool, explain: Explain | None) -> None:
    try:
        batch.check(is_batch)
    except _codec.KernelError as err:
        raise _rle_error(err, sources, base, shape, explain) from None


def decode(
    rle: Any,
    shape: tuple[int, int] | None = None,
    *,
    order: str = "F",
    base: int = 1,
    relative: bool = False,
    dtype: npt.DTypeLike = np.uint8,
    value: Any = 1,
    out: npt.NDArray[Any] | None = None,
    strict: bool = True,
    threads: int | None = None,
) -> npt.NDArray[Any]:
    """Decode one run-length string into a mask.

    Parameters
    ----------
    rle : str, bytes, sequence of int, numpy array, None or NaN
        Space-separated ``start length`` pairs, or the same numbers as integers (flat or
        ``(N, 2)``). ``None``, NaN, ``""``, whitespace, ``"-1"`` and ``"-"`` mean an empty
        mask. Any ASCII whitespace separates numbers.
    shape : (int, int)
        ``(height, width)`` of the mask; may be omitted when ``out`` is given.
    order : {"F", "C"}
        How pixels are numbered: ``"F"`` top to bottom then left to right (Kaggle's
        ``EncodedPixels``), ``"C"`` row by row. The result is C-contiguous either way.
    base : {1, 0}
        Index of the first pixel (Kaggle: 1).
    relative : bool
        SIIM-ACR style: each start after the first counts the background pixels after the
        previous run.
    dtype, value
        The result holds ``value`` (stored exactly in ``dtype``) on the runs, 0 elsewhere.
    out : numpy.ndarray, optional
        A writable 2-D array of any memory layout (e.g. Fortran order or ``np.memmap``) to
        overwrite and return. It is left untouched if the input is malformed.
    strict : bool
        ``True`` rejects zero-length, unsorted and overlapping runs; ``False`` takes the
        union of the runs. Malformed numbers and out-of-bounds runs are always errors.
    threads : int, optional
        A new mask of 32 MiB or more is written in this many bands at once (default: every
        available core), after the whole input is parsed and checked.

    Returns
    -------
    numpy.ndarray
        ``(height, width)`` mask (``out`` if given).

    Raises
    ------
    RLEError
        The input is malformed; ``.token`` says where.

    Examples
    --------
    >>> import rlecodec
    >>> rlecodec.decode("1 3 10 2", (4, 4))
    array([[1, 0, 0, 0],
           [1, 0, 1, 0],
           [1, 0, 1, 0],
           [0, 0, 0, 0]], dtype=uint8)
    """
    if out is None:  # (the usual call, straight to its path)
        return _decode_fresh(as_source(rle), shape, order, base, relative, dtype, value, strict,
                             threads)
    if threads is not None:
        resolve_threads(threads, 1)  # (checked, though an out= is written by one thread)
    return _decode_into([as_source(rle)], shape, out, order, base, relative, dtype, value,
                        strict, threads=1, batch=False)


def decode_many(
    rles: Iterable[Any],
    shape: tuple[int, int] | None = None,
    *,
    order: str = "F",
    base: int = 1,
    relative: bool = False,
    dtype: npt.DTypeLike = np.uint8,
    value: Any = 1,
    out: npt.NDArray[Any] | None = None,
    strict: bool = True,
    threads: int | None = None,
) -> npt.NDArray[Any]:
    """Decode many run-length strings of one shape into an ``(N, height, width)`` stack.

    Takes the options of :func:`decode`. The strings are parsed and written in
    ``threads`` threads (default: every available core) with the GIL released.
    On a malformed item the :class:`RLEError` names it in ``.item`` and ``out`` is left
    untouched.

    Examples
    --------
    >>> import rlecodec
    >>> rlecodec.decode_many(["1 2", None, "3 2"], (2, 2)).sum(axis=(1, 2)).tolist()
    [2, 0, 2]
    """
    sources = []
    for i, rle in enumerate(rles):
        try:
            sources.append(as_source(rle))
        except RLEError as err:
            raise RLEError(f"item {i}: {err}", token=err.token, item=i,
                           reason=err.reason) from None
        except (TypeError, ValueError) as err:
            raise type(err)(f"item {i}: {err}") from None
    return _decode_into(sources, shape, out, order, base, relative, dtype, value, strict,
                        threads=resolve_threads(threads, len(sources)), batch=True)


def _decode_fresh(source: Any, shape: Any, order: str, base: int, relative: bool,
                  dtype: npt.DTypeLike, value: Any, strict: bool, threads: int | None = 1,
                  explain: Explain | None = None) -> npt.NDArray[Any]:
    """One source into a new ``(H, W)`` array: the usual call, with as little as possible
    between it and the kernel (a small decode costs little more than these lines)."""
    order_f, base, dt, pattern = _checked_options(order, base, dtype, value)
    h, w = check_shape(shape)
    if dt.itemsize * h * w < _LAZY_ZEROS_BYTES:
        if threads is not None:
            resolve_threads(threads, 1)  # (checked, though a small output takes one thread)
        return _decode_one(source, np.empty((h, w), dt), h, w, order_f, base, relative,
                           strict, pattern, False, explain)
    bands = resolve_threads(threads, h)
    target = np.zeros((h, w), dt)
    if bands == 1:
        return _decode_one(source, target, h, w, order_f, base, relative, strict, pattern,
                           True, explain)
    # Fresh memory is most of the time here (its pages zeroed on first touch): written in
    # bands of rows, each thread touches pages of its own.
    try:
        writer = _codec.BandWrite(source, target, h, w, order_f, base, relative, strict,
                                  pattern, bands)
    except _codec.KernelError as err:
        raise _rle_error(err, [source], base, (h, w), explain) from None
    run_ranges(writer.run, bands, bands)
    writer.check()
    return target


def _decode_one(source: Any, target: npt.NDArray[Any], h: int, w: int, order_f: bool,
                base: int, relative: bool, strict: bool, pattern: int, zeroed: bool,
                explain: Explain | None) -> npt.NDArray[Any]:
    """Parse one source completely, then write it into ``target``, in one kernel call."""
    try:
        # (The kernel takes relative and strict by truth value, as bool() would.)
        _codec.decode_one(source, target, h, w, order_f, base, relative, strict, pattern,
                          zeroed)
    except _codec.KernelError as err:
        raise _rle_error(err, [source], base, (h, w), explain) from None
    return target


def _decode_into(sources: list[Any], shape: Any, out: npt.NDArray[Any] | None, order: str,
                 base: int, relative: bool, dtype: npt.DTypeLike, value: Any, strict: bool,
                 threads: int, batch: bool, slots: npt.NDArray[np.int64] | None = None,
                 out_is_zero: bool = False, explain: Explain | None = None) -> npt.NDArray[Any]:
    """The one decoding path: one source into (H, W), or a batch into (N, H, W).

    ``slots`` sends item i to ``out[slots[i]]``; with ``out_is_zero`` (the caller made
    ``out`` with zeros) only the runs are written, so items sharing a slot are OR-ed.
    ``explain(kernel_error, item)`` words errors instead of :func:`describe` (COCO sources,
    rows named by their class)."""
    if out is None and not batch:
        return _decode_fresh(sources[0], shape, order, base, relative, dtype, value, strict,
                             explain=explain)
    ndim = 3 if batch else 2
    if out is not None:
        out = _writable_out(out, ndim)
        if batch and slots is None and out.shape[0] != len(sources):
            raise ValueError(f"out holds {out.shape[0]} masks but {len(sources)} were given")
        dtype = out.dtype
    order_f, base, dt, pattern = _checked_options(order, base, dtype, value)
    if out is None:
        h, w = check_shape(shape)
        zeroed = dt.itemsize * len(sources) * h * w >= _LAZY_ZEROS_BYTES
        target = (np.zeros if zeroed else np.empty)((len(sources), h, w), dt)
    else:
        h, w = _shape_of_out(shape, out)
        target, zeroed = out, out_is_zero
    if not batch:
        return _decode_one(sources[0], target, h, w, order_f, base, relative, strict,
                           pattern, zeroed, explain)
    kernel = _codec.DecodeBatch(sources, target, h, w, order_f, base, bool(relative),
                                bool(strict), pattern, zeroed, slots)
    if out is None:  # a fresh array: parse and write item by item
        run_ranges(lambda i0, i1: kernel.process(i0, i1, True, True), len(sources), threads)
    else:  # validate everything before the first write to `out`
        run_ranges(lambda i0, i1: kernel.process(i0, i1, True, False), len(sources), threads)
        _raise_first_error(kernel, sources, base, (h, w), batch, explain)
        run_ranges(lambda i0, i1: kernel.process(i0, i1, False, True), len(sources), threads)
    _raise_first_error(kernel, sources, base, (h, w), batch, explain)
    return target
