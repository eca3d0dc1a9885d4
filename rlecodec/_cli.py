"""The ``rlecodec`` command: pre-decode a CSV of run-length masks to .npy files, check it,
convert it to another variant, or write one from .npy masks.

    rlecodec decode train.csv --shape 256x1600 --out masks/
    rlecodec check train.csv --shape 256x1600
    rlecodec convert train.csv --shape 256x1600 --to-order C --out train_c.csv
    rlecodec encode predictions/ --out submission.csv --suffix .jpg
    rlecodec score train.csv submission.csv --shape 256x1600 --metric dice
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import itertools
import os
import signal
import sys
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt

from ._classes import encode_classes
from ._csvfile import TableError, text_stream
from ._decode import decode
from ._encode import encode
from ._errors import RLEError
from ._options import available_cores, check_output_dtype, fill_pattern
from ._output import (
    Stopped,
    StopSignals,
    atomic_file,
    is_complete_npy,
    output_names,
    remove_stale_temporaries,
    save_npy,
    write_index,
)
from ._runs import from_runs, to_runs
from ._score import score, shapes_for, write_per_key
from ._sizes import ImageSizes, Shapes, SizeError
from ._table import (
    ImageDecoder,
    Images,
    Row,
    image_error,
    image_groups,
    next_record,
    row_problem,
    where,
)


class CommandError(Exception):
    """A mistake in the command line or its inputs: print it and exit 2."""


def parse_shape(text: str) -> tuple[int, int]:
    parts = text.lower().replace(",", "x").split("x")
    try:
        h, w = (int(p) for p in parts)
        if h <= 0 or w <= 0:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--shape must be HEIGHTxWIDTH with positive integers, like 256x1600; got {text!r}"
        ) from None
    return h, w


def parse_shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(p) for p in text.split("/"))
        if not 0 <= k < n:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--shard must be K/N with 0 <= K < N, like 0/4; got {text!r}") from None
    return k, n


def in_shard(image: str, shard: tuple[int, int] | None) -> bool:
    """A stable split of images over N machines (the same on every run and platform)."""
    return shard is None or zlib.crc32(image.encode("utf-8")) % shard[1] == shard[0]


def decode_options(args: Any) -> dict[str, Any]:
    """The decoding options of the command line, as ImageDecoder takes them."""
    return dict(order=args.order, base=args.base, relative=args.relative,
                dtype=np.dtype(args.dtype), value=args.value, last_wins=args.last_wins)


def progress(items: Iterator[Any], quiet: bool, unit: str) -> Iterator[Any]:
    if quiet or not sys.stderr.isatty():
        return items
    try:
        from tqdm import tqdm  # type: ignore[import-untyped]
    except ImportError:
        return items
    bar: Iterator[Any] = tqdm(items, unit=unit, file=sys.stderr)
    return bar


def open_table(args: Any) -> tuple[Images, Shapes]:
    """The CSV's rows by image, and where each image's size comes from (--shape, --images,
    the size columns)."""
    images = Images(args.csv, dict(id_col=args.id_col, class_col=args.class_col,
                                   rle_col=args.rle_col, height_col=args.height_col,
                                   width_col=args.width_col))
    if args.shape is not None and args.images is not None:
        raise CommandError("give --shape or --images, not both")
    try:
        source = ImageSizes(args.images) if args.images is not None else args.shape
        return images, Shapes(source, images.sizes, args.prefer_columns)
    except SizeError as err:
        raise CommandError(str(err)) from None


def run_decode(args: Any) -> int:
    images, shapes = open_table(args)
    has_classes = bool(images.columns.cls or images.columns.packed)
    if args.layout is None:
        args.layout = "channels" if has_classes else "union"
    classes = images.classes if has_classes else []
    options = decode_options(args)
    decode_image = ImageDecoder(args.layout, classes, options)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise CommandError(f"--out {args.out} is a file, not a folder")
    os.makedirs(args.out, exist_ok=True)
    remove_stale_temporaries(args.out)
    names = output_names(images.ids)
    write_index(args.out, names, stop)
    counts = {"written": 0, "skipped": 0}
    bad: list[str] = []

    def work(k: int, group: list[Row]) -> str:
        if stop.stop.is_set():
            return "stopped"
        image = group[0].image
        path = os.path.join(args.out, names[image])
        if not args.overwrite and is_complete_npy(path):
            return "skipped"
        try:
            shape = shapes(k, image)
        except SizeError as err:
            raise RowError(f"{args.csv}:{group[0].line}: {err}") from None
        try:
            array = decode_image([r.rle for r in group], [r.cls for r in group], shape)
        except RLEError as err:
            raise RowError(str(image_error(args.csv, group, err, shape, options))) from None
        save_npy(path, array, args.fsync, stop)
        return "written"

    groups = ((k, g) for k, g in enumerate(image_groups(images))
              if in_shard(g[0].image, args.shard))
    pool = ThreadPoolExecutor(args.workers)
    pending: list[Any] = []
    try:
        # Signals are taken between images, not inside the pool's and futures' locks.
        with stop.deferred():
            for k, group in progress(groups, args.quiet, "image"):
                stop.check()
                pending.append(pool.submit(work, k, group))
                if len(pending) >= 4 * args.workers:
                    _collect(pending.pop(0), counts, bad, args)
            while pending:
                stop.check()
                _collect(pending.pop(0), counts, bad, args)
            pool.shutdown(wait=True)
    except BaseException as err:
        # Whatever stops the run (a signal, a full disk, a bad row): the workers stop at
        # their next image or rename, and what they leave is whole or removed.
        stop.stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        for future in pending:
            with contextlib.suppress(BaseException):
                _collect(future, counts, bad, args)
        raise _stopped(err, counts, args.out) from None
    written, skipped = counts["written"], counts["skipped"]
    if not args.quiet:
        print(f"{written} written, {skipped} already there, {len(bad)} bad, in {args.out}",
              file=sys.stderr)
    for message in bad:
        print(f"bad: {message}", file=sys.stderr)
    return 1 if bad else 0


class RowError(Exception):
    pass


def _collect(future: Any, counts: dict[str, int], bad: list[str], args: Any) -> None:
    try:
        status = future.result()
    except RowError as err:
        if not args.skip_bad:
            raise CommandError(f"{err}\n(nothing was written for that image; --skip-bad "
                               "goes on with the others)") from None
        bad.append(str(err))
        return
    if status in counts:
        counts[status] += 1


def _stopped(err: BaseException, counts: dict[str, int], out: str) -> BaseException:
    """The error that ends a stopped decode run, its message saying what was done."""
    done = f"{counts['written']} written, {counts['skipped']} already there, in {out}"
    if isinstance(err, (Stopped, KeyboardInterrupt)):
        signum = err.signum if isinstance(err, Stopped) else signal.SIGINT
        return Stopped(signum).with_message(
            f"stopped by {signal.Signals(signum).name}: {done}; the same command resumes")
    if isinstance(err, OSError):
        where = f"{err.filename}: " if err.filename else ""
        return CommandFailure(f"{where}{err.strerror or err} ({done}; the same command "
                              "resumes once that is fixed)")
    return err


def run_check(args: Any) -> int:
    table, shapes = open_table(args)
    n_rows = n_empty = n_runs = area = n_bad = 0
    images: set[str] = set()
    for r in range(len(table)):
        row = table.row(r, raw=True)
        n_rows += 1
        images.add(row.image)
        problem: ValueError | None
        try:
            problem = row_problem(row, shapes(int(table.image_of_row[r]), row.image),
                                  vars(args))
        except SizeError as err:
            problem = err
        if problem is not None:
            n_bad += 1
            print(f"{where(args.csv, row)}: {problem}")
            continue
        runs = to_runs(row.rle, base=args.base, relative=args.relative)
        n_empty += len(runs) == 0
        n_runs += len(runs)
        area += int(runs[:, 1].sum())
    print(f"{n_rows} rows, {len(images)} images, {n_empty} empty, {n_runs} runs, "
          f"{area} pixels on, {n_bad} bad")
    return 1 if n_bad else 0


def write_csv_atomically(path: str, header: list[str], rows: Iterator[list[Any]]) -> int:
    """Write a CSV through :func:`atomic_file` (nothing at all unless it is complete);
    return the number of rows."""
    count = 0
    with atomic_file(path, "w", newline="", encoding="utf-8", stop=stop) as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


MASK_SUFFIXES = (".npy", ".png")


def load_mask(path: str) -> npt.NDArray[Any]:
    """A mask file as an array: ``.npy`` as saved, ``.png`` through Pillow (the ``image``
    extra): one-channel and palette images as 2-D arrays, RGB as an (H, W, 3) stack."""
    if path.lower().endswith(".npy"):
        try:
            array: npt.NDArray[Any] = np.load(path)
        except (OSError, ValueError, EOFError) as err:
            raise CommandError(f"{path}: cannot read the array: {err}") from None
        return array
    try:
        from PIL import Image
    except ImportError:
        raise CommandError(f"{path}: reading PNG masks needs Pillow: "
                           "pip install 'rlecodec[image]'") from None
    try:
        with Image.open(path) as image:
            if image.mode not in ("1", "L", "P", "I", "I;16", "RGB"):
                raise CommandError(f"{path}: a {image.mode} image is not a mask (expected "
                                   "one channel, a palette or RGB)")
            return np.asarray(image)
    except OSError as err:
        raise CommandError(f"{path}: cannot read the image: {err}") from None


def run_encode(args: Any) -> int:
    if not os.path.isdir(args.folder):
        raise CommandError(f"{args.folder} is not a folder of .npy or .png masks")
    files = sorted(f for f in os.listdir(args.folder) if f.lower().endswith(MASK_SUFFIXES))
    if not files:
        raise CommandError(f"no .npy or .png files in {args.folder}")
    opts = dict(order=args.order, base=args.base, relative=args.relative)
    masks = (load_mask(os.path.join(args.folder, name)) for name in files)
    first = next(masks)
    classes = first.ndim == 3 or args.layout == "labels"

    def rows() -> Iterator[list[Any]]:
        for name, mask in zip(progress(iter(files), args.quiet, "file"),
                              itertools.chain([first], masks), strict=True):
            image = name.rsplit(".", 1)[0] + args.suffix
            if mask.ndim not in (2, 3) or (mask.ndim == 3) != (first.ndim == 3):
                raise CommandError(f"{name}: expected the shape of a "
                                   f"{'stack' if first.ndim == 3 else '2-D mask'} like "
                                   f"{files[0]}, got shape {mask.shape} (nothing was written)")
            try:
                if classes:  # one row per channel 1..C, or per label present
                    for cls, text in encode_classes(mask, **opts).items():
                        yield [image, cls, text]
                else:
                    yield [image, encode(mask, **opts)]
            except (TypeError, ValueError) as err:
                raise CommandError(f"{name}: {err} (nothing was written)") from None

    header = ["ImageId", "ClassId", "EncodedPixels"] if classes else ["ImageId", "EncodedPixels"]
    count = write_csv_atomically(args.out, header, rows())
    if not args.quiet:
        print(f"{count} rows from {len(files)} masks in {args.out}", file=sys.stderr)
    return 0


def run_convert(args: Any) -> int:
    """Rewrite the run-length column in another variant; the other columns stay as they are.
    Same pixel order: run by run, never densified; another order: through the mask."""
    table, shapes = open_table(args)  # (which also checks every row's field count)
    columns = table.columns
    with text_stream(args.csv) as handle:
        reader = csv.reader(handle)
        header = next_record(reader, args.csv) or []
        where = [name.strip() for name in header].index(columns.rle)

        def rows() -> Iterator[list[str]]:
            r = 0  # (the table's row number: both skip the records that are all blank)
            while (record := next_record(reader, args.csv)) is not None:
                if all(not cell.strip() for cell in record):
                    continue
                if len(record) != len(header):
                    raise CommandError(f"{args.csv}:{reader.line_num}: {len(record)} fields, "
                                       f"expected {len(header)} (nothing was written)")
                text = record[where]
                try:
                    shape = shapes(int(table.image_of_row[r]), table.ids[
                        int(table.image_of_row[r])])
                    r += 1
                    if args.order == args.to_order:
                        runs = to_runs(text, base=args.base, relative=args.relative)
                        if len(runs) and int(runs[-1].sum()) > shape[0] * shape[1]:
                            raise RLEError("a run ends past the last pixel", reason="past_end")
                        record[where] = from_runs(runs, base=args.to_base,
                                                  relative=args.to_relative)
                    else:
                        mask = decode(text, shape, order=args.order, base=args.base,
                                      relative=args.relative, dtype=bool)
                        record[where] = encode(mask, order=args.to_order, base=args.to_base,
                                               relative=args.to_relative)
                except (RLEError, SizeError) as err:
                    raise CommandError(f"{args.csv}:{reader.line_num}: {err} "
                                       "(nothing was written)") from None
                yield record

        count = write_csv_atomically(args.out, header, rows())
    if not args.quiet:
        print(f"{count} rows converted into {args.out}", file=sys.stderr)
    return 0


def run_score(args: Any) -> int:
    """Score a submission against the truth, in run space; print the mean and per class."""
    hint = dict(id_col=args.id_col, class_col=args.class_col, rle_col=args.rle_col,
                height_col=args.height_col, width_col=args.width_col)
    truth, submission = Images(args.truth, hint), Images(args.submission, hint)
    if args.shape is not None and args.images is not None:
        raise CommandError("give --shape or --images, not both")
    given = ImageSizes(args.images) if args.images is not None else args.shape
    shapes = shapes_for(truth, submission, given, args.prefer_columns)
    options = dict(order=args.order, base=args.base, relative=args.relative, strict=True)
    try:
        result = score(truth, submission, shapes, args.metric, options, args.skip_bad)
    except (RLEError, SizeError) as err:
        raise CommandError(f"{err} (--skip-bad scores it 0 and goes on)") from None
    if args.per_image:
        write_per_key(args.per_image, result, lambda *a, **k: atomic_file(*a, stop=stop, **k))
    classes = ", ".join(f"class {c or '-'}: {v:.6f}" for c, v in result.per_class.items())
    print(f"{args.metric} {result.mean:.12f} over {len(result.per_key)} (image, class) keys"
          f"{'; ' + classes if len(result.per_class) > 1 else ''}")
    if result.only_in_submission:
        shown = ", ".join(f"{i!r}/{c!r}" for i, c in result.only_in_submission[:5])
        print(f"warning: {len(result.only_in_submission)} keys only in the submission "
              f"(scored against an empty truth): {shown}"
              f"{' ...' if len(result.only_in_submission) > 5 else ''}", file=sys.stderr)
    for message in result.bad:
        print(f"bad: {message}", file=sys.stderr)
    return 1 if result.bad else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rlecodec", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("csv", help="CSV file of run-length masks")
        p.add_argument("--shape", type=parse_shape,
                       help="HEIGHTxWIDTH of every mask (else from --images, or from the "
                            "CSV's height and width columns)")
        p.add_argument("--images", metavar="DIR",
                       help="the size of each mask from its image file's header (found by "
                            "path, name or name without extension, nested folders too; "
                            "needs Pillow: pip install 'rlecodec[image]')")
        p.add_argument("--height-col", help="the column of image heights (default: height, "
                                            "img_height or image_height, any case)")
        p.add_argument("--width-col", help="the column of image widths")
        p.add_argument("--prefer-columns", action="store_true",
                       help="where --shape or --images and the size columns disagree, the "
                            "columns win (else that image is an error)")
        p.add_argument("--order", choices=["F", "C"], default="F",
                       help="pixel numbering: F column-major (Kaggle), C row-major")
        p.add_argument("--base", type=int, choices=[0, 1], default=1)
        p.add_argument("--relative", action="store_true", help="SIIM-style relative starts")
        p.add_argument("--id-col")
        p.add_argument("--class-col")
        p.add_argument("--rle-col")

    dec = sub.add_parser("decode", help="write one .npy per image")
    common(dec)
    dec.add_argument("--out", required=True, help="output folder")
    dec.add_argument("--layout", choices=["channels", "labels", "union"], default=None,
                     help="(H, W, C) stack, (H, W) class labels, or (H, W) union "
                          "(default: channels when there is a class column, else union)")
    dec.add_argument("--dtype", default="uint8")
    dec.add_argument("--value", type=float, default=1)
    dec.add_argument("--last-wins", action="store_true",
                     help="labels layout: a later class overwrites an earlier one")
    dec.add_argument("--workers", type=int, default=available_cores(),
                     help="threads (default: every available core)")
    dec.add_argument("--shard", type=parse_shard, help="K/N: only images with hash %% N == K")
    dec.add_argument("--overwrite", action="store_true", help="redo files already written")
    dec.add_argument("--fsync", action="store_true",
                     help="flush every file to the disk before renaming it into place, so "
                          "that written files survive a power loss (slower)")
    dec.add_argument("--skip-bad", action="store_true",
                     help="skip images with a bad row and list them at the end")
    dec.add_argument("--quiet", action="store_true")
    chk = sub.add_parser("check", help="validate every row and print a summary")
    common(chk)
    conv = sub.add_parser("convert", help="rewrite a CSV in another variant (order, base, "
                                          "relative starts)")
    common(conv)
    conv.add_argument("--out", required=True, help="output CSV")
    conv.add_argument("--to-order", choices=["F", "C"], default=None)
    conv.add_argument("--to-base", type=int, choices=[0, 1], default=None)
    conv.add_argument("--to-relative", choices=["yes", "no"], default=None)
    conv.add_argument("--quiet", action="store_true")
    sco = sub.add_parser("score", help="the mean Dice (or IoU) of a submission against the "
                                       "truth, as the leaderboard computes it")
    sco.add_argument("truth", help="CSV of the true masks")
    sco.add_argument("submission", help="CSV of the predicted masks")
    sco.add_argument("--metric", choices=["dice", "iou"], default="dice")
    sco.add_argument("--per-image", metavar="CSV", help="also write every key's score here")
    sco.add_argument("--skip-bad", action="store_true",
                     help="a bad row scores 0 and is listed, instead of stopping")
    for name, kwargs in (("--shape", dict(type=parse_shape, help="HEIGHTxWIDTH")),
                         ("--images", dict(metavar="DIR")), ("--height-col", {}),
                         ("--width-col", {}), ("--prefer-columns", dict(action="store_true")),
                         ("--order", dict(choices=["F", "C"], default="F")),
                         ("--base", dict(type=int, choices=[0, 1], default=1)),
                         ("--relative", dict(action="store_true")), ("--id-col", {}),
                         ("--class-col", {}), ("--rle-col", {})):
        sco.add_argument(name, **kwargs)
    enc = sub.add_parser("encode", help="write a CSV from a folder of .npy or .png masks")
    enc.add_argument("folder", help="folder of .npy masks, (H, W) or (H, W, C), or .png "
                                    "masks (needs the image extra: pip install "
                                    "'rlecodec[image]')")
    enc.add_argument("--out", required=True, help="output CSV, e.g. submission.csv")
    enc.add_argument("--layout", choices=["union", "labels"], default="union",
                     help="for 2-D masks: one row of all non-zero pixels, or one row per "
                          "label value (3-D stacks always give one row per channel)")
    enc.add_argument("--suffix", default="", help="appended to the file stem, e.g. .jpg")
    enc.add_argument("--order", choices=["F", "C"], default="F")
    enc.add_argument("--base", type=int, choices=[0, 1], default=1)
    enc.add_argument("--relative", action="store_true")
    enc.add_argument("--quiet", action="store_true")
    return parser


class CommandFailure(Exception):
    """A run that failed on the way (a full disk, say): print it and exit 1."""


#: SIGTERM and SIGINT while a command runs: workers stop, temporary files are removed.
stop = StopSignals()


def main(argv: list[str] | None = None) -> int:
    """Run a command; exit statuses: 0 done, 1 done but with bad rows skipped, or failed on
    the way (the file system), 2 a usage or input error, 130 stopped by SIGINT, 143 by
    SIGTERM."""
    args = build_parser().parse_args(argv)
    stop.stop.clear()
    stop.ignore_after = argv is None  # (the command line's own process exits next)
    try:
        with stop:
            return _run(args)
    except (CommandError, TableError, SizeError) as err:
        print(f"rlecodec: {err}", file=sys.stderr)
        return 2
    except CommandFailure as err:
        print(f"rlecodec: {err}", file=sys.stderr)
        return 1
    except csv.Error as err:  # (a field Python's csv writer cannot write: a NUL before 3.11)
        print(f"rlecodec: cannot write a CSV field: {err} (nothing was written)",
              file=sys.stderr)
        return 2
    except OSError as err:  # the filesystem: a one-line cause, never a traceback
        where = f"{err.filename}: " if err.filename else ""
        print(f"rlecodec: {where}{err.strerror or err} (nothing was lost: files are written "
              "whole or not at all)", file=sys.stderr)
        return 1
    except (Stopped, KeyboardInterrupt) as err:
        signum = err.signum if isinstance(err, Stopped) else signal.SIGINT
        message = str(err) if isinstance(err, Stopped) and err.message else (
            f"stopped by {signal.Signals(signum).name}; no partial output was left, and the "
            "same command resumes")
        print(f"rlecodec: {message}", file=sys.stderr)
        return 128 + signum


def _run(args: Any) -> int:
    if args.command == "decode":
        if args.workers < 1:
            raise CommandError("--workers must be at least 1")
        args.value = checked_value(args.dtype, args.value)
        return run_decode(args)
    if args.command == "encode":
        return run_encode(args)
    if args.command == "score":
        return run_score(args)
    if args.command == "convert":
        args.to_order = args.to_order or args.order
        args.to_base = args.base if args.to_base is None else args.to_base
        args.to_relative = (args.relative if args.to_relative is None
                            else args.to_relative == "yes")
        return run_convert(args)
    return run_check(args)


def checked_value(dtype: str, value: float | int) -> int | float:
    """``--value`` as the number to store (an int when it is whole), checked against
    ``--dtype`` before any file is read."""
    try:
        dt = check_output_dtype(dtype)
    except TypeError as err:
        raise CommandError(f"--dtype {dtype}: {err}") from None
    number: int | float = int(value) if float(value).is_integer() else value
    try:
        fill_pattern(dt, number)
    except ValueError as err:
        raise CommandError(f"--value {value:g}: {err}") from None
    return number
