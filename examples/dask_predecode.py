"""Pre-decode a Kaggle CSV to one .npy per image on a Dask cluster.

    pip install 'rlecodec[dask]'
    python examples/dask_predecode.py train.csv --shape 256x1600 --out masks/ \
        [--scheduler tcp://host:8786] [--partitions 64]

The driver reads the CSV once and groups its rows by image; a ``dask.bag`` spreads the
images over the workers, which decode them with rlecodec (the GIL released, so a worker's
threads all decode) and write each array under a temporary name before renaming it, like
``rlecodec decode``.  Without ``--scheduler`` it starts a ``LocalCluster``.

Use ``rlecodec decode --shard K/N`` when each machine can read the CSV and write to the
shared output itself (a Slurm array, a Kubernetes job): nothing to install but rlecodec.
Use Dask when a cluster is already running, or to feed decoded masks straight into a
larger Dask pipeline instead of files.
"""

from __future__ import annotations

import argparse
import csv
import os
from collections import defaultdict
from typing import Any

import numpy as np

import rlecodec


def images_of(csv_path: str, id_col: str = "ImageId", class_col: str | None = "ClassId",
              rle_col: str = "EncodedPixels") -> list[tuple[str, dict[str, list[str]]]]:
    """``[(image, {class: [run-length strings]})]`` in the order images first appear."""
    groups: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    with open(csv_path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            row = {k.strip(): v for k, v in row.items()}
            cls = row[class_col] if class_col else "1"
            groups[row[id_col]][cls].append(row[rle_col])
    return [(image, dict(by_class)) for image, by_class in groups.items()]


def decode_image(item: tuple[str, dict[str, list[str]]], shape: tuple[int, int],
                 classes: list[str], out_dir: str) -> str:
    """Decode one image's rows into an ``(H, W, C)`` stack and write it atomically."""
    image, by_class = item
    stack = rlecodec.decode_classes(by_class, shape, classes=classes)
    path = os.path.join(out_dir, image.rsplit(".", 1)[0] + ".npy")
    tmp = f"{path}.tmp-{os.getpid()}-{id(stack)}"
    with open(tmp, "wb") as handle:
        np.save(handle, stack)
    os.replace(tmp, path)
    return path


def predecode(csv_path: str, shape: tuple[int, int], out_dir: str, client: Any,
              partitions: int | None = None, timeout: float | None = None) -> list[str]:
    """Decode every image of ``csv_path`` into ``out_dir`` on ``client``'s cluster
    (waiting at most ``timeout`` seconds for the result)."""
    import dask.bag as db

    items = images_of(csv_path)
    classes = sorted({cls for _, by_class in items for cls in by_class}, key=_class_key)
    os.makedirs(out_dir, exist_ok=True)
    partitions = partitions or max(1, min(len(items), 4 * _cores(client)))
    bag = db.from_sequence(items, npartitions=partitions)
    job = client.compute(bag.map(decode_image, shape=shape, classes=classes, out_dir=out_dir))
    return list(job.result(timeout=timeout))


def _class_key(cls: str) -> tuple[int, int, str]:
    return (0, int(cls), "") if cls.isdigit() else (1, 0, cls)


def _cores(client: Any) -> int:
    return max(1, sum(client.nthreads().values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv")
    parser.add_argument("--shape", required=True, help="HEIGHTxWIDTH, e.g. 256x1600")
    parser.add_argument("--out", required=True)
    parser.add_argument("--scheduler", help="address of a running scheduler")
    parser.add_argument("--partitions", type=int)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    h, w = (int(x) for x in args.shape.lower().split("x"))
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        client = Client(LocalCluster(processes=True, threads_per_worker=2))
    with client:
        paths = predecode(args.csv, (h, w), args.out, client, args.partitions)
    print(f"{len(paths)} images decoded into {args.out}")


if __name__ == "__main__":
    main()
