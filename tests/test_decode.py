"""decode(): the format, its variants, input types, dtypes and out= semantics."""

import math

import numpy as np
import pytest
from reference import random_mask, ref_decode, ref_encode

import rlecodec

VARIANTS = [("F", 1, False), ("C", 1, False), ("F", 0, False), ("C", 0, False),
            ("F", 0, True), ("F", 1, True), ("C", 0, True)]


def test_known_answer_column_major_one_based():
    m = rlecodec.decode("1 3 10 2", (4, 4))
    expected = np.zeros((4, 4), np.uint8)
    expected[0:3, 0] = 1
    expected[1:3, 2] = 1
    np.testing.assert_array_equal(m, expected)
    assert m.dtype == np.uint8 and m.flags.c_contiguous


def test_known_answer_row_major_zero_based():
    m = rlecodec.decode("0 2 5 3", (2, 4), order="C", base=0)
    np.testing.assert_array_equal(m, [[1, 1, 0, 0], [0, 1, 1, 1]])


def test_known_answer_relative():
    # SIIM: first start absolute, then gaps after the previous run's end.
    m = rlecodec.decode("1 2 3 1", (3, 3), base=0, relative=True)
    assert m.ravel(order="F").nonzero()[0].tolist() == [1, 2, 6]


@pytest.mark.parametrize("order,base,relative", VARIANTS)
def test_matches_reference_on_random_masks(order, base, relative):
    rng = np.random.default_rng(11)
    for _ in range(150):
        h, w = int(rng.integers(1, 70)), int(rng.integers(1, 70))
        text = ref_encode(random_mask(rng, h, w), order, base, relative)
        got = rlecodec.decode(text, (h, w), order=order, base=base, relative=relative)
        np.testing.assert_array_equal(got, ref_decode(text, (h, w), order, base, relative))


def test_long_runs_wrapping_many_columns():
    for h, w in [(3, 1000), (1000, 3), (1, 500), (500, 1), (33, 65)]:
        n = h * w
        text = f"2 {n // 2} {n // 2 + 5} {n - n // 2 - 4}"
        for order in "FC":
            np.testing.assert_array_equal(rlecodec.decode(text, (h, w), order=order),
                                          ref_decode(text, (h, w), order))


def test_adjacent_runs_are_accepted_and_joined():
    np.testing.assert_array_equal(rlecodec.decode("1 2 3 2", (2, 3)),
                                  rlecodec.decode("1 4", (2, 3)))


@pytest.mark.parametrize("empty", [None, math.nan, np.float32("nan"), "", " \t\n", "-1",
                                   "-", b"", b"-1", " -1 ", "\n-\n"])
def test_empty_markers(empty):
    m = rlecodec.decode(empty, (2, 3))
    assert m.shape == (2, 3) and not m.any()


def test_pandas_na_is_empty():
    pd = pytest.importorskip("pandas")
    assert not rlecodec.decode(pd.NA, (2, 2)).any()


def test_input_types_agree():
    want = rlecodec.decode("1 3 10 2", (4, 4))
    inputs = [b"1 3 10 2", bytearray(b"1 3 10 2"), memoryview(b"1 3 10 2"), [1, 3, 10, 2],
              (1, 3, 10, 2), np.array([1, 3, 10, 2], np.uint16), np.array([[1, 3], [10, 2]]),
              np.array([1, 3, 10, 2], np.uint64), np.str_("1 3 10 2"), "1\t3\r\n10\x0b2\x0c",
              [[1, 3], [10, 2]]]
    for rle in inputs:
        np.testing.assert_array_equal(rlecodec.decode(rle, (4, 4)), want)


def test_str_subclass_and_non_ascii_text():
    class Text(str):
        pass

    np.testing.assert_array_equal(rlecodec.decode(Text("1 3"), (2, 2)),
                                  rlecodec.decode("1 3", (2, 2)))
    with pytest.raises(rlecodec.RLEError) as info:
        rlecodec.decode("1 3 ٣ 1", (4, 4))  # an Arabic-Indic digit
    assert info.value.token == 2


def test_empty_integer_sequences():
    assert not rlecodec.decode([], (2, 2)).any()
    assert not rlecodec.decode(np.zeros((0, 2), np.int64), (2, 2)).any()


@pytest.mark.parametrize("dtype,value", [(np.uint8, 255), (bool, True), (np.int16, -7),
                                         (np.uint16, 65535), (np.int32, 3), (np.float32, 0.5),
                                         (np.float64, -2.25), (np.int64, 2**62),
                                         (np.uint64, 2**64 - 1), (np.int8, -1)])
def test_dtype_and_value(dtype, value):
    m = rlecodec.decode("2 3", (2, 3), dtype=dtype, value=value)
    assert m.dtype == np.dtype(dtype) and m.flags.c_contiguous
    expected = np.zeros(6, dtype)
    expected[1:4] = value
    np.testing.assert_array_equal(m, expected.reshape((2, 3), order="F"))


def test_value_nan_in_float_masks():
    m = rlecodec.decode("1 1", (1, 2), dtype=np.float64, value=math.nan)
    assert math.isnan(m[0, 0]) and m[0, 1] == 0


@pytest.mark.parametrize("dtype,value", [(np.uint8, 256), (np.uint8, -1), (np.uint8, 0.5),
                                         (bool, 2), (np.float32, 1e40), (np.int8, 200)])
def test_value_that_does_not_fit_is_an_error(dtype, value):
    with pytest.raises(ValueError, match="value"):
        rlecodec.decode("1 1", (2, 2), dtype=dtype, value=value)


@pytest.mark.parametrize("dtype", [np.complex64, object, "U3", "V2"])
def test_unsupported_output_dtype(dtype):
    with pytest.raises(TypeError, match="dtype"):
        rlecodec.decode("1 1", (2, 2), dtype=dtype)


@pytest.mark.parametrize("order", ["F", "C"])
def test_out_of_any_layout(order):
    rng = np.random.default_rng(5)
    m = random_mask(rng, 37, 23)
    text = ref_encode(m, order)
    big = np.full((80, 70), 9, np.int32)
    outs = [np.full((37, 23), 9, np.uint8), np.full((37, 23), 9, np.uint8, order="F"),
            big[1:75:2, 3:72:3], big[::-2, ::-3][:37, :23], np.full((23, 37), 9, np.float32).T]
    for out in outs:
        res = rlecodec.decode(text, order=order, out=out)
        assert res is out
        np.testing.assert_array_equal(out, m)
    np.testing.assert_array_equal(big[0], 9)  # rows between the view's rows are untouched


def test_out_memmap(tmp_path):
    path = tmp_path / "mask.dat"
    mm = np.memmap(path, dtype=np.uint8, mode="w+", shape=(40, 30))
    mm[:] = 5
    rlecodec.decode("3 100 500 20", out=mm)
    mm.flush()
    back = np.fromfile(path, np.uint8).reshape(40, 30)
    np.testing.assert_array_equal(back, ref_decode("3 100 500 20", (40, 30)))


def test_out_validation():
    with pytest.raises(ValueError, match="read-only"):
        ro = np.zeros((2, 2), np.uint8)
        ro.flags.writeable = False
        rlecodec.decode("1 1", out=ro)
    with pytest.raises(ValueError, match="2-D"):
        rlecodec.decode("1 1", out=np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="does not match"):
        rlecodec.decode("1 1", (3, 3), out=np.zeros((2, 2), np.uint8))
    with pytest.raises(TypeError, match="numpy array"):
        rlecodec.decode("1 1", out=[[0, 0], [0, 0]])


def test_shape_validation():
    for bad in [(4,), (2, 3, 4), (-1, 4), (4, -2), 5, (2.5, 3), ("a", 2)]:
        with pytest.raises((ValueError, TypeError)):
            rlecodec.decode("1 1", bad)
    with pytest.raises(TypeError, match="shape"):
        rlecodec.decode("1 1")
    with pytest.raises(ValueError, match="64 bits"):
        rlecodec.decode("", (2**40, 2**40))


def test_zero_size_shapes():
    assert rlecodec.decode("", (0, 5)).shape == (0, 5)
    assert rlecodec.decode(None, (5, 0)).shape == (5, 0)
    with pytest.raises(rlecodec.RLEError):
        rlecodec.decode("1 1", (0, 5))


def test_option_validation():
    for kwargs in [dict(order="X"), dict(order=None), dict(base=2), dict(base=-1),
                   dict(base=True)]:
        with pytest.raises(ValueError):
            rlecodec.decode("1 1", (2, 2), **kwargs)


def test_options_that_compare_equal_are_still_judged_by_their_type():
    """Checked options are remembered by value and type: after a valid 1 (or 1.5), an
    equal True (or an unhashable 0-d array) gets its own check and its own answer."""
    for _ in range(2):  # the second round is served from what the first remembered
        assert rlecodec.decode("1 1", (1, 2), base=1)[0, 0] == 1
        with pytest.raises(ValueError, match="base"):
            rlecodec.decode("1 1", (1, 2), base=True)
        assert rlecodec.decode("2 1", (1, 2), base=np.int64(1))[0, 1] == 1
        assert rlecodec.decode("1 1", (1, 2), dtype=np.float32, value=1.5)[0, 0] == 1.5
        with pytest.raises(ValueError, match="value"):
            rlecodec.decode("1 1", (1, 2), dtype=np.uint8, value=1.5)
        assert rlecodec.decode("1 1", (1, 2), dtype=np.uint8, value=np.array(7))[0, 0] == 7
        with pytest.raises(ValueError, match="value"):
            rlecodec.decode("1 1", (1, 2), dtype=bool, value=np.array(7))
        assert rlecodec.decode("1 1", (1, 2), dtype="u2", value=True)[0, 0] == 1


def test_result_is_independent_of_input_text():
    text = "1 2"
    a = rlecodec.decode(text, (2, 2))
    b = rlecodec.decode(text, (2, 2))
    a[:] = 0
    assert b.sum() == 2
