"""Masks above 2**31 pixels: 64-bit indices all the way through."""

import numpy as np
import pytest

import rlecodec

H = W = 46341  # 2_147_488_281 pixels > 2**31


@pytest.fixture(scope="module")
def huge_text():
    total = H * W
    # A run that wraps a column high up, one across the 2**31 boundary, and the last pixel.
    return (f"5 10 {46000 * H - 2} {H + 4} {2**31 - 3} 7 {total} 1"), total


def test_decode_and_encode_beyond_int32(huge_text):
    text, total = huge_text
    mask = rlecodec.decode(text, (H, W))
    assert mask.shape == (H, W) and int(np.count_nonzero(mask[:, :3])) == 10
    on = [4, 46000 * H - 3, 46000 * H + 1, 46001 * H, 2**31 - 4, 2**31 + 2, total - 1]
    off = [46000 * H - 4, 46001 * H + 2, 2**31 - 5, 2**31 + 3, total - 2]
    assert [int(mask[p % H, p // H]) for p in on] == [1] * len(on)
    assert [int(mask[p % H, p // H]) for p in off] == [0] * len(off)
    assert rlecodec.encode(mask) == text
    runs = rlecodec.to_runs(text)
    assert runs[-1].tolist() == [total - 1, 1]
    del mask


def test_decode_into_memmap_beyond_int32(tmp_path, huge_text):
    text, total = huge_text
    out = np.memmap(tmp_path / "huge.u8", dtype=np.uint8, mode="w+", shape=(H, W), order="F")
    rlecodec.decode(text, out=out)
    flat = out.reshape(-1, order="F")
    assert flat[2**31 - 4: 2**31 + 3].tolist() == [1] * 7
    assert flat[-1] == 1 and flat[-2] == 0
    with pytest.raises(rlecodec.RLEError):
        rlecodec.decode(f"{total} 2", out=out)
    assert flat[-1] == 1
    del out, flat


def test_a_tall_narrow_mask_across_memory_takes_memory_by_its_width():
    # Column-major runs of a row-major (2**26, 2) mask of short runs along memory: the
    # transposing scanner's tile is sized by the mask's width (L x 8 bytes here), not by
    # the widest tile (L x 512 bytes: 32 GiB, which no allocator here grants).
    h = 2**26
    mask = np.zeros((h, 2), np.uint8)
    mask[:, 0] = 1
    mask[h // 2 :: 3, 1] = 1
    expected_tail = rlecodec.from_runs(np.stack(
        [h + np.arange(h // 2, h, 3), np.ones(len(range(h // 2, h, 3)), np.int64)], axis=1))
    assert rlecodec.encode(mask) == f"1 {h} " + expected_tail
    del mask
