"""Fuzz every parsing entry point of rlecodec with atheris (libFuzzer for Python):
Kaggle text (decode, decode_many, to_runs, from_runs, coco.from_kaggle) in every option,
as bytes or as str with non-ASCII characters and lone surrogates, batches split at '|' with
the bad item anywhere, COCO compressed counts as bytes and str, encode_classes on label
maps and stacks made of the input bytes, windows of the text and its runs, and the mask
encoded again from four tiles.

    pip install atheris
    python fuzz/fuzz_rle.py -runs=200000 fuzz/corpus          # or -max_total_time=600
    python fuzz/make_corpus.py fuzz/corpus                    # (re)build the seed corpus

An input is 3 option bytes (height, width, flags: order, base, relative, lenient, str,
surrogates) followed by the run-length text.  Beyond
"no crash", each input checks the contract: text that ``decode`` accepts round-trips
through ``encode`` to the same mask and agrees with ``to_runs``; text it rejects raises
``RLEError`` and leaves ``out`` exactly as it was.
"""

from __future__ import annotations

import sys

import numpy as np

try:  # coverage feedback from the facade (which error, which path) when fuzzing
    import atheris

    with atheris.instrument_imports(include=["rlecodec"]):
        import rlecodec
except ImportError:  # replaying seeds in the test suite needs no atheris
    import rlecodec
from rlecodec import _codec  # noqa: E402

ORDERS = ("F", "C")


def options(data: bytes) -> tuple[tuple[int, int], dict[str, object], bool, bytes]:
    h, w, flags = (data + b"\0\0\0")[:3]
    opts = dict(order=ORDERS[flags & 1], base=(flags >> 1) & 1, relative=bool(flags & 4))
    strict = not flags & 8
    return (h, w), opts, strict, data[3:]


def check_one(data: bytes) -> None:
    shape, opts, strict, raw = options(data)
    text: str | bytes = raw
    if data[2:3] and data[2] & 16:
        # Non-ASCII str: latin-1 characters, or (flag 32) lone surrogates where the bytes
        # are not UTF-8, as files read with errors="surrogateescape" give them.
        text = raw.decode("utf-8", "surrogateescape") if data[2] & 32 else raw.decode("latin-1")
    check_batch(shape, text, opts, strict)
    out = np.full(shape, 7, np.uint8)
    try:
        rlecodec.decode(text, out=out, strict=strict, **opts)
    except rlecodec.RLEError as err:
        assert (out == 7).all(), "a rejected input changed out"
        assert isinstance(err.token, int) and err.token >= 0 and err.reason, err
        check_window(shape, text, opts, strict, None, err)
        check_coco(shape, raw)
        check_labels(shape, raw, opts)
        if strict and opts["order"] == "F":
            try:
                rlecodec.coco.from_kaggle(text, shape, base=opts["base"],
                                          relative=opts["relative"])
            except rlecodec.RLEError as again:
                assert again.token == err.token, "from_kaggle blames another token"
            else:
                raise AssertionError("from_kaggle accepted text that decode rejects")
        return
    assert set(np.unique(out).tolist()) <= {0, 1}
    canonical = rlecodec.encode(out, **opts)
    again = rlecodec.decode(canonical, shape, **opts)
    assert np.array_equal(again, out), "encode(decode(text)) does not round-trip"
    check_window(shape, text, opts, strict, out, None)
    check_tiles(out, canonical, opts, len(raw))
    check_coco(shape, raw)
    check_labels(shape, raw, opts)
    if strict and opts["order"] == "F":
        assert rlecodec.coco.from_kaggle(text, shape, base=opts["base"],
                                         relative=opts["relative"]) == rlecodec.coco.encode(out)
    runs = rlecodec.to_runs(text, base=opts["base"], relative=opts["relative"], strict=strict)
    if strict:
        assert int(runs[:, 1].sum()) == int(out.sum()), "to_runs disagrees with decode"
        assert rlecodec.from_runs(rlecodec.to_runs(canonical, **_no_order(opts)),
                                  **_no_order(opts)) == canonical


def check_batch(shape: tuple[int, int], text: str | bytes, opts: dict[str, object],
                strict: bool) -> None:
    """The input split at '|' into a batch: decode_many names the first item that fails on
    its own, in one thread or two, and leaves out untouched; else it is each item's mask."""
    items = text.split("|" if isinstance(text, str) else b"|")
    singles, first_bad = [], None
    for k, item in enumerate(items):
        try:
            singles.append(rlecodec.decode(item, shape, strict=strict, **opts))
        except rlecodec.RLEError:
            first_bad = k if first_bad is None else first_bad
    for threads in (1, 2):
        out = np.full((len(items), *shape), 7, np.uint8)
        try:
            rlecodec.decode_many(items, out=out, strict=strict, threads=threads, **opts)
        except rlecodec.RLEError as err:
            assert err.item == first_bad, "decode_many blames another item"
            assert (out == 7).all(), "a rejected batch changed out"
            continue
        assert first_bad is None, "decode_many accepted a bad item"
        assert all(np.array_equal(a, b) for a, b in zip(out, singles, strict=True))


def check_window(shape: tuple[int, int], text: str | bytes, opts: dict[str, object],
                 strict: bool, mask: np.ndarray | None, err: rlecodec.RLEError | None) -> None:
    """A window (its bounds from the input's length and height) of an accepted text is that
    slice of its mask, from the text and from its runs; a rejected text is rejected for the
    same token whatever the window, out untouched."""
    h, w = shape
    n = len(text)
    win = np.s_[n % (h + 3) - 2 : n // 3 % (h + 2), -(n % (w + 2)) or None : n % 7 - 3 or None]
    try:
        got = rlecodec.decode(text, shape, strict=strict, window=win, **opts)
    except rlecodec.RLEError as again:
        assert err is not None, "a window rejected text that decode accepts"
        assert (again.token, again.reason) == (err.token, err.reason), "window blames another"
        return
    assert mask is not None, "a window accepted text that decode rejects"
    assert np.array_equal(got, mask[win]), "the window is not the slice of the mask"
    runs = rlecodec.to_runs(text, base=opts["base"], relative=opts["relative"], strict=strict)
    if strict:
        got = rlecodec.decode(runs, shape, order=opts["order"], base=0, window=win)
        assert np.array_equal(got, mask[win]), "the window of runs is not the slice"


def check_tiles(mask: np.ndarray, canonical: str, opts: dict[str, object], cut: int) -> None:
    """The mask cut in four tiles, added in an order the input picks: encode's text."""
    h, w = mask.shape
    y, x = cut % (h + 1), cut // 2 % (w + 1)
    enc = rlecodec.TileEncoder((h, w), **opts)
    quarters = [(0, y, 0, x), (y, h, 0, x), (0, y, x, w), (y, h, x, w)]
    for k in range(4):
        y0, y1, x0, x1 = quarters[(k + cut) % 4]
        enc.add(mask[y0:y1, x0:x1], y0, x0)
    assert enc.finish() == canonical, "TileEncoder disagrees with encode"


def check_coco(shape: tuple[int, int], raw: bytes) -> None:
    from rlecodec import coco

    out = np.full(shape, 7, np.uint8)
    obj = {"size": list(shape), "counts": raw}
    # The same counts as a str (pycocotools' JSON form): the same answer, or for text that
    # is not ASCII, an RLEError.
    as_str = {"size": list(shape), "counts": raw.decode("utf-8", "surrogateescape")}
    try:
        from_str = coco.decode(as_str)
    except rlecodec.RLEError:
        from_str = None
    # Memory in COCO's order (the string read straight into pixels) and int32 masks (the
    # exact reader through runs) must agree with the C-ordered bytes, errors included.
    out_f = np.full(shape[::-1], 7, np.uint8).T
    try:
        coco.decode(obj, out=out)
    except rlecodec.RLEError as err:
        assert (out == 7).all(), "a rejected COCO string changed out"
        assert err.reason, err
        assert from_str is None, "COCO str counts accepted what the bytes reject"
        for kwargs in ({"out": out_f}, {"memory": "F"}, {"dtype": np.int32}, {},
                       {"threads": 1}):
            try:
                coco.decode(obj, **kwargs)
            except rlecodec.RLEError as again:
                assert str(again) == str(err), (again, err)
            else:
                raise AssertionError(f"COCO decode with {list(kwargs)} accepted a bad string")
        assert (out_f == 7).all(), "a rejected COCO string changed a Fortran out"
        # Counts read one by one, then checked (no steps of several counts): the same count
        try:
            _codec.coco_runs_from_counts(_codec.coco_counts_from_string(raw),
                                         shape[0] * shape[1])
        except _codec.KernelError as ref:
            assert ref.token == err.token, (ref, err)
        else:
            raise AssertionError("the count-by-count reader accepted a rejected string")
        return
    _codec.coco_runs_from_counts(_codec.coco_counts_from_string(raw), shape[0] * shape[1])
    assert from_str is not None and np.array_equal(from_str, out), "COCO str counts differ"
    coco.decode(obj, out=out_f)
    assert np.array_equal(out_f, out), "COCO into Fortran memory differs"
    assert np.array_equal(coco.decode(obj, memory="F"), out), "a new Fortran COCO mask differs"
    assert np.array_equal(coco.decode(obj, dtype=np.int32), out), "the exact reader differs"
    assert np.array_equal(coco.decode(obj), out), "a new C-ordered COCO mask differs"
    assert coco.area(obj) == int(out.sum())
    again = coco.decode(coco.encode(out))
    assert np.array_equal(again, out), "COCO decode/encode does not round-trip"
    # A stack is encoded as one 3-D array: the same counts as mask by mask, any layout.
    from rlecodec.coco import mask as mask_utils
    stack = np.stack([out, 1 - out, out], axis=2)
    one_by_one = [coco.encode(stack[:, :, k]) for k in range(3)]
    assert mask_utils.encode(stack) == one_by_one, "a stack's COCO counts differ"
    assert mask_utils.encode(np.asfortranarray(stack)) == one_by_one, "an F stack's differ"
    assert coco.encode(stack.transpose(2, 0, 1)) == one_by_one, "an (N, H, W) stack's differ"


def check_labels(shape: tuple[int, int], raw: bytes, opts: dict[str, object]) -> None:
    """encode_classes on a label map and a stack made of the input bytes agrees with
    encoding each label or channel on its own."""
    h, w = shape
    if not h * w:
        return
    flat = np.frombuffer((raw * (h * w // max(len(raw), 1) + 1))[: h * w] or bytes(h * w),
                         np.uint8)
    labels = (flat % 5).reshape(shape)
    views = (labels, np.asfortranarray(labels), labels.astype(np.int16)[::-1][::-1])
    want = {v: rlecodec.encode(labels == v, **opts) for v in range(1, 5) if (labels == v).any()}
    for view in views:
        assert rlecodec.encode_classes(view, **opts) == want, "encode_classes (labels)"
    stack = np.stack([labels == v for v in range(1, 5)], axis=2)
    texts = {v: rlecodec.encode(stack[:, :, v - 1], **opts) for v in range(1, 5)}
    assert rlecodec.encode_classes(stack, **opts) == texts, "encode_classes (stack)"


def _no_order(opts: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in opts.items() if k != "order"}


def main() -> None:
    # The C kernels are exercised but not instrumented for coverage (that takes a clang
    # -fsanitize=fuzzer build of the extension); the facade's branches guide the search.
    atheris.Setup(sys.argv, check_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
