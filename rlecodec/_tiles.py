"""Encoding a mask from tiles (:class:`TileEncoder`): each tile is scanned once when it is
added and only its runs are kept, so a whole-slide prediction becomes one run-length string
without the whole mask ever in memory.  Decoding a window is _window.py's."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from . import _codec
from ._inputs import as_mask
from ._options import check_base, check_integer, check_order, check_shape, foreground


class TileEncoder:
    """Encode a mask from non-overlapping tiles, added in any order, without ever holding
    the whole mask: the result is byte for byte ``encode`` of the assembled mask.

    Parameters
    ----------
    shape : (int, int)
        ``(height, width)`` of the whole mask.
    order, base, relative, threshold
        As for :func:`rlecodec.encode`; every tile is read with ``threshold``.

    Notes
    -----
    Memory is 16 bytes per run piece (a run that crosses tile borders counts once per
    tile it meets) plus the tile being scanned; pixels no tile covers are background.
    ``add`` may be called from several threads at once: the scans run in parallel with
    the GIL released, and the bookkeeping takes a lock of its own.

    Examples
    --------
    >>> import numpy as np, rlecodec
    >>> mask = np.zeros((4, 6), np.uint8); mask[1:3, 2:5] = 1
    >>> enc = rlecodec.TileEncoder((4, 6))
    >>> enc.add(mask[:, 3:], 0, 3)
    >>> enc.add(mask[:, :3], 0, 0)
    >>> enc.finish() == rlecodec.encode(mask)
    True
    >>> enc.runs().tolist()
    [[9, 2], [13, 2], [17, 2]]
    """

    def __init__(self, shape: tuple[int, int], *, order: str = "F", base: int = 1,
                 relative: bool = False, threshold: float | None = None) -> None:
        self.shape = check_shape(shape)
        self._order_f = check_order(order)
        self._base = check_base(base)
        self._relative = bool(relative)
        foreground(np.dtype(np.float64), threshold)  # (a bad threshold fails here)
        self._threshold = threshold
        self._runs = _codec.TileRuns(self.shape[0], self.shape[1], self._order_f)

    @property
    def tiles(self) -> int:
        """How many tiles were added, empty ones included."""
        return len(self._runs)

    def add(self, tile: Any, y: int, x: int) -> None:
        """Add a tile whose top-left pixel is at row ``y``, column ``x``.

        The tile must lie inside the mask and overlap no tile added before (ValueError
        naming both); nothing is recorded for a tile that is refused.
        """
        arr, fg = as_mask(tile, self._threshold)
        y, x = check_integer(y, "y"), check_integer(x, "x")
        th, tw = arr.shape
        h, w = self.shape
        if not (0 <= y and y + th <= h and 0 <= x and x + tw <= w):
            raise ValueError(f"a {th}x{tw} tile at (y={y}, x={x}) does not lie inside the "
                             f"{h}x{w} mask")
        other = self._runs.add(arr, fg, y, x)
        if other >= 0:
            oy0, oy1, ox0, ox1 = self._runs.rect(other)
            raise ValueError(f"the {th}x{tw} tile at (y={y}, x={x}) overlaps the "
                             f"{oy1 - oy0}x{ox1 - ox0} tile added at (y={oy0}, x={ox0})")

    def finish(self) -> str:
        """The run-length text of the tiles added so far: ``encode`` of the assembled
        mask, with this encoder's ``order``, ``base`` and ``relative``."""
        text: str = self._runs.text(self._base, self._relative)
        return text

    def runs(self) -> npt.NDArray[np.int64]:
        """The runs of the tiles added so far as an ``(N, 2)`` int64 array of 0-based
        starts and lengths: ``to_runs(finish())``."""
        runs: npt.NDArray[np.int64] = self._runs.runs()
        return runs

    def coco(self, *, compressed: bool = True) -> dict[str, Any]:
        """The tiles added so far as a COCO RLE (``order="F"`` only: COCO numbers pixels
        column-major): ``coco.encode`` of the assembled mask."""
        counts = self._runs.coco(bool(compressed))
        h, w = self.shape
        return {"size": [h, w], "counts": counts if compressed else counts.tolist()}
