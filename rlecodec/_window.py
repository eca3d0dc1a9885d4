"""Decoding one window of a mask (``decode(..., window=np.s_[y0:y1, x0:x1])``): the input
is checked whole, only the window is written, and nothing the size of the whole mask is
ever allocated.  Encoding a mask from tiles is _tiles.py's."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _codec
from ._decode import DecodeOptions, errors_of
from ._errors import Explain
from ._options import check_shape

Window = tuple[int, int, int, int]   # y0, y1, x0, x1 with 0 <= y0 <= y1 <= h, same for x


def _bounds(part: Any, size: int, axis: str) -> tuple[int, int]:
    """A slice's [start, stop) on an axis of ``size`` pixels, as numpy slicing reads it."""
    if not isinstance(part, slice):
        raise TypeError(f"window must be a pair of slices like np.s_[y0:y1, x0:x1]; its {axis} "
                        f"part is {part!r}")
    for end in (part.start, part.stop, part.step):
        if end is not None and (isinstance(end, bool) or not hasattr(end, "__index__")):
            raise TypeError(f"window's {axis} bounds must be integers or None, got {part!r}")
    start, stop, step = part.indices(size)
    if step != 1:
        raise ValueError(f"window's {axis} slice must have step 1, got {operator.index(step)}")
    return start, max(start, stop)


def window_bounds(window: Any, shape: tuple[int, int]) -> Window:
    """``window`` (a pair of slices of step 1) on a mask of ``shape``: rows [y0, y1) and
    columns [x0, x1), clipped and counted from the end as numpy slicing does.

    Examples
    --------
    >>> import numpy as np
    >>> window_bounds(np.s_[-2:, :3], (10, 20))
    (8, 10, 0, 3)
    """
    if not isinstance(window, tuple) or len(window) != 2:
        raise TypeError(f"window must be a pair of slices like np.s_[y0:y1, x0:x1], got "
                        f"{window!r:.80}")
    y0, y1 = _bounds(window[0], shape[0], "row")
    x0, x1 = _bounds(window[1], shape[1], "column")
    return y0, y1, x0, x1


def decode_window(sources: list[Any], shape: Any, out: npt.NDArray[Any] | None,
                  opts: DecodeOptions, window: Any, *, batch: bool,
                  explain: Explain | None = None) -> npt.NDArray[Any]:
    """The window of each source's mask, ``(h, w)`` for one source or ``(N, h, w)`` for a
    batch, into ``out`` (checked writable, of ``opts.dtype``) or a new array.

    Every source is parsed and checked whole; ``out`` is written only once all have
    passed (a batch is decoded into a new stack first, the window's size).
    """
    if shape is None:
        raise ValueError("window= needs shape, the (height, width) of the whole mask")
    h, w = check_shape(shape)
    y0, y1, x0, x1 = window_bounds(window, (h, w))
    size = (y1 - y0, x1 - x0)
    if out is not None and tuple(out.shape[-2:]) != size:
        raise ValueError(f"out has shape {out.shape} but the window is {size[0]}x{size[1]}")
    if batch and out is not None and out.shape[0] != len(sources):
        raise ValueError(f"out holds {out.shape[0]} masks but {len(sources)} were given")
    target = out if out is not None and not batch else np.empty(
        (len(sources), *size) if batch else size, opts.dtype)
    with errors_of(explain, sources, opts, (h, w)):
        for i, source in enumerate(sources):
            try:
                _codec.decode_window(source, target[i] if batch else target, h, w, y0, y1,
                                     x0, x1, opts.order_f, opts.base, opts.relative,
                                     opts.strict, opts.pattern)
            except _codec.KernelError as err:
                err.item = i if batch else None
                raise
    if out is None or out is target:
        return target
    out[...] = target
    return out
