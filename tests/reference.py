"""An independent reference written from the format's definition, in plain numpy.

"1 3" means pixels 1, 2, 3.  Pixels are numbered from 1 (base=1) or 0 (base=0), top to
bottom then left to right for order "F", row by row for order "C".  relative=True: each
start after the first counts the background pixels after the previous run.
"""

from __future__ import annotations

import re

import numpy as np


def flat_pixels(mask, order: str) -> np.ndarray:
    """The mask's on/off pixels in numbering order."""
    return (np.asarray(mask) != 0).ravel(order=order)


def ref_runs(mask, order: str = "F") -> list[tuple[int, int]]:
    """Maximal runs of on pixels as (0-based start, length), by walking the pixels."""
    runs = []
    start = None
    pixels = flat_pixels(mask, order).tolist()
    for p, on in enumerate(pixels + [False]):
        if on and start is None:
            start = p
        elif not on and start is not None:
            runs.append((start, p - start))
            start = None
    return runs


def ref_format(runs, base: int = 1, relative: bool = False) -> str:
    numbers = []
    prev_end = None
    for start, length in runs:
        written = start + base if (prev_end is None or not relative) else start - prev_end
        numbers += [written, length]
        prev_end = start + length
    return " ".join(map(str, numbers))


def ref_encode(mask, order: str = "F", base: int = 1, relative: bool = False) -> str:
    return ref_format(ref_runs(mask, order), base, relative)


def ref_decode(text: str, shape, order: str = "F", base: int = 1,
               relative: bool = False) -> np.ndarray:
    h, w = shape
    flat = np.zeros(h * w, np.uint8)
    numbers = [int(t) for t in text.split()]
    prev_end = None
    for k in range(0, len(numbers), 2):
        s, n = numbers[k], numbers[k + 1]
        start = s - base if (prev_end is None or not relative) else prev_end + s
        assert 0 <= start and start + n <= h * w
        flat[start:start + n] = 1
        prev_end = start + n
    return flat.reshape((h, w), order=order)


def tokens_of_steps(steps, relative: bool = False) -> tuple[list[int], int]:
    """Tokens of runs laid out one step at a time.  A step ``(kind, size)`` puts a run of
    ``size`` after a gap of ``size`` ("gap"), against the previous end ("touch"), ``size``
    before the previous start ("back") or one pixel into the previous run ("overlap"), or
    an empty run after a gap ("empty").  Starts are 1-based, or gaps when ``relative``.
    Returns the tokens and the furthest end."""
    tokens, end, start = [], 0, 0
    for kind, size in steps:
        prev_start = start
        start = {"gap": end + size, "touch": end, "empty": end + size,
                 "back": max(prev_start - size, 0), "overlap": max(end - 1, 0)}[kind]
        length = 0 if kind == "empty" else size
        tokens += [start - end if relative and tokens else start + 1, length]
        end = max(end, start + length)
    return tokens, end


def random_mask(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Noise, blocks, stripes, empty or full: the shapes that break run logic."""
    kind = int(rng.integers(0, 5))
    if kind == 0:
        return (rng.random((h, w)) < rng.random()).astype(np.uint8)
    if kind == 1:
        m = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(1, 6))):
            y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
            m[y:y + int(rng.integers(1, h + 1)), x:x + int(rng.integers(1, w + 1))] = 1
        return m
    if kind == 2:
        m = np.zeros((h, w), np.uint8)
        step = int(rng.integers(1, 4))
        if rng.random() < 0.5:
            m[:, ::step] = 1
        else:
            m[::step, :] = 1
        return m
    if kind == 3:
        return np.zeros((h, w), np.uint8)
    return np.ones((h, w), np.uint8)


INT64_MAX = 2**63 - 1
_SPACES = re.compile(r"[ \t\n\r\x0b\x0c]+")


def ref_check(text: str, total: int, base: int = 1, relative: bool = False,
              strict: bool = True):
    """The strictness rules, spelled out: ``None`` if ``text`` is valid for a mask of
    ``total`` pixels, else ``(token index, reason)`` of the first problem."""
    tokens = [t for t in _SPACES.split(text) if t]
    if tokens in ([], ["-"], ["-1"]):
        return None
    prev_start = prev_end = None
    for k, tok in enumerate(tokens):
        if not re.fullmatch(r"[0-9]+", tok):
            return k, ("negative" if re.fullmatch(r"-[0-9]+", tok) else "not_a_number")
        if int(tok) > INT64_MAX:
            return k, "overflow"
        if k % 2 == 0:
            continue
        s, n, run = int(tokens[k - 1]), int(tok), k - 1
        if prev_end is None or not relative:
            if s < base:
                return run, "below_base"
            start = s - base
        else:
            start = prev_end + s
        if start >= total or start + n > total:
            return run, "past_end"
        if n == 0 and strict:
            return run, "zero_length"
        if prev_end is not None and start < prev_end and strict:
            return run, ("unsorted" if start < prev_start else "overlap")
        prev_start, prev_end = start, start + n
    if len(tokens) % 2:
        return len(tokens) - 1, "odd_token_count"
    return None


def ref_decode_lenient(text: str, shape, order: str = "F", base: int = 1,
                       relative: bool = False) -> np.ndarray:
    """Union of the runs of a text that ``ref_check(strict=False)`` accepts."""
    h, w = shape
    flat = np.zeros(h * w, np.uint8)
    tokens = [int(t) for t in _SPACES.split(text) if t and t not in ("-", "-1")]
    prev_end = None
    for k in range(0, len(tokens), 2):
        s, n = tokens[k], tokens[k + 1]
        start = s - base if (prev_end is None or not relative) else prev_end + s
        flat[start:start + n] = 1
        prev_end = start + n
    return flat.reshape((h, w), order=order)


def reference_coco_string(counts):
    """pycocotools' rleToString, written from its definition in plain Python."""
    out = bytearray()
    for i, x in enumerate(counts):
        if i > 2:
            x -= counts[i - 2]
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            out.append(48 + (c | 0x20 if more else c))
    return out
