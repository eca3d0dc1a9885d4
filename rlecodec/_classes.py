"""Several masks of one image: classes as channels or a label map, instances as a union."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ._decode import decode
from ._encode import encode
from ._errors import RLEError


def _class_items(rles: Any, classes: Sequence[Any] | None) -> tuple[list[Any], list[Any]]:
    """(class keys in channel order, their run-length inputs); a key may hold a list of
    inputs (several rows of one class)."""
    if isinstance(rles, Mapping):
        keys = list(classes) if classes is not None else sorted(rles, key=_class_key)
        return keys, [rles.get(k) for k in keys]
    items = list(rles)
    keys = list(classes) if classes is not None else list(range(1, len(items) + 1))
    if len(keys) != len(items):
        raise ValueError(f"{len(items)} inputs but {len(keys)} classes")
    return keys, items


def _class_key(k: Any) -> tuple[int, Any]:
    return (0, k) if isinstance(k, (int, np.integer)) else (1, str(k))


def _union_into(view: npt.NDArray[Any], rle: Any, shape: tuple[int, int], value: Any,
                first: bool, opts: dict[str, Any]) -> None:
    if first:
        decode(rle, out=view, value=value, **opts)
    else:
        view[decode(rle, shape, dtype=bool, **opts)] = value


def decode_classes(
    rles: Mapping[Any, Any] | Sequence[Any],
    shape: tuple[int, int],
    *,
    layout: str = "channels",
    classes: Sequence[Any] | None = None,
    order: str = "F",
    base: int = 1,
    relative: bool = False,
    dtype: npt.DTypeLike = np.uint8,
    value: Any = 1,
    last_wins: bool = False,
    strict: bool = True,
) -> npt.NDArray[Any]:
    """Decode the masks of one image's classes into one array.

    Parameters
    ----------
    rles : mapping of class -> run-length input, or a sequence of them
        A class may map to a list of inputs (several rows): their union. Missing or empty
        classes are all zeros.
    layout : {"channels", "labels"}
        ``(H, W, C)`` with channel k for the k-th class, or an ``(H, W)`` label map holding
        each pixel's class id (integer keys as they are, other keys 1.. in class order; 0 is
        background). Overlapping classes in a label map are an ``RLEError`` unless
        ``last_wins``.
    classes : sequence, optional
        The classes and their order (default: sorted keys, or 1..N for a sequence).

    Examples
    --------
    >>> import rlecodec
    >>> rlecodec.decode_classes({1: "1 2", 3: "3 2"}, (2, 2), layout="labels").tolist()
    [[1, 3], [1, 3]]
    >>> rlecodec.decode_classes(["1 1", None], (1, 2)).shape
    (1, 2, 2)
    """
    h, w = shape
    keys, items = _class_items(rles, classes)
    opts: dict[str, Any] = dict(order=order, base=base, relative=relative, strict=strict)
    if layout == "channels":
        stack = np.zeros((h, w, len(keys)), np.dtype(dtype))
        for k, item in enumerate(items):
            for n, rle in enumerate(item if isinstance(item, list) else [item]):
                _union_into(stack[:, :, k], rle, (h, w), value, n == 0, opts)
        return stack
    if layout != "labels":
        raise ValueError(f"layout must be 'channels' or 'labels', got {layout!r}")
    labels = np.zeros((h, w), np.dtype(dtype))
    ids = [int(k) if isinstance(k, (int, np.integer)) else n + 1 for n, k in enumerate(keys)]
    for key, label, item in zip(keys, ids, items, strict=True):
        for rle in item if isinstance(item, list) else [item]:
            mask = decode(rle, (h, w), dtype=bool, **opts)
            if not last_wins and labels[mask].any():
                raise RLEError(f"class {key!r} overlaps an earlier class (last_wins=True "
                               "lets it overwrite)", reason="overlap")
            labels[mask] = label
    return labels


def decode_instances(rles: Sequence[Any], shape: tuple[int, int], *, layout: str = "union",
                     order: str = "F", base: int = 1, relative: bool = False,
                     dtype: npt.DTypeLike = np.uint8, value: Any = 1, last_wins: bool = False,
                     strict: bool = True) -> npt.NDArray[Any]:
    """Several instances of one image (Airbus ships, DSB nuclei): their union, or an
    instance label map (instance i is i + 1; overlaps are an error unless ``last_wins``).

    Examples
    --------
    >>> import rlecodec
    >>> rlecodec.decode_instances(["1 1", "4 1"], (2, 2), layout="labels").tolist()
    [[1, 0], [0, 2]]
    """
    if layout == "union":
        stack = decode_classes({1: list(rles)}, shape, order=order, base=base,
                               relative=relative, dtype=dtype, value=value, strict=strict)
        return stack[:, :, 0]
    return decode_classes(list(rles), shape, layout=layout, order=order, base=base,
                          relative=relative, dtype=dtype, last_wins=last_wins, strict=strict)


def encode_classes(array: Any, *, classes: Sequence[Any] | None = None, order: str = "F",
                   base: int = 1, relative: bool = False) -> dict[Any, str]:
    """Encode an ``(H, W, C)`` stack (class k = channel k, ids 1..C unless ``classes``) or
    an ``(H, W)`` integer label map (one string per non-zero label present).

    Examples
    --------
    >>> import numpy as np, rlecodec
    >>> rlecodec.encode_classes(np.array([[1, 3], [1, 3]]))
    {1: '1 2', 3: '3 2'}
    """
    arr = np.asarray(array)
    opts: dict[str, Any] = dict(order=order, base=base, relative=relative)
    if arr.ndim == 3:
        keys = list(classes) if classes is not None else list(range(1, arr.shape[2] + 1))
        if len(keys) != arr.shape[2]:
            raise ValueError(f"{arr.shape[2]} channels but {len(keys)} classes")
        return {key: encode(arr[:, :, k], **opts) for k, key in enumerate(keys)}
    if arr.ndim != 2 or arr.dtype.kind not in "biu":
        raise ValueError("expected an (H, W, C) stack or an (H, W) integer label map, got "
                         f"shape {arr.shape} of {arr.dtype}")
    return {int(label): encode(arr == label, **opts) for label in np.unique(arr) if label}
