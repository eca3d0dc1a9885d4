"""Masks compared and combined without decoding them: area, overlap, IoU, Dice, union,
intersection, difference and the IoU matrix of two lists, in O(runs) from the run-length
inputs themselves.  The run-space kernels are src/ops.pxi's; COCO objects are coco.py's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _codec
from ._errors import RLEError, describe_item, kernel_errors
from ._inputs import as_source
from ._options import INT64_MAX, check_base, check_order, check_shape, resolve_threads
from ._parallel import run_ranges

Runs = npt.NDArray[np.int64]


def runs_of(rle: Any, shape: Any, base: Any, relative: bool, strict: bool,
          operand: str) -> Runs:
    """The sorted, disjoint runs of ``rle`` (any input decode takes), checked against
    ``shape`` (no bound without one); RLEError names the operand."""
    b = check_base(base)
    total = INT64_MAX if shape is None else int(np.prod(check_shape(shape), dtype=np.int64))
    try:
        source = as_source(rle)
    except RLEError as err:
        raise RLEError(f"{operand}: {err}", token=err.token, reason=err.reason) from None
    h_w = None if shape is None else check_shape(shape)

    def explain(err: Any) -> RLEError:
        error = describe_item(err, [source], b, h_w)
        return RLEError(f"{operand}: {error}", token=error.token, reason=error.reason)

    with kernel_errors(explain):
        return _codec.merged_runs(source, b, total, bool(relative), bool(strict))


def _pair(a: Any, b: Any, shape: Any, order: str, base: int, relative: bool,
          strict: bool) -> tuple[Runs, Runs]:
    check_order(order)  # (both operands are numbered alike: the order changes no count)
    check_shape(shape)
    return (runs_of(a, shape, base, relative, strict, "a"),
            runs_of(b, shape, base, relative, strict, "b"))


def area(a: Any, shape: tuple[int, int] | None = None, *, order: str = "F", base: int = 1,
         relative: bool = False, strict: bool = True) -> int:
    """Pixels on in ``a`` (anything :func:`rlecodec.decode` takes), without decoding it;
    with ``shape``, a run past the last pixel is an error.

    Examples
    --------
    >>> import rlecodec
    >>> rlecodec.area("1 3 10 2")
    5
    """
    check_order(order)
    return int(runs_of(a, shape, base, relative, strict, "a")[:, 1].sum())


def intersection_area(a: Any, b: Any, shape: tuple[int, int], *, order: str = "F",
                      base: int = 1, relative: bool = False, strict: bool = True) -> int:
    """Pixels on in both ``a`` and ``b`` (same variant), without decoding them.

    >>> import rlecodec
    >>> rlecodec.intersection_area("1 3", "2 5", (4, 4))
    2
    """
    ra, rb = _pair(a, b, shape, order, base, relative, strict)
    return int(_codec.runs_overlap(ra, rb))


def iou(a: Any, b: Any, shape: tuple[int, int], *, empty: float = 1.0, order: str = "F",
        base: int = 1, relative: bool = False, strict: bool = True) -> float:
    """Intersection over union, ``|a & b| / |a | b|``; ``empty`` when both are empty.

    >>> import rlecodec
    >>> rlecodec.iou("1 4", "3 4", (4, 4))
    0.3333333333333333
    """
    ra, rb = _pair(a, b, shape, order, base, relative, strict)
    inter = int(_codec.runs_overlap(ra, rb))
    union = int(ra[:, 1].sum()) + int(rb[:, 1].sum()) - inter
    return float(empty) if union == 0 else inter / union


def dice(a: Any, b: Any, shape: tuple[int, int], *, empty: float = 1.0, order: str = "F",
         base: int = 1, relative: bool = False, strict: bool = True) -> float:
    """Dice coefficient, ``2 |a & b| / (|a| + |b|)``; ``empty`` when both are empty.

    >>> import rlecodec
    >>> rlecodec.dice("1 4", "3 4", (4, 4))
    0.5
    """
    ra, rb = _pair(a, b, shape, order, base, relative, strict)
    inter = int(_codec.runs_overlap(ra, rb))
    total = int(ra[:, 1].sum()) + int(rb[:, 1].sum())
    return float(empty) if total == 0 else 2 * inter / total


def _combined(op: int, a: Any, b: Any, shape: tuple[int, int], order: str, base: int,
              relative: bool, strict: bool) -> str:
    ra, rb = _pair(a, b, shape, order, base, relative, strict)
    return _codec.from_runs(_codec.runs_combine(ra, rb, op), check_base(base), bool(relative))


def union(a: Any, b: Any, shape: tuple[int, int], *, order: str = "F", base: int = 1,
          relative: bool = False, strict: bool = True) -> str:
    """The pixels of ``a`` or ``b``, as canonical text in their variant (sorted, merged).

    >>> import rlecodec
    >>> rlecodec.union("1 3", "3 3", (4, 4))
    '1 5'
    """
    return _combined(_codec.COMBINE_UNION, a, b, shape, order, base, relative, strict)


def intersection(a: Any, b: Any, shape: tuple[int, int], *, order: str = "F", base: int = 1,
                 relative: bool = False, strict: bool = True) -> str:
    """The pixels of both ``a`` and ``b``, as canonical text in their variant.

    >>> import rlecodec
    >>> rlecodec.intersection("1 3", "3 3", (4, 4))
    '3 1'
    """
    return _combined(_codec.COMBINE_INTERSECTION, a, b, shape, order, base, relative, strict)


def difference(a: Any, b: Any, shape: tuple[int, int], *, order: str = "F", base: int = 1,
               relative: bool = False, strict: bool = True) -> str:
    """The pixels of ``a`` that are not in ``b``, as canonical text in their variant.

    >>> import rlecodec
    >>> rlecodec.difference("1 5", "3 1", (4, 4))
    '1 2 4 2'
    """
    return _combined(_codec.COMBINE_DIFFERENCE, a, b, shape, order, base, relative, strict)


def overlap_matrix(runs_a: list[Runs], runs_b: list[Runs], threads: Any = None
                   ) -> npt.NDArray[np.int64]:
    """``(len(a), len(b))`` pixels shared by each pair, rows in ``threads`` threads."""
    kernel = _codec.OverlapMatrix(runs_a, runs_b)
    run_ranges(kernel.run, len(runs_a), resolve_threads(threads, max(len(runs_a), 1)))
    return kernel.result()


def iou_matrix(list_a: Sequence[Any], list_b: Sequence[Any], shape: tuple[int, int], *,
               threads: int | None = None, empty: float = 1.0, order: str = "F",
               base: int = 1, relative: bool = False, strict: bool = True
               ) -> npt.NDArray[np.float64]:
    """The IoU of every mask of ``list_a`` with every mask of ``list_b``, an ``(len(a),
    len(b))`` float64 array, in run space: pairs whose extents cannot meet are skipped, the
    rows run in ``threads`` threads (default: every core) with the GIL released.

    >>> import rlecodec
    >>> rlecodec.iou_matrix(["1 4", "9 2"], ["3 4", ""], (4, 4)).tolist()
    [[0.3333333333333333, 0.0], [0.0, 0.0]]
    """
    check_order(order)
    check_shape(shape)
    ra = [runs_of(x, shape, base, relative, strict, f"list_a[{k}]") for k, x in enumerate(list_a)]
    rb = [runs_of(x, shape, base, relative, strict, f"list_b[{k}]") for k, x in enumerate(list_b)]
    inter = overlap_matrix(ra, rb, threads).astype(np.float64)
    areas_a = np.array([r[:, 1].sum() for r in ra], np.float64)
    areas_b = np.array([r[:, 1].sum() for r in rb], np.float64)
    unions = areas_a[:, None] + areas_b[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        result = np.where(unions > 0, inter / np.where(unions > 0, unions, 1), float(empty))
    return result.reshape(len(ra), len(rb))
