"""decode_many() and encode_many(): batches in threads, errors naming the item."""

import threading
import time

import numpy as np
import pytest
from reference import random_mask, ref_decode, ref_encode

import rlecodec


def make_batch(n, h, w, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([random_mask(rng, h, w) for _ in range(n)])


@pytest.mark.parametrize("threads", [1, 2, 3, 8, None])
def test_decode_many_matches_single(threads):
    masks = make_batch(37, 19, 23)
    texts = [ref_encode(m, "C", 0) for m in masks]
    texts[5] = None
    masks[5] = 0
    stack = rlecodec.decode_many(texts, (19, 23), order="C", base=0, threads=threads)
    assert stack.shape == (37, 19, 23) and stack.flags.c_contiguous
    np.testing.assert_array_equal(stack, masks)


@pytest.mark.parametrize("threads", [1, 2, 5, None])
def test_encode_many_matches_single(threads):
    masks = make_batch(41, 17, 29, seed=1)
    want = [ref_encode(m) for m in masks]
    assert rlecodec.encode_many(masks, threads=threads) == want
    assert rlecodec.encode_many(list(masks.astype(bool)), threads=threads) == want
    assert rlecodec.encode_many(iter(masks), threads=threads) == want


def test_encode_many_mixed_shapes_dtypes_and_threshold():
    rng = np.random.default_rng(2)
    masks = [rng.random((5, 7)), rng.random((11, 3)).astype(np.float32), rng.random((1, 9))]
    got = rlecodec.encode_many(masks, threshold=0.5, order="C", threads=2)
    assert got == [ref_encode(masks[0] > 0.5, "C"), ref_encode(masks[1] > np.float32(0.5), "C"),
                   ref_encode(masks[2] > 0.5, "C")]


def test_empty_batches():
    assert rlecodec.decode_many([], (3, 4)).shape == (0, 3, 4)
    assert rlecodec.encode_many([]) == []
    assert rlecodec.encode_many(np.zeros((0, 3, 4), np.uint8)) == []


def test_decode_many_into_out_and_dtype():
    masks = make_batch(9, 8, 8, seed=3)
    texts = [ref_encode(m) for m in masks]
    out = np.full((9, 8, 8), 3.0, np.float32, order="F")
    assert rlecodec.decode_many(texts, out=out, value=0.25, threads=2) is out
    np.testing.assert_array_equal(out, masks * np.float32(0.25))


def test_decode_many_reports_the_failing_item_and_keeps_out():
    masks = make_batch(50, 6, 6, seed=4)
    texts = [ref_encode(m) for m in masks]
    texts[17] = "1 2 3"
    texts[40] = "x"
    out = np.full((50, 6, 6), 7, np.uint8)
    for threads in (1, 2, 4):
        with pytest.raises(rlecodec.RLEError) as info:
            rlecodec.decode_many(texts, out=out, threads=threads)
        err = info.value
        assert (err.item, err.token, err.reason) == (17, 2, "odd_token_count")
        assert str(err).startswith("item 17:")
        assert (out == 7).all()


def test_decode_many_bad_items_and_out():
    with pytest.raises(TypeError, match="item 1"):
        rlecodec.decode_many(["1 1", 2.5], (2, 2))
    with pytest.raises(rlecodec.RLEError) as info:
        rlecodec.decode_many(["1 1", [1, -1]], (2, 2))
    assert info.value.item == 1
    with pytest.raises(ValueError, match="holds 3"):
        rlecodec.decode_many(["1 1"], out=np.zeros((3, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="threads"):
        rlecodec.decode_many(["1 1"], (2, 2), threads=0)


def test_encode_many_rejects_non_stacks():
    with pytest.raises(ValueError):
        rlecodec.encode_many(np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match="item 1"):
        rlecodec.encode_many([np.zeros((2, 3)), np.zeros(3)])


def test_threads_give_identical_results_under_concurrency():
    """Many user threads sharing read-only inputs get what a serial run gets."""
    from concurrent.futures import ThreadPoolExecutor

    masks = make_batch(64, 33, 47, seed=5)
    masks.flags.writeable = False
    texts = [ref_encode(m) for m in masks]
    serial_dec = rlecodec.decode_many(texts, (33, 47), threads=1)
    serial_enc = rlecodec.encode_many(masks, threads=1)

    def work(k):
        if k % 2:
            return np.array_equal(rlecodec.decode_many(texts, (33, 47), threads=2), serial_dec)
        return rlecodec.encode_many(masks, threads=2) == serial_enc and all(
            rlecodec.encode(m) == t for m, t in zip(masks[:8], texts[:8], strict=True))

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(48)))
    np.testing.assert_array_equal(serial_dec, masks)
    assert [ref_decode(t, (33, 47)).sum() for t in texts[:3]] == [m.sum() for m in masks[:3]]


def test_worker_threads_do_not_pile_up_across_thread_counts():
    texts = ["1 2", "3 4"] * 40
    for threads in range(2, 41):
        rlecodec.decode_many(texts, (8, 8), threads=threads)
        rlecodec.encode_many(np.zeros((len(texts), 4, 4), np.uint8), threads=threads)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        ours = [t for t in threading.enumerate() if t.name.startswith("rlecodec")]
        if len(ours) <= 39:  # the largest pool asked for: 40 threads, the caller one of them
            break
        time.sleep(0.05)
    assert len(ours) <= 39, f"{len(ours)} worker threads left behind"
