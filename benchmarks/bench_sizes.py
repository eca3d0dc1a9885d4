"""What looking sizes up in a folder of images costs against the decode run it serves.

    python benchmarks/bench_sizes.py [--images 2000]

Writes ``--images`` PNGs of mixed sizes (256x256 to 1040x1388, as in Data Science Bowl 2018)
in nested folders and a CSV of three instance masks per image, then times, each three
times in turn: ``rlecodec decode --images DIR`` (sizes from the files' headers), the same
run with the sizes in height/width columns of the CSV, and the lookups alone
(``rlecodec.ImageSizes``, a fresh one each time: listing the folder and reading every
header).  The target: the lookups cost at most 10% of the decode run.
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
from PIL import Image

import rlecodec

SIZES = [(256, 256), (256, 320), (260, 347), (360, 360), (512, 640), (520, 696),
         (603, 1272), (1024, 1024), (1040, 1388)]


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="rlecodec-sizes-")
    try:
        run(args, work)
    finally:
        shutil.rmtree(work)


def run(args: argparse.Namespace, work: str) -> None:
    rng = np.random.default_rng(0)
    folder = os.path.join(work, "images")
    plain, sized = [], []
    for k in range(args.images):
        h, w = SIZES[k % len(SIZES)]
        sub = os.path.join(folder, f"{k % 50:02d}")
        os.makedirs(sub, exist_ok=True)
        image = f"{k:08x}"
        Image.new("L", (w, h)).save(os.path.join(sub, image + ".png"))
        for _ in range(3):
            m = np.zeros((h, w), np.uint8)
            y, x = rng.integers(0, h - 20), rng.integers(0, w - 20)
            m[y:y + 20, x:x + 20] = 1
            text = rlecodec.encode(m)
            plain.append([image, text])
            sized.append([image, text, h, w])
    with open(os.path.join(work, "plain.csv"), "w", newline="") as handle:
        csv.writer(handle).writerows([["ImageId", "EncodedPixels"], *plain])
    with open(os.path.join(work, "sized.csv"), "w", newline="") as handle:
        csv.writer(handle).writerows([["ImageId", "EncodedPixels", "height", "width"], *sized])
    ids = [row[0] for row in plain[::3]]

    def command(csv_name: str, *extra: str) -> None:
        out = os.path.join(work, "out")
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "rlecodec", "decode", os.path.join(work, csv_name),
                        "--out", out, "--quiet", *extra], check=True)

    def lookups() -> None:
        sizes = rlecodec.ImageSizes(folder)
        for image in ids:
            sizes(image)

    times: dict[str, list[float]] = {"decode --images": [], "decode, size columns": [],
                                     "lookups alone": []}
    for _ in range(args.rounds):
        times["decode --images"].append(timed(lambda: command("plain.csv", "--images", folder)))
        times["decode, size columns"].append(timed(lambda: command("sized.csv")))
        times["lookups alone"].append(timed(lookups))
    median = {name: statistics.median(ts) for name, ts in times.items()}
    print("rounds:", {name: [round(t, 3) for t in ts] for name, ts in times.items()})
    print(f"{args.images} PNGs of {len(SIZES)} sizes in 50 folders, {len(plain)} rows")
    for name, seconds in median.items():
        print(f"  {name:24s} {seconds:7.3f} s")
    print(f"lookups / decode run: {median['lookups alone'] / median['decode --images']:.3f} "
          f"(<= 0.10); decode --images / with size columns: "
          f"{median['decode --images'] / median['decode, size columns']:.2f}")


if __name__ == "__main__":
    main()
