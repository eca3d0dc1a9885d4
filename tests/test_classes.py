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
