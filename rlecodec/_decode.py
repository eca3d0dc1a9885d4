"""Decoding run-length inputs into masks: ``decode``, ``decode_many``, and the one path
(:func:`decode_sources`) that they, ``decode_classes`` and ``coco.decode`` all enter."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _codec
from ._errors import Explain, RLEError, describe_item, kernel_errors
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


@dataclasses.dataclass(frozen=True)
class DecodeOptions:
    """Checked decoding options, as the kernels take them.

    Examples
    --------
    >>> decode_options("F", 1, False, True, "uint8", 1).pattern
    1
    """

    order_f: bool         # pixels numbered column-major
    base: int             # 0 or 1
    relative: bool        # SIIM-style starts after the first
    strict: bool          # reject zero-length, unsorted and overlapping runs
    dtype: np.dtype[Any]  # of the output
    pattern: int          # the bits of `value` in `dtype`


# Checked options by what the caller passed: most programs decode with one or two
# combinations, and checking them anew costs more than a small mask's decode.  Types are
# part of the key (True == 1 and 1.0 == 1 are equal keys but not equal options), and so is
# a float value's sign (0.0 == -0.0, yet they store other bits).
_CHECKED: dict[tuple[Any, ...], DecodeOptions] = {}


def decode_options(order: Any, base: Any, relative: Any, strict: Any, dtype: Any,
                   value: Any) -> DecodeOptions:
    """The options of a decode, each checked (ValueError or TypeError if not valid)."""
    kind = type(value)
    sign = 0.0 if kind is int else math.copysign(1.0, value) if (
        kind is float or isinstance(value, np.floating)) else 0.0
    key: tuple[Any, ...] = (order, base, type(base), relative, strict, dtype, value, kind, sign)
    try:
        return _CHECKED[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable option (a 0-d array value, say): not cached
        key = ()
    dt = check_output_dtype(dtype)
    options = DecodeOptions(check_order(order), check_base(base), bool(relative), bool(strict),
                            dt, fill_pattern(dt, value))
    if key and len(_CHECKED) < 256:
        _CHECKED[key] = options
    return options


def writable_out(out: Any, ndim: int) -> npt.NDArray[Any]:
    """``out`` checked: a writable numpy array of ``ndim`` dimensions."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array, got {type(out).__name__}")
    if out.ndim != ndim:
        raise ValueError(f"out must be {ndim}-D, got shape {out.shape}")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    return out


# glibc serves allocations above 32 MiB with fresh mmap pages that the OS zeroes lazily:
# there np.zeros is free and only the runs need writing.  Below, memory is recycled and
# zeroing costs a pass, so the kernel writes zeros and runs in one pass over np.empty.
LAZY_ZEROS_BYTES = 32 << 20


def lazy_zeros(nbytes: int) -> bool:
    """Whether a new output of ``nbytes`` is made as np.zeros (pages the OS zeroes when
    first touched, so only runs need writing) rather than np.empty written in full."""
    return nbytes >= LAZY_ZEROS_BYTES


def decode_sources(sources: list[Any], shape: Any, out: npt.NDArray[Any] | None,
                   opts: DecodeOptions, *, batch: bool, threads: Any = None,
                   slots: npt.NDArray[np.int64] | None = None, zeroed: bool = False,
                   clear: bool = False, fresh: bool = False, fortran: bool = False,
                   explain: Explain | None = None) -> npt.NDArray[Any]:
    """The one decoding path: normalised sources (see ``as_source``) into a new or given
    ``(H, W)`` array (one source, ``batch=False``) or ``(N, H, W)`` stack; a new one with
    each mask in Fortran order if ``fortran``.

    ``out`` must already be checked (:func:`writable_out`) and of ``opts.dtype``.  With a
    batch, ``threads`` is a resolved worker count; for one source it is the option of
    :func:`decode` (bands of a large new mask).  ``slots`` sends item i to ``out[slots[i]]``;
    ``zeroed`` says ``out`` is already all zeros, so only the runs are written and items
    sharing a slot make their union; ``clear`` (a batch into a given ``out``, with
    ``zeroed``) makes it so: ``out`` is zeroed once every item is validated, before the
    first write.  ``fresh`` says a given ``out`` is new and seen by nobody but the caller,
    who drops it on an error: items are then parsed and written in one pass, as into an
    ``out`` made here.  ``explain(err)`` words kernel errors instead of
    :func:`describe_item` (COCO counts, rows named by their class).
    """
    if out is None:
        h, w = check_shape(shape)
        if not batch:
            return _decode_new(sources, h, w, opts, threads, explain, fortran)
        zeroed = lazy_zeros(opts.dtype.itemsize * len(sources) * h * w)
        out = _new_masks(len(sources), h, w, opts.dtype, zeroed, fortran)
        fresh = True
    else:
        h, w = int(out.shape[-2]), int(out.shape[-1])
        if shape is not None and check_shape(shape) != (h, w):
            raise ValueError(f"shape {tuple(shape)} does not match out's shape {out.shape}")
    if not batch:
        if threads is not None:
            resolve_threads(threads, 1)  # (checked, though an out= is written by one thread)
        return _decode_one(sources, out, h, w, opts, zeroed, explain, fresh)
    if slots is None and out.shape[0] != len(sources):
        raise ValueError(f"out holds {out.shape[0]} masks but {len(sources)} were given")
    kernel = _codec.DecodeBatch(sources, out, h, w, opts.order_f, opts.base, opts.relative,
                                opts.strict, opts.pattern, zeroed, slots)
    with errors_of(explain, sources, opts, (h, w)):
        if threads == 1:  # (the usual case of a few items: one call)
            kernel.run(out, not fresh, clear)
        elif fresh:  # nobody sees the array yet: parse and write item by item
            run_ranges(lambda i0, i1: kernel.process(i0, i1, True, True), len(sources),
                       threads)
            kernel.check(True)
        else:  # everything validated before the first write to `out`
            run_ranges(lambda i0, i1: kernel.process(i0, i1, True, False), len(sources),
                       threads)
            kernel.check(True)
            if clear:
                out.fill(0)
            run_ranges(lambda i0, i1: kernel.process(i0, i1, False, True), len(sources),
                       threads)
            kernel.check(True)
    return out


def errors_of(explain: Explain | None, sources: list[Any], opts: DecodeOptions,
              shape: tuple[int, int]) -> kernel_errors:
    """Kernel errors worded by ``explain(err)``, else by :func:`describe_item`."""
    if explain is None:
        return kernel_errors(describe_item, sources, opts.base, shape)
    return kernel_errors(explain)


def _new_masks(n: int | None, h: int, w: int, dtype: np.dtype[Any], zeroed: bool,
               fortran: bool) -> npt.NDArray[Any]:
    """A new ``(H, W)`` mask (``n`` None) or ``(N, H, W)`` stack, of zeros if ``zeroed``
    (else uninitialised), each mask C- or Fortran-ordered."""
    make = np.zeros if zeroed else np.empty
    if not fortran:
        return make((h, w) if n is None else (n, h, w), dtype)
    return make((w, h), dtype).T if n is None else make((n, w, h), dtype).transpose(0, 2, 1)


def _decode_new(sources: list[Any], h: int, w: int, opts: DecodeOptions, threads: Any,
                explain: Explain | None, fortran: bool = False) -> npt.NDArray[Any]:
    """The one source of ``sources`` into a new ``(H, W)`` array: the usual call, with as
    little as possible between it and the kernel (a small decode costs little more than
    these lines)."""
    if not lazy_zeros(opts.dtype.itemsize * h * w):
        if threads is not None:
            resolve_threads(threads, 1)  # (checked, though a small output takes one thread)
        target = _new_masks(None, h, w, opts.dtype, False, fortran)
        with errors_of(explain, sources, opts, (h, w)):
            _codec.decode_one(sources[0], target, h, w, opts.order_f, opts.base,
                              opts.relative, opts.strict, opts.pattern, False, True)
        return target
    bands = resolve_threads(threads, h)
    target = _new_masks(None, h, w, opts.dtype, True, fortran)
    if bands == 1:
        return _decode_one(sources, target, h, w, opts, True, explain, True)
    # Fresh memory is most of the time here (its pages zeroed on first touch): written in
    # bands of rows, each thread touches pages of its own.
    with errors_of(explain, sources, opts, (h, w)):
        writer = _codec.BandWrite(sources[0], target, h, w, opts.order_f, opts.base,
                                  opts.relative, opts.strict, opts.pattern, bands)
    run_ranges(writer.run, bands, bands)
    writer.check()
    return target


def _decode_one(sources: list[Any], target: npt.NDArray[Any], h: int, w: int,
                opts: DecodeOptions, zeroed: bool, explain: Explain | None,
                fresh: bool = False) -> npt.NDArray[Any]:
    """Parse the one source of ``sources`` completely, then write it into ``target``, in
    one kernel call (a ``fresh`` target may be written while it is parsed)."""
    with errors_of(explain, sources, opts, (h, w)):
        _codec.decode_one(sources[0], target, h, w, opts.order_f, opts.base, opts.relative,
                          opts.strict, opts.pattern, zeroed, fresh)
    return target


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
    window: tuple[slice, slice] | None = None,
) -> npt.NDArray[Any]:
    """Decode one run-length string into a mask, or one window of it.

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
    window : (slice, slice), optional
        Only rows and columns ``np.s_[y0:y1, x0:x1]`` of the mask (steps of 1, bounds as
        numpy slicing reads them): the input is checked whole, but only the window is
        written and nothing the size of the whole mask is allocated. ``shape`` is then the
        whole mask's and ``out``, if given, has the window's shape.

    Returns
    -------
    numpy.ndarray
        ``(height, width)`` mask, or the window's ``(y1 - y0, x1 - x0)`` (``out`` if given).

    Raises
    ------
    RLEError
        The input is malformed; ``.token`` says where.

    Examples
    --------
    >>> import numpy as np, rlecodec
    >>> rlecodec.decode("1 3 10 2", (4, 4))
    array([[1, 0, 0, 0],
           [1, 0, 1, 0],
           [1, 0, 1, 0],
           [0, 0, 0, 0]], dtype=uint8)
    >>> rlecodec.decode("1 3 10 2", (4, 4), window=np.s_[1:3, 1:])
    array([[0, 1, 0],
           [0, 1, 0]], dtype=uint8)
    """
    if out is not None:
        out = writable_out(out, 2)
        dtype = out.dtype
    opts = decode_options(order, base, relative, strict, dtype, value)
    if window is not None:
        from ._window import decode_window
        if threads is not None:
            resolve_threads(threads, 1)  # (checked, though a window takes one thread)
        return decode_window([as_source(rle)], shape, out, opts, window, batch=False)
    return decode_sources([as_source(rle)], shape, out, opts, batch=False, threads=threads)


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
    if out is not None:
        out = writable_out(out, 3)
        dtype = out.dtype
    opts = decode_options(order, base, relative, strict, dtype, value)
    return decode_sources(sources, shape, out, opts, batch=True,
                          threads=resolve_threads(threads, len(sources)))
