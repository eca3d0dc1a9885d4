"""A drop-in for ``pycocotools.mask``: the same names, arguments, layouts, return types and
values, faster and strict.  ``from rlecodec.coco import mask as maskUtils`` is the only
change existing code needs.

Stacks follow pycocotools: ``(H, W, N)``, as ``encode`` takes them and ``decode`` returns
them (Fortran-ordered, so ``m[:, :, i]`` is contiguous); the rest of ``rlecodec.coco``
reads and returns numpy-style ``(N, H, W)``.  Where pycocotools crashes or silently makes
something up (counts that do not add up to ``h * w``, polygons of fewer than 3 points,
NaN coordinates, boxes of negative size), this raises ``RLEError`` or ``ValueError``
naming the item.  Polygons and boxes are rasterised bit for bit as pycocotools does.

>>> import numpy as np
>>> from rlecodec.coco import mask as maskUtils
>>> rle = maskUtils.encode(np.eye(3, dtype=np.uint8))
>>> rle
{'size': [3, 3], 'counts': b'013000'}
>>> maskUtils.area(rle).dtype, int(maskUtils.area(rle)), maskUtils.toBbox(rle).tolist()
(dtype('uint32'), 3, [0.0, 0.0, 3.0, 3.0])
>>> maskUtils.frPyObjects([[0, 0, 2, 0, 2, 2, 0, 2]], 3, 3)
[{'size': [3, 3], 'counts': b'02103'}]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _codec
from .._encode import mask_coco, stack_coco
from .._errors import RLEError
from .._options import check_integer, check_shape
from . import _counts_data, _listed, _parsed
from . import area as _area
from . import decode as _decode
from . import iou as _iou
from . import merge as _merge
from . import to_bbox as _to_bbox

__all__ = ["area", "decode", "encode", "frPyObjects", "iou", "merge", "toBbox"]


def _binary(arr: npt.NDArray[Any]) -> npt.NDArray[Any]:
    if arr.dtype.kind not in "biu":
        raise TypeError(f"masks must hold bools or integers (foreground != 0), got dtype "
                        f"{arr.dtype}; threshold probabilities first, e.g. mask > 0.5")
    return arr


def encode(bimask: Any) -> Any:
    """COCO RLEs of a binary mask ``(H, W)`` (a dict) or a stack ``(H, W, N)`` (a list of N
    dicts), ``counts`` compressed as bytes.  Any memory layout, bool or integer dtype;
    foreground is ``!= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from rlecodec.coco import mask as maskUtils
    >>> stack = np.zeros((4, 5, 2), bool); stack[1:3, 1:4, 1] = True
    >>> maskUtils.encode(stack)
    [{'size': [4, 5], 'counts': b'd0'}, {'size': [4, 5], 'counts': b'5220003'}]
    """
    arr = _binary(np.asarray(bimask))
    if arr.ndim == 2:
        items = [arr]
    elif arr.ndim == 3:
        h, w = arr.shape[:2]
        stacked = stack_coco(arr, 2)
        if stacked is not None:
            return [{"size": [h, w], "counts": counts} for counts in stacked]
        items = [arr[:, :, i] for i in range(arr.shape[2])]
    else:
        raise ValueError(f"encode takes an (H, W) mask or an (H, W, N) stack, got shape "
                         f"{arr.shape}")
    h, w = arr.shape[:2]
    objs = [{"size": [h, w], "counts": counts} for counts in mask_coco(items)]
    return objs[0] if arr.ndim == 2 else objs


def decode(rleObjs: Any) -> npt.NDArray[np.uint8]:  # noqa: N803 (pycocotools' name)
    """The mask of one COCO RLE as a Fortran-ordered ``(H, W)`` uint8 array, or of a list
    of them (one size) as ``(H, W, N)``.  Counts are checked: an RLE whose counts do not
    add up to ``h * w`` is an ``RLEError``, never a mask with an uninitialised tail.

    Examples
    --------
    >>> from rlecodec.coco import mask as maskUtils
    >>> maskUtils.decode([{"size": [2, 3], "counts": b"1120O"}])[:, :, 0]
    array([[0, 0, 1],
           [1, 0, 0]], dtype=uint8)
    """
    if isinstance(rleObjs, (list, tuple)):
        if not rleObjs:
            raise ValueError("decode needs at least one COCO RLE (an empty list has no size)")
        # (N, H, W) with each mask Fortran-ordered is (H, W, N) in Fortran order, seen N first.
        stack: npt.NDArray[np.uint8] = _decode(list(rleObjs), memory="F", threads=1)
        return stack.transpose(1, 2, 0)
    mask: npt.NDArray[np.uint8] = _decode(rleObjs, memory="F")
    return mask


def area(rleObjs: Any) -> Any:  # noqa: N803
    """Foreground pixels: a ``numpy.uint32`` for one RLE, a uint32 array for a list."""
    if isinstance(rleObjs, (list, tuple)):
        return np.asarray(_area(list(rleObjs)), np.uint32).reshape(-1)
    return np.uint32(_area(rleObjs))


def toBbox(rleObjs: Any) -> npt.NDArray[np.float64]:  # noqa: N802, N803
    """``[x, y, width, height]`` of the foreground as float64: ``(4,)`` for one RLE,
    ``(N, 4)`` for a list (zeros for an empty mask)."""
    if isinstance(rleObjs, (list, tuple)):
        return _to_bbox(list(rleObjs)).reshape(-1, 4)
    box: npt.NDArray[np.float64] = _listed([rleObjs], False, True).boxes()[0]
    return box


def iou(dt: Any, gt: Any, pyiscrowd: Any) -> Any:
    """The ``(len(dt), len(gt))`` IoU matrix (float64, Fortran-ordered) of COCO RLEs or of
    ``[x, y, w, h]`` boxes (an ``(N, 4)`` array or a list of 4-lists); for a crowd ``gt``
    the union is the detection's own area.  ``[]`` if either side is empty."""
    if len(pyiscrowd) != len(gt):
        raise ValueError(f"iscrowd has {len(pyiscrowd)} entries for {len(gt)} ground truths")
    result = _iou(dt, gt, pyiscrowd)
    return result if isinstance(result, list) else np.asfortranarray(result)


def merge(rleObjs: Any, intersect: Any = 0) -> dict[str, Any]:  # noqa: N803
    """The union (or with ``intersect``, the intersection) of COCO RLEs of one size as one
    compressed RLE; ``{'size': [0, 0], 'counts': b''}`` for an empty list, as pycocotools
    gives."""
    if isinstance(rleObjs, (list, tuple)) and not rleObjs:
        return {"size": [0, 0], "counts": b""}
    return _merge(rleObjs, intersect=bool(intersect))


def _is_box(obj: Any) -> bool:
    return not isinstance(obj, dict) and len(obj) == 4


def _polygon(obj: Any, i: int) -> npt.NDArray[np.float64]:
    """Polygon i as a flat float64 array (its length and values are checked in C)."""
    try:
        return np.ascontiguousarray(obj, np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise TypeError(f"polygon {i} must be a flat list of numbers x0, y0, x1, y1, ..., "
                        f"got {obj!r:.80}") from None


def _boxes(obj: Any) -> npt.NDArray[np.float64]:
    """Boxes as an (N, 4) float64 array (finite, sizes >= 0: checked in C)."""
    boxes = np.ascontiguousarray(obj, np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must be an (N, 4) array of [x, y, w, h], got shape "
                         f"{boxes.shape}")
    return boxes


def _compressed(obj: Any, i: int | None) -> dict[str, Any]:
    """An RLE (counts a list, or already compressed) as a compressed RLE of its own size,
    its counts checked: non-negative and adding up to h * w."""
    try:
        (h, w), counts, _ = _parsed(obj)
        data = _counts_data(obj)[1]
    except RLEError as err:
        if i is None:
            raise
        raise RLEError(f"item {i}: {err}", token=err.token, item=i, reason=err.reason) from None
    except (TypeError, ValueError) as err:
        if i is None:
            raise
        raise type(err)(f"item {i}: {err}") from None
    text = data if isinstance(data, bytes) else _codec.coco_string_from_counts(counts)
    return {"size": [h, w], "counts": text}


def frPyObjects(pyobj: Any, h: Any, w: Any) -> Any:  # noqa: N802
    """COCO RLEs of annotation objects, as pycocotools makes them:

    - polygons (a list of flat ``[x0, y0, x1, y1, ...]`` lists): one RLE each;
    - boxes (an ``(N, 4)`` array or a list of ``[x, y, w, h]``): one RLE each;
    - uncompressed RLEs (a dict, or a list of them): compressed, the size their own.

    Polygons and boxes are rasterised bit for bit as pycocotools does; an object it would
    crash on or rasterise from garbage is a ``ValueError`` naming the object.

    Examples
    --------
    >>> from rlecodec.coco import mask as maskUtils
    >>> maskUtils.frPyObjects({"size": [2, 2], "counts": [1, 2, 1]}, 2, 2)
    {'size': [2, 2], 'counts': b'121'}
    >>> rles = maskUtils.frPyObjects([[0, 0, 3, 0, 3, 3]], 3, 3)
    >>> rles
    [{'size': [3, 3], 'counts': b'3121O'}]
    >>> maskUtils.decode(rles)[:, :, 0]
    array([[0, 1, 1],
           [0, 0, 1],
           [0, 0, 0]], dtype=uint8)
    """
    h, w = check_shape((check_integer(h, "h"), check_integer(w, "w")))
    if isinstance(pyobj, np.ndarray):
        return [{"size": [h, w], "counts": c} for c in _codec.boxes_to_coco(_boxes(pyobj), h, w)]
    if isinstance(pyobj, dict):
        return _compressed(pyobj, None)
    if not isinstance(pyobj, (list, tuple)):
        raise TypeError(f"frPyObjects takes polygons, boxes or uncompressed RLEs, got "
                        f"{type(pyobj).__name__}")
    if not pyobj:
        return []
    first = pyobj[0]
    if isinstance(first, dict):
        return [_compressed(obj, i) for i, obj in enumerate(pyobj)]
    if _is_box(first):
        return [{"size": [h, w], "counts": c} for c in _codec.boxes_to_coco(_boxes(pyobj), h, w)]
    polygons = [_polygon(p, i) for i, p in enumerate(pyobj)]
    return [{"size": [h, w], "counts": c} for c in _codec.polygons_to_coco(polygons, h, w)]

