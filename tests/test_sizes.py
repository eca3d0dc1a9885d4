"""Datasets whose images differ in size: sizes from height and width columns (several
spellings), from the image files' headers in a folder (nested, mixed extensions), through
the command and MaskTable, against the reference decoder; missing images, unreadable
headers and sizes that disagree are clear errors."""

import csv
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from reference import random_mask, ref_decode, ref_encode

from rlecodec import ImageSizes, MaskTable, RLEError

SIZES = {"a": (9, 13), "b": (20, 7), "c": (5, 5), "d": (16, 30)}


def run(*args):
    return subprocess.run([sys.executable, "-m", "rlecodec", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def dataset(seed, order="F"):
    rng = np.random.default_rng(seed)
    masks = {image: [random_mask(rng, *shape) for _ in range(1 + k % 2)]
             for k, (image, shape) in enumerate(SIZES.items())}
    return masks


def write(path, header, rows):
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


@pytest.mark.parametrize("columns, order", [(("height", "width"), "F"),
                                            (("img_height", "img_width"), "F"),
                                            (("Image_Height", "Image_Width"), "C"),
                                            (("width", "height"), "C")])
def test_sizes_from_columns_in_the_command_and_the_table(tmp_path, columns, order):
    masks = dataset(1)
    header = ["id", "annotation", *columns]
    rows = []
    for image, ms in masks.items():
        h, w = SIZES[image]
        for m in ms:
            sizes = {columns[0]: h, columns[1]: w} if "height" in columns[0].lower() else {
                columns[0]: w, columns[1]: h}
            rows.append([image, ref_encode(m, order), sizes[columns[0]], sizes[columns[1]]])
    rows = rows[::2] + rows[1::2]  # rows of one image apart
    path = write(tmp_path / "train.csv", header, rows)
    table = MaskTable(path, order=order)
    for image, ms in masks.items():
        np.testing.assert_array_equal(table[image], np.any(ms, axis=0).astype(np.uint8))
    out = tmp_path / "out"
    proc = run("decode", path, "--order", order, "--out", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    for image, ms in masks.items():
        np.testing.assert_array_equal(np.load(out / f"{image}.npy"), np.any(ms, axis=0))
    proc = run("check", path, "--order", order)
    assert proc.returncode == 0 and "0 bad" in proc.stdout, proc.stdout + proc.stderr
    other = "C" if order == "F" else "F"
    proc = run("convert", path, "--order", order, "--to-order", other, "--out",
               tmp_path / "c.csv")
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "c.csv", newline="") as handle:
        converted = list(csv.reader(handle))[1:]
    for (image, text, *_), (_, before, *_) in zip(converted, rows, strict=True):
        shape = SIZES[image]
        np.testing.assert_array_equal(ref_decode(text, shape, other),
                                      ref_decode(before, shape, order))


def test_named_size_columns(tmp_path):
    masks = dataset(2)
    rows = [[i, ref_encode(m), SIZES[i][0], SIZES[i][1]] for i, ms in masks.items() for m in ms]
    path = write(tmp_path / "t.csv", ["ImageId", "EncodedPixels", "rows", "cols"], rows)
    table = MaskTable(path, height_col="rows", width_col="cols")
    for image, ms in masks.items():
        np.testing.assert_array_equal(table[image], np.any(ms, axis=0).astype(np.uint8))
    proc = run("decode", path, "--height-col", "rows", "--width-col", "cols", "--out",
               tmp_path / "o", "--quiet")
    assert proc.returncode == 0, proc.stderr
    with pytest.raises(ValueError, match="both the height and the width"):
        MaskTable(path, height_col="rows")


@pytest.fixture
def image_folder(tmp_path):
    """Images of mixed sizes and extensions in nested folders (as UW-Madison has them)."""
    folder = tmp_path / "images"
    for k, (image, (h, w)) in enumerate(SIZES.items()):
        sub = folder / f"case{k % 2}" / "scans"
        sub.mkdir(parents=True, exist_ok=True)
        ext = [".png", ".jpg", ".tif", ".png"][k]
        Image.new("L" if ext != ".jpg" else "RGB", (w, h)).save(sub / f"{image}{ext}")
    return folder


def test_sizes_from_image_files(tmp_path, image_folder):
    masks = dataset(3)
    rows = [[f"{i}.png" if i == "a" else i, ref_encode(m)] for i, ms in masks.items()
            for m in ms]
    path = write(tmp_path / "t.csv", ["ImageId", "EncodedPixels"], rows)
    sizes = ImageSizes(image_folder)
    assert {i: sizes(i) for i in SIZES} == SIZES
    table = MaskTable(path, sizes)
    for image, ms in masks.items():
        key = f"{image}.png" if image == "a" else image
        np.testing.assert_array_equal(table[key], np.any(ms, axis=0).astype(np.uint8))
    out = tmp_path / "out"
    proc = run("decode", path, "--images", image_folder, "--out", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.load(out / "b.npy"), np.any(masks["b"], axis=0))
    proc = run("check", path, "--images", image_folder)
    assert proc.returncode == 0 and "0 bad" in proc.stdout


def test_missing_and_unreadable_images_are_bad_rows_naming_the_path(tmp_path, image_folder):
    (image_folder / "broken.png").write_bytes(b"not a png at all")
    rows = [["a", "1 2"], ["nowhere", "1 2"], ["broken", "1 2"]]
    path = write(tmp_path / "t.csv", ["ImageId", "EncodedPixels"], rows)
    proc = run("check", path, "--images", image_folder)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "image 'nowhere': no image file in" in proc.stdout
    assert "broken.png" in proc.stdout and "cannot read the size" in proc.stdout
    proc = run("decode", path, "--images", image_folder, "--out", tmp_path / "o", "--skip-bad")
    assert proc.returncode == 1 and "2 bad" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "o").glob("*.npy")) == ["a.npy"]
    table = MaskTable(path, ImageSizes(image_folder))
    with pytest.raises(ValueError, match="no image file"):
        table["nowhere"]
    assert len(table.check()) == 2


def test_sizes_that_disagree_are_errors_unless_the_columns_are_preferred(tmp_path):
    rows = [["a", "1 2", 4, 4], ["b", "1 2", 6, 3]]
    path = write(tmp_path / "t.csv", ["ImageId", "EncodedPixels", "height", "width"], rows)
    proc = run("decode", path, "--shape", "4x4", "--out", tmp_path / "o", "--skip-bad")
    assert proc.returncode == 1 and "size columns say 6x3 but the shape says 4x4" in proc.stderr
    proc = run("decode", path, "--shape", "4x4", "--out", tmp_path / "p", "--prefer-columns",
               "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert np.load(tmp_path / "p" / "b.npy").shape == (6, 3)
    with pytest.raises(ValueError, match="size columns say 6x3"):
        MaskTable(path, (4, 4))["b"]
    assert MaskTable(path, (4, 4), prefer_columns=True)["b"].shape == (6, 3)


def test_rows_of_one_image_with_other_sizes_name_their_lines(tmp_path):
    rows = [["a", "1 2", 4, 4], ["b", "1 2", 6, 3], ["a", "3 1", 4, 5]]
    path = write(tmp_path / "t.csv", ["ImageId", "EncodedPixels", "height", "width"], rows)
    with pytest.raises(ValueError, match="lines 2 and 4 give image sizes"):
        MaskTable(path)
    proc = run("check", path)
    assert proc.returncode == 2 and "lines 2 and 4" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_no_source_of_size_is_a_usage_error(tmp_path):
    path = write(tmp_path / "t.csv", ["ImageId", "EncodedPixels"], [["a", "1 2"]])
    proc = run("decode", path, "--out", tmp_path / "o")
    assert proc.returncode == 2 and "the mask size is unknown" in proc.stderr
    with pytest.raises(ValueError, match="the mask size is unknown"):
        MaskTable(path)
    proc = run("decode", path, "--out", tmp_path / "o", "--shape", "4x4", "--images", tmp_path)
    assert proc.returncode == 2 and "not both" in proc.stderr


def test_a_bad_row_of_a_sized_image_still_names_its_token(tmp_path):
    rows = [["a", "1 2 x 1", 4, 4]]
    path = write(tmp_path / "t.csv", ["ImageId", "EncodedPixels", "height", "width"], rows)
    with pytest.raises(RLEError, match="t.csv:2.*'x'"):
        MaskTable(path)["a"]


def test_uw_madison_scans_are_found_by_their_competition_ids(tmp_path):
    sizes = {"case1_day0_slice_0001": (266, 266), "case1_day0_slice_0002": (266, 266),
             "case9_day20_slice_0100": (360, 310)}
    for image, (h, w) in sizes.items():
        case, day, _, number = image.split("_")
        scans = tmp_path / "train" / case / f"{case}_{day}" / "scans"
        scans.mkdir(parents=True, exist_ok=True)
        Image.new("I;16", (w, h)).save(scans / f"slice_{number}_{w}_{h}_1.50_1.50.png")
    rng = np.random.default_rng(9)
    rows = [[image, "stomach", ref_encode(random_mask(rng, *shape), "C")]
            for image, shape in sizes.items()]
    path = write(tmp_path / "train.csv", ["id", "class", "segmentation"], rows)
    proc = run("decode", path, "--images", tmp_path / "train", "--order", "C", "--out",
               tmp_path / "o", "--quiet")
    assert proc.returncode == 0, proc.stderr
    for image, text in ((r[0], r[2]) for r in rows):
        got = np.load(tmp_path / "o" / f"{image}.npy")
        np.testing.assert_array_equal(got[:, :, 0], ref_decode(text, sizes[image], "C"))
