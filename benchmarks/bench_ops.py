"""Run-space operations against decoding and against the peers, as ratios in one process.

    python benchmarks/bench_ops.py [--images 2000]

- ``dice`` and ``iou`` of two Severstal strings against decoding both (rlecodec's own
  decode) and computing the score in numpy;
- ``coco.iou`` of 200 x 200 Severstal-like COCO objects against ``pycocotools.mask.iou``
  and ``rlemasklib.RLEMask.iou_matrix`` (each from its own objects, made beforehand);
- ``rlecodec score`` of a generated 2,000-image Severstal CSV and a perturbed submission
  against the pandas + numpy-snippet script a competitor writes, with the two means: the
  work in one process (both libraries imported), and each run as its own process (its
  interpreter and imports included).

Each timing is a median of rounds taken in turn (round-robin); ratios are rlecodec's time
over the other's, with the project's targets in brackets.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import make_sample  # noqa: E402
import workloads  # noqa: E402
from bench import loops_for  # noqa: E402
from peers import numpy_snippet_decode  # noqa: E402

import rlecodec  # noqa: E402
from rlecodec import coco  # noqa: E402
from rlecodec._score import score, shapes_for  # noqa: E402
from rlecodec._table import Images  # noqa: E402

SHAPE = (256, 1600)


def median_time(fn: Callable[[], object], rounds: int = 7, budget: float = 0.2) -> float:
    loops = loops_for(fn, budget / 4)
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        samples.append((time.perf_counter() - t0) / loops)
    return statistics.median(samples)


def round_robin(contenders: dict[str, Callable[[], object]], rounds: int = 5) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            times[name].append(median_time(fn, rounds=3))
    return {k: statistics.median(v) for k, v in times.items()}


def show(times: dict[str, float], ratios: list[tuple[str, str, str, float]]) -> None:
    for name, seconds in times.items():
        print(f"  {name:40s} {seconds * 1e6:11.1f} us")
    for label, ours, theirs, target in ratios:
        print(f"  ratio {label:34s} {times[ours] / times[theirs]:.3f}  (<= {target})")


def bench_pair() -> None:
    a = workloads.severstal(seed=1)
    b = np.roll(a, 3, axis=1)
    ta, tb = rlecodec.encode(a), rlecodec.encode(b)

    def numpy_dice() -> float:
        x, y = rlecodec.decode(ta, SHAPE, dtype=bool), rlecodec.decode(tb, SHAPE, dtype=bool)
        return 2 * np.count_nonzero(x & y) / (np.count_nonzero(x) + np.count_nonzero(y))

    def numpy_iou() -> float:
        x, y = rlecodec.decode(ta, SHAPE, dtype=bool), rlecodec.decode(tb, SHAPE, dtype=bool)
        return np.count_nonzero(x & y) / np.count_nonzero(x | y)

    assert abs(rlecodec.dice(ta, tb, SHAPE) - numpy_dice()) < 1e-15
    print(f"## two severstal strings ({len(ta.split()) // 2} and {len(tb.split()) // 2} runs)")
    times = round_robin({
        "rlecodec.dice": lambda: rlecodec.dice(ta, tb, SHAPE),
        "decode both + numpy dice": numpy_dice,
        "rlecodec.iou": lambda: rlecodec.iou(ta, tb, SHAPE),
        "decode both + numpy iou": numpy_iou,
    })
    show(times, [("dice / decode + numpy", "rlecodec.dice", "decode both + numpy dice", 0.1),
                 ("iou / decode + numpy", "rlecodec.iou", "decode both + numpy iou", 0.1)])


def bench_coco_iou(n: int = 200) -> None:
    import pycocotools.mask as pycoco
    from rlemasklib import RLEMask

    rng = np.random.default_rng(0)
    masks = [workloads.severstal(seed=int(s)) for s in rng.integers(0, 1 << 30, n)]
    shifted = [np.roll(m, int(rng.integers(-40, 40)), axis=1) for m in masks]
    ours_dt, ours_gt = coco.encode(np.stack(masks)), coco.encode(np.stack(shifted))
    theirs_dt = [pycoco.encode(np.asfortranarray(m)) for m in masks]
    theirs_gt = [pycoco.encode(np.asfortranarray(m)) for m in shifted]
    rl_dt = [RLEMask.from_array(m) for m in masks]
    rl_gt = [RLEMask.from_array(m) for m in shifted]
    crowd = [0] * n
    want = pycoco.iou(theirs_dt, theirs_gt, crowd)
    assert np.array_equal(coco.iou(ours_dt, ours_gt, crowd), want)
    assert np.allclose(RLEMask.iou_matrix(rl_dt, rl_gt), want)
    print(f"## coco.iou of {n} x {n} severstal-like masks")
    times = round_robin({
        "rlecodec coco.iou": lambda: coco.iou(ours_dt, ours_gt, crowd),
        "pycocotools mask.iou": lambda: pycoco.iou(theirs_dt, theirs_gt, crowd),
        "rlemasklib RLEMask.iou_matrix": lambda: RLEMask.iou_matrix(rl_dt, rl_gt),
    }, rounds=3)
    faster = min(("pycocotools mask.iou", "rlemasklib RLEMask.iou_matrix"), key=times.get)
    show(times, [(f"coco.iou / {faster.split()[0]}", "rlecodec coco.iou", faster, 0.5)])


def pandas_score(truth: str, sub: str) -> float:
    """The script a competitor writes: pandas, the Kaggle snippet, numpy Dice."""
    import pandas as pd

    t = pd.read_csv(truth).set_index(["ImageId", "ClassId"])["EncodedPixels"]
    s = pd.read_csv(sub).set_index(["ImageId", "ClassId"])["EncodedPixels"]
    scores = []
    for key in list(t.index) + [k for k in s.index if k not in t.index]:
        a = numpy_snippet_decode(t[key], SHAPE) if key in t.index and isinstance(
            t[key], str) else np.zeros(SHAPE, np.uint8)
        b = numpy_snippet_decode(s[key], SHAPE) if key in s.index and isinstance(
            s[key], str) else np.zeros(SHAPE, np.uint8)
        total = a.sum() + b.sum()
        scores.append(1.0 if total == 0 else 2 * np.sum(a & b) / total)
    return float(np.mean(scores))


def bench_score(images: int) -> None:
    work = tempfile.mkdtemp(prefix="rlecodec-score-")
    try:
        truth, sub = os.path.join(work, "truth.csv"), os.path.join(work, "sub.csv")
        make_sample.main(truth, images=images)
        rng = np.random.default_rng(1)
        with open(truth, newline="") as handle:
            rows = list(csv.reader(handle))[1:]
        out = []
        for image, cls, text in rows:
            if rng.random() < 0.15:
                continue
            m = np.roll(rlecodec.decode(text, SHAPE), int(rng.integers(-6, 6)), axis=1)
            out.append([image, cls, rlecodec.encode(m)])
        with open(sub, "w", newline="") as handle:
            csv.writer(handle).writerows([["ImageId", "ClassId", "EncodedPixels"], *out])
        command = [sys.executable, "-m", "rlecodec", "score", truth, sub, "--shape", "256x1600"]
        script = [sys.executable, os.path.abspath(__file__), "--pandas-score", truth, sub]
        hint = dict(id_col=None, class_col=None, rle_col=None)

        def ours_in_process() -> float:
            t, s = Images(truth, hint), Images(sub, hint)
            return score(t, s, shapes_for(t, s, SHAPE, False), "dice",
                         dict(order="F", base=1, relative=False, strict=True), False).mean

        times: dict[str, list[float]] = {k: [] for k in (
            "rlecodec score (in process)", "pandas + snippet (in process)",
            "rlecodec score (a process)", "pandas + snippet (a process)")}
        for _ in range(3):
            t0 = time.perf_counter()
            mean = ours_in_process()
            times["rlecodec score (in process)"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            theirs = pandas_score(truth, sub)
            times["pandas + snippet (in process)"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            printed = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            times["rlecodec score (a process)"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            subprocess.run(script, check=True, capture_output=True)
            times["pandas + snippet (a process)"].append(time.perf_counter() - t0)
        print(f"## rlecodec score on {images} images ({len(rows)} truth rows, {len(out)} "
              "submission rows)")
        median = {k: statistics.median(v) for k, v in times.items()}
        for name, seconds in median.items():
            print(f"  {name:40s} {seconds:11.3f} s")
        for how in ("in process", "a process"):
            ratio = median[f"rlecodec score ({how})"] / median[f"pandas + snippet ({how})"]
            print(f"  ratio score / script ({how}) {ratio:.4f}  (<= 0.0333)")
        print(f"  means {mean:.12f} (printed {printed.split()[1]}) and {theirs:.12f}, "
              f"difference {abs(mean - theirs):.1e} (<= 1e-12)")
    finally:
        shutil.rmtree(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--pandas-score", nargs=2, metavar=("TRUTH", "SUB"),
                        help="only run the pandas script (as its own process) and print")
    args = parser.parse_args()
    if args.pandas_score:
        print(pandas_score(*args.pandas_score))
        return
    print(f"rlecodec {rlecodec.__version__}, numpy {np.__version__}")
    bench_pair()
    bench_coco_iou()
    bench_score(args.images)


if __name__ == "__main__":
    main()
