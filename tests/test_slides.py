"""Whole-slide masks: windows decoded from text, runs and COCO objects against slicing the
numpy reference's full decode, and TileEncoder against the reference encoding of the
assembled mask, on random masks, windows, tilings and every variant."""

import threading
import tracemalloc

import numpy as np
import pycocotools.mask as pycoco
import pytest
from reference import random_mask, ref_decode, ref_decode_lenient, ref_encode, ref_runs

import rlecodec
from rlecodec import RLEError, coco

VARIANTS = [dict(order="F", base=1, relative=False), dict(order="C", base=1, relative=False),
            dict(order="F", base=0, relative=True), dict(order="C", base=0, relative=True)]


def random_window(rng, h, w):
    """Slices of every kind numpy takes: open, negative, clipped, empty, reversed."""
    def part(n):
        kind = rng.integers(0, 6)
        if kind == 0:
            return slice(None)
        if kind == 1:
            i = int(rng.integers(0, n))
            return slice(i, i + 1)  # one pixel
        if kind == 2:
            return slice(int(rng.integers(-n - 3, 0)), None)
        if kind == 3:
            return slice(None, int(rng.integers(-n - 3, n + 3)))
        a, b = sorted(int(v) for v in rng.integers(-n - 3, n + 4, 2))
        return slice(b, a) if kind == 4 and rng.random() < 0.2 else slice(a, b)
    return part(h), part(w)


@pytest.mark.parametrize("variant", VARIANTS)
def test_windows_of_text_and_runs_match_the_reference(variant):
    rng = np.random.default_rng(len(str(variant)))
    order = variant["order"]
    for _ in range(400):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        mask = random_mask(rng, h, w)
        text = ref_encode(mask, **variant)
        full = ref_decode(text, (h, w), **variant)
        win = random_window(rng, h, w)
        got = rlecodec.decode(text, (h, w), window=win, **variant)
        assert got.shape == full[win].shape and got.dtype == np.uint8
        np.testing.assert_array_equal(got, full[win])
        runs = np.array(ref_runs(mask, order), np.int64).reshape(-1, 2)
        np.testing.assert_array_equal(
            rlecodec.decode(runs, (h, w), order=order, base=0, window=win), full[win])
        np.testing.assert_array_equal(
            rlecodec.decode(runs + [1, 0], (h, w), order=order, window=win), full[win])
        out = np.full(full[win].shape[::-1], 7, np.float32).T  # Fortran order
        result = rlecodec.decode(text, (h, w), window=win, out=out, value=0.5, **variant)
        assert result is out
        np.testing.assert_array_equal(out, full[win] * np.float32(0.5))


def test_whole_mask_and_edge_windows():
    rng = np.random.default_rng(1)
    mask = random_mask(rng, 17, 23) | (rng.random((17, 23)) < 0.3)
    text = ref_encode(mask)
    full = ref_decode(text, mask.shape)
    for win in [np.s_[:, :], np.s_[0:17, 0:23], np.s_[-1:, -1:], np.s_[5:5, :],
                np.s_[:, 30:], np.s_[-100:100, -100:100], np.s_[3:4, 7:8], np.s_[:, 22:],
                np.s_[16:, :], np.s_[10:2, :]]:
        np.testing.assert_array_equal(rlecodec.decode(text, mask.shape, window=win), full[win])


def test_lenient_windows_take_the_union_of_unsorted_overlapping_runs():
    text = "10 5 1 3 12 6 40 2"
    full = ref_decode_lenient(text, (6, 8))
    for win in [np.s_[:, :], np.s_[2:5, 1:3], np.s_[:, 6:]]:
        np.testing.assert_array_equal(
            rlecodec.decode(text, (6, 8), strict=False, window=win), full[win])
    with pytest.raises(RLEError, match="starts before the previous run"):
        rlecodec.decode(text, (6, 8), window=np.s_[:2, :2])


@pytest.mark.parametrize("bad, reason", [
    ("1 2 5 x", "not_a_number"), ("1 2 5", "odd_token_count"), ("1 2 47 5", "past_end"),
    ("5 2 1 2", "unsorted"), ("1 2 3 0", "zero_length"),
    (np.array([[0, 2], [47, 5]]), "past_end"), (np.array([[4, 2], [0, 2]]), "unsorted"),
    (np.array([[0, 2], [3, -1]]), "negative"), (np.array([0, 2, 3]), "odd_token_count")])
def test_a_malformed_input_is_refused_even_outside_the_window(bad, reason):
    out = np.full((2, 2), 9, np.uint8)
    base = 0 if isinstance(bad, np.ndarray) else 1
    with pytest.raises(RLEError) as window_err:
        rlecodec.decode(bad, (6, 8), base=base, window=np.s_[:2, :2], out=out)
    assert window_err.value.reason == reason
    assert (out == 9).all()
    with pytest.raises(RLEError) as full_err:
        rlecodec.decode(bad, (6, 8), base=base)
    assert str(window_err.value) == str(full_err.value)


@pytest.mark.parametrize("window, error, words", [
    (np.s_[::2, :], ValueError, "step 1"), (np.s_[:, 1:5:-1], ValueError, "step 1"),
    (np.s_[1:3], TypeError, "pair of slices"), ((slice(0, 2), 1), TypeError, "column part"),
    ((slice(0, 2),) * 3, TypeError, "pair of slices"), (np.s_[0.5:2, :], TypeError, "integers"),
    ((slice(True, 2), slice(None)), TypeError, "integers"), ([slice(0, 1)] * 2, TypeError, "pair"),
])
def test_window_argument_errors(window, error, words):
    with pytest.raises(error, match=words):
        rlecodec.decode("1 2", (4, 4), window=window)


def test_window_needs_the_whole_shape_and_an_out_of_its_own_shape():
    with pytest.raises(ValueError, match="needs shape"):
        rlecodec.decode("1 2", window=np.s_[:2, :2], out=np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="the window is 2x2"):
        rlecodec.decode("1 2", (4, 4), window=np.s_[:2, :2], out=np.zeros((4, 4), np.uint8))


def test_coco_windows_match_pycocotools():
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(1, 4))
        h, w = (int(v) for v in rng.integers(1, 25, 2))
        masks = np.stack([random_mask(rng, h, w) for _ in range(n)])
        objs = pycoco.encode(np.asfortranarray(masks.transpose(1, 2, 0)))
        full = pycoco.decode(objs).transpose(2, 0, 1)
        win = random_window(rng, h, w)
        np.testing.assert_array_equal(coco.decode(objs, window=win), full[:, win[0], win[1]])
        np.testing.assert_array_equal(coco.decode(objs[0], window=win), full[0][win])
        out = np.full((n, *full[0][win].shape), 5, np.uint8)
        assert coco.decode(objs, window=win, out=out) is out
        np.testing.assert_array_equal(out, full[:, win[0], win[1]])
    out = np.full((2, 1, 1), 5, np.uint8)
    good = {"size": [2, 2], "counts": [0, 4]}
    with pytest.raises(RLEError, match="item 1: counts sum to 3"):
        coco.decode([good, {"size": [2, 2], "counts": [1, 2]}], window=np.s_[:1, :1], out=out)
    assert (out == 5).all()


def test_a_window_of_a_huge_mask_allocates_only_the_window():
    shape = (100_000, 100_000)  # 10 GB as uint8
    text = "1 5 4999950001 100 9999999991 10"
    tracemalloc.start()
    try:
        tile = rlecodec.decode(text, shape, window=np.s_[49_990:50_010, 49_999:50_001])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    expected = np.zeros((20, 2), np.uint8)
    expected[10:, 0] = 1  # column 49999, rows 50000..50099
    np.testing.assert_array_equal(tile, expected)
    np.testing.assert_array_equal(rlecodec.decode(text, shape, window=np.s_[-12:, -1:]),
                                  np.pad(np.ones((10, 1), np.uint8), ((2, 0), (0, 0))))
    np.testing.assert_array_equal(rlecodec.decode(text, shape, window=np.s_[-1:, -3:]),
                                  np.array([[0, 0, 1]], np.uint8))


# ------------------------------------------------------------------------------ TileEncoder
def random_tiling(rng, h, w):
    """Rectangles that cover [0, h) x [0, w) exactly, cut at random, in random order."""
    todo, tiles = [(0, h, 0, w)], []
    while todo:
        y0, y1, x0, x1 = todo.pop()
        if (y1 - y0) * (x1 - x0) > 3 and rng.random() < 0.85:
            if rng.random() < 0.5 and y1 - y0 > 1:
                c = int(rng.integers(y0 + 1, y1))
                todo += [(y0, c, x0, x1), (c, y1, x0, x1)]
                continue
            if x1 - x0 > 1:
                c = int(rng.integers(x0 + 1, x1))
                todo += [(y0, y1, x0, c), (y0, y1, c, x1)]
                continue
        tiles.append((y0, y1, x0, x1))
    rng.shuffle(tiles)
    return tiles


def as_tile(rng, part):
    """The tile in a random dtype and memory layout, foreground unchanged."""
    kind = int(rng.integers(0, 5))
    if kind == 0:
        return part.astype(bool)
    if kind == 1:
        return np.asfortranarray(part.astype(np.int16) * -3)
    if kind == 2:
        return part.astype(np.float32)
    if kind == 3:
        padded = np.zeros((part.shape[0], 2 * part.shape[1]), np.uint8)
        padded[:, ::2] = part
        return padded[:, ::2]  # a strided view
    return part.tolist()


@pytest.mark.parametrize("variant", VARIANTS)
def test_tiles_in_any_order_encode_like_the_assembled_mask(variant):
    rng = np.random.default_rng(10 + len(str(variant)))
    for _ in range(150):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        mask = random_mask(rng, h, w)
        enc = rlecodec.TileEncoder((h, w), **variant)
        assembled = np.zeros_like(mask)
        for k, (y0, y1, x0, x1) in enumerate(random_tiling(rng, h, w)):
            if k == 0 and rng.random() < 0.3:
                continue  # an uncovered area is background
            enc.add(as_tile(rng, mask[y0:y1, x0:x1]), y0, x0)
            assembled[y0:y1, x0:x1] = mask[y0:y1, x0:x1]
        assert enc.finish() == ref_encode(assembled, **variant)
        runs = enc.runs()
        assert runs.dtype == np.int64 and runs.shape[1] == 2
        assert runs.tolist() == [list(r) for r in ref_runs(assembled, variant["order"])]
        if variant["order"] == "F":
            expected = pycoco.encode(np.asfortranarray(assembled))
            assert enc.coco() == {"size": expected["size"], "counts": expected["counts"]}
            assert pycoco.decode(enc.coco()).tolist() == assembled.tolist()


def test_tiles_take_a_threshold_and_can_be_finished_more_than_once():
    rng = np.random.default_rng(4)
    prob = rng.random((30, 50)).astype(np.float32)
    enc = rlecodec.TileEncoder((30, 50), threshold=0.7)
    enc.add(prob[:, :20], 0, 0)
    first = enc.finish()
    assert first == ref_encode(np.pad(prob[:, :20] > 0.7, ((0, 0), (0, 30))))
    enc.add(prob[:, 20:], 0, 20)
    assert enc.finish() == ref_encode(prob > 0.7)
    assert enc.finish() == ref_encode(prob > 0.7)
    assert enc.tiles == 2


def test_refused_tiles_name_the_problem_and_change_nothing():
    enc = rlecodec.TileEncoder((10, 12))
    enc.add(np.ones((4, 5), np.uint8), 2, 3)
    before = enc.finish()
    with pytest.raises(ValueError, match=r"3x3 tile at \(y=5, x=7\) overlaps the 4x5 tile "
                                         r"added at \(y=2, x=3\)"):
        enc.add(np.ones((3, 3)), 5, 7)
    with pytest.raises(ValueError, match="does not lie inside the 10x12 mask"):
        enc.add(np.ones((3, 3)), 8, 0)
    with pytest.raises(ValueError, match="does not lie inside"):
        enc.add(np.ones((3, 3)), -1, 0)
    with pytest.raises(TypeError, match="y must be an integer"):
        enc.add(np.ones((3, 3)), 1.0, 0)
    with pytest.raises(TypeError, match="x must be an integer"):
        enc.add(np.ones((3, 3)), 0, True)
    with pytest.raises(ValueError, match="2-D"):
        enc.add(np.ones((3, 3, 1)), 0, 0)
    with pytest.raises(TypeError):
        enc.add(np.array([["a"]]), 0, 0)
    assert enc.finish() == before
    enc.add(np.ones((2, 2)), 0, 0)  # the refused places are still free
    enc.add(np.ones((3, 3)), 6, 0)
    with pytest.raises(ValueError, match="order='F'"):
        rlecodec.TileEncoder((4, 4), order="C").coco()
    with pytest.raises(TypeError, match="threshold"):
        rlecodec.TileEncoder((4, 4), threshold="0.5")


def test_tiles_added_from_many_threads():
    rng = np.random.default_rng(5)
    mask = random_mask(rng, 300, 400) | (rng.random((300, 400)) < 0.2)
    tiles = [(y, x) for y in range(0, 300, 37) for x in range(0, 400, 41)]
    rng.shuffle(tiles)
    enc = rlecodec.TileEncoder(mask.shape, order="C")

    def work(k):
        for y, x in tiles[k::4]:
            enc.add(mask[y:y + 37, x:x + 41], y, x)
    workers = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert enc.tiles == len(tiles)
    assert enc.finish() == ref_encode(mask, order="C")


def test_a_huge_mask_from_a_few_tiles():
    h = w = 100_000
    enc = rlecodec.TileEncoder((h, w))
    block = np.ones((3, 2), np.uint8)
    enc.add(block, h - 3, w - 2)   # the last pixels
    enc.add(block, 0, 0)
    enc.add(np.zeros((1000, 1000)), 5000, 5000)
    assert enc.runs().tolist() == [[0, 3], [h, 3], [h * (w - 2) + h - 3, 3],
                                   [h * (w - 1) + h - 3, 3]]
    text = enc.finish()
    np.testing.assert_array_equal(rlecodec.decode(text, (h, w), window=np.s_[-4:, -3:]),
                                  np.pad(np.ones((3, 2), np.uint8), ((1, 0), (1, 0))))
