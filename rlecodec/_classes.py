"""Several masks of one image: classes as channels or a label map, instances as a union,
and a label map or stack encoded in one pass.  The decoding itself is _decode.py's path;
no kernel call here but the label scan and overlap check."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _codec
from ._decode import DecodeOptions, decode_options, decode_sources, writable_out
from ._encode import encode
from ._errors import KernelError, RLEError, describe
from ._inputs import as_source, native_integers
from ._options import check_base, check_order


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


def _place(keys: list[Any], items: list[Any], row: int) -> str:
    """How messages name row number ``row`` of :func:`_class_rows` (worked out only when a
    message needs it: most calls never do)."""
    for k, item in enumerate(items):
        count = len(item) if isinstance(item, list) else 1
        if row < count:
            return f"class {keys[k]!r}" + (f" row {row}" if count > 1 else "")
        row -= count
    raise IndexError(row)


def _place_of(keys: list[Any], items: list[Any], rows: list[int], row: int) -> str:
    return _place(keys, items, rows[row])


def _class_rows(keys: list[Any], items: list[Any]) -> tuple[list[Any], list[int]]:
    """Every row of every class as a decoding source, and its class index."""
    sources, slots = [], []
    for k, item in enumerate(items):
        for rle in (item if isinstance(item, list) else (item,)):
            try:
                sources.append(as_source(rle))
            except RLEError as err:
                raise RLEError(f"{_place(keys, items, len(sources))}: {err}",
                               token=err.token, reason=err.reason) from None
            slots.append(k)
    return sources, slots


def _write_rows(sources: list[Any], slots: list[int], name: Callable[[int], str],
                out: npt.NDArray[Any], shape: tuple[int, int], opts: DecodeOptions,
                clear: bool = False, fresh: bool = False) -> None:
    """Write rows into the zeroed ``out[slot]`` (only their runs), all validated first
    (``clear``: ``out`` is zeroed then, before the first write) unless ``out`` is ``fresh``
    (new, dropped on an error); errors name the row with ``name(row)``."""
    def explain(err: KernelError) -> RLEError:
        row = err.item or 0
        error = describe(err, sources[row], base=opts.base, shape=shape)
        return RLEError(f"{name(row)}: {error}", token=error.token, reason=error.reason)

    decode_sources(sources, None, out, opts, batch=True, threads=1,
                   slots=np.array(slots, np.int64), zeroed=True, clear=clear, fresh=fresh,
                   explain=explain)


def _stack_channels(keys: list[Any], items: list[Any], shape: tuple[int, int],
                    opts: DecodeOptions, out: npt.NDArray[Any] | None) -> npt.NDArray[Any]:
    sources, slots = _class_rows(keys, items)
    return stack_rows(sources, slots, len(keys), shape, opts, out,
                      lambda row: _place(keys, items, row))


def stack_rows(sources: list[Any], slots: list[int], channels: int, shape: tuple[int, int],
               opts: DecodeOptions, out: npt.NDArray[Any] | None,
               name: Callable[[int], str]) -> npt.NDArray[Any]:
    """Rows (normalised sources) written into channel ``slots[i]`` of one zeroed ``(H, W,
    C)`` stack in one batch: only the runs are written, a channel's rows are OR-ed, and
    nothing is written unless every row is valid (a given ``out`` is zeroed only then).
    ``name(row)`` names a bad row in its error."""
    stack = np.zeros((*shape, channels), opts.dtype) if out is None else out
    _write_rows(sources, slots, name, stack.transpose(2, 0, 1), shape, opts,
                clear=out is not None, fresh=out is None)
    return stack


def _first_overlap(sources: list[Any], slots: list[int],
                   opts: DecodeOptions) -> tuple[int, int] | None:
    """The first two classes whose runs share a pixel, found in run space (no mask): each
    class's rows merged, then all runs sorted by start; an overlap, if any, shows between
    neighbours."""
    base, relative = opts.base, opts.relative
    starts, ends, owners = [], [], []
    for k in sorted(set(slots)):
        runs = np.concatenate([_codec.to_runs(src, base, relative, False)
                               for src, slot in zip(sources, slots, strict=True) if slot == k])
        runs = runs[runs[:, 1] > 0]  # a zero-length run (strict=False) covers no pixel
        if not len(runs):
            continue
        runs = runs[np.argsort(runs[:, 0], kind="stable")]
        end = np.maximum.accumulate(runs[:, 0] + runs[:, 1])  # a class's rows may overlap
        head = np.concatenate(([True], runs[1:, 0] > end[:-1]))
        starts.append(runs[head, 0])
        ends.append(end[np.concatenate((head[1:], [True]))])
        owners.append(np.full(len(starts[-1]), k))
    if not starts:
        return None
    start, end, owner = (np.concatenate(a) for a in (starts, ends, owners))
    order = np.argsort(start, kind="stable")
    start, end, owner = start[order], end[order], owner[order]
    clash = np.flatnonzero(start[1:] < end[:-1])
    if not clash.size:
        return None
    i = int(clash[0])
    return int(owner[i]), int(owner[i + 1])


def _label_map(keys: list[Any], items: list[Any], shape: tuple[int, int], last_wins: bool,
               options: dict[str, Any]) -> npt.NDArray[Any]:
    """Class ids in an ``(H, W)`` map, class by class (a later class overwrites with
    ``last_wins``, else overlapping classes are an error, found in run space)."""
    ids = [int(k) if isinstance(k, (int, np.integer)) else n + 1 for n, k in enumerate(keys)]
    sources, slots = _class_rows(keys, items)
    opts = decode_options(value=0, **options)
    labels = np.zeros(shape, opts.dtype)
    for k, label in enumerate(ids):
        mine = [i for i, slot in enumerate(slots) if slot == k]
        if mine:
            _write_rows([sources[i] for i in mine], [0] * len(mine),
                        functools.partial(_place_of, keys, items, mine), labels[None],
                        shape, decode_options(value=label, **options))
    if not last_wins and sources:
        pair = _first_overlap(sources, slots, opts)
        if pair is not None:
            raise RLEError(f"class {keys[pair[1]]!r} overlaps class {keys[pair[0]]!r} "
                           "(last_wins=True lets the later class overwrite)", reason="overlap")
    return labels


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
    out: npt.NDArray[Any] | None = None,
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
    out : numpy.ndarray, optional
        A writable array of the result's shape, any memory layout, to overwrite and return
        (its dtype wins over ``dtype``); left untouched if any input is malformed.

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
    if layout not in ("channels", "labels"):
        raise ValueError(f"layout must be 'channels' or 'labels', got {layout!r}")
    if out is not None:
        out = writable_out(out, 3 if layout == "channels" else 2)
        want = (h, w, len(keys)) if layout == "channels" else (h, w)
        if out.shape != want:
            raise ValueError(f"out must have shape {want}, got {out.shape}")
        dtype = out.dtype
    options: dict[str, Any] = dict(order=order, base=base, relative=relative, strict=strict,
                                   dtype=dtype)
    if layout == "channels":
        return _stack_channels(keys, items, (h, w), decode_options(value=value, **options),
                               out)
    labels = _label_map(keys, items, (h, w), last_wins, options)
    if out is None:
        return labels
    out[...] = labels
    return out


def decode_instances(rles: Sequence[Any], shape: tuple[int, int], *, layout: str = "union",
                     order: str = "F", base: int = 1, relative: bool = False,
                     dtype: npt.DTypeLike = np.uint8, value: Any = 1, last_wins: bool = False,
                     strict: bool = True, out: npt.NDArray[Any] | None = None
                     ) -> npt.NDArray[Any]:
    """Several instances of one image (Airbus ships, DSB nuclei): their union, or an
    instance label map (instance i is i + 1; overlaps are an error unless ``last_wins``),
    into ``out`` if given (as for :func:`decode_classes`).

    Examples
    --------
    >>> import rlecodec
    >>> rlecodec.decode_instances(["1 1", "4 1"], (2, 2), layout="labels").tolist()
    [[1, 0], [0, 2]]
    """
    if layout == "union":
        if out is not None:
            out = writable_out(out, 2)
        stack = decode_classes({1: list(rles)}, shape, order=order, base=base,
                               relative=relative, dtype=dtype, value=value, strict=strict,
                               out=None if out is None else out[:, :, None])
        return stack[:, :, 0]
    return decode_classes(list(rles), shape, layout=layout, order=order, base=base,
                          relative=relative, dtype=dtype, last_wins=last_wins, strict=strict,
                          out=out)


def _line_view(arr: npt.NDArray[Any], order_f: bool) -> npt.NDArray[Any]:
    """``arr`` as ``V[g, p, q]`` (no copy): pixel lines along axis 1, numbered in ``order``;
    axis 2 holds the channels of a stack (length 1 for a label map)."""
    stack = arr if arr.ndim == 3 else arr[:, :, None]
    return stack.transpose(1, 0, 2) if order_f else stack


def _segments_by_key(arr: npt.NDArray[Any], order_f: bool, binary: bool) -> tuple[
        npt.NDArray[Any], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(key, start, length) of every run, sorted by key then start, runs merged across
    line ends.  The key is the channel of a stack or the label of a label map."""
    view = _line_view(arr, order_f)
    _, line_len, nchan = view.shape
    segs = _codec.label_segments(view, binary)
    line, start, length = segs[:, 0], segs[:, 1], segs[:, 2]
    flat = (line // nchan) * line_len + start
    if binary:
        key: npt.NDArray[Any] = line % nchan
    else:  # the raw bits, zero-extended, back to the label map's dtype
        bits = segs[:, 3].astype(np.uint64).astype(f"u{arr.dtype.itemsize}")
        key = bits.view(arr.dtype) if arr.dtype.kind != "b" else bits
    by = np.lexsort((flat, key))
    key, flat, length = key[by], flat[by], length[by]
    if len(key) > 1:
        joins = (key[1:] == key[:-1]) & (flat[1:] == flat[:-1] + length[:-1])
        if joins.any():
            heads = np.flatnonzero(np.concatenate(([True], ~joins)))
            key, flat, length = key[heads], flat[heads], np.add.reduceat(length, heads)
    return key, flat, length


def encode_classes(array: Any, *, classes: Sequence[Any] | None = None, order: str = "F",
                   base: int = 1, relative: bool = False) -> dict[Any, str]:
    """Encode an ``(H, W, C)`` stack (class k = channel k, ids 1..C unless ``classes``) or
    an ``(H, W)`` integer label map (one string per non-zero label present), in one pass
    over the pixels.

    Parameters
    ----------
    array : array_like
        A stack of masks (foreground ``!= 0``) or a label map of bools or integers, in any
        memory layout.
    classes : sequence, optional
        The keys of a stack's channels (default 1..C).
    order, base, relative
        As for :func:`encode`.

    Examples
    --------
    >>> import numpy as np, rlecodec
    >>> rlecodec.encode_classes(np.array([[1, 3], [1, 3]]))
    {1: '1 2', 3: '3 2'}
    >>> rlecodec.encode_classes(np.ones((1, 2, 2), bool), classes=["a", "b"])
    {'a': '1 2', 'b': '1 2'}
    """
    order_f, base = check_order(order), check_base(base)
    arr = np.asarray(array)
    if arr.ndim == 3:
        keys = list(classes) if classes is not None else list(range(1, arr.shape[2] + 1))
        if len(keys) != arr.shape[2]:
            raise ValueError(f"{arr.shape[2]} channels but {len(keys)} classes")
        if arr.dtype.kind == "f":  # nonzero as a float (-0.0 is off): the scalar encoder
            return {key: encode(arr[:, :, k], order=order, base=base, relative=relative)
                    for k, key in enumerate(keys)}
        texts = _texts_by_key(native_integers(arr), order_f, True, base, relative)
        return {key: texts.get(k, "") for k, key in enumerate(keys)}
    if arr.ndim != 2 or arr.dtype.kind not in "biu":
        raise ValueError("expected an (H, W, C) stack or an (H, W) integer label map, got "
                         f"shape {arr.shape} of {arr.dtype}")
    return _texts_by_key(native_integers(arr), order_f, False, base, relative)


def _texts_by_key(arr: npt.NDArray[Any], order_f: bool, binary: bool, base: int,
                  relative: bool) -> dict[Any, str]:
    key, flat, length = _segments_by_key(arr, order_f, binary)
    if not len(key):
        return {}
    bounds = np.flatnonzero(key[1:] != key[:-1]) + 1
    runs = np.stack((flat, length), axis=1)
    heads = key[np.concatenate(([0], bounds))]
    return {k.item(): _codec.from_runs(part, base, relative)
            for k, part in zip(heads, np.split(runs, bounds), strict=True)}
