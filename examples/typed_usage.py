"""The public API as a type checker sees it (CI runs `mypy --strict` on this file)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

import rlecodec


def round_trip(text: str, shape: tuple[int, int]) -> str:
    mask: npt.NDArray[np.uint8] = rlecodec.decode(text, shape)
    return rlecodec.encode(mask)


def batch(texts: list[str | None], shape: tuple[int, int]) -> list[str]:
    stack = rlecodec.decode_many(texts, shape, order="C", threads=2)
    return rlecodec.encode_many(stack, order="C")


def where_it_broke(text: str) -> int | None:
    try:
        rlecodec.decode(text, (4, 4))
    except rlecodec.RLEError as err:
        return err.token
    return None


if __name__ == "__main__":
    runs = rlecodec.to_runs("1 3 10 2")
    print(round_trip("1 3 10 2", (4, 4)), batch(["1 2", None], (2, 2)),
          where_it_broke("1 x"), rlecodec.from_runs(runs))
