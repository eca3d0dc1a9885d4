"""The rlecodec command, run as a user would: a subprocess on real temporary files."""

import csv
import re
import subprocess
import sys

import numpy as np
import pytest
from reference import ref_decode, ref_encode

import rlecodec

SHAPE = (20, 30)


def run(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "rlecodec", *map(str, args)],
                          capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr}")
    return proc


def masks(seed, n):
    rng = np.random.default_rng(seed)
    return [(rng.random(SHAPE) < 0.2).astype(np.uint8) for _ in range(n)]


def write_csv(path, header, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def severstal(tmp_path):
    """Images with up to 3 classes in the ImageId,ClassId,EncodedPixels layout."""
    ms = masks(1, 12)
    rows, truth = [], {}
    for k in range(4):
        image = f"img{k}.jpg"
        truth[image] = {}
        for cls in (1, 3, 4)[: k % 3 + 1]:
            m = ms[3 * k + cls % 3]
            rows.append([image, cls, ref_encode(m)])
            truth[image][cls] = m
    return write_csv(tmp_path / "train.csv", ["ImageId", "ClassId", "EncodedPixels"], rows), truth


def test_decode_channels(severstal, tmp_path):
    path, truth = severstal
    out = tmp_path / "masks"
    run("decode", path, "--shape", "20x30", "--out", out, "--quiet")
    for image, classes in truth.items():
        arr = np.load(out / (image[:-4] + ".npy"))
        assert arr.shape == (20, 30, 3) and arr.dtype == np.uint8
        for cls, m in classes.items():
            np.testing.assert_array_equal(arr[:, :, (1, 3, 4).index(cls)], m)


def test_decode_labels_and_union(severstal, tmp_path):
    path, truth = severstal
    run("decode", path, "--shape", "20x30", "--out", tmp_path / "u", "--layout", "union",
        "--dtype", "bool", "--quiet")
    for image, classes in truth.items():
        union = np.load(tmp_path / "u" / (image[:-4] + ".npy"))
        np.testing.assert_array_equal(union, np.any(list(classes.values()), axis=0))
    proc = run("decode", path, "--shape", "20x30", "--out", tmp_path / "l", "--layout",
               "labels", "--quiet", check=False)
    assert proc.returncode == 2 and "overlaps" in proc.stderr  # random masks overlap
    run("decode", path, "--shape", "20x30", "--out", tmp_path / "l", "--layout", "labels",
        "--last-wins", "--quiet")
    labels = np.load(tmp_path / "l" / "img2.npy")
    expected = np.zeros(SHAPE, np.uint8)
    for k, cls in enumerate((1, 3, 4)):
        if cls in truth["img2.jpg"]:
            expected[truth["img2.jpg"][cls] != 0] = k + 1
    np.testing.assert_array_equal(labels, expected)


@pytest.mark.parametrize("header,make_row,opts", [
    (["ImageId_ClassId", "EncodedPixels"], lambda i, t: [f"{i}.jpg_1", t], []),
    (["Image_Label", "EncodedPixels"], lambda i, t: [f"{i}.jpg_Fish", t], []),
    (["ImageId", "EncodedPixels"], lambda i, t: [f"{i}.jpg", t], []),
    (["id", "rle_mask"], lambda i, t: [i, t], []),
    (["id", "class", "segmentation"], lambda i, t: [i, "large_bowel", t], ["--order", "C"]),
    ([" id", " annotation"], lambda i, t: [i, t], []),  # spaces in the header
    (["name", "pixels"], lambda i, t: [i, t], ["--id-col", "name", "--rle-col", "pixels"]),
])
def test_column_layouts(tmp_path, header, make_row, opts):
    ms = masks(2, 3)
    order = "C" if "C" in opts else "F"
    rows = [make_row(f"a{k}", ref_encode(m, order)) for k, m in enumerate(ms)]
    path = write_csv(tmp_path / "x.csv", header, rows)
    run("decode", path, "--shape", "20x30", "--out", tmp_path / "o", "--quiet", *opts)
    for k, m in enumerate(ms):
        arr = np.load(tmp_path / "o" / f"a{k}.npy")
        np.testing.assert_array_equal(arr.reshape(SHAPE), m)


def test_bad_row_stops_that_image_and_skip_bad_goes_on(tmp_path):
    ms = masks(3, 3)
    rows = [["a.jpg", ref_encode(ms[0])], ["b.jpg", "1 2 x 4"], ["c.jpg", ref_encode(ms[2])]]
    path = write_csv(tmp_path / "bad.csv", ["ImageId", "EncodedPixels"], rows)
    proc = run("decode", path, "--shape", "20x30", "--out", tmp_path / "o", "--workers", "1",
               "--quiet", check=False)
    assert proc.returncode == 2
    assert "bad.csv:3" in proc.stderr and "'x'" in proc.stderr
    assert not (tmp_path / "o" / "b.npy").exists()
    proc = run("decode", path, "--shape", "20x30", "--out", tmp_path / "s", "--skip-bad",
               "--quiet", check=False)
    assert proc.returncode == 1 and "bad.csv:3" in proc.stderr
    assert sorted(p.name for p in (tmp_path / "s").glob("*.npy")) == ["a.npy", "c.npy"]
    proc = run("check", path, "--shape", "20x30", check=False)
    assert proc.returncode == 1 and "bad.csv:3" in proc.stdout and "3 rows" in proc.stdout


def test_rerun_skips_done_files_and_overwrite_redoes_them(severstal, tmp_path):
    path, _ = severstal
    out = tmp_path / "o"
    run("decode", path, "--shape", "20x30", "--out", out, "--quiet")
    target = out / "img0.npy"
    np.save(target, np.zeros(1))
    proc = run("decode", path, "--shape", "20x30", "--out", out)
    assert "0 written, 4 already there" in proc.stderr
    assert np.load(target).shape == (1,)
    run("decode", path, "--shape", "20x30", "--out", out, "--overwrite", "--quiet")
    assert np.load(target).shape == (20, 30, 3)
    assert not [p for p in out.iterdir() if ".tmp" in p.name]


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage", "header only"])
def test_rerun_redoes_files_a_power_loss_left_incomplete(severstal, tmp_path, damage):
    """Without --fsync a rename can reach the disk before the data; a re-run notices."""
    path, truth = severstal
    out = tmp_path / "o"
    run("decode", path, "--shape", "20x30", "--out", out, "--quiet")
    target = out / "img0.npy"
    whole = target.read_bytes()
    target.write_bytes({"empty": b"", "truncated": whole[:-7], "garbage": b"x" * len(whole),
                        "header only": whole[:128]}[damage])
    proc = run("decode", path, "--shape", "20x30", "--out", out, "--fsync")
    assert "1 written, 3 already there" in proc.stderr
    assert target.read_bytes() == whole
    np.testing.assert_array_equal(np.load(target)[:, :, 0], truth["img0.jpg"][1])


def test_shards_cover_every_image_once(tmp_path):
    ms = masks(4, 30)
    rows = [[f"im{k}", ref_encode(m)] for k, m in enumerate(ms)]
    path = write_csv(tmp_path / "many.csv", ["ImageId", "EncodedPixels"], rows)
    seen = []
    for k in range(3):
        out = tmp_path / f"shard{k}"
        run("decode", path, "--shape", "20x30", "--out", out, "--shard", f"{k}/3", "--quiet")
        seen += [p.name for p in out.glob("*.npy")]
    assert sorted(seen) == sorted(f"im{k}.npy" for k in range(30))


def test_check_summary(severstal):
    path, truth = severstal
    proc = run("check", path, "--shape", "20x30")
    rows = sum(len(c) for c in truth.values())
    area = sum(int(m.sum()) for c in truth.values() for m in c.values())
    assert f"{rows} rows, 4 images" in proc.stdout and f"{area} pixels on, 0 bad" in proc.stdout
    assert ref_decode(ref_encode(truth["img0.jpg"][1]), SHAPE).sum() > 0


@pytest.mark.parametrize("args,fragment", [
    (["decode", "missing.csv", "--shape", "2x2", "--out", "o"], "cannot open"),
    (["decode", "{csv}", "--shape", "2x", "--out", "o"], "HEIGHTxWIDTH"),
    (["decode", "{csv}", "--shape", "2x2", "--out", "o", "--rle-col", "nope"], "no rle column"),
    (["decode", "{csv}", "--shape", "2x2", "--out", "o", "--shard", "3/3"], "--shard"),
])
def test_clear_errors(tmp_path, args, fragment):
    path = write_csv(tmp_path / "t.csv", ["ImageId", "EncodedPixels"], [["a", "1 1"]])
    args = [a.replace("{csv}", str(path)) for a in args]
    proc = subprocess.run([sys.executable, "-m", "rlecodec", *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and fragment in proc.stderr


def test_killed_mid_run_leaves_no_truncated_file_and_a_rerun_finishes(tmp_path):
    import os
    import signal
    import time

    rng = np.random.default_rng(9)
    shape = (300, 400)
    rows = []
    for k in range(400):
        m = (rng.random(shape) < 0.3).astype(np.uint8)
        rows.append([f"im{k:03d}", rlecodec.encode(m)])  # only the CLI is under test here
    path = write_csv(tmp_path / "big.csv", ["ImageId", "EncodedPixels"], rows)
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "rlecodec", "decode", str(path),
                             "--shape", "300x400", "--out", str(out), "--workers", "2",
                             "--quiet"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(out.glob("*.npy"))) < 20:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = list(out.glob("*.npy"))
    assert 0 < len(done) < 400, "the run was not interrupted mid-way"
    for f in done:  # every finished name is a complete array
        assert np.load(f).shape == shape
    finish = run("decode", path, "--shape", "300x400", "--out", out)
    assert f"{400 - len(done)} written, {len(done)} already there" in finish.stderr
    assert len(list(out.glob("*.npy"))) == 400


def test_rows_longer_than_the_csv_modules_default_field_limit(tmp_path):
    """Regression: Python's csv module stops at 128 KiB fields; real masks are longer."""
    shape = (512, 512)
    m = np.zeros(shape, np.uint8)
    m[:, ::2] = 1
    m[::2, :] ^= 1  # a checkerboard: 131,072 one-pixel runs, about 1.4 MB of text
    text = ref_encode(m)
    assert len(text) > 131072
    path = write_csv(tmp_path / "long.csv", ["ImageId", "EncodedPixels"], [["a", text]])
    run("decode", path, "--shape", "512x512", "--out", tmp_path / "o", "--quiet")
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "a.npy"), m)
    assert "0 bad" in run("check", path, "--shape", "512x512").stdout


def test_encode_a_folder_of_masks(tmp_path):
    ms = masks(6, 3)
    folder = tmp_path / "pred"
    folder.mkdir()
    for k, m in enumerate(ms):
        np.save(folder / f"img{k}.npy", m)
    run("encode", folder, "--out", tmp_path / "sub.csv", "--suffix", ".jpg", "--quiet")
    with open(tmp_path / "sub.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["ImageId", "EncodedPixels"]
    assert rows[1:] == [[f"img{k}.jpg", ref_encode(m)] for k, m in enumerate(ms)]
    # (H, W, C) stacks give a row per class, and the CSV decodes back to the same stacks.
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    np.save(stacks / "a.npy", np.stack(ms, axis=2))
    run("encode", stacks, "--out", tmp_path / "classes.csv", "--quiet")
    run("decode", tmp_path / "classes.csv", "--shape", "20x30", "--out", tmp_path / "back",
        "--quiet")
    np.testing.assert_array_equal(np.load(tmp_path / "back" / "a.npy"), np.stack(ms, axis=2))
    labels = np.zeros(SHAPE, np.uint8)
    labels[2:5, 3:9] = 2
    labels[10:, :4] = 5
    only = tmp_path / "labels"
    only.mkdir()
    np.save(only / "l.npy", labels)
    run("encode", only, "--out", tmp_path / "l.csv", "--layout", "labels", "--quiet")
    with open(tmp_path / "l.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1:] == [["l", "2", ref_encode(labels == 2)], ["l", "5", ref_encode(labels == 5)]]


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_encode_png_masks(tmp_path):
    image = pytest.importorskip("PIL.Image", reason="the image extra (Pillow) is not installed")
    ms = masks(8, 2)
    folder = tmp_path / "png"
    folder.mkdir()
    image.fromarray(ms[0] * 255).save(folder / "gray.png")                 # mode L
    palette = image.fromarray(ms[1] * 3, mode="L").convert("P")
    palette.save(folder / "palette.png")                                    # mode P
    run("encode", folder, "--out", tmp_path / "sub.csv", "--quiet")
    assert read_csv(tmp_path / "sub.csv")[1:] == [["gray", ref_encode(ms[0])],
                                                   ["palette", ref_encode(ms[1])]]
    rgb = tmp_path / "rgb"
    rgb.mkdir()
    stack = np.stack([ms[0], ms[1], ms[0] & ms[1]], axis=2) * 255
    image.fromarray(stack.astype(np.uint8), mode="RGB").save(rgb / "c.png")
    run("encode", rgb, "--out", tmp_path / "rgb.csv", "--quiet")
    assert read_csv(tmp_path / "rgb.csv")[1:] == [["c", str(k + 1), ref_encode(stack[:, :, k])]
                                                  for k in range(3)]
    rgba = tmp_path / "rgba"
    rgba.mkdir()
    image.new("RGBA", (4, 4)).save(rgba / "x.png")
    proc = run("encode", rgba, "--out", tmp_path / "rgba.csv", check=False)
    assert proc.returncode == 2 and "RGBA image is not a mask" in proc.stderr
    assert not (tmp_path / "rgba.csv").exists()


def test_encode_refuses_mixed_shapes_and_writes_nothing(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    np.save(folder / "a.npy", np.zeros(SHAPE, np.uint8))
    np.save(folder / "b.npy", np.zeros((*SHAPE, 2), np.uint8))
    proc = run("encode", folder, "--out", tmp_path / "sub.csv", check=False)
    assert proc.returncode == 2 and "b.npy" in proc.stderr and "nothing was written" in proc.stderr
    assert not (tmp_path / "sub.csv").exists()
    np.save(folder / "b.npy", np.zeros(SHAPE, np.float64) + np.nan)
    np.save(folder / "c.npy", np.array([["x"]]))
    proc = run("encode", folder, "--out", tmp_path / "sub.csv", check=False)
    assert proc.returncode == 2 and "c.npy" in proc.stderr
    assert not (tmp_path / "sub.csv").exists()
    (folder / "c.npy").write_bytes(b"\x93NUMPY broken")
    proc = run("encode", folder, "--out", tmp_path / "sub.csv", check=False)
    assert proc.returncode == 2 and "c.npy: cannot read the array" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "sub.csv").exists()


@pytest.mark.parametrize("to", [["--to-base", "0", "--to-relative", "yes"], ["--to-order", "C"]])
def test_convert_between_variants(tmp_path, to):
    ms = masks(7, 4)
    rows = [[f"i{k}", 1, ref_encode(m)] for k, m in enumerate(ms)]
    path = write_csv(tmp_path / "in.csv", ["ImageId", "ClassId", "EncodedPixels"], rows)
    run("convert", path, "--shape", "20x30", "--out", tmp_path / "out.csv", *to, "--quiet")
    with open(tmp_path / "out.csv", newline="") as handle:
        got = list(csv.reader(handle))
    order = "C" if "C" in to else "F"
    base, relative = (0, True) if "0" in to else (1, False)
    assert got[0] == ["ImageId", "ClassId", "EncodedPixels"]
    assert got[1:] == [[f"i{k}", "1", ref_encode(m, order, base, relative)]
                       for k, m in enumerate(ms)]


def test_convert_stops_at_a_bad_row_and_writes_nothing(tmp_path):
    path = write_csv(tmp_path / "in.csv", ["ImageId", "EncodedPixels"],
                     [["a", "1 2"], ["b", "1 2 x"]])
    proc = run("convert", path, "--shape", "4x4", "--out", tmp_path / "out.csv",
               "--to-base", "0", check=False)
    assert proc.returncode == 2 and "in.csv:3" in proc.stderr
    assert not (tmp_path / "out.csv").exists()
    assert not list(tmp_path.glob(".out.csv.tmp-*"))


def _one_line_error(proc, status=2):
    assert proc.returncode == status, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines and lines[0].startswith("rlecodec: "), proc.stderr
    return lines[0]


@pytest.mark.parametrize("extra, says", [(["--value", "inf"], "--value inf"),
                                         (["--value", "300"], "--value 300"),
                                         (["--value", "300", "--skip-bad"], "--value 300"),
                                         (["--dtype", "foo"], "--dtype foo"),
                                         (["--dtype", "complex128"], "--dtype complex128")])
def test_bad_values_and_dtypes_are_usage_errors(tmp_path, extra, says):
    csv_path = write_csv(tmp_path / "t.csv", ["ImageId", "EncodedPixels"], [["a.jpg", "1 3"]])
    proc = run("decode", csv_path, "--shape", "4x4", "--out", tmp_path / "out", *extra,
               check=False)
    assert says in _one_line_error(proc)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_ids_with_control_characters_get_file_names_that_hold_none(tmp_path):
    csv_path = tmp_path / "t.csv"  # (written by hand: csv.writer before 3.11 refuses NUL)
    csv_path.write_bytes(b'ImageId,EncodedPixels\na\0b.jpg,1 3\n"c\nd.jpg",1 2\ne.jpg,1 1\n')
    proc = run("decode", csv_path, "--shape", "4x4", "--out", tmp_path / "out", check=False)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (tmp_path / "out").glob("*.npy"))
    assert names == ["a%00b.npy", "c%0Ad.npy", "e.npy"]
    # (Read by hand: Python 3.10's csv module cannot read a NUL.)
    text = (tmp_path / "out" / "index.csv").read_bytes().decode("utf-8")
    pairs = re.findall(r'"((?:[^"]|"")*)","((?:[^"]|"")*)"\r\n', text)
    index = {a.replace('""', '"'): b for a, b in pairs[1:]}
    assert pairs[0] == ("ImageId", "file")
    assert index == {"a\0b.jpg": "a%00b.npy", "c\nd.jpg": "c%0Ad.npy", "e.jpg": "e.npy"}
    for image, text in (("a\0b.jpg", "1 3"), ("c\nd.jpg", "1 2"), ("e.jpg", "1 1")):
        np.testing.assert_array_equal(np.load(tmp_path / "out" / index[image]),
                                      ref_decode(text, (4, 4)))


@pytest.mark.parametrize("command", ["decode", "check", "convert"])
def test_a_csv_that_is_not_utf8_is_one_line(tmp_path, command):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"ImageId,EncodedPixels\na.jpg,1 3\nb\xff.jpg,1 2\n")
    extra = {"decode": ["--out", tmp_path / "o"], "check": [],
             "convert": ["--out", tmp_path / "c.csv", "--to-base", "0"]}[command]
    proc = run(command, path, "--shape", "4x4", *extra, check=False)
    assert "not UTF-8" in _one_line_error(proc)
    assert not (tmp_path / "c.csv").exists()


def test_convert_names_a_short_row_and_writes_nothing(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["ImageId", "EncodedPixels"],
                     [["a.jpg", "1 3"], ["b.jpg"]])
    proc = run("convert", path, "--shape", "4x4", "--out", tmp_path / "c.csv", "--to-base", "0",
               check=False)
    assert "t.csv:3: 1 fields, expected 2" in _one_line_error(proc)
    assert not (tmp_path / "c.csv").exists()


def test_out_naming_a_file_is_one_line(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["ImageId", "EncodedPixels"], [["a.jpg", "1 3"]])
    proc = run("decode", path, "--shape", "4x4", "--out", path, check=False)
    assert "t.csv is a file" in _one_line_error(proc, status=2)


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_npy_headers_of_every_version_are_read_and_truncation_is_seen(tmp_path, version):
    from rlecodec._output import is_complete_npy

    array = np.arange(5 * 6 * 4, dtype=np.uint16).reshape(5, 6, 4)
    path = tmp_path / "a.npy"
    with open(path, "wb") as handle:
        np.lib.format.write_array(handle, array, version=version)
    assert is_complete_npy(str(path))
    whole = path.read_bytes()
    for cut in (1, len(whole) - 60, len(whole) - 1):
        path.write_bytes(whole[:cut])
        assert not is_complete_npy(str(path))
    path.write_bytes(whole + b"\0")
    assert not is_complete_npy(str(path))
    path.write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'shape': (2,}  \n")
    assert not is_complete_npy(str(path))
