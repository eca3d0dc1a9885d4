"""MaskTable at training time: masks straight from the CSV against pre-decoded .npy files
and the pandas + numpy-snippet lookup users write by hand, as ratios in one process.

    python benchmarks/bench_table.py [--images 2000] [--rows 1000000] [--workdir DIR]

On a generated Severstal-layout CSV (examples/make_sample.py) and a shuffled order of its
images, each contender is timed round-robin (medians of several passes):

- ``table[id]``: ``rlecodec.MaskTable(csv, (256, 1600))[id]``, a new (H, W, 4) array;
- ``np.load``: the same image pre-decoded by ``rlecodec decode``, read from the page cache;
- ``pandas + snippet``: a pandas lookup of the image's rows and the Kaggle numpy decode
  (timed on a quarter of the images in turn with ``table[id]``, and scaled by that);
- ``table.decode(id, out=buf)`` against ``decode_classes`` of the same texts in memory into
  the same ``buf`` (the table's own cost: finding and reading the rows), and, for scale,
  ``decode_classes`` returning a new array (which may get its zeros from calloc more
  cheaply than ``buf`` is cleared: it varies from one process to the next).

Then the time to the first sample (opening the table against ``rlecodec decode`` of the
whole CSV, which it replaces), and a table over a CSV of ``--rows`` rows: how fast it
indexes (MB/s) and how many bytes per row its index takes (tracemalloc peak and pickle).
"""

from __future__ import annotations

import argparse
import os

# numpy's OpenBLAS threads spin on the other cores after import; nothing here uses BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import make_sample  # noqa: E402
from peers import numpy_snippet_decode  # noqa: E402

import rlecodec  # noqa: E402

SHAPE = (256, 1600)


def per_call(fn: Callable[[str], object], ids: list[str]) -> float:
    """Seconds per call of ``fn`` over ``ids`` (one pass)."""
    t0 = time.perf_counter()
    for image in ids:
        fn(image)
    return (time.perf_counter() - t0) / len(ids)


def round_robin(contenders: dict[str, Callable[[str], object]], ids: list[str],
                passes: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(passes):
        for name, fn in contenders.items():
            times[name].append(per_call(fn, ids))
    return {name: statistics.median(ts) for name, ts in times.items()}


def big_csv(path: str, rows: int, template: list[str]) -> None:
    """``rows`` rows of Severstal-like texts (cycled from ``template``), four per image."""
    with open(path, "w") as handle:
        handle.write("ImageId,ClassId,EncodedPixels\n")
        for r in range(rows):
            handle.write(f"{r // 4:08x}.jpg,{r % 4 + 1},{template[r % len(template)]}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="rlecodec-table-", dir=args.workdir)
    try:
        run(args, work)
    finally:
        shutil.rmtree(work)


def run(args: argparse.Namespace, work: str) -> None:
    import pandas as pd

    csv_path = os.path.join(work, "train.csv")
    make_sample.main(csv_path, images=args.images)
    size = os.path.getsize(csv_path)
    out = os.path.join(work, "npy")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rlecodec", "decode", csv_path, "--shape",
                    f"{SHAPE[0]}x{SHAPE[1]}", "--out", out, "--quiet"], check=True)
    predecode = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = rlecodec.MaskTable(csv_path, SHAPE, classes=[1, 2, 3, 4])
    opening = time.perf_counter() - t0
    ids = list(table.ids)
    np.random.default_rng(0).shuffle(ids)
    print(f"{len(ids)} images, {size / 1e6:.1f} MB of CSV; pre-decoded: "
          f"{sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)) / 1e9:.2f} "
          "GB of .npy")

    frame = pd.read_csv(csv_path).set_index("ImageId").sort_index()

    def pandas_snippet(image: str) -> np.ndarray:
        stack = np.zeros((*SHAPE, 4), np.uint8)
        rows = frame.loc[[image]]
        for cls, text in zip(rows["ClassId"], rows["EncodedPixels"], strict=True):
            if isinstance(text, str):
                stack[:, :, cls - 1] = numpy_snippet_decode(text, SHAPE)
        return stack

    def npy(image: str) -> np.ndarray:
        return np.load(os.path.join(out, image.rsplit(".", 1)[0] + ".npy"))

    texts = {image: table.texts(image) for image in ids}
    buf = np.empty((*SHAPE, 4), np.uint8)
    for image in ids:  # the page cache holds every .npy before timing
        npy(image)
    times = round_robin({
        "table[id]": table.__getitem__,
        "np.load (page cache)": npy,
        "table.decode(id, out=buf)": lambda image: table.decode(image, out=buf),
        "decode_classes(out=buf) (texts in memory)": lambda image: rlecodec.decode_classes(
            texts[image], SHAPE, classes=["1", "2", "3", "4"], out=buf),
        "decode_classes (texts in memory)": lambda image: rlecodec.decode_classes(
            texts[image], SHAPE, classes=["1", "2", "3", "4"]),
    }, ids, args.passes)
    # The slow script on a quarter of the images, in turn with the table on the same ones.
    few = ids[: max(len(ids) // 4, 1)]
    slow = round_robin({"table[id]": table.__getitem__, "pandas + snippet": pandas_snippet},
                       few, max(args.passes // 2, 1))
    times["pandas + snippet"] = slow["pandas + snippet"] * times["table[id]"] / slow["table[id]"]
    for name, seconds in times.items():
        print(f"  {name:42s} {seconds * 1e6:9.1f} us per image")
    print("ratios (rlecodec's time over the other's; the targets in brackets):")
    ratios = [
        ("table[id] / np.load", times["table[id]"] / times["np.load (page cache)"], 1 / 3),
        ("table[id] / pandas + snippet", times["table[id]"] / times["pandas + snippet"], 0.05),
        ("table.decode(out=) / decode_classes(out=)", times["table.decode(id, out=buf)"]
         / times["decode_classes(out=buf) (texts in memory)"], 1.2),
        ("table.decode(out=) / decode_classes, new", times["table.decode(id, out=buf)"]
         / times["decode_classes (texts in memory)"], None),
    ]
    for name, ratio, target in ratios:
        print(f"  {name:42s} {ratio:.3f}" + ("" if target is None else f"  (<= {target:.3g})"))
    print(f"  open the table / rlecodec decode            {opening / predecode:.4f}  (<= 0.01): "
          f"{opening * 1e3:.1f} ms against {predecode:.1f} s")

    big = os.path.join(work, "big.csv")
    template = [texts[i][c] for i in ids[:200] for c in texts[i]]
    big_csv(big, args.rows, template)
    size = os.path.getsize(big)
    tracemalloc.start()
    t0 = time.perf_counter()
    table = rlecodec.MaskTable(big, SHAPE)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    kept = len(pickle.dumps(table))
    print(f"{args.rows} rows, {size / 1e6:.0f} MB: indexed in {seconds:.2f} s, "
          f"{size / 1e6 / seconds:.0f} MB/s (>= 100); index {kept / args.rows:.1f} bytes per "
          f"row pickled (<= 64), {peak / args.rows:.1f} bytes per row at the peak of opening")
    os.remove(big)


if __name__ == "__main__":
    main()
