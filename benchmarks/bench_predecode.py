"""End-to-end pre-decode: a 2,000-image Severstal-layout CSV to one .npy per image.

    python benchmarks/bench_predecode.py [--images 2000] [--rounds 3] [--workdir DIR]

Three contenders, each run ``--rounds`` times in turn (round-robin, so a slow spell of the
machine hits all of them), output folders emptied between runs and not timed:

- ``pandas + snippet``: the script most kernels use: ``pd.read_csv``, ``groupby`` the image,
  the Kaggle numpy decode per row into an ``(H, W, 4)`` uint8 stack, ``np.save``;
- ``rlecodec decode``: the command line, as a user runs it (a subprocess, every core);
- ``np.save floor``: only ``np.save`` of as many zero ``(H, W, 4)`` uint8 stacks.

Prints median seconds and the ratios the project targets (rlecodec at least 10x faster
than the script, and within 1.5x of the floor).  When the disk is slower than the decoding
(3.2 GB of output for 2,000 images), the floor bounds every contender: the script can then
be at most (script / floor) times slower than anything, which the last line shows.
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

import numpy as np
from peers import numpy_snippet_decode

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import make_sample  # noqa: E402

import rlecodec

SHAPE = (256, 1600)
CLASSES = 4


def make_csv(path: str, images: int) -> int:
    """The shipped sample's generator (examples/make_sample.py) at ``images`` images;
    returns the number of rows."""
    make_sample.main(path, images=images)
    with open(path, newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def pandas_snippet(csv_path: str, out: str) -> None:
    import pandas as pd

    df = pd.read_csv(csv_path)
    for image, group in df.groupby("ImageId"):
        stack = np.zeros((*SHAPE, CLASSES), np.uint8)
        for cls, rle in zip(group["ClassId"], group["EncodedPixels"], strict=True):
            stack[:, :, cls - 1] = numpy_snippet_decode(rle, SHAPE)
        np.save(os.path.join(out, str(image).rsplit(".", 1)[0] + ".npy"), stack)


def rlecodec_command(csv_path: str, out: str) -> None:
    subprocess.run([sys.executable, "-m", "rlecodec", "decode", csv_path, "--shape",
                    f"{SHAPE[0]}x{SHAPE[1]}", "--out", out, "--quiet"], check=True)


def save_floor(images: int, out: str) -> None:
    stack = np.zeros((*SHAPE, CLASSES), np.uint8)
    for k in range(images):
        np.save(os.path.join(out, f"{k:06d}.npy"), stack)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workdir", default=None, help="where to write (default: a temp dir)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="rlecodec-predecode-", dir=args.workdir)
    try:
        csv_path = os.path.join(work, "train.csv")
        rows = make_csv(csv_path, args.images)
        out = os.path.join(work, "out")
        contenders = {
            "pandas + snippet": lambda: pandas_snippet(csv_path, out),
            "rlecodec decode": lambda: rlecodec_command(csv_path, out),
            "np.save floor": lambda: save_floor(args.images, out),
        }
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.rounds):
            for name, run in contenders.items():
                shutil.rmtree(out, ignore_errors=True)
                os.makedirs(out)
                t0 = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - t0)
                assert len(os.listdir(out)) == args.images, name
        print(f"{args.images} images, {rows} rows, {SHAPE[0]}x{SHAPE[1]}x{CLASSES} uint8, "
              f"{os.cpu_count()} cores, rlecodec {rlecodec.__version__}")
        median = {name: statistics.median(t) for name, t in times.items()}
        for name, t in median.items():
            print(f"  {name:18s} {t:7.2f} s   (runs: {', '.join(f'{x:.2f}' for x in times[name])})")
        ours = median["rlecodec decode"]
        print(f"  speed-up over pandas + snippet: {median['pandas + snippet'] / ours:.1f}x "
              "(target >= 10x)")
        floor = median["np.save floor"]
        print(f"  rlecodec / np.save floor:       {ours / floor:.2f}x (target <= 1.5x)")
        # Writing the files is common to both; what each adds on top of it is its own work.
        print("  time above the floor:           pandas + snippet "
              f"{median['pandas + snippet'] - floor:.2f} s, rlecodec {ours - floor:.2f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
