"""Side-by-side speed of rlecodec and its peers, as ratios measured in one process.

Run:  pip install .[bench] && python benchmarks/bench.py [--quick] [workload ...]

For every workload, each implementation decodes its own encoding of the same mask into a
C-contiguous uint8 array and encodes a C-contiguous uint8 mask.  Times are medians; the
ratio columns are rlecodec's time divided by the other's (below 1: rlecodec is faster).
"""

from __future__ import annotations

import argparse
import gc
import os

# numpy's OpenBLAS threads spin on the other cores after import; nothing here uses BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
import workloads  # noqa: E402

import rlecodec  # noqa: E402


def loops_for(fn: Callable[[], object], sample: float) -> int:
    """How many calls make one timing sample of about ``sample`` seconds."""
    fn()
    loops = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= sample or loops >= 1_000_000:
            return loops
        loops = max(loops * 2, int(loops * sample / max(elapsed, 1e-9)))


def measure(fns: dict[str, Callable[[], object]], budget: float) -> dict[str, float]:
    """Median seconds per call of each function, sampled round-robin.

    Interleaving the samples means a machine that speeds up or slows down (a shared VM, a
    frequency change) affects every contender alike, so the ratios stay honest.
    """
    sample = max(budget / 40, 0.002)
    loops = {name: loops_for(fn, sample / 4) for name, fn in fns.items()}
    samples: dict[str, list[float]] = {name: [] for name in fns}
    deadline = time.perf_counter() + budget * len(fns)
    while time.perf_counter() < deadline or min(len(v) for v in samples.values()) < 7:
        for name, fn in fns.items():
            n = loops[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - t0) / n)
    return {name: statistics.median(v) for name, v in samples.items()}


def median_time(fn: Callable[[], object], budget: float) -> float:
    return measure({"fn": fn}, budget)["fn"]


def peak_growth(fn: Callable[[], object]) -> int | None:
    """Bytes by which the peak resident memory grows during one call of ``fn``, its result
    included (Linux only: the peak is reset through /proc/self/clear_refs)."""

    def kib(field: str) -> int:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise LookupError(field)

    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # the peak (VmHWM) restarts from the current size
        before = kib("VmRSS")
    except (OSError, LookupError):
        return None
    result = fn()
    peak = kib("VmHWM")
    del result
    return (peak - before) * 1024


# Below this, temporaries come from memory the allocator already holds and do not show.
MEMORY_MIN_BYTES = 64 << 20


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:8.2f} ms"
    return f"{seconds:8.2f} s "


def bench_single(name: str, mask: np.ndarray, budget: float) -> dict[str, tuple[float, float]]:
    shape = mask.shape
    text = rlecodec.encode(mask)
    assert np.array_equal(rlecodec.decode(text, shape), mask)
    decoders = {"rlecodec": lambda: rlecodec.decode(text, shape)}
    encoders = {"rlecodec": lambda: rlecodec.encode(mask)}
    if mask.nbytes >= 32 << 20:  # such masks are read and written in bands, one per core
        decoders["rlecodec, threads=1"] = lambda: rlecodec.decode(text, shape, threads=1)
        encoders["rlecodec, threads=1"] = lambda: rlecodec.encode(mask, threads=1)
    for peer, (prepare, enc, dec) in peers.available().items():
        if peer == "numpy snippet" and mask.size > 50_000_000:
            continue  # minutes per call; it tells nothing new
        encoded = prepare(mask)
        assert np.array_equal(dec(encoded, shape), mask), peer
        decoders[peer] = lambda enc_=encoded, d=dec: d(enc_, shape)
        encoders[peer] = lambda e=enc: e(mask)
    floor = "floor (np.ones / np.count_nonzero)"
    decoders[floor] = lambda: np.ones(shape, np.uint8)
    encoders[floor] = lambda: np.count_nonzero(mask)
    dec_t = measure(decoders, budget)
    enc_t = measure(encoders, budget)
    runs = len(text.split()) // 2
    print(f"\n## {name}: {shape[0]}x{shape[1]}, {runs} runs, {len(text)} bytes of text")
    print(f"{'implementation':36s} {'decode':>11s} {'encode':>11s} {'rlecodec/it dec':>16s}"
          f" {'rlecodec/it enc':>16s}")
    for impl in decoders:
        print(f"{impl:36s} {fmt(dec_t[impl])} {fmt(enc_t[impl])}"
              f" {dec_t['rlecodec'] / dec_t[impl]:16.2f} {enc_t['rlecodec'] / enc_t[impl]:16.2f}")
    if mask.nbytes >= MEMORY_MIN_BYTES:
        print_memory(mask, {k: v for k, v in decoders.items() if not k.startswith("floor")},
                     {k: v for k, v in encoders.items() if not k.startswith("floor")})
    return {impl: (dec_t[impl], enc_t[impl]) for impl in decoders}


def print_memory(mask: np.ndarray, decoders: dict[str, Callable[[], object]],
                 encoders: dict[str, Callable[[], object]]) -> None:
    """Peak memory of one call each, also as a multiple of the mask's bytes: a decode must need
    the output plus O(runs), an encode O(runs), never a full-size copy of the mask."""
    growth = {impl: (peak_growth(decoders[impl]), peak_growth(encoders[impl]))
              for impl in decoders}
    if growth["rlecodec"][0] is None:
        print("peak memory: needs Linux's /proc/self/status")
        return
    size = mask.nbytes
    print(f"\npeak memory growth of one call (the mask is {size / 2**20:.0f} MiB; a decode's"
          " result included)")
    print(f"{'implementation':36s} {'decode':>20s} {'encode':>20s}")
    for impl, (dec, enc) in growth.items():
        print(f"{impl:36s} {dec / 2**20:9.1f} MiB ({dec / size:4.2f}x)"
              f" {enc / 2**20:9.1f} MiB ({enc / size:4.2f}x)")


def bench_batch(budget: float, n: int) -> None:
    masks = np.stack(workloads.batch(n))
    texts = rlecodec.encode_many(masks)
    shape = masks.shape[1:]
    cores = os.cpu_count() or 1
    print(f"\n## batch: {n} severstal masks, decode_many / encode_many, threads=1 vs {cores}")
    print(f"{'threads':8s} {'decode_many':>12s} {'encode_many':>12s}")
    dec = measure({t: (lambda t=t: rlecodec.decode_many(texts, shape, threads=t))
                   for t in (1, cores)}, budget)
    enc = measure({t: (lambda t=t: rlecodec.encode_many(masks, threads=t))
                   for t in (1, cores)}, budget)
    times = {t: (dec[t], enc[t]) for t in (1, cores)}
    for threads in (1, cores):
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
