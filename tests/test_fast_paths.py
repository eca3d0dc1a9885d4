"""The fast paths (64-pixel bit masks, 64 x 64 bit transposes, row-sorted transposes in run
space, scattered writes) agree with the plain reference at every block boundary."""

import numpy as np
import pytest
from reference import ref_decode, ref_encode

import rlecodec

EDGES = [1, 2, 63, 64, 65, 127, 128, 129, 200]


def masks_for(h, w, rng):
    yield (rng.random((h, w)) < 0.5).astype(np.uint8)                 # noise: short runs
    block = np.zeros((h, w), np.uint8)
    block[h // 3: h - h // 4, w // 5: w - 1] = 1                       # long runs
    yield block
    yield np.ones((h, w), np.uint8)                                    # all on
    stripes = np.zeros((h, w), np.uint8)
    stripes[:, ::2] = 1
    yield stripes


@pytest.mark.parametrize("h", EDGES)
def test_block_boundaries_both_orders(h):
    rng = np.random.default_rng(h)
    for w in EDGES:
        for m in masks_for(h, w, rng):
            for order in "FC":
                text = ref_encode(m, order)
                assert rlecodec.encode(m, order=order) == text, (h, w, order)
                assert rlecodec.encode(np.asfortranarray(m), order=order) == text
                np.testing.assert_array_equal(rlecodec.decode(text, (h, w), order=order), m)
                out = np.full((w, h), 9, np.uint8).T  # Fortran layout
                np.testing.assert_array_equal(rlecodec.decode(text, order=order, out=out), m)


def test_wide_and_tall_tiles_with_strided_and_converted_reads():
    rng = np.random.default_rng(7)
    for h, w in [(70, 1100), (1100, 70), (130, 600)]:
        m = (rng.random((h, w)) < 0.02).astype(np.uint8)
        m[5:60, 100:400 if w > 400 else w - 1] = 1
        big = np.zeros((h, 2 * w), np.float32)
        big[:, ::2] = m * 0.75
        for order in "FC":
            want = ref_encode(m, order)
            assert rlecodec.encode(big[:, ::2], order=order) == want
            assert rlecodec.encode(big[:, ::2], order=order, threshold=0.5) == want
            assert rlecodec.encode(m.astype(bool)[::-1, ::-1][::-1, ::-1], order=order) == want


def test_decoder_paths_agree_on_dense_and_sparse_runs():
    """Mean run length decides between scattered and transposed writes: test both sides."""
    rng = np.random.default_rng(8)
    for density in (0.05, 0.5, 0.95):
        m = (rng.random((150, 170)) < density).astype(np.uint8)
        for text in (ref_encode(m), ref_encode(np.repeat(m[:, :17], 10, axis=1))):
            want = ref_decode(text, (150, 170))
            np.testing.assert_array_equal(rlecodec.decode(text, (150, 170)), want)
            np.testing.assert_array_equal(rlecodec.decode(text, (150, 170), dtype=np.int32,
                                                          value=-3), want.astype(np.int32) * -3)


@pytest.mark.parametrize("h,w", [(1, 1), (2, 300), (63, 65), (64, 64), (65, 63), (129, 200),
                                 (300, 2)])
def test_short_runs_into_row_major_bytes_through_bit_matrices(h, w):
    """Noise-like column-major runs into a C-ordered byte output go through 64 x 64 bit
    transposes: every block edge, any byte value, flipped and sliced outputs."""
    rng = np.random.default_rng(h * 1000 + w)
    for density in (0.05, 0.5, 0.95):
        m = (rng.random((h, w)) < density).astype(np.uint8)
        text = ref_encode(m)
        for dtype, value in [(np.uint8, 255), (bool, True), (np.int8, -2)]:
            want = np.where(m != 0, value, 0).astype(dtype)
            np.testing.assert_array_equal(rlecodec.decode(text, (h, w), dtype=dtype,
                                                          value=value), want)
            flipped = np.full((h, w), 7, dtype)[::-1]            # negative row stride
            rlecodec.decode(text, out=flipped, value=value)
            np.testing.assert_array_equal(flipped, want)
            wide = np.full((h, w + 5), 7, dtype)
            rlecodec.decode(text, out=wide[:, 2:w + 2], value=value)   # rows wider than w
            np.testing.assert_array_equal(wide[:, 2:w + 2], want)
            sentinel = np.array(7).astype(dtype)
            assert (wide[:, :2] == sentinel).all() and (wide[:, w + 2:] == sentinel).all()


@pytest.mark.parametrize("order", ["F", "C"])
def test_encode_skips_empty_64_pixel_blocks_without_losing_edges(order):
    """Runs that end or start exactly at a 64-pixel block edge, next to empty blocks."""
    n = 64 * 5
    for start, stop in [(0, 64), (63, 64), (64, 65), (64, 128), (127, 129), (0, 1),
                        (n - 1, n), (n - 64, n), (100, 300)]:
        line = np.zeros(n, np.uint8)
        line[start:stop] = 3
        for m in (line[None, :], line[:, None], np.tile(line, (3, 1)), np.tile(line, (3, 1)).T):
            m = np.ascontiguousarray(m) if order == "C" else np.asfortranarray(m)
            assert rlecodec.encode(m, order=order) == ref_encode(m, order), (start, stop)
