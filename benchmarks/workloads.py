"""Deterministic benchmark masks, shaped like the data users actually encode."""

from __future__ import annotations

import numpy as np


def ellipses(h: int, w: int, count: int, radius: tuple[int, int], seed: int) -> np.ndarray:
    """A uint8 mask with ``count`` filled ellipses whose semi-axes lie in ``radius``."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), np.uint8)
    for _ in range(count):
        cy, cx = rng.integers(0, h), rng.integers(0, w)
        ry, rx = rng.integers(radius[0], radius[1], size=2)
        y0, y1 = max(cy - ry, 0), min(cy + ry + 1, h)
        x0, x1 = max(cx - rx, 0), min(cx + rx + 1, w)
        yy, xx = np.ogrid[y0:y1, x0:x1]
        inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0
        mask[y0:y1, x0:x1] |= inside.astype(np.uint8)
    return mask


def severstal(seed: int = 0) -> np.ndarray:
    """256x1600 steel strip with a few elliptic defects (hundreds of runs)."""
    return ellipses(256, 1600, 6, (10, 60), seed)


def clouds() -> np.ndarray:
    """1400x2100 satellite image with a handful of large cloud regions."""
    return ellipses(1400, 2100, 5, (150, 500), 1)


def wsi() -> np.ndarray:
    """16384x16384 whole-slide mask with a few hundred small blobs (~60k runs)."""
    return ellipses(16384, 16384, 400, (40, 110), 2)


def noise() -> np.ndarray:
    """1024x1024 salt noise at 30% density: ~200k runs, the text is the work."""
    rng = np.random.default_rng(3)
    return (rng.random((1024, 1024)) < 0.3).astype(np.uint8)


def batch(n: int = 256) -> list[np.ndarray]:
    """``n`` different severstal masks."""
    return [severstal(seed) for seed in range(100, 100 + n)]


SINGLE = {"severstal": severstal, "clouds": clouds, "wsi": wsi, "noise": noise}
