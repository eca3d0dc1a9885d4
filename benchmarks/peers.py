"""The peers rlecodec is measured against, each doing its own native job."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numpy_snippet_encode(mask: np.ndarray) -> str:
    """The Kaggle kernel everyone copies: column-major, 1-based."""
    pixels = mask.T.flatten()
    pixels = np.concatenate([[0], pixels, [0]])
    runs = np.where(pixels[1:] != pixels[:-1])[0] + 1
    runs[1::2] -= runs[::2]
    return " ".join(str(x) for x in runs)


def numpy_snippet_decode(text: str, shape: tuple[int, int]) -> np.ndarray:
    s = text.split()
    starts, lengths = (np.asarray(x, dtype=int) for x in (s[0:][::2], s[1:][::2]))
    starts -= 1
    ends = starts + lengths
    img = np.zeros(shape[0] * shape[1], dtype=np.uint8)
    for lo, hi in zip(starts, ends, strict=True):
        img[lo:hi] = 1
    return img.reshape(shape, order="F")


def available() -> dict[str, tuple[Callable, Callable, Callable]]:
    """name -> (prepare(mask) -> encoded, encode(mask), decode(encoded, shape))."""
    peers: dict[str, tuple[Callable, Callable, Callable]] = {}
    try:
        from rlemasklib import RLEMask

        peers["rlemasklib"] = (
            lambda m: RLEMask.from_array(m).to_dict(),
            lambda m: RLEMask.from_array(m).to_dict(),
            lambda d, shape: RLEMask.from_dict(d).to_array(order="C"),
        )
    except ImportError:
        pass
    try:
        from pycocotools import mask as coco

        peers["pycocotools"] = (
            lambda m: coco.encode(np.asfortranarray(m)),
            lambda m: coco.encode(np.asfortranarray(m)),
            lambda d, shape: coco.decode(d),
        )
    except ImportError:
        pass
    peers["numpy snippet"] = (numpy_snippet_encode, numpy_snippet_encode, numpy_snippet_decode)
    return peers
