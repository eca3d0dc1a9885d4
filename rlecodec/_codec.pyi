"""Type stubs for the compiled kernels (src/_codec.pyx)."""

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from typing_extensions import Self, disjoint_base

ERROR_NAMES: dict[int, str]

class KernelError(Exception):
    reason: str
    token: int
    offset: int
    length: int
    item: int | None
    def __init__(self, reason: str, token: int, offset: int, length: int,
                 item: int | None = ...) -> None: ...

@disjoint_base
class DecodeBatch:
    def __new__(cls, items: list[Any], out: npt.NDArray[Any], h: int, w: int, order_f: bool,
                base: int, relative: bool, strict: bool, pattern: int, zeroed: bool) -> Self: ...
    def process(self, i0: int, i1: int, parse: bool, write: bool) -> None: ...
    def check(self, batch: bool) -> None: ...

@disjoint_base
class EncodeBatch:
    def __new__(cls, masks: list[npt.NDArray[Any]],
                foregrounds: list[tuple[str, int, float, int, int]], order_f: bool,
                base: int, relative: bool, keep_runs: bool = ...) -> Self: ...
    def run(self, i0: int, i1: int) -> None: ...
    def take_runs(self, i: int) -> npt.NDArray[np.int64]: ...
    def result(self, i: int) -> str: ...

def to_runs(rle: str | bytes | npt.NDArray[np.int64] | None, base: int, relative: bool,
            strict: bool) -> npt.NDArray[np.int64]: ...
def coco_counts_from_string(text: bytes) -> npt.NDArray[np.int64]: ...
def coco_string_from_counts(counts: npt.NDArray[np.int64]) -> bytes: ...
def from_runs(runs: npt.NDArray[np.int64] | Sequence[Sequence[int]], base: int,
              relative: bool) -> str: ...
