"""Strictness: every malformed input is an RLEError naming the token; out= is untouched."""

import numpy as np
import pytest
from reference import ref_decode

import rlecodec

# (text, token, reason, a piece of the message) for a 4x4 mask, base 1, order F.
STRICT_CASES = [
    ("1 3 5", 2, "odd_token_count", "'5'"),
    ("7", 0, "odd_token_count", "no length"),
    ("1 3 x 2", 2, "not_a_number", "'x'"),
    ("1 3 1.5 2", 2, "not_a_number", "'1.5'"),
    ("1 3 +3 2", 2, "not_a_number", "'+3'"),
    ("1 3 1e3 2", 2, "not_a_number", "'1e3'"),
    ("1 3 0x1 2", 2, "not_a_number", "'0x1'"),
    ("1 3 5 2x", 3, "not_a_number", "'2x'"),
    ("1,3", 0, "not_a_number", "'1,3'"),
    ("1 3 -5 2", 2, "negative", "'-5'"),
    ("1 3 -- 2", 2, "not_a_number", "'--'"),
    ("1 3 5 -", 3, "not_a_number", "'-'"),
    ("-1 2", 0, "negative", "'-1'"),
    ("1 3 \u00a0 2", 2, "not_a_number", "token 2"),
    ("99999999999999999999999999 1", 0, "overflow", "64-bit"),
    ("1 9223372036854775808", 1, "overflow", "64-bit"),
    ("0 3", 0, "below_base", "base=1"),
    ("15 3", 0, "past_end", "4x4"),
    ("1 17", 0, "past_end", "16 pixels"),
    ("17 0", 0, "past_end", "past the last pixel"),
    ("1 9223372036854775807", 0, "past_end", "past the last pixel"),
    ("1 2 9223372036854775807 1", 2, "past_end", "past the last pixel"),
    ("5 3 1 2", 2, "unsorted", "increase"),
    ("1 5 3 2", 2, "overlap", "overlaps"),
    ("1 5 5 2", 2, "overlap", "overlaps"),
    ("1 0", 0, "zero_length", "zero length"),
    ("1 2 4 0 6 1", 2, "zero_length", "run 1"),
]


@pytest.mark.parametrize("text,token,reason,fragment", STRICT_CASES,
                         ids=[f"{c[2]}:{c[0][:20]}" for c in STRICT_CASES])
def test_strict_errors(text, token, reason, fragment):
    out = np.full((4, 4), 7, np.uint8)
    with pytest.raises(rlecodec.RLEError) as info:
        rlecodec.decode(text, out=out)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.token, err.reason, err.item) == (token, reason, None)
    assert fragment in str(err)
    assert f"token {token}" in str(err) or f"run {token // 2}" in str(err)
    assert (out == 7).all()


def test_first_error_wins():
    with pytest.raises(rlecodec.RLEError) as info:
        rlecodec.decode("1 3 x 2 y", (4, 4))
    assert info.value.token == 2


def test_errors_for_integer_input():
    cases = [([1, 3, -5, 2], 2, "negative"), ([1, 3, 5], 2, "odd_token_count"),
             ([0, 3], 0, "below_base"), ([[1, 5], [3, 2]], 2, "overlap"),
             (np.array([1, 2**63], np.uint64), 1, "overflow"), ([1, 2**70], 1, "overflow"),
             ([1, 3, 15, 3], 2, "past_end")]
    for rle, token, reason in cases:
        with pytest.raises(rlecodec.RLEError) as info:
            rlecodec.decode(rle, (4, 4))
        assert (info.value.token, info.value.reason) == (token, reason), rle
    with pytest.raises(TypeError):
        rlecodec.decode([1.0, 2.0], (4, 4))
    with pytest.raises(TypeError):
        rlecodec.decode(3.5, (4, 4))
    with pytest.raises(ValueError):
        rlecodec.decode(np.zeros((2, 3), np.int64), (4, 4))


def test_lenient_mode_takes_the_union():
    m = rlecodec.decode("10 3 1 5 3 1 16 0", (4, 4), strict=False)
    assert m.ravel(order="F").nonzero()[0].tolist() == [0, 1, 2, 3, 4, 9, 10, 11]
    m = rlecodec.decode("1 2 1 2", (2, 2), strict=False, order="C")
    np.testing.assert_array_equal(m, [[1, 1], [0, 0]])


@pytest.mark.parametrize("text,reason", [("15 3", "past_end"), ("1 x", "not_a_number"),
                                         ("1 3 5", "odd_token_count"), ("0 1", "below_base")])
def test_lenient_mode_still_rejects_malformed(text, reason):
    out = np.full((4, 4), 7, np.uint8)
    with pytest.raises(rlecodec.RLEError) as info:
        rlecodec.decode(text, out=out, strict=False)
    assert info.value.reason == reason
    assert (out == 7).all()


def test_relative_errors():
    with pytest.raises(rlecodec.RLEError) as info:
        rlecodec.decode("1 2 20 1", (4, 4), base=0, relative=True)
    assert (info.value.token, info.value.reason) == (2, "past_end")
    with pytest.raises(rlecodec.RLEError) as info:
        rlecodec.decode("1 2 9223372036854775807 1", (4, 4), base=0, relative=True)
    assert info.value.reason == "past_end"


def test_long_tokens_are_shortened_in_messages():
    text = "1 3 " + "9" * 5000
    with pytest.raises(rlecodec.RLEError) as info:
        rlecodec.decode(text, (4, 4))
    assert len(str(info.value)) < 300


def test_leading_zeros_are_plain_integers():
    np.testing.assert_array_equal(rlecodec.decode("0001 003", (2, 2)),
                                  rlecodec.decode("1 3", (2, 2)))
    np.testing.assert_array_equal(rlecodec.decode("0" * 30 + "1 1", (2, 2)),
                                  rlecodec.decode("1 1", (2, 2)))


def test_error_pickles_with_attributes():
    import pickle

    try:
        rlecodec.decode_many(["1 1", "x 1"], (2, 2))
    except rlecodec.RLEError as err:
        back = pickle.loads(pickle.dumps(err))
        assert (back.token, back.item, back.reason, str(back)) == (
            err.token, err.item, err.reason, str(err))
    else:
        pytest.fail("no error raised")


def long_text(bad_pair=None, start=None, length=None, token=None, which=0):
    """100 valid runs in a 100x10 mask, one pair or one token replaced.  Long enough that
    the vectorised reader of plain pairs handles the text up to the replacement."""
    pairs = [[str(10 * k + 1), "5"] for k in range(100)]
    if start is not None:
        pairs[bad_pair][0] = start
    if length is not None:
        pairs[bad_pair][1] = length
    if token is not None:
        pairs[bad_pair][which] = token
    return " ".join(" ".join(p) for p in pairs)


DEEP_PAIRS = [0, 1, 5, 8, 9, 10, 17, 40, 97, 98, 99]


@pytest.mark.parametrize("j", DEEP_PAIRS)
@pytest.mark.parametrize("token,which,reason", [
    ("x", 0, "not_a_number"), ("12x", 1, "not_a_number"), ("-3", 0, "negative"),
    ("99999999999999999999", 1, "overflow"), ("1.5", 1, "not_a_number")])
def test_bad_tokens_deep_in_long_text_are_named(j, token, which, reason):
    with pytest.raises(rlecodec.RLEError) as info:
        rlecodec.decode(long_text(j, token=token, which=which), (100, 10))
    assert (info.value.token, info.value.reason) == (2 * j + which, reason)
    assert repr(token)[1:-1] in str(info.value)


@pytest.mark.parametrize("j", [j for j in DEEP_PAIRS if j >= 2])  # 0, 1: the short cases
@pytest.mark.parametrize("start,length,reason", [
    ("5000", None, "past_end"), (None, "0", "zero_length"), (None, "2000", "past_end"),
    ("unsorted", None, "unsorted"), ("overlap", None, "overlap")])
def test_bad_runs_deep_in_long_text_are_named(j, start, length, reason):
    if start == "unsorted":  # before the previous run's start
        start = str(10 * (j - 2) + 1)
    elif start == "overlap":  # inside the previous run
        start = str(10 * (j - 1) + 2)
    with pytest.raises(rlecodec.RLEError) as info:
        rlecodec.decode(long_text(j, start=start, length=length), (100, 10))
    assert (info.value.token, info.value.reason) == (2 * j, reason)


@pytest.mark.parametrize("relative", [False, True])
@pytest.mark.parametrize("j", [2, 40, 97])
def test_a_start_of_0_deep_in_1_based_text_without_a_shape(j, relative):
    """``to_runs`` has no mask size (its bound is 2**63 - 1).  A start token of 0 read by
    the quick reader is below the base, or a gap of 0 with relative starts; no arithmetic
    may overflow on the way (the sanitizer run checks that)."""
    text = long_text(j, start="0")
    if not relative:
        with pytest.raises(rlecodec.RLEError) as info:
            rlecodec.to_runs(text)
        assert (info.value.token, info.value.reason) == (2 * j, "below_base")
        return
    tokens = [int(t) for t in text.split()]
    runs, end = [], 0
    for k in range(0, len(tokens), 2):
        start = end + tokens[k] if runs else tokens[k] - 1
        runs.append([start, tokens[k + 1]])
        end = start + tokens[k + 1]
    assert rlecodec.to_runs(text, relative=True).tolist() == runs


@pytest.mark.parametrize("j", DEEP_PAIRS)
@pytest.mark.parametrize("token", ["0005", "000000000000005", "0000000000000005",
                                   "00000000000000000000000005", "5\t", "5\n", "5 ", "5\r\n"])
def test_unusual_but_valid_tokens_deep_in_long_text(j, token):
    """Leading zeros up to past 15 digits and other whitespace hand the rest of the text
    to the general reader: same mask as the reference."""
    text = long_text(j, token=token, which=1)
    np.testing.assert_array_equal(rlecodec.decode(text, (100, 10)),
                                  ref_decode(text, (100, 10)))
