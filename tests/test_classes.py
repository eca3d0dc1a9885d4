"""decode_classes / decode_instances / encode_classes against the single-mask reference."""

import numpy as np
import pytest
from reference import random_mask, ref_decode, ref_encode

import rlecodec


def three_classes(seed=0, shape=(17, 23)):
    rng = np.random.default_rng(seed)
    return {cls: random_mask(rng, *shape) for cls in (1, 2, 4)}


def test_channels_from_a_mapping_and_a_sequence():
    ms = three_classes()
    texts = {k: ref_encode(m) for k, m in ms.items()}
    stack = rlecodec.decode_classes(texts, (17, 23))
    assert stack.shape == (17, 23, 3)
    for k, cls in enumerate(sorted(ms)):
        np.testing.assert_array_equal(stack[:, :, k], ms[cls])
    seq = rlecodec.decode_classes([texts[1], None, texts[4]], (17, 23), dtype=bool)
    assert seq.dtype == bool and not seq[:, :, 1].any()
    np.testing.assert_array_equal(seq[:, :, 2], ms[4] != 0)


def test_several_rows_of_a_class_are_their_union():
    a, b = "1 3", "10 2"
    stack = rlecodec.decode_classes({1: [a, b], 2: None}, (4, 4))
    np.testing.assert_array_equal(stack[:, :, 0], ref_decode(a, (4, 4)) | ref_decode(b, (4, 4)))


def test_label_maps_and_overlaps():
    labels = rlecodec.decode_classes({1: "1 2", 3: "5 2"}, (2, 4), layout="labels")
    np.testing.assert_array_equal(labels, [[1, 0, 3, 0], [1, 0, 3, 0]])
    named = rlecodec.decode_classes({"Fish": "1 2", "Sugar": "3 2"}, (2, 2), layout="labels")
    np.testing.assert_array_equal(named, [[1, 2], [1, 2]])
    with pytest.raises(rlecodec.RLEError, match="overlaps"):
        rlecodec.decode_classes({1: "1 3", 2: "3 2"}, (2, 2), layout="labels")
    last = rlecodec.decode_classes({1: "1 3", 2: "3 2"}, (2, 2), layout="labels",
                                   last_wins=True)
    np.testing.assert_array_equal(last.ravel(order="F"), [1, 1, 2, 2])
    with pytest.raises(ValueError):
        rlecodec.decode_classes({1: "1 1"}, (2, 2), layout="rgb")


def test_instances():
    texts = ["1 2", "6 3", "12 1"]
    union = rlecodec.decode_instances(texts, (4, 4))
    np.testing.assert_array_equal(union, np.any([ref_decode(t, (4, 4)) for t in texts], axis=0))
    inst = rlecodec.decode_instances(texts, (4, 4), layout="labels")
    for k, t in enumerate(texts):
        assert (inst[ref_decode(t, (4, 4)) != 0] == k + 1).all()


def test_encode_classes_round_trips():
    ms = three_classes(1)
    stack = np.stack([ms[1], ms[2], ms[4]], axis=2)
    enc = rlecodec.encode_classes(stack, classes=[1, 2, 4])
    assert enc == {k: ref_encode(m) for k, m in ms.items()}
    labels = np.zeros((17, 23), np.uint8)
    labels[ms[1] != 0] = 1
    labels[ms[4] != 0] = 4
    got = rlecodec.encode_classes(labels, order="C")
    assert got == {v: ref_encode(labels == v, "C") for v in np.unique(labels) if v}
    back = rlecodec.decode_classes(got, (17, 23), layout="labels", order="C")
    np.testing.assert_array_equal(back, labels)
    with pytest.raises(ValueError):
        rlecodec.encode_classes(np.zeros((2, 2), np.float32))


def ref_encode_labels(labels, order="F", base=1, relative=False):
    return {v.item(): ref_encode(labels == v, order, base, relative)
            for v in np.unique(labels) if v}


def label_maps(rng, h, w):
    """Label maps with long runs, noise, and runs that cross line ends."""
    blobs = np.zeros((h, w), np.int64)
    blobs[h // 4: h - h // 5, : w // 2] = 3
    blobs[: h // 2, w // 3:] = 7
    yield blobs
    yield rng.integers(0, 4, (h, w))
    yield np.where(rng.random((h, w)) < 0.9, 0, rng.integers(1, 300, (h, w)))
    yield np.full((h, w), 5)


LABEL_DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.int32, np.uint32, np.int64,
                np.uint64]


def layouts(a):
    """The same label map in C order, F order, as a transposed view, a strided slice and
    with negative strides."""
    yield a
    yield np.asfortranarray(a)
    yield np.ascontiguousarray(a.T).T
    wide = np.zeros((a.shape[0] * 2, a.shape[1] * 3), a.dtype)
    wide[::2, ::3] = a
    yield wide[::2, ::3]
    yield np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1]


@pytest.mark.parametrize("shape", [(1, 1), (1, 70), (70, 1), (9, 8), (33, 130), (300, 17)])
@pytest.mark.parametrize("order", ["F", "C"])
def test_encode_label_maps_one_pass_matches_the_reference(shape, order):
    rng = np.random.default_rng(shape[0] * 1000 + shape[1])
    for maps in label_maps(rng, *shape):
        for dt in LABEL_DTYPES:
            labels = (maps % 256 if np.dtype(dt).itemsize == 1 else maps).astype(dt)
            want = ref_encode_labels(labels, order)
            for view in layouts(labels):
                assert rlecodec.encode_classes(view, order=order) == want, (dt, order)


def test_encode_label_maps_signed_huge_and_bool_labels():
    labels = np.array([[-1, -1, 0], [2**62, 0, -(2**63)]], np.int64)
    got = rlecodec.encode_classes(labels)
    assert got == ref_encode_labels(labels)
    assert set(got) == {-(2**63), -1, 2**62} and all(type(k) is int for k in got)
    big = np.array([[2**64 - 1, 0], [2**64 - 1, 1]], np.uint64)
    assert rlecodec.encode_classes(big) == {1: "4 1", 2**64 - 1: "1 2"}
    assert rlecodec.encode_classes(np.eye(3, dtype=bool)) == {1: "1 1 5 1 9 1"}
    assert rlecodec.encode_classes(np.zeros((4, 0), np.uint8)) == {}
    assert rlecodec.encode_classes(np.zeros((3, 3), ">i4") + 2) == {2: "1 9"}


@pytest.mark.parametrize("order", ["F", "C"])
@pytest.mark.parametrize("dtype", [bool, np.uint8, np.int16, np.uint64, np.float32])
def test_encode_stacks_one_pass_matches_per_channel_reference(order, dtype):
    rng = np.random.default_rng(3)
    for h, w, c in [(1, 1, 1), (17, 23, 3), (64, 65, 4), (5, 300, 2), (200, 3, 5)]:
        on = 1 if dtype is bool else 7
        stack = (rng.random((h, w, c)) < rng.random(c)).astype(dtype) * on
        stack[h // 2:, : w // 2, 0] = on  # runs across line ends
        want = {k + 1: ref_encode(stack[:, :, k] != 0, order, 0, True) for k in range(c)}
        channels_first = np.ascontiguousarray(stack.transpose(2, 0, 1)).transpose(1, 2, 0)
        flipped = np.ascontiguousarray(stack[::-1, ::-1])[::-1, ::-1]  # negative strides
        for view in (stack, np.asfortranarray(stack), channels_first, flipped):
            assert rlecodec.encode_classes(view, order=order, base=0, relative=True) == want
    # float stacks keep encode's float semantics: -0.0 is off
    neg_zero = np.full((2, 2, 1), -0.0, np.float32)
    assert rlecodec.encode_classes(neg_zero) == {1: ""}


def test_encode_classes_rejects_bad_input():
    with pytest.raises(ValueError, match="2 channels but 3 classes"):
        rlecodec.encode_classes(np.zeros((2, 2, 2), np.uint8), classes=[1, 2, 3])
    with pytest.raises(ValueError, match="order"):
        rlecodec.encode_classes(np.zeros((2, 2), np.uint8), order="X")
    with pytest.raises(ValueError, match="base"):
        rlecodec.encode_classes(np.zeros((2, 2), np.uint8), base=2)
    with pytest.raises(TypeError):
        rlecodec.encode_classes(np.zeros((2, 2, 1), "U1"))


def test_decode_classes_names_the_bad_class_and_row():
    with pytest.raises(rlecodec.RLEError, match=r"class 2 row 1: token 1 \('x'\)") as err:
        rlecodec.decode_classes({1: "1 2", 2: ["1 2", "3 x"]}, (4, 4))
    assert err.value.token == 1 and err.value.reason == "not_a_number"
    with pytest.raises(rlecodec.RLEError, match="class 'b': run 0 .* past the last pixel"):
        rlecodec.decode_classes({"a": "1 2", "b": "9 99"}, (4, 4))
    with pytest.raises(rlecodec.RLEError, match="class 2: odd number of tokens"):
        rlecodec.decode_classes([None, "1", "1 2 3"], (4, 4))


@pytest.mark.parametrize("order", ["F", "C"])
def test_channels_union_of_overlapping_rows_in_every_dtype(order):
    rng = np.random.default_rng(11)
    ms = [random_mask(rng, 33, 70) for _ in range(5)]
    texts = [ref_encode(m, order) for m in ms]
    for dtype, value in [(np.uint8, 255), (bool, True), (np.float32, 0.5), (np.int64, -3)]:
        stack = rlecodec.decode_classes({1: texts[:3], 2: [texts[3]], 3: texts[3:]},
                                        (33, 70), order=order, dtype=dtype, value=value)
        assert stack.dtype == np.dtype(dtype) and stack.shape == (33, 70, 3)
        for k, group in enumerate([ms[:3], ms[3:4], ms[3:]]):
            want = np.where(np.any([m != 0 for m in group], axis=0), value, 0).astype(dtype)
            np.testing.assert_array_equal(stack[:, :, k], want)


def test_label_maps_from_overlapping_rows_of_one_class_and_overlaps_between_classes():
    rng = np.random.default_rng(21)
    a, b, c = (random_mask(rng, 30, 40) for _ in range(3))
    b[a != 0] = 0                          # class 2 is disjoint from class 1 ...
    c[(a != 0) | (b != 0)] = 0             # ... and class 5 from both
    rows = {1: [ref_encode(a), ref_encode(a[:, ::-1] & a)], 2: ref_encode(b), 5: ref_encode(c)}
    labels = rlecodec.decode_classes(rows, (30, 40), layout="labels")
    want = np.zeros((30, 40), np.uint8)
    want[a != 0], want[b != 0], want[c != 0] = 1, 2, 5
    np.testing.assert_array_equal(labels, want)
    # One long run of class 1 over a short run of class 3 that is not its neighbour.
    clash = {1: "1 100", 2: None, 3: "50 2", 4: "200 5"}
    with pytest.raises(rlecodec.RLEError, match="class 3 overlaps class 1") as info:
        rlecodec.decode_classes(clash, (20, 20), layout="labels")
    assert info.value.reason == "overlap"
    last = rlecodec.decode_classes(clash, (20, 20), layout="labels", last_wins=True)
    flat = last.ravel(order="F")
    assert (flat[:49] == 1).all() and (flat[49:51] == 3).all() and (flat[51:100] == 1).all()
    assert (flat[199:204] == 4).all() and (flat[100:199] == 0).all()
    # Unsorted, self-overlapping rows are fine when lenient.
    lenient = rlecodec.decode_classes({1: "10 5 1 3 12 4", 2: "30 2"}, (8, 8),
                                      layout="labels", strict=False)
    assert (lenient.ravel(order="F")[[0, 2, 9, 14, 29, 30]] == [1, 1, 1, 1, 2, 2]).all()
    assert lenient.ravel(order="F")[[3, 8, 15, 28, 31]].tolist() == [0, 0, 0, 0, 0]
    with pytest.raises(rlecodec.RLEError, match="class 2 overlaps class 1"):
        rlecodec.decode_classes({1: "10 5 1 3", 2: "12 1"}, (8, 8), layout="labels",
                                strict=False)


def test_zero_length_runs_take_no_part_in_the_overlap_check():
    labels = rlecodec.decode_classes({1: "1 5", 2: "3 0 7 2"}, (10, 1), layout="labels",
                                     strict=False)
    assert labels.ravel().tolist() == [1, 1, 1, 1, 1, 0, 2, 2, 0, 0]
    with pytest.raises(rlecodec.RLEError, match="overlaps"):
        rlecodec.decode_classes({1: "1 5", 2: "3 1"}, (10, 1), layout="labels", strict=False)
