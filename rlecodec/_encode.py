"""Encoding masks as run-length text: ``encode`` and ``encode_many`` (one mask in bands
when large, many in threads).  How foreground is told is _options.py's and _inputs.py's;
several labels at once are _classes.py's."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _codec
from ._inputs import as_mask, read_in_place
from ._options import Foreground, check_base, check_order, foreground, resolve_threads
from ._parallel import run_ranges


def _prepare(masks: list[Any], threshold: Any) -> tuple[list[npt.NDArray[Any]], list[Foreground]]:
    arrays = []
    modes = []
    for i, mask in enumerate(masks):
        try:
            arr, fg = as_mask(mask, threshold)
        except (TypeError, ValueError) as err:
            if len(masks) == 1:
                raise
            raise type(err)(f"item {i}: {err}") from None
        arrays.append(arr)
        modes.append(fg)
    return arrays, modes


def _scan(masks: list[Any], threshold: Any, threads: int, order_f: bool, base: int,
          relative: bool, keep_runs: bool) -> tuple[Any, int]:
    """Scan every mask in ``threads`` threads; the batch holds the texts (or the runs)."""
    arrays, modes = _prepare(masks, threshold)
    batch = _codec.EncodeBatch(arrays, modes, order_f, base, relative, keep_runs)
    run_ranges(batch.run, len(arrays), threads)
    return batch, len(arrays)


def _encode_all(masks: list[Any], order: str, base: int, relative: bool, threshold: Any,
                threads: int) -> list[str]:
    batch, n = _scan(masks, threshold, threads, check_order(order), check_base(base),
                     bool(relative), False)
    return [batch.result(i) for i in range(n)]


def mask_runs(masks: list[Any], threshold: Any = None, threads: int = 1) -> list[npt.NDArray[Any]]:
    """The column-major runs of each mask as ``(N, 2)`` int64 arrays (no text)."""
    batch, n = _scan(masks, threshold, threads, True, 0, False, True)
    return [batch.take_runs(i) for i in range(n)]


def mask_coco(masks: list[Any], threads: int = 1) -> list[bytes]:
    """The compressed COCO counts of each 2-D mask (foreground != 0), written in C straight
    from the runs the scan finds."""
    batch, n = _scan(masks, None, threads, True, 0, False, True)
    return [batch.take_coco(i, masks[i].shape[0] * masks[i].shape[1]) for i in range(n)]


def stack_coco(stack: npt.NDArray[Any], axis: int) -> list[bytes] | None:
    """The compressed COCO counts of each mask of a 3-D stack, the masks along ``axis``
    (foreground != 0), scanned in one batch with no Python object per mask; None for a
    dtype the scan does not read where it lies (the caller takes the masks one by one)."""
    if not read_in_place(stack.dtype):
        return None
    batch = _codec.EncodeBatch(stack, foreground(stack.dtype, None), True, 0, False, True,
                               axis)
    h, w = [n for k, n in enumerate(stack.shape) if k != axis]
    batch.run(0, stack.shape[axis])
    return batch.all_coco(h * w)


# Masks from this size on are read in bands, one per thread: one core does not reach the
# memory's bandwidth (here 8.9 GB/s with one thread, 14.6 with two).
_BAND_BYTES = 32 << 20


def encode(
    mask: Any,
    *,
    order: str = "F",
    base: int = 1,
    relative: bool = False,
    threshold: float | None = None,
    threads: int | None = None,
) -> str:
    """Encode a 2-D mask as run-length text.

    Parameters
    ----------
    mask : array_like
        Any 2-D array: numpy of any dtype and memory layout (views with odd strides are
        read where they lie, never copied), nested lists, objects with ``__array__``.
        Foreground is ``!= 0``.
    order : {"F", "C"}
        Pixel numbering: ``"F"`` top to bottom then left to right (Kaggle), ``"C"`` row by
        row.
    base : {1, 0}
        Index of the first pixel.
    relative : bool
        SIIM-ACR style relative starts.
    threshold : float, optional
        Foreground is ``> threshold`` instead of ``!= 0`` (fused into the scan, e.g. for
        probability maps).
    threads : int, optional
        A mask of 32 MiB or more is read in this many bands at once (default: every
        available core), the GIL released: reading the mask is most of the work.

    Returns
    -------
    str
        Canonical ``start length`` pairs, ``""`` for an empty mask.

    Examples
    --------
    >>> import numpy as np, rlecodec
    >>> m = np.zeros((4, 4), np.uint8)
    >>> m[0:3, 0] = 1
    >>> rlecodec.encode(m)
    '1 3'
    >>> rlecodec.encode(m, order="C")
    '1 1 5 1 9 1'
    """
    arr, fg = as_mask(mask, threshold)
    order_f, base = check_order(order), check_base(base)
    if arr.nbytes >= _BAND_BYTES:
        bands = resolve_threads(threads, arr.shape[0] * arr.shape[1])
        scan = _codec.BandScan(arr, fg, order_f, bands)
        if scan.usable:
            run_ranges(scan.run, bands, bands)
            return scan.text(base, bool(relative))
    elif threads is not None:
        resolve_threads(threads, 1)  # (checked, though a small mask takes one thread)
    return _codec.encode_one(arr, fg, order_f, base, bool(relative))


def encode_many(
    masks: Iterable[Any],
    *,
    order: str = "F",
    base: int = 1,
    relative: bool = False,
    threshold: float | None = None,
    threads: int | None = None,
) -> list[str]:
    """Encode many masks (an ``(N, H, W)`` array or an iterable of 2-D masks).

    Takes the options of :func:`encode`; items are encoded in ``threads`` threads (default:
    every available core) with the GIL released. Masks may differ in shape and dtype.

    Examples
    --------
    >>> import numpy as np, rlecodec
    >>> rlecodec.encode_many(np.eye(3, dtype=np.uint8)[None].repeat(2, axis=0))
    ['1 1 5 1 9 1', '1 1 5 1 9 1']
    """
    if isinstance(masks, np.ndarray):
        if masks.ndim != 3:
            raise ValueError(
                f"expected an (N, height, width) stack of masks, got shape {masks.shape}")
        items: list[Any] = list(masks)
    else:
        items = list(masks)
    return _encode_all(items, order, base, relative, threshold,
                       resolve_threads(threads, len(items)))
