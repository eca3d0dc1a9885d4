"""Generate the synthetic Severstal-layout sample CSV shipped in examples/.

    python examples/make_sample.py examples/severstal_sample.csv

50 images of 256x1600, up to 4 defect classes each, elliptic defects, column-major 1-based
runs (the competition's format). Deterministic: the same file every time.
"""

from __future__ import annotations

import csv
import sys

import numpy as np

import rlecodec


def defect_mask(rng: np.random.Generator, h: int = 256, w: int = 1600) -> np.ndarray:
    mask = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
        ry, rx = int(rng.integers(5, 40)), int(rng.integers(10, 80))
        yy, xx = np.ogrid[:h, :w]
        mask[((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1] = 1
    return mask


def main(path: str, images: int = 50, seed: int = 2019) -> None:
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ImageId", "ClassId", "EncodedPixels"])
        for _ in range(images):
            image = f"{rng.integers(0, 16**9):09x}.jpg"
            classes = [c for c in range(1, 5) if rng.random() < 0.35]
            for cls in classes or [int(rng.integers(1, 5))]:
                writer.writerow([image, cls, rlecodec.encode(defect_mask(rng))])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "examples/severstal_sample.csv")
