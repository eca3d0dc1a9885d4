"""COCO run-length encoding, to and from masks and Kaggle text, without pycocotools.

A COCO RLE is ``{"size": [h, w], "counts": ...}``: pixels numbered column-major, counts
alternating background and foreground, starting with background (0 if the first pixel is
on); ``counts`` is a list of ints (uncompressed) or pycocotools' compressed string.
``encode`` gives byte for byte what ``pycocotools.mask.encode(np.asfortranarray(m))``
gives, for any memory layout and dtype.

>>> import numpy as np
>>> from rlecodec import coco
>>> m = np.zeros((4, 4), np.uint8); m[1:3, 1] = 1
>>> coco.encode(m)
{'size': [4, 4], 'counts': b'529'}
>>> coco.to_kaggle(coco.encode(m))
'6 2'
>>> coco.from_kaggle("6 2", (4, 4), compressed=False)
{'size': [4, 4], 'counts': [5, 2, 9]}
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _codec
from .._decode import LAZY_ZEROS_BYTES, decode_options, decode_sources, writable_out
from .._decode import decode as _decode_kaggle
from .._encode import encode as _encode_kaggle
from .._encode import mask_coco, mask_runs, stack_coco
from .._errors import KernelError, RLEError, describe_item, kernel_errors
from .._inputs import as_int64, as_mask, as_source
from .._options import check_base, check_shape, resolve_threads
from .._runs import from_runs

__all__ = ["area", "decode", "encode", "from_kaggle", "iou", "merge", "to_bbox", "to_kaggle"]

_STRING_ERRORS = {
    "truncated": ("truncated", "the string ends inside count {token}"),
    "not_a_number": ("not_a_number", "count {token} has a character outside '0'..'o'"),
    "negative": ("negative", "count {token} is negative"),
    "overflow": ("overflow", "count {token} does not fit in 64 bits"),
}


# ------------------------------------------------------------------------------ parsing objects
def _size(obj: Any) -> tuple[int, int]:
    try:
        size = obj["size"]
    except (TypeError, KeyError):
        raise TypeError(f"a COCO RLE is a dict with 'size' and 'counts', got {obj!r:.80}") from None
    return check_shape(tuple(size))


def _counts_data(obj: Any) -> tuple[tuple[int, int], bytes | npt.NDArray[np.int64]]:
    """The size and the raw counts of a COCO RLE: compressed bytes or an int64 array."""
    shape = _size(obj)
    raw = obj.get("counts") if isinstance(obj, dict) else None
    if isinstance(raw, str):
        # Every character outside '0'..'o' is an error: non-ASCII ones (and lone
        # surrogates) keep bytes the kernel rejects instead of a '?' it would accept.
        return shape, raw.encode("utf-8", "surrogatepass")
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return shape, bytes(raw)
    if isinstance(raw, (list, tuple, np.ndarray)):
        arr = np.asarray(raw)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            raise TypeError("uncompressed counts must be a flat list of integers")
        return shape, as_int64(arr, lambda k: f"count {k} does not fit in 64 bits")
    raise TypeError(f"'counts' must be a compressed string or a list of ints, got {raw!r:.80}")


def _explain(err: KernelError, shape: tuple[int, int],
             data: bytes | npt.NDArray[np.int64]) -> RLEError:
    """The RLEError for a kernel's failure on ``data`` (the counts of a ``shape`` RLE)."""
    h, w = shape
    if err.reason == "size_mismatch":
        counts = _codec.coco_counts_from_string(data) if isinstance(data, bytes) else data
        return RLEError(f"counts sum to {sum(counts.tolist())} but a {h}x{w} mask has "
                        f"{h * w} pixels", token=err.token, reason="size_mismatch")
    if isinstance(data, bytes):
        reason, message = _STRING_ERRORS.get(err.reason, (err.reason, "count {token}: bad"))
        return RLEError(f"compressed counts: {message.format(token=err.token)} "
                        f"(byte {err.offset})", token=err.token, reason=reason)
    return RLEError(f"count {err.token} is negative", token=err.token, reason=err.reason)


def _parsed(obj: Any) -> tuple[tuple[int, int], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Size, counts and foreground runs of a COCO RLE, checked: counts non-negative and
    adding up to h * w."""
    shape, data = _counts_data(obj)
    with kernel_errors(_explain, shape, data):
        counts = _codec.coco_counts_from_string(data) if isinstance(data, bytes) else data
        runs = _codec.coco_runs_from_counts(counts, shape[0] * shape[1])
    return shape, counts, runs


# ------------------------------------------------------------------------------ public API
def encode(mask: Any, *, compressed: bool = True) -> Any:
    """Encode a 2-D mask (any dtype and layout; foreground ``!= 0``) as a COCO RLE, or an
    ``(N, H, W)`` stack (N first, numpy style) as a list of them.  pycocotools' stacks are
    ``(H, W, N)``: :func:`rlecodec.coco.mask.encode` takes those, and a 3-D array whose
    last axis is far shorter than the others gets a warning saying so.

    Examples
    --------
    >>> import numpy as np
    >>> from rlecodec import coco
    >>> coco.encode(np.eye(3, dtype=bool), compressed=False)
    {'size': [3, 3], 'counts': [0, 1, 3, 1, 3, 1]}
    """
    arr = np.asarray(mask) if not isinstance(mask, np.ndarray) else mask
    if arr.ndim == 3:
        if 8 * arr.shape[2] <= min(arr.shape[0], arr.shape[1]):
            warnings.warn(
                f"coco.encode reads a 3-D array as (N, H, W): this {arr.shape} array gives "
                f"{arr.shape[0]} masks of {arr.shape[1]}x{arr.shape[2]}; for pycocotools' "
                "(H, W, N) stacks use rlecodec.coco.mask.encode", stacklevel=2)
        stacked = stack_coco(arr, 0) if compressed else None
        if stacked is not None:
            return [{"size": list(arr.shape[1:]), "counts": counts} for counts in stacked]
        return [encode(m, compressed=compressed) for m in arr]
    arr = as_mask(arr)[0]
    h, w = arr.shape
    if compressed:
        return {"size": [h, w], "counts": mask_coco([arr])[0]}
    counts = _codec.coco_from_runs(mask_runs([arr])[0], h * w, False)
    return {"size": [h, w], "counts": counts.tolist()}


def decode(obj: Any, *, dtype: npt.DTypeLike = np.uint8, value: Any = 1,
           out: npt.NDArray[Any] | None = None, threads: int | None = None,
           window: tuple[slice, slice] | None = None, memory: str = "C") -> npt.NDArray[Any]:
    """Decode a COCO RLE into an ``(H, W)`` C-contiguous mask, or a list of RLEs of one
    size into ``(N, H, W)``, N first; :func:`rlecodec.coco.mask.decode` returns
    pycocotools' ``(H, W, N)``.  ``threads`` (default every core) share the items of a
    list, or the bands of one new mask of 32 MiB or more.

    The counts are parsed, checked (non-negative, adding up to h * w) and written in C;
    on a malformed RLE nothing is written to ``out``.  ``window=np.s_[y0:y1, x0:x1]``
    decodes only those rows and columns of each mask (see :func:`rlecodec.decode`).
    ``memory="F"`` makes a new result Fortran-ordered, as pycocotools' and hotcoco's are
    (each mask column-major in memory, the order COCO numbers pixels: the fastest to
    write); the pixels are the same either way.

    Examples
    --------
    >>> import numpy as np
    >>> from rlecodec import coco
    >>> coco.decode({"size": [2, 2], "counts": [1, 2, 1]}).tolist()
    [[0, 1], [1, 0]]
    >>> coco.decode({"size": [2, 2], "counts": [1, 2, 1]}, window=np.s_[:, 1:]).tolist()
    [[1], [0]]
    """
    if (type(obj) is dict and out is None and window is None and threads is None
            and memory in ("C", "F")):
        mask = _decode_usual(obj, dtype, value, memory == "F")
        if mask is not None:
            return mask
    batch = isinstance(obj, (list, tuple))
    items = list(obj) if batch else [obj]
    if batch and not items:
        raise ValueError("an empty list of COCO RLEs has no shape")
    shape, sources, datas = None, [], []
    for i, item in enumerate(items):
        size, data = _counts_data(item)
        if shape is not None and size != shape:
            raise ValueError(f"item {i} has size {size}, not {shape}")
        shape = size
        sources.append(_codec.CocoCounts(data))
        datas.append(data)
    assert shape is not None

    def explain(err: KernelError) -> RLEError:
        error = _explain(err, shape, datas[err.item or 0])
        if err.item is not None:
            error = RLEError(f"item {err.item}: {error}", token=error.token, item=err.item,
                             reason=error.reason)
        return error

    if memory not in ("C", "F"):
        raise ValueError(f"memory must be 'C' or 'F' (how a new result lies in memory), got "
                         f"{memory!r}")
    if out is not None:
        out = writable_out(out, 3 if batch else 2)
        dtype = out.dtype
    opts = decode_options("F", 0, False, True, dtype, value)
    if window is not None:
        from .._window import decode_window
        resolve_threads(threads, 1)  # (checked, though windows take one thread)
        result = decode_window(sources, shape, out, opts, window, batch=batch, explain=explain)
        return np.asfortranarray(result) if memory == "F" and out is None else result
    return decode_sources(sources, shape, out, opts, batch=batch,
                          threads=resolve_threads(threads, len(items)) if batch else threads,
                          fortran=memory == "F", explain=explain)


def _decode_usual(obj: dict[str, Any], dtype: npt.DTypeLike, value: Any,
                  fortran: bool) -> npt.NDArray[Any] | None:
    """The usual call of :func:`decode`: one RLE of compressed counts as pycocotools writes
    it (a ``[h, w]`` list, ``bytes`` or ``str`` counts) into a new mask under 32 MiB,
    checked and written in one kernel call (about 1 us of Python; a Severstal mask takes
    15).  None for anything else, which the general path checks and words."""
    opts = decode_options("F", 0, False, True, dtype, value)
    with kernel_errors(_explain_obj, obj):
        return _codec.coco_decode_usual(obj, opts.dtype, opts.pattern, fortran,
                                        LAZY_ZEROS_BYTES)


def _explain_obj(err: KernelError, obj: Any) -> RLEError:
    return _explain(err, *_counts_data(obj))


def from_kaggle(text: Any, shape: tuple[int, int], *, order: str = "F", base: int = 1,
                relative: bool = False, compressed: bool = True) -> dict[str, Any]:
    """Transcode Kaggle run-length text to a COCO RLE, run by run when ``order="F"``.

    Examples
    --------
    >>> from rlecodec import coco
    >>> coco.from_kaggle("1 3 10 2", (4, 4), compressed=False)
    {'size': [4, 4], 'counts': [0, 3, 6, 2, 5]}
    """
    h, w = check_shape(shape)
    if order != "F":
        mask = _decode_kaggle(text, (h, w), order=order, base=base, relative=relative,
                              dtype=bool)
        return encode(mask, compressed=compressed)  # type: ignore[no-any-return]
    base = check_base(base)
    source = as_source(text)
    with kernel_errors(describe_item, [source], base, (h, w)):
        counts = _codec.kaggle_to_coco(source, h * w, base, bool(relative), bool(compressed))
    return {"size": [h, w], "counts": counts if compressed else counts.tolist()}


def to_kaggle(obj: Any, *, order: str = "F", base: int = 1, relative: bool = False) -> str:
    """Transcode a COCO RLE to Kaggle run-length text, run by run when ``order="F"``.

    Examples
    --------
    >>> from rlecodec import coco
    >>> coco.to_kaggle({"size": [4, 4], "counts": [0, 3, 6, 2, 5]})
    '1 3 10 2'
    """
    if order != "F":
        return _encode_kaggle(decode(obj, dtype=bool), order=order, base=base,
                              relative=relative)
    return from_runs(_parsed(obj)[2], base=base, relative=relative)


def _listed(objs: list[Any], keep_runs: bool = True, boxes: bool = True) -> Any:
    """A ``CocoList`` of COCO RLEs: each object's counts parsed and checked once, in C (an
    RLEError names the bad item when there are several); areas are kept, boxes with
    ``boxes``, runs with ``keep_runs``."""
    try:
        return _codec.CocoList(objs, _counts_data, keep_runs, boxes)
    except KernelError as err:
        i = err.item or 0
        size, data = _counts_data(objs[i])
        error = _explain(err, size, data)
        if len(objs) == 1:
            raise error from None
        raise RLEError(f"item {i}: {error}", token=error.token, item=i,
                       reason=error.reason) from None


def area(obj: Any) -> Any:
    """Foreground pixels of a COCO RLE (an int), or of a list of them (an int64 array)."""
    if isinstance(obj, (list, tuple)):
        return _listed(list(obj), False, False).areas()
    found = _codec.coco_area_usual(obj)
    return int(_listed([obj], False, False).area(0)) if found is None else found


def to_bbox(obj: Any) -> npt.NDArray[Any]:
    """``[x, y, width, height]`` of the foreground (zeros if empty), as float64 like
    pycocotools' ``toBbox``; a list of RLEs gives an ``(N, 4)`` array."""
    if isinstance(obj, (list, tuple)):
        boxes: npt.NDArray[np.float64] = _listed(list(obj), False).boxes()
        return boxes
    box: npt.NDArray[np.float64] = _listed([obj], False).boxes()[0]
    return box


def _boxes(objs: Any) -> npt.NDArray[np.float64] | None:
    """``objs`` as an ``(N, 4)`` float64 array of ``[x, y, w, h]`` boxes, or None if they
    are RLE objects."""
    if isinstance(objs, np.ndarray) or (len(objs) and not isinstance(objs[0], dict)):
        boxes = np.asarray(objs, np.float64)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"boxes must be [x, y, w, h] rows, got shape {boxes.shape}")
        return boxes
    return None


def _box_iou(dt: npt.NDArray[np.float64], gt: npt.NDArray[np.float64],
             crowd: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    w = (np.minimum(dt[:, None, 0] + dt[:, None, 2], gt[None, :, 0] + gt[None, :, 2])
         - np.maximum(dt[:, None, 0], gt[None, :, 0]))
    h = (np.minimum(dt[:, None, 1] + dt[:, None, 3], gt[None, :, 1] + gt[None, :, 3])
         - np.maximum(dt[:, None, 1], gt[None, :, 1]))
    inter = np.where((w > 0) & (h > 0), w * h, 0.0)
    area_dt, area_gt = dt[:, 2] * dt[:, 3], gt[:, 2] * gt[:, 3]
    union = np.where(crowd[None, :], area_dt[:, None], area_dt[:, None] + area_gt[None, :]
                     - inter)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(inter > 0, inter / np.where(union > 0, union, 1), 0.0)


def iou(dt: Any, gt: Any, iscrowd: Any) -> Any:
    """What ``pycocotools.mask.iou`` returns: the ``(len(dt), len(gt))`` IoU of COCO RLEs
    (or of ``[x, y, w, h]`` boxes), in run space; for a crowd ``gt`` the union is the
    ``dt``'s own area.  ``[]`` when either list is empty.

    Examples
    --------
    >>> from rlecodec import coco
    >>> a = {"size": [2, 2], "counts": [0, 2, 2]}
    >>> b = {"size": [2, 2], "counts": [1, 3]}
    >>> coco.iou([a], [b], [0]).tolist(), coco.iou([a], [b], [1]).tolist()
    ([[0.25]], [[0.5]])
    """
    dts, gts = (dt if isinstance(dt, (list, tuple, np.ndarray)) else [dt],
                gt if isinstance(gt, (list, tuple, np.ndarray)) else [gt])
    if len(dts) == 0 or len(gts) == 0:
        return []
    crowd = np.asarray(iscrowd, bool).reshape(-1)
    if len(crowd) != len(gts):
        raise ValueError(f"iscrowd has {len(crowd)} entries for {len(gts)} ground truths")
    box_dt, box_gt = _boxes(dts), _boxes(gts)
    if (box_dt is None) != (box_gt is None):
        raise TypeError("dt and gt must both be RLE objects or both boxes")
    if box_dt is not None and box_gt is not None:
        return _box_iou(box_dt, box_gt, crowd)
    return _listed(list(dts)).iou(_listed(list(gts)), crowd.astype(np.uint8))


def merge(objs: Any, intersect: Any = False) -> dict[str, Any]:
    """What ``pycocotools.mask.merge`` returns, byte for byte: the union (or with
    ``intersect``, the intersection) of COCO RLEs of one size, as a compressed RLE.

    Examples
    --------
    >>> from rlecodec import coco
    >>> a = {"size": [2, 2], "counts": [0, 2, 2]}
    >>> b = {"size": [2, 2], "counts": [1, 3]}
    >>> coco.merge([a, b]), coco.merge([a, b], intersect=True)
    ({'size': [2, 2], 'counts': b'04'}, {'size': [2, 2], 'counts': b'112'})
    """
    items = list(objs) if isinstance(objs, (list, tuple)) else [objs]
    if not items:
        raise ValueError("merge needs at least one COCO RLE")
    if len(items) == 1:  # (pycocotools copies the one object's counts as they are)
        (h, w), counts, _ = _parsed(items[0])
        return {"size": [h, w], "counts": _codec.coco_string_from_counts(counts)}
    listed = _listed(items, True, False)
    counts = listed.merge(bool(intersect))
    return {"size": list(listed.size(0)), "counts": counts}
