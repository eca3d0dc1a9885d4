"""rlecodec: a fast, strict codec for run-length encoded masks (Kaggle ``EncodedPixels``).

Text is space-separated ``start length`` pairs, starts 1-based, pixels numbered top to
bottom then left to right (``order="F"``); every common variant is an option
(``order="C"``, ``base=0``, ``relative=True``).  Parsing, writing and scanning run in C
with the GIL released.

>>> import rlecodec
>>> mask = rlecodec.decode("1 3 10 2", (4, 4))
>>> rlecodec.encode(mask)
'1 3 10 2'
"""

try:
    from . import _codec  # noqa: F401
except ImportError as err:  # the source tree, or a build that did not compile
    raise ImportError(
        "rlecodec's compiled extension (rlecodec._codec) is missing: install the package "
        "with `pip install .` and import it from outside the source folder") from err

from . import coco
from ._classes import decode_classes, decode_instances, encode_classes
from ._decode import decode, decode_many
from ._encode import encode, encode_many
from ._errors import RLEError
from ._masktable import MaskTable
from ._ops import (
    area,
    dice,
    difference,
    intersection,
    intersection_area,
    iou,
    iou_matrix,
    union,
)
from ._runs import from_runs, to_runs
from ._sizes import ImageSizes
from ._tiles import TileEncoder
from ._version import __version__

__all__ = [
    "ImageSizes",
    "MaskTable",
    "RLEError",
    "TileEncoder",
    "__version__",
    "area",
    "coco",
    "decode",
    "decode_classes",
    "decode_instances",
    "decode_many",
    "dice",
    "difference",
    "encode",
    "encode_classes",
    "encode_many",
    "from_runs",
    "intersection",
    "intersection_area",
    "iou",
    "iou_matrix",
    "to_runs",
    "union",
]
