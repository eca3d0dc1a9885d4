"""to_runs() and from_runs(): the run arrays behind the text."""

import numpy as np
import pytest
from reference import random_mask, ref_encode, ref_runs

import rlecodec


def test_known_answers():
    runs = rlecodec.to_runs("1 3 10 2")
    assert runs.dtype == np.int64 and runs.shape == (2, 2)
    assert runs.tolist() == [[0, 3], [9, 2]]
    assert rlecodec.to_runs("0 3 6 2", base=0, relative=True).tolist() == [[0, 3], [9, 2]]
    assert rlecodec.from_runs([[0, 3], [9, 2]]) == "1 3 10 2"
    assert rlecodec.from_runs(np.array([[0, 3], [9, 2]], np.uint32), base=0,
                              relative=True) == "0 3 6 2"


def test_empty():
    for empty in ("", None, "-1", float("nan")):
        runs = rlecodec.to_runs(empty)
        assert runs.shape == (0, 2) and runs.dtype == np.int64
    assert rlecodec.from_runs(np.zeros((0, 2), np.int64)) == ""
    assert rlecodec.from_runs([]) == ""


def test_runs_are_kept_as_written():
    # No merging of touching runs; lenient mode keeps order and empty runs.
    assert rlecodec.to_runs("1 2 3 2").tolist() == [[0, 2], [2, 2]]
    assert rlecodec.to_runs("9 2 1 0", strict=False).tolist() == [[8, 2], [0, 0]]


def test_no_shape_means_only_int64_bounds():
    big = 2**62
    assert rlecodec.to_runs(f"{big} 5").tolist() == [[big - 1, 5]]
    with pytest.raises(rlecodec.RLEError) as info:
        rlecodec.to_runs(f"{2**63 - 1} 5")
    assert info.value.reason == "past_end"


@pytest.mark.parametrize("base,relative", [(1, False), (0, False), (0, True), (1, True)])
def test_round_trip_with_reference(base, relative):
    rng = np.random.default_rng(31)
    for _ in range(100):
        m = random_mask(rng, int(rng.integers(1, 50)), int(rng.integers(1, 50)))
        text = ref_encode(m, "F", base, relative)
        runs = rlecodec.to_runs(text, base=base, relative=relative)
        assert [tuple(r) for r in runs.tolist()] == ref_runs(m)
        assert rlecodec.from_runs(runs, base=base, relative=relative) == text


@pytest.mark.parametrize("base,relative", [(1, False), (0, False), (0, True)])
def test_numbers_of_every_digit_count_are_written_exactly(base, relative):
    """Starts, gaps and lengths at every power of ten (1 to 19 digits, where the writer
    switches between one byte, a digit pair, one 8-byte store and digit pairs from the
    back), packed tight so that an 8-byte store runs past the number into the next."""
    values = sorted({v for k in range(19) for v in (10**k - 1, 10**k, 10**k + 1) if v > 0})
    rng = np.random.default_rng(5)
    for _ in range(30):
        lengths = rng.choice(values[:40], size=int(rng.integers(1, 12)))
        gaps = rng.choice(values[:40], size=len(lengths))
        starts = np.cumsum(gaps) + np.concatenate([[0], np.cumsum(lengths)[:-1]])
        runs = np.stack([starts, lengths], axis=1).astype(np.int64)
        written = [int(s) + base for s in starts]
        if relative:
            written = [written[0]] + [int(starts[i] - starts[i - 1] - lengths[i - 1])
                                      for i in range(1, len(starts))]
        want = " ".join(f"{w} {n}" for w, n in zip(written, lengths.tolist(), strict=True))
        assert rlecodec.from_runs(runs, base=base, relative=relative) == want
        assert rlecodec.to_runs(want, base=base, relative=relative).tolist() == runs.tolist()


@pytest.mark.parametrize("runs,token,reason", [
    ([[0, 3], [2, 2]], 2, "overlap"), ([[5, 3], [0, 2]], 2, "unsorted"),
    ([[0, 0]], 0, "zero_length"), ([[-1, 3]], 0, "negative"), ([[0, -3]], 1, "negative"),
    ([[2**63 - 1, 1]], 0, "overflow"), (np.array([[0, 2**63]], np.uint64), 1, "overflow"),
])
def test_from_runs_rejects_bad_runs(runs, token, reason):
    with pytest.raises(rlecodec.RLEError) as info:
        rlecodec.from_runs(runs)
    assert (info.value.token, info.value.reason) == (token, reason)


def test_from_runs_shapes_and_types():
    with pytest.raises(ValueError):
        rlecodec.from_runs([1, 2, 3, 4])
    with pytest.raises(TypeError):
        rlecodec.from_runs([[0.5, 2]])
    # Any integer layout, including a transposed view.
    arr = np.array([[0, 9], [3, 2]], np.int32).T
    assert rlecodec.from_runs(arr) == "1 3 10 2"
