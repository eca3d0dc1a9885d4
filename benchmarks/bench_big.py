"""Whole-slide masks: a window decoded and a mask encoded from tiles, against the whole mask.

    python benchmarks/bench_big.py [--quick] [--no-full-slide]

- ``wsi`` (16384 x 16384, ~60k runs): a 512 x 512 window from text and from runs against
  ``decode`` of the whole mask and slicing; ``TileEncoder`` over 1024 x 1024 tiles (views of
  the mask, one thread and two) against ``encode`` of the whole mask.
- ``slide`` (100,000 x 100,000 = 10^10 pixels of sparse blobs, never allocated whole
  except, once, by the full decode it is compared with): the slide's text is made by a
  ``TileEncoder`` from tiles rendered one at a time, then windows are decoded from it and
  checked against the same rendering.

Times are medians of rounds taken in turn; ratios are the whole-mask way's time over the
window's or tiles' (the project's targets in brackets).  Peak memory is the growth of the
process's peak resident size (VmHWM) during one call, result included: it counts C
allocations that tracemalloc does not see.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads  # noqa: E402
from bench import fmt, measure  # noqa: E402

import rlecodec  # noqa: E402

MiB = 2**20
HERE = os.path.dirname(os.path.abspath(__file__))


def peak_in_child(setup: str, work: str) -> int | None:
    """Bytes by which the peak resident memory of a fresh process grows while it runs
    ``work`` (an expression) after ``setup``: no memory freed earlier in this process can
    hide an allocation, and C allocations count too."""
    code = (f"import sys\nsys.path.insert(0, {HERE!r})\nimport numpy as np\nimport rlecodec\n"
            f"import bench_big, workloads\nfrom bench import peak_growth\n{setup}\n"
            f"print(peak_growth(lambda: {work}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    return None if not out or out[-1] == "None" else int(out[-1])


def window_peak(text: str, shape: tuple[int, int], window: str) -> int | None:
    """Peak memory growth of decoding ``window`` (numpy slicing source) of ``text`` in a
    fresh process (the text handed over in a temporary file)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mask.txt")
        with open(path, "w") as f:
            f.write(text)
        return peak_in_child(f"text = open({path!r}).read()",
                             f"rlecodec.decode(text, {shape}, window={window})")


def windows(h: int, w: int, size: int, count: int, seed: int) -> list[tuple[slice, slice]]:
    rng = np.random.default_rng(seed)
    ys = rng.integers(0, h - size, count)
    xs = rng.integers(0, w - size, count)
    return [np.s_[y : y + size, x : x + size]
            for y, x in zip(ys.tolist(), xs.tolist(), strict=True)]


def cycle(items: list[Any]) -> Callable[[], Any]:
    """A function returning the items in turn: each timing sample sees every window."""
    state = {"k": 0}

    def next_item() -> Any:
        state["k"] = (state["k"] + 1) % len(items)
        return items[state["k"]]
    return next_item


def tiles_of(mask: np.ndarray, size: int) -> Iterator[tuple[int, int, np.ndarray]]:
    h, w = mask.shape
    for y in range(0, h, size):
        for x in range(0, w, size):
            yield y, x, mask[y : y + size, x : x + size]


def encode_tiles(shape: tuple[int, int], tiles: Callable[[], Iterator[tuple[int, int, Any]]],
                 threads: int) -> str:
    """The text of a mask made of tiles, added by ``threads`` threads (each adds its share
    of the tiles in turn, as the workers of a prediction pool would)."""
    enc = rlecodec.TileEncoder(shape)
    if threads == 1:
        for y, x, tile in tiles():
            enc.add(tile, y, x)
    else:
        every = list(tiles())

        def work(k: int) -> None:
            for y, x, tile in every[k::threads]:
                enc.add(tile, y, x)
        workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    return enc.finish()


def bench_wsi(budget: float) -> None:
    mask = workloads.wsi()
    shape = mask.shape
    text = rlecodec.encode(mask)
    runs = rlecodec.to_runs(text)
    print(f"\n## wsi: {shape[0]}x{shape[1]}, {len(runs)} runs, {len(text)} bytes of text")
    wins = windows(*shape, 512, 16, seed=5)
    for win in wins:
        assert np.array_equal(rlecodec.decode(text, shape, window=win), mask[win])
        assert np.array_equal(rlecodec.decode(runs, shape, base=0, window=win), mask[win])
    pick = cycle(wins)
    t = measure({
        "full": lambda: rlecodec.decode(text, shape)[pick()].copy(),
        "text": lambda: rlecodec.decode(text, shape, window=pick()),
        "runs": lambda: rlecodec.decode(runs, shape, base=0, window=pick()),
    }, budget)
    print("512x512 windows (16 places in turn):")
    print(f"  decode of the whole mask, then the slice   {fmt(t['full'])}")
    print(f"  window from text                           {fmt(t['text'])}   "
          f"{t['full'] / t['text']:6.1f}x faster  [>= 20x]")
    print(f"  window from runs (to_runs, base=0)         {fmt(t['runs'])}   "
          f"{t['full'] / t['runs']:6.1f}x faster  [>= 200x]")
    grow = window_peak(text, shape, "np.s_[8000:8512, 8000:8512]")
    if grow is not None:
        print(f"  peak memory of a window from text: {grow / MiB:.1f} MiB (the window is "
              f"0.25 MiB, the runs {len(runs) * 16 / MiB:.1f} MiB, the mask "
              f"{mask.nbytes / MiB:.0f} MiB)")

    # Three ways tiles arrive: a model's batched output (the items of one (256, 1024, 1024)
    # array), arrays of their own, views of one big mask.  Reading them costs more than
    # reading the mask (small arrays get no huge pages; a view's rows are short stretches
    # of memory), so each is also set against the floor of reading its tiles once.
    batch = np.stack([tile for _, _, tile in tiles_of(mask, 1024)])
    corners = [(y, x) for y, x, _ in tiles_of(mask, 1024)]
    sources = {
        "batch items": lambda: ((y, x, batch[k]) for k, (y, x) in enumerate(corners)),
        "own arrays": lambda: iter(own),
        "views": lambda: tiles_of(mask, 1024),
    }
    own = [(y, x, tile.copy()) for y, x, tile in tiles_of(mask, 1024)]
    for tiles in sources.values():
        assert encode_tiles(shape, tiles, 1) == text
    assert encode_tiles(shape, sources["batch items"], 2) == text
    fns: dict[str, Callable[[], object]] = {"encode 1": lambda: rlecodec.encode(mask, threads=1)}
    for name, tiles in sources.items():
        fns[name] = lambda tiles=tiles: encode_tiles(shape, tiles, 1)
        fns[name + " read"] = lambda tiles=tiles: [np.count_nonzero(t) for _, _, t in tiles()]
    t = measure(fns, budget)
    t.update(measure({  # (timed apart: one thread's contenders would disturb two's)
        "encode 2": lambda: rlecodec.encode(mask, threads=2),
        "tiles 2": lambda: encode_tiles(shape, sources["batch items"], 2),
    }, budget))
    print("TileEncoder over 256 tiles of 1024x1024, against encode of the whole mask and "
          "against reading the same tiles once (np.count_nonzero):")
    for name in sources:
        print(f"  {name + ', 1 thread':25s} {fmt(t[name])}: {t[name] / t['encode 1']:.2f}x "
              f"encode {fmt(t['encode 1'])} [<= 1.5x], {t[name] / t[name + ' read']:.2f}x "
              f"reading the tiles {fmt(t[name + ' read'])}")
    print(f"  {'batch items, 2 threads':25s} {fmt(t['tiles 2'])}: "
          f"{t['tiles 2'] / t['encode 2']:.2f}x encode {fmt(t['encode 2'])} [<= 1.5x]")
    grow = peak_in_child("mask = workloads.wsi()", "bench_big.encode_tiles(mask.shape, "
                         "lambda: bench_big.tiles_of(mask, 1024), 1)")
    if grow is not None:
        print(f"  peak memory of the tile encode: {grow / MiB:.1f} MiB (two tiles "
              f"{2 * 1024 * 1024 / MiB:.0f} MiB + 64 B a run = "
              f"{(2 * 1024 * 1024 + 64 * len(runs)) / MiB:.1f} MiB)")


# ------------------------------------------------------------------------------ the 10^10 slide
class Slide:
    """Sparse elliptic blobs on a slide too large to hold, rendered a window at a time."""

    def __init__(self, size: int, blobs: int, tile: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.shape = (size, size)
        self.tile = tile
        self.blobs = np.column_stack([rng.integers(0, size, blobs), rng.integers(0, size, blobs),
                                      rng.integers(40, 110, (blobs, 2))])
        self.buckets: dict[tuple[int, int], list[int]] = {}
        for k, (cy, cx, ry, rx) in enumerate(self.blobs.tolist()):
            for ty in range(max(cy - ry, 0) // tile, min(cy + ry, size - 1) // tile + 1):
                for tx in range(max(cx - rx, 0) // tile, min(cx + rx, size - 1) // tile + 1):
                    self.buckets.setdefault((ty, tx), []).append(k)

    def render(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        out = np.zeros((y1 - y0, x1 - x0), np.uint8)
        near: set[int] = set()
        for ty in range(y0 // self.tile, (y1 - 1) // self.tile + 1):
            for tx in range(x0 // self.tile, (x1 - 1) // self.tile + 1):
                near.update(self.buckets.get((ty, tx), ()))
        for k in near:
            cy, cx, ry, rx = self.blobs[k].tolist()
            a0, a1 = max(cy - ry, y0), min(cy + ry + 1, y1)
            b0, b1 = max(cx - rx, x0), min(cx + rx + 1, x1)
            if a0 < a1 and b0 < b1:
                yy, xx = np.ogrid[a0:a1, b0:b1]
                out[a0 - y0 : a1 - y0, b0 - x0 : b1 - x0] |= (
                    ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0)
        return out

    def tiles(self) -> Iterator[tuple[int, int, np.ndarray]]:
        h, w = self.shape
        for y in range(0, h, self.tile):
            for x in range(0, w, self.tile):
                yield y, x, self.render(y, min(y + self.tile, h), x, min(x + self.tile, w))


def bench_slide(budget: float, full: bool) -> None:
    slide = Slide(100_000, 10_000, 1024, seed=7)
    shape = slide.shape
    print(f"\n## slide: {shape[0]}x{shape[1]} ({shape[0] * shape[1] / 1e9:.0f}e9 pixels), "
          f"{len(slide.blobs)} blobs, 1024x1024 tiles")
    t0 = time.perf_counter()
    for _ in slide.tiles():
        pass
    render = time.perf_counter() - t0
    t0 = time.perf_counter()
    text = encode_tiles(shape, slide.tiles, 1)
    took = time.perf_counter() - t0
    grow = peak_in_child("slide = bench_big.Slide(100_000, 10_000, 1024, seed=7)",
                         "bench_big.encode_tiles(slide.shape, slide.tiles, 1)")
    runs = rlecodec.to_runs(text)
    print(f"TileEncoder, tiles rendered one at a time: {took:.2f} s with the rendering "
          f"({render:.2f} s of it alone), {len(runs)} runs, {len(text) / MiB:.1f} MiB of text")
    if grow is not None:
        print(f"  peak memory: {grow / MiB:.1f} MiB  [< 1024 MiB] (a tile is 1 MiB; "
              f"64 B a run = {64 * len(runs) / MiB:.1f} MiB)")
    wins = windows(*shape, 512, 16, seed=9)
    for win in wins:
        expected = slide.render(win[0].start, win[0].stop, win[1].start, win[1].stop)
        assert np.array_equal(rlecodec.decode(text, shape, window=win), expected)
        assert np.array_equal(rlecodec.decode(runs, shape, base=0, window=win), expected)
    pick = cycle(wins)
    t = measure({
        "text": lambda: rlecodec.decode(text, shape, window=pick()),
        "runs": lambda: rlecodec.decode(runs, shape, base=0, window=pick()),
    }, budget)
    print("512x512 windows (16 places in turn, each checked against the rendering):")
    line = "  window from text {}, from runs {}".format(fmt(t["text"]), fmt(t["runs"]))
    if full:
        t0 = time.perf_counter()
        whole = rlecodec.decode(text, shape)[wins[0]].copy()
        full_t = time.perf_counter() - t0
        assert np.array_equal(whole, rlecodec.decode(text, shape, window=wins[0]))
        print(f"  decode of the whole slide ({shape[0] * shape[1] / 1e9:.0f} GB), then the "
              f"slice, once: {full_t:.2f} s")
        line += (f": {full_t / t['text']:.0f}x [>= 20x] and {full_t / t['runs']:.0f}x "
                 "[>= 200x] faster")
    print(line)
    grow = window_peak(text, shape, "np.s_[5000:5512, 0:512]")
    if grow is not None:
        print(f"  peak memory of a window from text: {grow / MiB:.1f} MiB (the runs are "
              f"{len(runs) * 16 / MiB:.1f} MiB, the text {len(text) / MiB:.1f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timing budget")
    parser.add_argument("--no-full-slide", action="store_true",
                        help="skip the one decode of the whole 10^10-pixel slide (10 GB)")
    args = parser.parse_args()
    budget = 0.3 if args.quick else 1.5
    print(f"rlecodec {rlecodec.__version__}, numpy {np.__version__}, "
          f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    bench_wsi(budget)
    bench_slide(budget, not args.no_full_slide)


if __name__ == "__main__":
    main()
