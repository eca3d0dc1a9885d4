"""rlecodec.coco against pycocotools (a test-only dependency) and the format's definition."""

import numpy as np
import pytest
from reference import (
    random_mask,
    ref_decode,
    ref_encode,
    reference_coco_string,
    tokens_of_steps,
)

import rlecodec
from rlecodec import _codec, coco

pycoco = pytest.importorskip("pycocotools.mask")


def masks():
    rng = np.random.default_rng(17)
    shapes = [(1, 1), (1, 9), (9, 1), (4, 4), (33, 65), (64, 64), (120, 37)]
    for shape in shapes:
        for _ in range(6):
            yield random_mask(rng, *shape)
        yield np.zeros(shape, np.uint8)
        yield np.ones(shape, np.uint8)


def test_encode_is_byte_for_byte_pycocotools():
    for m in masks():
        want = pycoco.encode(np.asfortranarray(m))
        assert coco.encode(m) == want
        assert coco.encode(m.astype(bool)[::1, ::1]) == want
        assert coco.encode(np.asfortranarray(m * 7).astype(np.float32)) == want
        assert coco.encode(m, compressed=False)["counts"] == _uncompressed(m)


def _uncompressed(m):
    flat = np.concatenate([[0], m.ravel(order="F") != 0, [0]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(flat))
    bounds = np.concatenate([[0], edges, [m.size]])
    counts = np.diff(bounds).tolist()
    return counts if counts[-1] or len(counts) == 1 else counts[:-1]


def test_decode_is_pycocotools_decode():
    for m in masks():
        rle = pycoco.encode(np.asfortranarray(m))
        np.testing.assert_array_equal(coco.decode(rle), pycoco.decode(rle))
        as_str = dict(rle, counts=rle["counts"].decode())
        np.testing.assert_array_equal(coco.decode(as_str), m)
        np.testing.assert_array_equal(coco.decode(coco.encode(m, compressed=False)), m)


def test_counts_with_empty_runs_decode_like_their_definition():
    """Counts of 0 inside a COCO RLE (touching foreground runs, an empty first background)
    and 1-character and longer counts mixed, compressed or not: the mask is the counts laid
    out column-major, alternating background and foreground."""
    rng = np.random.default_rng(12)
    for _ in range(200):
        counts = rng.choice([0, 0, 1, 2, 15, 16, 17, 40, 600], size=int(rng.integers(1, 30)))
        h = int(rng.integers(1, 5))
        total = int(counts.sum())
        pad = -total % h            # a last count that fills the final column
        counts = np.append(counts, pad) if pad else counts
        w = int(counts.sum()) // h
        if w == 0:
            continue
        flat = np.repeat(np.arange(len(counts)) % 2, counts).astype(np.uint8)
        want = flat.reshape((h, w), order="F")
        obj = {"size": [h, w], "counts": counts.tolist()}
        np.testing.assert_array_equal(coco.decode(obj), want)
        packed = {"size": [h, w], "counts": bytes(reference_coco_string(counts.tolist()))}
        np.testing.assert_array_equal(coco.decode(packed), want)


def test_area_and_bbox_are_pycocotools():
    for m in masks():
        rle = pycoco.encode(np.asfortranarray(m))
        assert coco.area(rle) == int(pycoco.area(rle))
        np.testing.assert_array_equal(coco.to_bbox(rle), pycoco.toBbox(rle))
    rles = [pycoco.encode(np.asfortranarray(m)) for m in list(masks())[:5]]
    np.testing.assert_array_equal(coco.area(rles), pycoco.area(rles))
    np.testing.assert_array_equal(coco.to_bbox(rles), pycoco.toBbox(rles))


@pytest.mark.parametrize("order", ["F", "C"])
def test_kaggle_round_trips(order):
    rng = np.random.default_rng(5)
    for _ in range(40):
        m = random_mask(rng, int(rng.integers(1, 60)), int(rng.integers(1, 60)))
        text = ref_encode(m, order)
        obj = coco.from_kaggle(text, m.shape, order=order)
        assert obj == pycoco.encode(np.asfortranarray(m))
        assert coco.to_kaggle(obj, order=order) == text
        assert coco.to_kaggle(obj, order=order, base=0, relative=True) == ref_encode(
            m, order, 0, True)


def test_from_kaggle_joins_touching_runs_and_checks_bounds():
    assert coco.from_kaggle("1 2 3 2", (2, 3), compressed=False)["counts"] == [0, 4, 2]
    with pytest.raises(rlecodec.RLEError) as info:
        coco.from_kaggle("1 2 5 9", (2, 3))
    assert (info.value.token, info.value.reason) == (2, "past_end")


def test_batches():
    ms = [m for m in masks() if m.shape == (33, 65)]
    rles = coco.encode(np.stack(ms))
    assert rles == [pycoco.encode(np.asfortranarray(m)) for m in ms]
    np.testing.assert_array_equal(coco.decode(rles), np.stack(ms))


@pytest.mark.parametrize("obj,reason", [
    ({"size": [2, 2], "counts": b"5"}, "size_mismatch"),       # sums to 5, not 4
    ({"size": [2, 2], "counts": [1, 2]}, "size_mismatch"),
    ({"size": [2, 2], "counts": [1, -1, 4]}, "negative"),
    ({"size": [2, 2], "counts": b"0\x7f"}, "not_a_number"),      # outside the alphabet
    ({"size": [2, 2], "counts": "0 4"}, "not_a_number"),
    ({"size": [2, 2], "counts": b"0P"}, "truncated"),           # 'P' has the "more" bit
    ({"size": [2, 2], "counts": b"04N"}, "negative"),           # delta below zero
    ({"size": [2, 2], "counts": b"o" * 14 + b"0"}, "overflow"),
])
def test_malformed_counts(obj, reason):
    out = np.full((2, 2), 7, np.uint8)
    with pytest.raises(rlecodec.RLEError) as info:
        coco.decode(obj, out=out)
    assert info.value.reason == reason
    assert (out == 7).all()


def test_bad_objects():
    for bad in ["x", {"counts": b"4"}, {"size": [2], "counts": b"4"},
                {"size": [2, 2], "counts": 4}]:
        with pytest.raises((TypeError, ValueError)):
            coco.decode(bad)


def test_the_readme_example_runs(monkeypatch):
    import pathlib
    import re

    repo = pathlib.Path(__file__).resolve().parent.parent
    readme = (repo / "README.md").read_text()
    block = re.search(r"## COCO RLE.*?```python\n(.*?)```", readme, re.S).group(1)
    monkeypatch.chdir(repo)
    exec(compile(block, "README.md", "exec"), {})


def test_a_bad_item_of_a_batch_is_named_and_nothing_is_written():
    ms = [m for m in masks() if m.shape == (33, 65)][:3]
    rles = [pycoco.encode(np.asfortranarray(m)) for m in ms]
    rles[1] = {"size": [33, 65], "counts": b"0\x7f"}
    out = np.full((3, 33, 65), 7, np.uint8)
    with pytest.raises(rlecodec.RLEError, match="item 1: compressed counts") as info:
        coco.decode(rles, out=out)
    assert (info.value.item, info.value.reason) == (1, "not_a_number")
    assert (out == 7).all()
    for threads in (1, 2):
        np.testing.assert_array_equal(coco.decode(rles[:1] + rles[2:], threads=threads),
                                      np.stack([ms[0], ms[2]]))


def test_counts_that_overflow_64_bits_are_errors_not_wraparounds():
    def enc(counts):
        return bytes(reference_coco_string(counts))

    # A delta of 2**62 on top of a count of 2**62: 2**63 does not fit.
    head = enc([1, 2**62, 1])
    delta = enc([1, 0, 1, 2**62])[len(enc([1, 0, 1])):]
    with pytest.raises(rlecodec.RLEError) as info:
        coco.decode({"size": [2, 2], "counts": head + delta})
    assert (info.value.token, info.value.reason) == (3, "overflow")
    # Counts whose sum overflows int64 are a size mismatch, found without overflowing.
    with pytest.raises(rlecodec.RLEError, match="sum to 13835058055282163712") as info:
        coco.decode({"size": [2, 2], "counts": [2**62, 2**62, 2**62]})
    assert info.value.reason == "size_mismatch"
    with pytest.raises(rlecodec.RLEError) as info:
        coco.decode({"size": [2, 2], "counts": np.array([2**64 - 1], np.uint64)})
    assert info.value.reason == "overflow"


def test_compressed_counts_round_trip_at_every_length_and_sign_boundary():
    """Counts whose deltas need 1 to 13 characters, positive and negative, at the edges of
    each 5-bit group, survive compression (decoded by the independent reader)."""
    edges = sorted({0, 1, 2**63 - 1} | {v + d for b in range(4, 64, 5)
                                        for v in (2**b, 2**(b + 1)) for d in (-1, 0)
                                        if 0 <= v + d < 2**63})
    rng = np.random.default_rng(9)
    for _ in range(20):
        counts = rng.choice(edges, size=rng.integers(1, 40)).astype(np.int64)
        text = _codec.coco_string_from_counts(counts)
        np.testing.assert_array_equal(_codec.coco_counts_from_string(text), counts)
        assert text == bytes(reference_coco_string(counts.tolist()))


def test_deltas_at_every_character_count_boundary_are_written_exactly():
    """Deltas (count minus the count two before) on both sides of every point where the
    number of characters changes, +-2**(5n - 1), positive and negative."""
    edges = [s * 2**(5 * n - 1) + d for n in range(1, 13) for s in (1, -1) for d in (-1, 0, 1)]
    rng = np.random.default_rng(11)
    for _ in range(40):
        deltas = rng.choice(edges, size=int(rng.integers(1, 30)))
        counts = [2**61, 2**61, 2**61]
        for d in deltas:
            # Each delta is undone by the next on the same track: counts stay near 2**61.
            back = counts[-2] - counts[-4] if len(counts) > 3 else 0
            counts.append(counts[-2] + (int(d) if back == 0 else -back))
        text = _codec.coco_string_from_counts(np.array(counts, np.int64))
        assert text == bytes(reference_coco_string(counts))
        np.testing.assert_array_equal(_codec.coco_counts_from_string(text), counts)


def test_runs_are_compressed_like_their_counts_at_every_length_and_sign_boundary():
    """The string written straight from runs (no counts array) is the reference string of
    the counts those runs define, for gaps and lengths at the edges of each 5-bit group,
    with and without a trailing background."""
    sizes = sorted({1, 2} | {v + d for b in range(4, 55, 5) for v in (2**b, 2**(b + 1))
                             for d in (-1, 0, 1)})
    rng = np.random.default_rng(10)
    for trial in range(60):
        n = int(rng.integers(0, 12))
        gaps = rng.choice(sizes, size=n)
        gaps[0:1] -= trial % 2  # a first run at pixel 0 gives a first count of 0
        lengths = rng.choice(sizes, size=n)
        starts = np.cumsum(gaps) + np.concatenate([[0], np.cumsum(lengths)[:-1]])
        runs = np.stack([starts, lengths], axis=1).astype(np.int64).reshape(-1, 2)
        end = int(starts[-1] + lengths[-1]) if n else 0
        tail = int(rng.choice([0, 1, 2**40])) or (0 if n else 1)  # no runs: one count
        counts = np.stack([gaps, lengths], axis=1).ravel().tolist() + ([tail] if tail else [])
        total = end + tail
        assert _codec.coco_from_runs(runs, total, True) == bytes(reference_coco_string(counts))
        assert _codec.coco_from_runs(runs, total, False).tolist() == counts
    # Small gaps and lengths: deltas on both sides of the one-character range [-16, 15]
    # in which a run's two counts are written at once.
    gaps, lengths = rng.integers(1, 41, size=(2, 3000))
    assert set(np.diff(gaps).tolist()) >= set(range(-20, 21))
    starts = np.cumsum(gaps) + np.concatenate([[0], np.cumsum(lengths)[:-1]])
    runs = np.stack([starts, lengths], axis=1).astype(np.int64)
    counts = np.stack([gaps, lengths], axis=1).ravel().tolist() + [5]
    total = int(starts[-1] + lengths[-1]) + 5
    assert _codec.coco_from_runs(runs, total, True) == bytes(reference_coco_string(counts))


@pytest.mark.parametrize("base,relative", [(1, False), (0, False), (0, True), (1, True)])
def test_from_kaggle_in_every_variant_matches_pycocotools(base, relative):
    rng = np.random.default_rng(base * 2 + relative)
    for _ in range(30):
        m = random_mask(rng, int(rng.integers(1, 50)), int(rng.integers(1, 50)))
        text = ref_encode(m, "F", base, relative)
        want = pycoco.encode(np.asfortranarray(m))
        assert coco.from_kaggle(text, m.shape, base=base, relative=relative) == want
        plain = coco.from_kaggle(text, m.shape, base=base, relative=relative,
                                 compressed=False)
        assert coco.encode(m, compressed=False) == plain
    for bad, token, reason in [("1 x", 1, "not_a_number"), ("3 1 1 1", 2, "unsorted"),
                               ("1 0", 0, "zero_length"), ("1 2 3", 2, "odd_token_count")]:
        with pytest.raises(rlecodec.RLEError) as info:
            coco.from_kaggle(bad, (4, 4))
        assert (info.value.token, info.value.reason) == (token, reason), bad
    assert coco.from_kaggle(None, (2, 3), compressed=False)["counts"] == [6]
    assert coco.from_kaggle("1 6", (2, 3), compressed=False)["counts"] == [0, 6]


def long_text(rng, pairs: int, relative: bool):
    """``pairs`` pairs of random sizes, every other one touching the run before (so that
    runs are joined on both sides of wherever the transcoder hands runs over to the
    string, every 4096 or so, and the string outgrows its first room), and the mask shape
    they fill."""
    sizes = rng.choice([1, 2, 7, 30, 900], pairs, p=[0.3, 0.3, 0.25, 0.13, 0.02])
    steps = [("touch" if k % 2 else "gap", int(size)) for k, size in enumerate(sizes)]
    tokens, end = tokens_of_steps(steps, relative)
    h = 61
    return " ".join(map(str, tokens)), (h, end // h + 1)


@pytest.mark.parametrize("relative", [False, True])
def test_from_kaggle_of_texts_longer_than_its_chunks(relative):
    rng = np.random.default_rng(5 + relative)
    for pairs in (8190, 8191, 8192, 8193, 30001):
        text, shape = long_text(rng, pairs, relative)
        mask = ref_decode(text, shape, "F", 1, relative)
        want = pycoco.encode(np.asfortranarray(mask))
        assert coco.from_kaggle(text, shape, relative=relative) == want, pairs
        plain = coco.from_kaggle(text, shape, relative=relative, compressed=False)
        assert coco.encode(mask, compressed=False) == plain


def test_from_kaggle_names_a_bad_pair_deep_in_a_long_text():
    rng = np.random.default_rng(9)
    text, shape = long_text(rng, 20000, False)
    tokens = text.split()
    for pair, token, reason in [(9001, "0", "zero_length"), (15000, "x", "not_a_number"),
                                (19999, "99999999999", "past_end")]:
        bad = tokens.copy()
        bad[2 * pair + 1] = token
        with pytest.raises(rlecodec.RLEError) as info:
            coco.from_kaggle(" ".join(bad), shape)
        want = 2 * pair + (1 if reason == "not_a_number" else 0)
        assert (info.value.token, info.value.reason) == (want, reason)


def test_the_usual_call_is_the_general_path():
    """One dict of compressed counts into a new mask goes a short way to the kernel: the
    same pixels, dtype, memory order and errors as the general path (threads=1), on valid
    strings as bytes and str and on corrupted ones (non-ASCII text included)."""
    from rlecodec.coco import _decode_usual
    rng = np.random.default_rng(5)
    kinds = [(np.uint8, 1, "C"), (bool, True, "F"), (np.float32, 0.5, "F"), (np.int16, -2, "C")]
    for m in masks():
        rle = pycoco.encode(np.asfortranarray(m))
        for counts in (rle["counts"], rle["counts"].decode()):
            obj = {"size": list(m.shape), "counts": counts}
            assert _decode_usual(obj, np.uint8, 1, False) is not None, "the short way"
            for dtype, value, memory in kinds:
                got = coco.decode(obj, dtype=dtype, value=value, memory=memory)
                want = np.where(m != 0, np.array(value, dtype), np.array(0, dtype))
                np.testing.assert_array_equal(got, want)
                assert got.dtype == np.dtype(dtype)
                assert got.flags.f_contiguous if memory == "F" else got.flags.c_contiguous
        for _ in range(4):  # a byte replaced, dropped or added: an error, worded alike
            data = bytearray(rle["counts"])
            k = int(rng.integers(len(data)))
            edit = int(rng.integers(3))
            if edit == 0:
                data[k] = int(rng.integers(40, 128))
            elif edit == 1:
                del data[k]
            else:
                data.insert(k, int(rng.integers(48, 112)))
            obj = {"size": list(m.shape), "counts": bytes(data)}
            outcomes = []
            for threads in (None, 1):
                try:
                    outcomes.append(coco.decode(obj, threads=threads).tolist())
                except rlecodec.RLEError as err:
                    outcomes.append((str(err), err.reason, err.token))
            assert outcomes[0] == outcomes[1]
    for unusual in [{"size": (2, 2), "counts": b"04"}, {"size": [True, 4], "counts": b"04"},
                    {"size": [2**40, 1], "counts": b"04"}, {"size": [2, 2], "counts": [0, 4]},
                    {"size": [2, 2, 1], "counts": b"04"},
                    {"size": [8192, 8192], "counts": b"0"}, {"counts": b"04"}]:
        assert _decode_usual(unusual, np.uint8, 1, False) is None, unusual
    assert coco.decode({"size": (2, 2), "counts": b"04"}).tolist() == [[1, 1], [1, 1]]
    for text in ["0\u00e94", "0\udcff4"]:  # not ASCII: the kernel refuses it, worded alike
        obj = {"size": [2, 2], "counts": text}
        with pytest.raises(rlecodec.RLEError) as short:
            coco.decode(obj)
        with pytest.raises(rlecodec.RLEError) as general:
            coco.decode(obj, threads=1)
        assert str(short.value) == str(general.value) and "outside '0'..'o'" in str(short.value)
    with pytest.raises(TypeError):
        coco.decode({"size": [2, 2], "counts": 4})


def test_the_first_bad_item_of_a_list_is_the_one_named():
    """A list's objects are read, then their strings parsed in one pass: whichever pass
    finds a fault, the first bad item in list order is the one reported."""
    good = {"size": [2, 2], "counts": b"04"}
    bad_counts = {"size": [2, 2], "counts": b"0\x7f"}
    bad_size = {"size": [2, -1], "counts": b"04"}
    not_an_rle = {"counts": b"04"}
    cases = [([good, bad_counts, bad_size], rlecodec.RLEError, "item 1"),
             ([good, bad_size, bad_counts], ValueError, "negative, got"),
             ([bad_counts, not_an_rle], rlecodec.RLEError, "item 0"),
             ([good, not_an_rle, bad_counts], TypeError, "dict with 'size'")]
    for objs, kind, says in cases:
        for fn in (coco.area, coco.to_bbox, coco.merge):
            with pytest.raises(kind, match=says) as info:
                fn(objs)
            assert kind is not ValueError or not isinstance(info.value, rlecodec.RLEError)
    assert coco.area([good, {"size": [2, 2], "counts": "04"}]).tolist() == [4, 4]
