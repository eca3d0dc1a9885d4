"""Property tests: round trips and strictness against the reference, on generated input."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from reference import ref_check, ref_decode_lenient, ref_encode, tokens_of_steps

import rlecodec

orders = st.sampled_from(["F", "C"])
variants = st.sampled_from([(1, False), (0, False), (0, True), (1, True)])
shapes = st.one_of(
    st.tuples(st.integers(1, 48), st.integers(1, 48)),
    st.tuples(st.just(1), st.integers(1, 300)),
    st.tuples(st.integers(1, 300), st.just(1)),
)


@st.composite
def masks(draw):
    shape = draw(shapes)
    density = draw(st.sampled_from([0.02, 0.3, 0.7, 0.98]))
    seed = draw(st.integers(0, 2**32 - 1))
    noise = np.random.default_rng(seed).random(shape) < density
    return noise.astype(draw(st.sampled_from([np.uint8, bool, np.float32, np.int16])))


@given(masks(), orders, variants)
def test_encode_matches_reference_and_round_trips(mask, order, variant):
    base, relative = variant
    text = rlecodec.encode(mask, order=order, base=base, relative=relative)
    assert text == ref_encode(mask, order, base, relative)
    back = rlecodec.decode(text, mask.shape, order=order, base=base, relative=relative)
    np.testing.assert_array_equal(back, mask != 0)


@given(arrays(np.uint8, shapes, elements=st.integers(0, 3)), orders,
       st.integers(0, 3), st.integers(0, 3), st.booleans(), st.booleans())
def test_views_with_odd_strides(mask, order, row0, col0, flip_rows, flip_cols):
    h, w = mask.shape
    big = np.zeros((2 * h + row0, 3 * w + col0), np.uint8)
    view = big[row0:row0 + 2 * h:2, col0:col0 + 3 * w:3]
    view[...] = mask
    if flip_rows:
        view, mask = view[::-1], mask[::-1]
    if flip_cols:
        view, mask = view[:, ::-1], mask[:, ::-1]
    assert rlecodec.encode(view, order=order) == ref_encode(mask, order)
    out = np.zeros((2 * h + 1, 3 * w + 2), np.int16)[1::2, 2::3]
    rlecodec.decode(ref_encode(mask, order), order=order, out=out)
    np.testing.assert_array_equal(out, mask != 0)


token = st.one_of(
    st.integers(0, 40).map(str),
    st.sampled_from(["0", "00", "-1", "-", "x", "1.5", "+2", "1e1", "9" * 19, "9" * 25,
                     "9223372036854775807", "٣", "", "-7"]),
)
separator = st.sampled_from([" ", "  ", "\t", "\n", "\r\n", " \x0b"])


@given(st.lists(st.tuples(token, separator), max_size=12), st.integers(0, 6),
       st.integers(0, 6), variants, st.booleans(), orders)
def test_any_text_is_decoded_or_rejected_like_the_reference(parts, h, w, variant, strict, order):
    text = "".join(t + s for t, s in parts)
    base, relative = variant
    expected = ref_check(text, h * w, base, relative, strict)
    out = np.full((h, w), 7, np.uint8)
    try:
        rlecodec.decode(text, order=order, base=base, relative=relative, strict=strict, out=out)
    except rlecodec.RLEError as err:
        assert expected == (err.token, err.reason), text
        assert (out == 7).all()
        return
    assert expected is None, text
    np.testing.assert_array_equal(out, ref_decode_lenient(text, (h, w), order, base, relative))


@given(st.integers(1, 40), st.integers(1, 40), st.sampled_from(["u1", "i2", "u4", "i8"]),
       st.sampled_from("FC"), st.booleans(), st.integers(0, 2**32 - 1))
def test_encode_classes_label_maps_match_per_label_encoding(h, w, dt, order, transpose, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, (h, w)).astype(dt)
    labels[rng.random((h, w)) < rng.random()] = 0
    if transpose:
        labels = np.ascontiguousarray(labels.T).T
    want = {v.item(): ref_encode(labels == v, order) for v in np.unique(labels) if v}
    assert rlecodec.encode_classes(labels, order=order) == want


@st.composite
def long_texts(draw):
    """40 to 150 pairs separated by single spaces, so that the word-at-a-time reader takes
    them, and a mask shape.  Runs after a gap, with touching, empty, backward and
    overlapping ones mixed in after the first 20, and a mask that ends around the last
    run; written as absolute 1-based starts or as relative gaps."""
    relative = draw(st.booleans())
    kinds = st.sampled_from(["gap"] * 25 + ["touch", "empty", "back", "overlap"])
    steps = [(draw(kinds) if i >= 20 else "gap", draw(st.integers(1, 12)))
             for i in range(draw(st.integers(40, 150)))]
    tokens, end = tokens_of_steps(steps, relative)
    h = draw(st.integers(1, 8))
    w = max(1, (end + draw(st.sampled_from([-3, -1, 0, 1, 7]))) // h)
    return " ".join(map(str, tokens)), relative, (h, w)


@settings(max_examples=300)
@given(long_texts(), st.booleans(), orders)
def test_long_texts_are_decoded_or_rejected_like_the_reference(text_rel_shape, strict, order):
    """The quick path for ordinary pairs hands every other pair to the full checker, and
    the two must keep one state: the error (or the mask) is the reference's."""
    text, relative, (h, w) = text_rel_shape
    expected = ref_check(text, h * w, 1, relative, strict)
    out = np.full((h, w), 7, np.uint8)
    try:
        rlecodec.decode(text, order=order, relative=relative, strict=strict, out=out)
    except rlecodec.RLEError as err:
        assert expected == (err.token, err.reason), text
        assert (out == 7).all()
    else:
        assert expected is None, text
        np.testing.assert_array_equal(out, ref_decode_lenient(text, (h, w), order, 1,
                                                              relative))
    if expected is None:
        tokens = [int(t) for t in text.split()]
        runs, end = [], 0
        for k in range(0, len(tokens), 2):
            start = end + tokens[k] if relative and runs else tokens[k] - 1
            runs.append([start, tokens[k + 1]])
            end = start + tokens[k + 1]
        assert rlecodec.to_runs(text, relative=relative, strict=strict).tolist() == runs
