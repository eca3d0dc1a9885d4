"""encode(): every dtype and memory layout, thresholds, and the variants."""

import numpy as np
import pytest
from reference import random_mask, ref_encode

import rlecodec

VARIANTS = [("F", 1, False), ("C", 1, False), ("F", 0, False), ("C", 0, True),
            ("F", 0, True), ("F", 1, True)]


def test_known_answers():
    m = np.zeros((4, 4), np.uint8)
    m[0:3, 0] = 1
    m[1:3, 2] = 1
    assert rlecodec.encode(m) == "1 3 10 2"
    assert rlecodec.encode(m, order="C") == "1 1 5 1 7 1 9 1 11 1"
    assert rlecodec.encode(m, base=0) == "0 3 9 2"
    assert rlecodec.encode(m, base=0, relative=True) == "0 3 6 2"
    assert rlecodec.encode(np.ones((3, 5), bool)) == "1 15"
    assert rlecodec.encode(np.zeros((3, 5), bool)) == ""


@pytest.mark.parametrize("order,base,relative", VARIANTS)
def test_matches_reference_on_random_masks(order, base, relative):
    rng = np.random.default_rng(21)
    for _ in range(150):
        h, w = int(rng.integers(1, 90)), int(rng.integers(1, 90))
        m = random_mask(rng, h, w)
        assert rlecodec.encode(m, order=order, base=base, relative=relative) == ref_encode(
            m, order, base, relative)


@pytest.mark.parametrize("dtype", [bool, np.uint8, np.int8, np.uint16, np.int16, np.uint32,
                                   np.int32, np.uint64, np.int64, np.float16, np.float32,
                                   np.float64, np.longdouble, ">i4", ">f8"])
def test_every_dtype(dtype):
    rng = np.random.default_rng(3)
    base = (rng.random((29, 41)) < 0.4).astype(np.uint8)
    values = base * rng.integers(1, 100, base.shape)  # various non-zero values
    m = values.astype(dtype) if np.dtype(dtype).kind != "b" else base.astype(bool)
    for order in "FC":
        assert rlecodec.encode(m, order=order) == ref_encode(base, order)


def test_negative_zero_and_nan_floats():
    m = np.array([[-0.0, np.nan], [0.0, -1e-30]], np.float32)
    assert rlecodec.encode(m) == ref_encode(np.array([[0, 1], [0, 1]]))


def test_bytes_that_are_not_zero_or_one():
    m = np.array([[0, 255, 2], [128, 0, 1]], np.uint8)
    assert rlecodec.encode(m) == ref_encode(m != 0)
    assert rlecodec.encode(m, order="C") == ref_encode(m != 0, "C")


@pytest.mark.parametrize("order", ["F", "C"])
def test_every_layout(order):
    rng = np.random.default_rng(4)
    for _ in range(30):
        h, w = int(rng.integers(1, 80)), int(rng.integers(1, 80))
        m = random_mask(rng, h, w)
        want = ref_encode(m, order)
        big = np.zeros((3 * h + 2, 4 * w + 3), np.uint8)
        big[1:1 + 3 * h:3, 2:2 + 4 * w:4] = m
        flipped = np.ascontiguousarray(m[::-1, ::-1])
        layouts = [m, np.asfortranarray(m), big[1:1 + 3 * h:3, 2:2 + 4 * w:4],
                   flipped[::-1, ::-1], np.ascontiguousarray(m.T).T, m.astype(np.int32)[:, :],
                   np.asfortranarray(m.astype(np.float64)), m.tolist()]
        for variant in layouts:
            assert rlecodec.encode(variant, order=order) == want


def test_read_only_and_unaligned_buffers():
    m = (np.random.default_rng(1).random((33, 47)) < 0.5)
    ro = m.astype(np.uint8)
    ro.flags.writeable = False
    assert rlecodec.encode(ro) == ref_encode(m)
    raw = np.zeros(33 * 47 * 4 + 1, np.uint8)
    unaligned = raw[1:].view(np.int32).reshape(33, 47)
    unaligned[:] = m
    assert not unaligned.flags.aligned
    assert rlecodec.encode(unaligned) == ref_encode(m)
    assert rlecodec.encode(unaligned, order="C") == ref_encode(m, "C")


def test_objects_with_array_interface():
    class Tensor:
        def __init__(self, data):
            self.data = data

        def __array__(self, dtype=None, copy=None):
            return self.data

    m = np.eye(5, dtype=np.uint8)
    assert rlecodec.encode(Tensor(m)) == ref_encode(m)


def test_degenerate_shapes():
    for shape in [(1, 1), (1, 300), (300, 1), (1, 7), (7, 1)]:
        rng = np.random.default_rng(sum(shape))
        m = (rng.random(shape) < 0.5).astype(np.uint8)
        for order in "FC":
            assert rlecodec.encode(m, order=order) == ref_encode(m, order)
    for shape in [(0, 0), (0, 5), (5, 0)]:
        assert rlecodec.encode(np.zeros(shape, np.uint8)) == ""


def test_threshold_floats():
    rng = np.random.default_rng(8)
    p = rng.random((31, 29)).astype(np.float32)
    for t in (0.0, 0.5, 0.999, -1.0, 2.0):
        assert rlecodec.encode(p, threshold=t) == ref_encode(p > t)
    p64 = p.astype(np.float64)
    assert rlecodec.encode(p64[::2, ::-1], threshold=0.3, order="C") == ref_encode(
        p64[::2, ::-1] > 0.3, "C")


def test_threshold_integers_and_bools():
    rng = np.random.default_rng(9)
    for dtype in (np.uint8, np.int8, np.int16, np.uint32, np.int64, np.uint64):
        info = np.iinfo(dtype)
        m = rng.integers(info.min, info.max, (17, 19), dtype=dtype, endpoint=True)
        for t in (0, 0.5, -0.5, 127.5, -3, float(info.max), float(info.min) - 1, 1e30, -1e30,
                  float("inf"), float("-inf")):
            assert rlecodec.encode(m, threshold=t) == ref_encode(m > t), (dtype, t)
    b = rng.random((9, 9)) < 0.5
    for t in (-1, 0, 0.5, 1):
        assert rlecodec.encode(b, threshold=t) == ref_encode(b > t)


def test_threshold_validation():
    with pytest.raises(ValueError, match="NaN"):
        rlecodec.encode(np.zeros((2, 2)), threshold=float("nan"))
    with pytest.raises(TypeError, match="threshold"):
        rlecodec.encode(np.zeros((2, 2)), threshold="high")


def test_input_validation():
    for bad in [np.zeros(5), np.zeros((2, 3, 4)), 3, [[1, 2], [3]]]:
        with pytest.raises(ValueError):
            rlecodec.encode(bad)
    for bad in [np.zeros((2, 2), complex), np.array([["a", "b"]])]:
        with pytest.raises(TypeError, match="dtype"):
            rlecodec.encode(bad)
    with pytest.raises(ValueError):
        rlecodec.encode(np.zeros((2, 2)), order="K")
    with pytest.raises(ValueError):
        rlecodec.encode(np.zeros((2, 2)), base=3)


def test_encode_does_not_modify_or_copy_the_mask():
    m = np.zeros((64, 64), np.uint8)
    m[10:20, 5:50] = 3
    before = m.copy()
    rlecodec.encode(m)
    np.testing.assert_array_equal(m, before)
