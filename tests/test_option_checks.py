"""Options judged exactly: no bool where a number is meant, no float rounding of integer
thresholds, no sign of zero lost to a cache, and the csv module's limit left as found."""

import csv
import math

import numpy as np
import pytest

import rlecodec


@pytest.mark.parametrize("kwargs", [dict(shape=(True, True)), dict(shape=(np.True_, 4)),
                                    dict(threads=True), dict(base=1.0), dict(base=True),
                                    dict(value="1.5"), dict(value=b"1")])
def test_bools_floats_and_strings_are_not_taken_for_integers(kwargs):
    opts = dict(shape=(2, 2))
    opts.update(kwargs)
    shape = opts.pop("shape")
    with pytest.raises((TypeError, ValueError)):
        rlecodec.decode("1 1", shape, **opts)


def test_threads_and_base_reject_bools_everywhere():
    mask = np.ones((2, 2), np.uint8)
    for call in (lambda: rlecodec.encode(mask, threads=True),
                 lambda: rlecodec.encode_many([mask], threads=False),
                 lambda: rlecodec.decode_many(["1 1"], (2, 2), threads=True),
                 lambda: rlecodec.encode(mask, base=True),
                 lambda: rlecodec.to_runs("1 1", base=1.0)):
        with pytest.raises((TypeError, ValueError)):
            call()


def test_the_sign_of_a_zero_value_is_kept_whatever_was_decoded_before():
    for first, second in ((0.0, -0.0), (-0.0, 0.0), (np.float32(0.0), np.float32(-0.0))):
        for value in (first, second):
            out = rlecodec.decode("1 1", (1, 1), dtype=np.float32, value=value)
            assert math.copysign(1.0, float(out[0, 0])) == math.copysign(1.0, float(value))


@pytest.mark.parametrize("dtype, value", [(np.int64, 2**53 + 1), (np.int64, 2**62 + 1),
                                          (np.uint64, 2**63 + 1), (np.uint64, 2**64 - 2)])
def test_integer_thresholds_are_exact(dtype, value):
    mask = np.array([[value - 1, value], [value + 1, 0]], dtype)
    for threshold in (value, value - 1, np.array(value, dtype)[()]):
        expected = rlecodec.encode((mask > threshold).astype(np.uint8))
        assert rlecodec.encode(mask, threshold=threshold) == expected
        assert rlecodec.encode_many([mask], threshold=threshold) == [expected]


def test_long_double_masks_are_read_at_their_own_precision():
    tiny = np.longdouble("1e-4000")
    if not np.finfo(np.longdouble).tiny < tiny:
        # long double is float64 here (Windows, some ARM): nothing to lose
        tiny = np.longdouble(5e-324)
    mask = np.array([[tiny, 0], [0, -tiny]], np.longdouble)
    assert rlecodec.encode(mask) == rlecodec.encode((mask != 0).astype(np.uint8)) == "1 1 4 1"
    assert rlecodec.encode(mask, threshold=0) == "1 1"
    assert rlecodec.coco.encode(mask) == rlecodec.coco.encode(mask != 0)


def test_float16_thresholds_round_as_numpy_compares():
    mask = np.array([[0.1, 0.2], [0.0999, 0.3]], np.float16)
    for threshold in (0.1, 0.09997, 0.2):
        assert rlecodec.encode(mask, threshold=threshold) == rlecodec.encode(
            (mask > threshold).astype(np.uint8))


def test_reading_a_csv_leaves_the_field_limit_as_it_was(tmp_path):
    from rlecodec._table import read_rows

    path = tmp_path / "big.csv"
    text = "1 1 " * 100_000  # a field of 400 KB, past the module's default limit
    path.write_text(f"ImageId,EncodedPixels\na.jpg,{text}\n")
    before = csv.field_size_limit()
    rows = list(read_rows(str(path), dict(id_col=None, class_col=None, rle_col=None)))
    assert rows[0].rle == text and csv.field_size_limit() == before
