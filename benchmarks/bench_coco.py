"""COCO RLE side by side: rlecodec.coco against pycocotools, rlemasklib, hotcoco and
faster-coco-eval (decoding into a new C array, and with memory="F" into the peers'
Fortran layout), and the drop-in rlecodec.coco.mask against pycocotools.mask, function by
function and in a COCOeval segmentation run.

Run:  pip install .[bench] && python benchmarks/bench_coco.py [--quick] [workload ... | mask]
"""

from __future__ import annotations

import argparse
import importlib
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

    from rlecodec.coco import mask as ours

    m = workloads.SINGLE[name]()
    obj = pycoco.encode(np.asfortranarray(m))
    assert coco.encode(m) == obj
    text = rlecodec.encode(m)
    shape = m.shape
    encoders = {
        "rlecodec.coco.encode": lambda: coco.encode(m),
        "pycocotools (asfortranarray)": lambda: pycoco.encode(np.asfortranarray(m)),
        "rlemasklib": lambda: RLEMask.from_array(m).to_dict(),
    }
    decoders = {
        "rlecodec.coco.decode": lambda: coco.decode(obj),
        "rlecodec.coco.mask.decode (F)": lambda: ours.decode(obj),
        "pycocotools": lambda: pycoco.decode(obj),
        "rlemasklib": lambda: RLEMask.from_dict(obj).to_array(order="C"),
    }
    for label, module in (("hotcoco", "hotcoco.mask"), ("faster-coco-eval",
                                                         "faster_coco_eval.core.mask")):
        try:
            peer = importlib.import_module(module)
        except ImportError:
            continue
        assert peer.encode(np.asfortranarray(m)) == obj, label
        encoders[f"{label} (asfortranarray)"] = lambda p=peer: p.encode(np.asfortranarray(m))
        decoders[f"{label} (F)"] = lambda p=peer: p.decode(obj)
    tables = [
        measure(encoders, budget),
        measure(decoders, budget),
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


def instances(rng: np.random.Generator, h: int, w: int, n: int) -> tuple[list[list[float]],
                                                                       np.ndarray]:
    """``n`` star-shaped polygons of 10-60 points on an ``h`` x ``w`` image (COCO-like
    instances, radius 15-150 pixels) and their masks as an ``(h, w, n)`` F-ordered stack."""
    from pycocotools import mask as pycoco

    polys = []
    for _ in range(n):
        k = int(rng.integers(10, 60))
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(15, 150)
        a = np.sort(rng.uniform(0, 2 * np.pi, k))
        rr = r * rng.uniform(0.6, 1, k)
        polys.append(np.round(np.column_stack([cx + rr * np.cos(a), cy + rr * np.sin(a)])
                              .ravel(), 2).tolist())
    return polys, pycoco.decode(pycoco.frPyObjects(polys, h, w))


def bench_mask(budget: float) -> None:
    """Each pycocotools.mask function against rlecodec.coco.mask on the same inputs."""
    from pycocotools import mask as pycoco

    from rlecodec.coco import mask as ours

    rng = np.random.default_rng(0)
    h, w = 480, 640
    polys, _ = instances(rng, h, w, 1000)
    _, stack = instances(rng, h, w, 20)
    dt = pycoco.encode(instances(rng, h, w, 100)[1])
    gt = pycoco.encode(stack)
    crowd = (rng.random(len(gt)) < 0.1).tolist()
    boxes = np.column_stack([rng.uniform(0, 600, (1000, 2)), rng.uniform(5, 200, (1000, 2))])
    cases = {
        "encode, (480, 640, 20) stack": ("encode", (stack,)),
        "decode, 20 RLEs": ("decode", (gt,)),
        "iou, 100 x 20 RLEs": ("iou", (dt, gt, crowd)),
        "merge, 20 RLEs": ("merge", (gt,)),
        "merge, 2 RLEs, intersect": ("merge", (gt[:2], 1)),
        "frPyObjects, 1000 polygons": ("frPyObjects", (polys, h, w)),
        "frPyObjects, 1000 boxes": ("frPyObjects", (boxes, h, w)),
        "area, 100 RLEs": ("area", (dt,)),
        "toBbox, 100 RLEs": ("toBbox", (dt,)),
        "area, one RLE": ("area", (dt[0],)),
    }
    peers = {"pycocotools": pycoco}
    for label, module in (("hotcoco", "hotcoco.mask"), ("faster-coco-eval",
                                                         "faster_coco_eval.core.mask")):
        try:
            peers[label] = importlib.import_module(module)
        except ImportError:
            print(f"({label} is not installed: pip install .[bench])")
    print("\n## rlecodec.coco.mask against pycocotools.mask and its replacements (same "
          "inputs; COCO-like 480x640)")
    print(f"{'function':32s} {'rlecodec':>11s} " + " ".join(f"{p:>16s}" for p in peers)
          + "  [target vs pycocotools]")
    for label, (name, args) in cases.items():
        mine = getattr(ours, name)
        fns = {"ours": lambda f=mine, a=args: f(*a)}
        expected = mine(*args)
        for peer, module in peers.items():
            theirs = getattr(module, name)
            got = theirs(*args)
            same = np.array_equal(got, expected) if isinstance(got, np.ndarray) else \
                got == expected
            assert same or peer != "pycocotools", label
            fns[peer] = lambda f=theirs, a=args: f(*a)
        t = measure(fns, budget)
        target = "  [0.5]" if name in ("encode", "decode", "iou", "merge") or "polygons" in label \
            else ""
        print(f"{label:32s} {fmt(t['ours'])} " + " ".join(
            f"{fmt(t[p])} {t['ours'] / t[p]:4.2f}x" for p in peers) + target)
    bench_cocoeval(budget)


def bench_cocoeval(budget: float) -> None:
    """A COCOeval segmentation run with pycocotools.mask and with rlecodec.coco.mask patched
    in (as ``maskUtils`` of pycocotools.coco and pycocotools.cocoeval)."""
    import contextlib
    import copy
    import io

    from pycocotools import coco as coco_api
    from pycocotools import cocoeval
    from pycocotools import mask as pycoco

    from rlecodec.coco import mask as ours

    rng = np.random.default_rng(1)
    h, w = 480, 640
    images, anns, dets = [], [], []
    for img in range(1, 101):
        images.append({"id": img, "height": h, "width": w})
        polys, masks = instances(rng, h, w, int(rng.integers(3, 12)))
        for k, poly in enumerate(polys):
            cat = int(rng.integers(1, 6))
            anns.append({"id": len(anns) + 1, "image_id": img, "category_id": cat,
                         "segmentation": [poly], "iscrowd": 0, "area": 1.0,
                         "bbox": [0, 0, 1, 1]})
            for _ in range(int(rng.integers(1, 5))):
                shift = tuple(int(v) for v in rng.integers(-8, 9, 2))
                rle = pycoco.encode(np.asfortranarray(np.roll(masks[:, :, k], shift, (0, 1))))
                dets.append({"image_id": img, "category_id": cat, "score": float(rng.random()),
                             "segmentation": {"size": rle["size"],
                                              "counts": rle["counts"].decode()}})
    dataset = {"images": images, "annotations": anns,
               "categories": [{"id": c, "name": str(c)} for c in range(1, 6)]}

    def run(module: object) -> list[float]:
        coco_api.maskUtils = module  # type: ignore[attr-defined]
        cocoeval.maskUtils = module  # type: ignore[attr-defined]
        with contextlib.redirect_stdout(io.StringIO()):
            gt = coco_api.COCO()
            gt.dataset = copy.deepcopy(dataset)
            gt.createIndex()
            e = cocoeval.COCOeval(gt, gt.loadRes(copy.deepcopy(dets)), "segm")
            e.evaluate()
            e.accumulate()
            e.summarize()
        return list(e.stats)

    try:
        assert run(ours) == run(pycoco)
        t = measure({"ours": lambda: run(ours), "theirs": lambda: run(pycoco)}, budget)
        base = measure({"copy": lambda: (copy.deepcopy(dataset), copy.deepcopy(dets))}, budget)
    finally:
        coco_api.maskUtils = pycoco  # type: ignore[attr-defined]
        cocoeval.maskUtils = pycoco  # type: ignore[attr-defined]
    print(f"\nCOCOeval segm, {len(images)} images, {len(anns)} objects, {len(dets)} detections "
          f"(the copies of the inputs, {fmt(base['copy'])}, left out):")
    ours_t, theirs_t = t["ours"] - base["copy"], t["theirs"] - base["copy"]
    print(f"  with rlecodec.coco.mask {fmt(ours_t)}, with pycocotools.mask {fmt(theirs_t)}: "
          f"{theirs_t / ours_t:.2f}x faster  [1.5x]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=[*workloads.SINGLE, "mask"],
                        help="severstal clouds wsi noise mask (default: all)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    budget = 0.3 if args.quick else 1.5
    for name in args.workloads:
        if name == "mask":
            bench_mask(budget)
        else:
            bench_one(name, budget)


if __name__ == "__main__":
    main()
