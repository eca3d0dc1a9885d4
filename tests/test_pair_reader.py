"""The reader of plain pairs (src/rle_parse.h) in both its variants: SSSE3 where the CPU has
it, and the portable SWAR one, which ``RLECODEC_PARSER=swar`` selects (checked here in a
subprocess).  Numbers of every digit count, pairs at every place in the reader's 64-byte
blocks, and usual pairs mixed with ones that the full checker has to take."""

import os
import platform
import subprocess
import sys

import numpy as np
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
    for text, runs in (*digit_count_texts(), *spacing_texts()):
        assert rlecodec.to_runs(text, strict=False).tolist() == runs, text[:80]
    for text, relative, shape in mixed_texts():
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


def test_reader_in_use():
    check_reader()


def test_the_vector_reader_is_chosen_on_x86():
    """Every x86-64 CPU a wheel meets in practice has SSSE3 (from 2006 on), so there the
    vector reader must be the one in use (unless RLECODEC_PARSER=swar asks otherwise);
    elsewhere the portable one is."""
    x86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86")
    forced = os.environ.get("RLECODEC_PARSER") == "swar"
    assert _codec.PARSER == ("ssse3" if x86 and not forced else "swar")


def test_portable_reader_in_a_subprocess():
    here = os.path.dirname(os.path.abspath(__file__))
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import test_pair_reader as t; "
            "t.check_reader(); from rlecodec import _codec; print(_codec.PARSER)")
    out = subprocess.run([sys.executable, "-c", code, here], capture_output=True, text=True,
                         env=dict(os.environ, RLECODEC_PARSER="swar"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "swar"
