"""The reader of plain pairs (src/rle_parse.h) in each of its variants: AVX-512 (VBMI2) or
SSSE3 where the CPU has them, and the portable SWAR one; ``RLECODEC_PARSER=swar``,
``ssse3`` or ``avx512`` selects one (checked here in subprocesses).  Numbers of every digit
count, pairs at every place in the reader's 64-byte blocks and 256-byte chunks, and usual
pairs mixed with ones that the full checker has to take."""

import os
import platform
import subprocess
import sys

import numpy as np
import pytest
from reference import ref_check, ref_decode_lenient, tokens_of_steps

import rlecodec
from rlecodec import _codec

DIGITS = np.array(list("0123456789"))


def token(rng, ndig: int, lead_zero_ok: bool) -> str:
    """A decimal token of exactly ``ndig`` digits (leading zeros allowed or not)."""
    digits = rng.choice(DIGITS, ndig)
    if not lead_zero_ok:
        digits[0] = str(rng.integers(1, 10))
    return "".join(digits)


def digit_count_texts():
    """Texts of pairs whose start and length have 1 to 15 digits: every combination in turn,
    then random ones, so pairs of each kind fall at many places in a block; the value each
    pair must give comes from Python's int."""
    rng = np.random.default_rng(2024)
    combos = [(n1, n2) for n1 in range(1, 16) for n2 in range(1, 16)]
    layouts = [combos, combos[::-1]]
    for _ in range(6):
        layouts.append([(int(a), int(b)) for a, b in rng.integers(1, 16, (400, 2))])
    for _ in range(6):  # mostly the short numbers the vector path converts
        layouts.append([(int(a), int(b)) for a, b in rng.integers(1, 9, (400, 2))])
    for layout in layouts:
        pairs = [(token(rng, n1, False), token(rng, n2, True)) for n1, n2 in layout]
        text = " ".join(f"{a} {b}" for a, b in pairs)
        yield text, [[int(a) - 1, int(b)] for a, b in pairs]


def spacing_texts():
    """Texts of short pairs (the vector path's usual diet) where a few separators are two
    or three spaces, or a space leads the text: any run of spaces parts two numbers, and
    the reader must not take the empty token between two spaces for a number."""
    rng = np.random.default_rng(11)
    for _ in range(40):
        layout = rng.integers(1, 8, (int(rng.integers(20, 300)), 2))
        numbers = [token(rng, int(n), i % 2 == 1) for i, n in enumerate(layout.ravel())]
        seps = [" "] * len(numbers)
        for k in rng.integers(0, len(numbers), int(rng.integers(1, 4))):
            seps[k] = " " * int(rng.integers(2, 4))
        text = ("  " if rng.random() < 0.3 else "") + "".join(
            n + sep for n, sep in zip(numbers, seps, strict=True))
        yield text, [[int(a) - 1, int(b)] for a, b in zip(numbers[::2], numbers[1::2], strict=True)]


def usual_texts():
    """Long texts of usual pairs only (starts rising past a gap, lengths at least 1), with
    numbers of 1 to 9 digits: nothing is handed back to the full checker, so whole chunks
    of blocks are read by the fast loop, and their ends fall at every place in a pair."""
    rng = np.random.default_rng(5)
    for case in range(16):
        n = int(rng.integers(300, 3000))
        scale = 10 ** rng.integers(0, 3 if case % 2 else 6, (2, n))
        gaps, lengths = rng.integers(1, 10, (2, n)) * scale
        starts = np.cumsum(gaps + np.concatenate([[0], lengths[:-1]]))
        runs = np.stack([starts - 1, lengths], axis=1)
        yield " ".join(f"{a} {b}" for a, b in zip(starts, lengths, strict=True)), runs.tolist()


def flawed_texts():
    """Long texts of usual pairs with one flaw (a run that touches, overlaps or goes back
    from the one before, an empty one, or the first to pass the mask's end) at each of 16
    places in a row, so that it falls at every place in the reader's groups of pairs and
    in the pair after a group."""
    rng = np.random.default_rng(3)
    for kind in ("touch", "overlap", "back", "empty", "past_end"):
        sizes = [int(x) for x in rng.integers(1, 60, 700)]
        for at in range(300, 316):
            steps = [("gap", size) for size in sizes]
            if kind != "past_end":
                steps[at] = (kind, sizes[at])
            tokens, end = tokens_of_steps(steps, False)
            total = end
            if kind == "past_end":  # the run at `at` ends one pixel past the mask
                total = tokens[2 * at] - 1 + tokens[2 * at + 1] - 1
            yield " ".join(map(str, tokens)), False, (1, total)


def wide_texts():
    """Usual pairs whose start and length both have 8 digits (17 bytes with the space: too
    wide for one vector lane), then starts of 9 digits."""
    for length in (10_000_000, 12_345_678, 99_999_999):
        starts = 10_000_001 + np.arange(40) * (length + 1)
        yield " ".join(f"{a} {length}" for a in starts), [[int(a) - 1, length] for a in starts]


def mixed_texts():
    """Long texts where most pairs are usual and some touch, overlap, go back, are empty or
    run past the end, with absolute and relative starts (the reader hands those to the
    full checker and must carry its state across)."""
    rng = np.random.default_rng(7)
    kinds = ["gap"] * 6 + ["touch", "empty", "back", "overlap"]
    for case in range(60):
        relative = case % 2 == 1
        steps = [(kinds[int(rng.integers(0, len(kinds)))] if i >= 10 else "gap",
                  int(rng.choice([1, 3, 9, 12, 150, 4000])))
                 for i in range(int(rng.integers(20, 120)))]
        tokens, end = tokens_of_steps(steps, relative)
        total = end + int(rng.choice([-5, 0, 3]))
        yield " ".join(map(str, tokens)), relative, (1, max(total, 1))


def check_reader() -> None:
    """Everything this module asserts about the reader in use (run in both variants)."""
    for text, runs in (*digit_count_texts(), *spacing_texts(), *usual_texts(), *wide_texts()):
        assert rlecodec.to_runs(text, strict=False).tolist() == runs, text[:80]
    for text, runs in usual_texts():
        assert rlecodec.to_runs(text).tolist() == runs, text[:80]
    for text, relative, shape in (*mixed_texts(), *flawed_texts()):
        for strict in (True, False):
            expected = ref_check(text, shape[1], 1, relative, strict)
            try:
                mask = rlecodec.decode(text, shape, relative=relative, strict=strict)
            except rlecodec.RLEError as err:
                assert expected == (err.token, err.reason), text
            else:
                assert expected is None, text
                np.testing.assert_array_equal(
                    mask, ref_decode_lenient(text, shape, "F", 1, relative))
                # Touching runs are joined as they are read: the runs are the mask's own.
                np.testing.assert_array_equal(
                    _codec.merged_runs(text, 1, shape[1], relative, strict),
                    rlecodec.to_runs(rlecodec.encode(mask)))


def test_reader_in_use():
    check_reader()


def _cpu_flags() -> set[str]:
    """The CPU's feature flags as Linux lists them (empty elsewhere)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")
AVX512_FLAGS = {"avx512bw", "avx512_vbmi2", "popcnt", "bmi2"}


def _best_reader() -> str | None:
    """The reader this CPU should get by default, or None where that is not known here."""
    if not X86:
        return "swar"
    if platform.system() != "Linux":
        return None
    return "avx512" if AVX512_FLAGS <= _cpu_flags() and sys.maxsize > 2**32 else "ssse3"


def test_the_best_reader_is_chosen():
    """Every x86-64 CPU a wheel meets in practice has SSSE3 (from 2006 on), so there a vector
    reader must be the one in use: the AVX-512 one where the CPU has AVX-512 BW and VBMI2
    (read from /proc/cpuinfo on Linux); elsewhere the portable one is."""
    if os.environ.get("RLECODEC_PARSER"):
        return  # (a forced reader: the subprocess tests check those)
    best = _best_reader()
    if best is None:
        assert _codec.PARSER in ("avx512", "ssse3")
    else:
        assert _codec.PARSER == best


@pytest.mark.parametrize("asked", ["swar", "ssse3", "avx512"])
def test_each_reader_in_a_subprocess(asked):
    """Each reader asked for by name gives the same results; one the CPU lacks falls back
    to the next best (AVX-512 to SSSE3, SSSE3 to SWAR off x86)."""
    here = os.path.dirname(os.path.abspath(__file__))
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import test_pair_reader as t; "
            "t.check_reader(); from rlecodec import _codec; print(_codec.PARSER)")
    out = subprocess.run([sys.executable, "-c", code, here], capture_output=True, text=True,
                         env=dict(os.environ, RLECODEC_PARSER=asked))
    assert out.returncode == 0, out.stderr
    if asked == "swar" or not X86:
        expected = {"swar"}
    elif asked == "ssse3":
        expected = {"ssse3"}
    else:
        best = _best_reader()
        expected = {"avx512", "ssse3"} if best is None else {best}
    assert out.stdout.strip() in expected
