"""COCO RLE side by side: rlecodec.coco against pycocotools and rlemasklib.

Run:  pip install .[bench] && python benchmarks/bench_coco.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
import workloads  # noqa: E402
from bench import fmt, measure  # noqa: E402

import rlecodec  # noqa: E402
from rlecodec import coco  # noqa: E402


def bench_one(name: str, budget: float) -> None:
    from pycocotools import mask as pycoco
    from rlemasklib import RLEMask

    m = workloads.SINGLE[name]()
    obj = pycoco.encode(np.asfortranarray(m))
    assert coco.encode(m) == obj
    text = rlecodec.encode(m)
    shape = m.shape
    tables = [
        measure({
            "rlecodec.coco.encode": lambda: coco.encode(m),
            "pycocotools (asfortranarray)": lambda: pycoco.encode(np.asfortranarray(m)),
            "rlemasklib": lambda: RLEMask.from_array(m).to_dict(),
        }, budget),
        measure({
            "rlecodec.coco.decode": lambda: coco.decode(obj),
            "pycocotools": lambda: pycoco.decode(obj),
            "rlemasklib": lambda: RLEMask.from_dict(obj).to_array(order="C"),
        }, budget),
        measure({
            "coco.from_kaggle": lambda: coco.from_kaggle(text, shape),
            "decode + pycocotools.encode": lambda: pycoco.encode(
                np.asfortranarray(rlecodec.decode(text, shape))),
        }, budget),
    ]
    print(f"\n## {name}: {shape[0]}x{shape[1]}")
    for table in tables:
        first = next(iter(table.values()))
        for impl, t in table.items():
            print(f"{impl:34s} {fmt(t)}   ours/it {first / t:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=list(workloads.SINGLE))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for name in args.workloads:
        bench_one(name, 0.3 if args.quick else 1.5)


if __name__ == "__main__":
    main()
