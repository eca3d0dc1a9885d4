"""Side-by-side speed of rlecodec and its peers, as ratios measured in one process.

Run:  pip install .[bench] && python benchmarks/bench.py [--quick] [workload ...]

For every workload, each implementation decodes its own encoding of the same mask into a
C-contiguous uint8 array and encodes a C-contiguous uint8 mask.  Times are medians; the
ratio columns are rlecodec's time divided by the other's (below 1: rlecodec is faster).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
import workloads  # noqa: E402

import rlecodec  # noqa: E402


def median_time(fn: Callable[[], object], budget: float) -> float:
    """Median seconds per call, over batches sized to take ~1/20 of ``budget`` each."""
    fn()
    loops, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        t = time.perf_counter() - t0
        if t > budget / 20 or loops > 1_000_000:
            break
        loops *= 2 if t == 0 else max(2, int(budget / 20 / max(t, 1e-9)))
    samples = [t / loops]
    deadline = time.perf_counter() + budget
    while time.perf_counter() < deadline or len(samples) < 5:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        samples.append((time.perf_counter() - t0) / loops)
    return statistics.median(samples)


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:8.2f} ms"
    return f"{seconds:8.2f} s "


def bench_single(name: str, mask: np.ndarray, budget: float) -> list[tuple[str, float, float]]:
    shape = mask.shape
    text = rlecodec.encode(mask)
    assert np.array_equal(rlecodec.decode(text, shape), mask)
    rows = [("rlecodec",
             median_time(lambda: rlecodec.decode(text, shape), budget),
             median_time(lambda: rlecodec.encode(mask), budget))]
    for peer, (prepare, enc, dec) in peers.available().items():
        if peer == "numpy snippet" and mask.size > 50_000_000:
            continue  # minutes per call; it tells nothing new
        encoded = prepare(mask)
        assert np.array_equal(dec(encoded, shape), mask), peer
        rows.append((peer,
                     median_time(lambda enc_=encoded, d=dec: d(enc_, shape), budget),
                     median_time(lambda e=enc: e(mask), budget)))
    rows.append(("floor (np.ones / np.count_nonzero)",
                 median_time(lambda: np.ones(shape, np.uint8), budget),
                 median_time(lambda: np.count_nonzero(mask), budget)))
    runs = len(text.split()) // 2
    print(f"\n## {name}: {shape[0]}x{shape[1]}, {runs} runs, {len(text)} bytes of text")
    print(f"{'implementation':36s} {'decode':>11s} {'encode':>11s} {'rlecodec/it dec':>16s}"
          f" {'rlecodec/it enc':>16s}")
    ours_dec, ours_enc = rows[0][1], rows[0][2]
    for impl, dec_t, enc_t in rows:
        print(f"{impl:36s} {fmt(dec_t)} {fmt(enc_t)} {ours_dec / dec_t:16.2f}"
              f" {ours_enc / enc_t:16.2f}")
    return rows


def bench_batch(budget: float, n: int) -> None:
    masks = np.stack(workloads.batch(n))
    texts = rlecodec.encode_many(masks)
    shape = masks.shape[1:]
    cores = os.cpu_count() or 1
    print(f"\n## batch: {n} severstal masks, decode_many / encode_many, threads=1 vs {cores}")
    print(f"{'threads':8s} {'decode_many':>12s} {'encode_many':>12s}")
    times = {}
    for threads in (1, cores):
        times[threads] = (
            median_time(lambda t=threads: rlecodec.decode_many(texts, shape, threads=t), budget),
            median_time(lambda t=threads: rlecodec.encode_many(masks, threads=t), budget),
        )
        print(f"{threads:<8d} {fmt(times[threads][0])}  {fmt(times[threads][1])}")
    print(f"speed-up {cores} threads vs 1: decode {times[1][0] / times[cores][0]:.2f}x, "
          f"encode {times[1][1] / times[cores][1]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*",
                        default=[*workloads.SINGLE, "batch"],
                        help="severstal clouds wsi noise batch (default: all)")
    parser.add_argument("--quick", action="store_true", help="shorter timing budget")
    args = parser.parse_args()
    budget = 0.3 if args.quick else 1.5
    print(f"rlecodec {rlecodec.__version__}, numpy {np.__version__},"
          f" python {sys.version.split()[0]}, peers: {', '.join(peers.available())}")
    for name in args.workloads:
        if name == "batch":
            bench_batch(budget, 256)
        else:
            bench_single(name, workloads.SINGLE[name](), budget)


if __name__ == "__main__":
    main()
