"""The leaderboard's own number from two CSV files, in run space: the mean Dice or IoU over
every (image, class) key of either file, as Severstal, Understanding Clouds, SIIM-ACR and
Carvana score.  Reading the files is _table.py's; the overlaps are src/ops.pxi's."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _codec
from ._errors import RLEError, describe_item, kernel_errors
from ._options import check_base
from ._sizes import Shapes
from ._table import Images, where

Key = tuple[str, str]


@dataclass
class Score:
    """The mean over every key, the mean per class, each key's score, and what was odd."""

    metric: str
    mean: float
    per_class: dict[str, float]
    per_key: dict[Key, float]
    only_in_submission: list[Key] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)


def _keys(images: Images) -> dict[Key, list[int]]:
    """The rows of every (image, class) key of a file ("" for the class of a file without
    one)."""
    keys: dict[Key, list[int]] = {}
    for r in range(len(images)):
        k = int(images.image_of_row[r])
        cls = int(images.row_info[r, 3])
        name = images.file_classes[cls] if cls >= 0 else ""
        keys.setdefault((images.ids[k], name), []).append(r)
    return keys


_EMPTY: npt.NDArray[np.int64] = np.zeros((0, 2), np.int64)


def _key_runs(images: Images, rows: list[int], total: int, shape: tuple[int, int],
              options: dict[str, Any]) -> npt.NDArray[np.int64]:
    """The union of the rows' runs (a key may have several rows); RLEError names the row."""
    runs = _EMPTY
    for r in rows:
        start, end, escaped, _ = images.row_info[r].tolist()
        assert images.data is not None
        text = images.data[start:end].tobytes()
        with kernel_errors(_bad_row, images, r, options["base"], shape):
            mine = _codec.merged_runs(text.replace(b'""', b'"') if escaped else text,
                                      options["base"], total, options["relative"],
                                      options["strict"])
        runs = mine if not len(runs) else _codec.runs_combine(runs, mine,
                                                              _codec.COMBINE_UNION)
    return runs


def _bad_row(err: Any, images: Images, r: int, base: int, shape: tuple[int, int]) -> RLEError:
    row = images.row(r, raw=True)
    error = describe_item(err, [row.rle], base, shape)
    return RLEError(f"{where(images.path, row)}: {error}", token=error.token,
                    reason=error.reason)


def score(truth: Images, submission: Images, shapes: Callable[[str], tuple[int, int]],
          metric: str, options: dict[str, Any], skip_bad: bool) -> Score:
    """Score ``submission`` against ``truth``: ``metric`` ("dice" or "iou") of every key
    of either file, a key missing from one file counting as an empty mask, two empty masks
    scoring 1.  A bad row raises RLEError naming its file and line, unless ``skip_bad``
    (its key then scores 0 and is listed)."""
    if metric not in ("dice", "iou"):
        raise ValueError(f"metric must be 'dice' or 'iou', got {metric!r}")
    options = dict(options, base=check_base(options["base"]),
                   relative=bool(options["relative"]), strict=bool(options["strict"]))
    for images in (truth, submission):
        if images.data is None:
            raise ValueError("attach the file's bytes first")
    truth_keys, sub_keys = _keys(truth), _keys(submission)
    result = Score(metric, 0.0, {}, {})
    for key in [*truth_keys, *(k for k in sub_keys if k not in truth_keys)]:
        if key not in truth_keys:
            result.only_in_submission.append(key)
        try:
            shape = shapes(key[0])
            total = shape[0] * shape[1]
            a = _key_runs(truth, truth_keys.get(key, []), total, shape, options)
            b = _key_runs(submission, sub_keys.get(key, []), total, shape, options)
        except (RLEError, ValueError) as err:
            if not skip_bad:
                raise
            result.bad.append(str(err))
            result.per_key[key] = 0.0
            continue
        inter, area_a, area_b = _codec.runs_measure(a, b)
        sizes = area_a + area_b
        if sizes == 0:
            result.per_key[key] = 1.0
        elif metric == "dice":
            result.per_key[key] = 2 * inter / sizes
        else:
            result.per_key[key] = inter / (sizes - inter)
    values = list(result.per_key.values())
    result.mean = float(np.mean(values)) if values else 1.0
    by_class: dict[str, list[float]] = {}
    for (_, cls), value in result.per_key.items():
        by_class.setdefault(cls, []).append(value)
    result.per_class = {cls: float(np.mean(v)) for cls, v in sorted(by_class.items())}
    return result


def shapes_for(truth: Images, submission: Images, given: Any,
               prefer_columns: bool) -> Callable[[str], tuple[int, int]]:
    """An image's size from the truth file's size columns (or the submission's, for an
    image only it has), checked against ``given`` (--shape or --images) as for decode."""
    truth_shapes = Shapes(given, truth.sizes, prefer_columns) if (
        given is not None or truth.sizes is not None) else None
    sub_shapes = Shapes(given, submission.sizes, prefer_columns) if (
        given is not None or submission.sizes is not None) else None
    if truth_shapes is None:
        Shapes(None, None)  # (raises: no source of sizes at all)

    def shape(image: str) -> tuple[int, int]:
        k = truth.find(image)
        if k >= 0 and truth_shapes is not None:
            return truth_shapes(k, image)
        j = submission.find(image)
        assert sub_shapes is not None
        return sub_shapes(j if j >= 0 else 0, image)
    return shape


def write_per_key(path: str, result: Score, write: Any) -> None:
    """``ImageId,ClassId,<metric>`` for every key, through ``write`` (atomic)."""
    with write(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ImageId", "ClassId", result.metric])
        for (image, cls), value in result.per_key.items():
            writer.writerow([image, cls, repr(value)])
