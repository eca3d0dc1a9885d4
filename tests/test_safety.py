"""Memory safety: inputs that once aborted the process, caller buffers changed by another
thread during a call, and private kernel entry points given out-of-range arguments.  Every
case must raise a clear error or give the right answer; none may crash or write outside
the buffers it was given."""

import threading
import time

import numpy as np
import pytest
from reference import ref_decode

import rlecodec
from rlecodec import _codec, coco

SURROGATE = "\ud800"


# ---------------------------------------------------------------------------- lone surrogates
@pytest.mark.parametrize("bad", [SURROGATE, "1 3 " + SURROGATE + " 2", "1 3\udcff", "1 ١"])
def test_text_that_has_no_utf8_is_a_bad_token_in_every_entry_point(bad):
    token = 2 if bad.startswith("1 3 ") else (1 if bad.startswith("1 ") else 0)
    calls = [
        lambda: rlecodec.decode(bad, (4, 4)),
        lambda: rlecodec.decode(bad, (4, 4), order="C", base=0, relative=True),
        lambda: rlecodec.decode(bad, out=np.zeros((4, 4), np.uint8)),
        lambda: rlecodec.to_runs(bad),
        lambda: coco.from_kaggle(bad, (4, 4)),
        lambda: rlecodec.decode_instances([bad], (4, 4)),
        lambda: rlecodec.decode_classes({1: bad}, (4, 4), layout="labels"),
    ]
    for call in calls:
        with pytest.raises(rlecodec.RLEError) as info:
            call()
        assert info.value.reason == "not_a_number"
        assert info.value.token == token
        assert "not a plain" in str(info.value)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_a_bad_item_at_every_position_of_a_batch(n):
    good = ["1 1", "2 3", None, "5 2", "16 1"][:n]
    for at in range(n):
        items = list(good)
        items[at] = SURROGATE
        out = np.full((n, 4, 4), 9, np.uint8)
        for threads in (1, 2):
            with pytest.raises(rlecodec.RLEError) as info:
                rlecodec.decode_many(items, (4, 4), threads=threads)
            assert info.value.item == at and info.value.reason == "not_a_number"
            with pytest.raises(rlecodec.RLEError):
                rlecodec.decode_many(items, out=out, threads=threads)
            assert (out == 9).all(), "a rejected batch wrote into out"
        for layout in ("union", "labels"):
            with pytest.raises(rlecodec.RLEError):
                rlecodec.decode_instances(items, (4, 4), layout=layout)


def test_good_items_around_a_surrogate_free_batch_still_decode():
    items = ["1 1", "2 3", None]
    stack = rlecodec.decode_many(items, (4, 4))
    for k, text in enumerate(items):
        assert np.array_equal(stack[k], ref_decode(text or "", (4, 4)))


@pytest.mark.parametrize("counts", ["0é3", "0\ud8003", "05" + "é"])
def test_coco_str_counts_outside_ascii_are_an_error(counts):
    obj = {"size": [3, 5], "counts": counts}
    out = np.full((3, 5), 4, np.uint8)
    with pytest.raises(rlecodec.RLEError) as info:
        coco.decode(obj, out=out)
    assert info.value.reason == "not_a_number"
    assert (out == 4).all()
    for call in (coco.area, coco.to_bbox, coco.to_kaggle):
        with pytest.raises(rlecodec.RLEError):
            call(obj)


# ------------------------------------------------------------------------------ races
def _race(work, mutate, seconds=0.6):
    """Run ``work`` in a loop while another thread runs ``mutate`` in a loop, for a bounded
    time; return how often ``work`` returned and raised."""
    stop = threading.Event()
    counts = {"ok": 0, "error": 0}

    def mutator():
        while not stop.is_set():
            mutate()

    thread = threading.Thread(target=mutator)
    thread.start()
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                work()
                counts["ok"] += 1
            except rlecodec.RLEError:
                counts["error"] += 1
    finally:
        stop.set()
        thread.join()
    return counts


@pytest.mark.parametrize("relative", [True, False])
def test_token_array_changed_while_decoding_never_writes_outside_out(relative):
    # Enough runs that the kernel is busy (the GIL released) while the other thread flips
    # one token: a gap that points before the mask, or a huge negative length.
    n = 300_000
    tokens = np.empty(2 * n, np.int64)
    tokens[0::2] = 1 if relative else np.arange(n) * 3 + 1
    tokens[1::2] = 1
    big = np.zeros((3000, 1000), np.uint8)
    out = big[1000:2000]
    j, bad = (n, -10**8) if relative else (n + 1, -(1 << 40))
    good = int(tokens[j])

    def mutate():
        tokens[j] = bad
        tokens[j] = good

    opts = dict(relative=True, strict=False, base=0) if relative else {}
    counts = _race(lambda: rlecodec.decode(tokens, out=out, **opts), mutate)
    assert counts["ok"] + counts["error"] > 0
    assert not big[:1000].any() and not big[2000:].any(), "wrote outside out"
    # Afterwards the same array decodes as it reads (nothing was corrupted on the way).
    tokens[j] = good
    expected = ref_decode(" ".join(map(str, tokens.tolist())), out.shape,
                          base=opts.get("base", 1), relative=relative)
    assert np.array_equal(rlecodec.decode(tokens, out=out, **opts), expected)


def test_token_array_changed_while_decoding_many_stays_inside():
    n = 5_000
    tokens = np.stack([np.arange(n) * 4 + 1, np.full(n, 2)], axis=1).reshape(-1)
    tokens = np.ascontiguousarray(tokens, np.int64)
    big = np.zeros((5, 200, 100), np.uint8)
    out = big[1:4]

    def mutate():
        tokens[1::50] = -1
        tokens[1::50] = 2

    _race(lambda: rlecodec.decode_many([tokens] * 3, out=out, strict=False, threads=2),
          mutate)
    assert not big[0].any() and not big[4].any()


def test_runs_changed_while_formatting_never_overflow():
    n = 20_000
    runs = np.stack([np.arange(n) * 3, np.ones(n, np.int64)], axis=1).astype(np.int64)
    clean = runs.copy()

    def mutate():
        runs[:] = -1
        runs[:] = clean

    def work():
        text = rlecodec.from_runs(runs, base=0)
        # Whatever it read, it read consistently: the text is the runs as checked.
        assert text == "" or len(text.split()) % 2 == 0

    counts = _race(work, mutate)
    assert counts["ok"] + counts["error"] > 0
    assert rlecodec.from_runs(clean, base=0) == " ".join(
        f"{s} {n}" for s, n in clean.tolist())


def test_coco_counts_changed_while_decoding_stay_inside():
    counts = np.tile(np.array([3, 1], np.int64), 10_000)
    counts = np.append(counts, 0)
    h, w = 100, 400
    counts[-1] = h * w - int(counts.sum())
    clean = counts.copy()
    big = np.zeros((3 * h, w), np.uint8)
    out = big[h:2 * h]

    def mutate():
        counts[1::7] = -5
        counts[:] = clean

    _race(lambda: coco.decode({"size": [h, w], "counts": counts}, out=out), mutate)
    assert not big[:h].any() and not big[2 * h:].any()


# ------------------------------------------------------------------------ private entry points
def test_private_batches_check_their_indices():
    batch = _codec.EncodeBatch([np.ones((2, 2), np.uint8)], [("u", 0, 0.0, 0, 0)], True, 1,
                               False)
    for bad in (1, 1 << 40, -1):
        with pytest.raises(IndexError):
            batch.result(bad)
        with pytest.raises(IndexError):
            batch.take_runs(bad)
    with pytest.raises(IndexError):
        batch.run(0, 2)
    batch.run(0, 1)
    assert batch.result(0) == "1 4"

    out = np.zeros((2, 4, 4), np.uint8)
    dec = _codec.DecodeBatch(["1 1", "2 1"], out, 4, 4, True, 1, False, True, 1, False)
    for i0, i1 in ((0, 1 << 30), (-1, 1), (2, 1)):
        with pytest.raises(IndexError):
            dec.process(i0, i1, True, True)
    dec.process(0, 2, False, True)  # nothing parsed yet: nothing written
    assert not out.any()
    dec.process(0, 2, True, True)
    assert out[0, 0, 0] == 1 and out[1, 1, 0] == 1 and out.sum() == 2
    with pytest.raises(ValueError):
        _codec.DecodeBatch(["1 1"] * 3, out, 4, 4, True, 1, False, True, 1, False)
    with pytest.raises(ValueError):
        _codec.DecodeBatch(["1 1"], out, 5, 4, True, 1, False, True, 1, False)
    with pytest.raises(ValueError):
        _codec.DecodeBatch(["1 1"], out, 4, 4, True, 7, False, True, 1, False)


def test_private_decoders_check_the_output_against_the_shape():
    out = np.zeros((4, 4), np.uint8)
    for h, w in ((5, 4), (4, 1 << 40), (1 << 20, 1 << 20)):
        with pytest.raises(ValueError):
            _codec.decode_one("1 1", out, h, w, True, 1, False, True, 1, False)
        with pytest.raises(ValueError):
            _codec.BandWrite("1 1", out, h, w, True, 1, False, True, 1, 2)
    with pytest.raises(ValueError):
        _codec.decode_one("1 1", np.zeros((4, 4), np.complex128), 4, 4, True, 1, False,
                          True, 1, False)
    with pytest.raises(ValueError):
        _codec.decode_one("1 1", out, 4, 4, True, -(1 << 62), False, True, 1, False)
    writer = _codec.BandWrite("1 16", out, 4, 4, True, 1, False, True, 1, 2)
    with pytest.raises(IndexError):
        writer.run(0, 3)
    with pytest.raises(ValueError):
        _codec.BandWrite("1 16", out, 4, 4, True, 1, False, True, 1, 0)
    writer.run(0, 2)
    writer.check()
    assert out.all()


def test_private_run_formatters_check_their_base():
    with pytest.raises(ValueError):
        _codec.from_runs(np.array([[0, 1]], np.int64), -(1 << 62), False)
    with pytest.raises(ValueError):
        _codec.encode_one(np.ones((2, 2), np.uint8), ("u", 0, 0.0, 0, 0), True, 1 << 62, False)
    with pytest.raises(_codec.KernelError):
        _codec.coco_from_runs(np.array([[3, 1], [1, 1]], np.int64), 16, True)
    with pytest.raises(_codec.KernelError):
        _codec.coco_from_runs(np.array([[15, 2]], np.int64), 16, False)


def test_the_table_row_reader_checks_every_offset():
    data = np.frombuffer(b'a,1,1 2\nb,2,"3 ""1"""\n', np.uint8)
    info = np.array([[4, 7, 0, 0], [13, 20, 1, 1]], np.int64)
    order = np.array([1, 0], np.int32)
    start = np.array([0, 1, 2], np.int64)
    rows = _codec.CsvRows(data, info, order, start)
    # (a known answer: row 1 belongs to image 0, its "" escapes undone)
    assert rows.texts(0) == ([b'3 "1"'], [1])
    assert rows.texts(1) == ([b"1 2"], [0])
    for image in (2, -1):
        with pytest.raises(IndexError):
            rows.texts(image)
        with pytest.raises(IndexError):
            rows.decode_stack(image, np.zeros(2, np.int64), np.zeros((2, 2, 2), np.uint8),
                              True, 1, False, True, 1, True)
    stack = np.zeros((1, 4, 2), np.uint8)
    assert rows.decode_stack(1, np.array([0, 1], np.int64), stack, True, 1, False, True, 1,
                             True) == -1
    assert stack[0, :, 0].tolist() == [1, 1, 0, 0] and not stack[:, :, 1].any()
    assert rows.decode_stack(0, np.array([0, 1], np.int64), stack, True, 1, False, True, 1,
                             True) == 0, "an escaped row is left to the general path"
    bad_stacks = [
        (np.array([0, 2], np.int64), stack),  # (image 0's class 1) a channel out has not
        (np.array([0], np.int64), stack),     # a class with no channel
        (np.array([0, 1], np.int64), np.zeros((4, 2), np.uint8)),
        (np.array([0, 1], np.int64), np.zeros((1, 4, 2), np.uint8, order="F")[:, ::2]),
    ]
    for channel_of_class, out in bad_stacks:
        with pytest.raises(ValueError):
            rows.decode_stack(0, channel_of_class, out, True, 1, False, True, 1, True)
    bad_indexes = [
        (np.array([[4, 7, 0, 0], [13, 99, 1, 1]], np.int64), order, start),  # past the end
        (np.array([[8, 7, 0, 0], [13, 20, 1, 1]], np.int64), order, start),  # end < start
        (info, np.array([5, 0], np.int32), start),                          # no such row
        (info, order, np.array([0, 3, 3], np.int64)),                       # past the rows
        (info, order, np.array([0, 2, 1], np.int64)),                       # going back
        (info[:, :3].copy(), order, start),
    ]
    for row_info, row_order, row_start in bad_indexes:
        with pytest.raises(ValueError):
            _codec.CsvRows(data, row_info, row_order, row_start)
