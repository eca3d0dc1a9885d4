"""MaskTable against the reference decoder: every layout and variant, rows out of order,
missing ids, bad rows, CSV files in every form they arrive in, pickling, worker processes
started by fork and by spawn, and threads."""

import bz2
import csv
import gzip
import io
import lzma
import multiprocessing
import pickle
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from reference import random_mask, ref_check, ref_decode, ref_decode_lenient, ref_encode

import rlecodec
from rlecodec import MaskTable, RLEError

SHAPE = (12, 17)
CLASSES = (1, 2, 3, 4)


def make_rows(seed, n_images=9, order="F", base=1, relative=False):
    """Severstal-like rows (ImageId, ClassId, EncodedPixels) in a shuffled order, some
    classes missing, and the truth per image and class."""
    rng = np.random.default_rng(seed)
    rows, truth = [], {}
    for k in range(n_images):
        image = f"img{k:03d}.jpg"
        truth[image] = {}
        for cls in CLASSES:
            if rng.random() < 0.4:
                continue
            m = random_mask(rng, *SHAPE)
            truth[image][cls] = m
            rows.append([image, cls, ref_encode(m, order, base, relative)])
    rng.shuffle(rows)  # rows of one image far apart
    return rows, truth


def write(path, header, rows, newline="\n", bom=False):
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows([header, *rows])
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))
    return path


def expected_channels(truth, image):
    stack = np.zeros((*SHAPE, len(CLASSES)), np.uint8)
    for cls, m in truth.get(image, {}).items():
        stack[:, :, CLASSES.index(cls)] = m
    return stack


@pytest.fixture
def severstal(tmp_path):
    rows, truth = make_rows(1)
    return write(tmp_path / "train.csv", ["ImageId", "ClassId", "EncodedPixels"], rows), truth


def test_channels_of_every_image_by_id_and_position(severstal):
    path, truth = severstal
    table = MaskTable(path, SHAPE, classes=CLASSES)
    images_with_rows = [i for i in sorted(truth) if truth[i]]
    assert sorted(table.ids) == images_with_rows and len(table) == len(images_with_rows)
    assert table.classes == list(CLASSES)
    for k, image in enumerate(table.ids):
        assert image in table
        np.testing.assert_array_equal(table[image], expected_channels(truth, image))
        np.testing.assert_array_equal(table[k], table[image])
        np.testing.assert_array_equal(table[k - len(table)], table[image])
    with pytest.raises(IndexError):
        table[len(table)]
    with pytest.raises(KeyError):
        table["nope.jpg"]
    with pytest.raises(TypeError):
        table[True]
    assert "nope.jpg" not in table and 3 not in table


@pytest.mark.parametrize("order,base,relative", [("C", 1, False), ("F", 0, True),
                                                 ("C", 0, False)])
def test_variants(tmp_path, order, base, relative):
    rows, truth = make_rows(2, order=order, base=base, relative=relative)
    path = write(tmp_path / "v.csv", ["ImageId", "ClassId", "EncodedPixels"], rows)
    table = MaskTable(path, SHAPE, classes=CLASSES, order=order, base=base, relative=relative)
    for image in table.ids:
        np.testing.assert_array_equal(table[image], expected_channels(truth, image))


def test_labels_union_dtype_and_value(severstal):
    path, truth = severstal
    union = MaskTable(path, SHAPE, layout="union", dtype=bool)
    labels = MaskTable(path, SHAPE, layout="labels", classes=CLASSES, last_wins=True)
    scaled = MaskTable(path, SHAPE, classes=CLASSES, dtype=np.float32, value=0.5)
    for image in union.ids:
        masks = truth[image]
        expected = np.any([m != 0 for m in masks.values()], axis=0)
        np.testing.assert_array_equal(union[image], expected)
        assert union[image].dtype == bool
        want = np.zeros(SHAPE, np.uint8)
        for cls in CLASSES:
            if cls in masks:
                want[masks[cls] != 0] = CLASSES.index(cls) + 1
        np.testing.assert_array_equal(labels[image], want)
        np.testing.assert_array_equal(scaled[image], expected_channels(truth, image) * 0.5)
    strict_labels = MaskTable(path, SHAPE, layout="labels", classes=CLASSES)
    overlapping = [i for i in union.ids if sum(m.astype(int) for m in truth[i].values()).max() > 1]
    with pytest.raises(RLEError, match="overlaps"):
        strict_labels[overlapping[0]]


def test_decode_into_a_reused_array_of_any_layout(severstal):
    path, truth = severstal
    table = MaskTable(path, SHAPE, classes=CLASSES)
    buf = np.asfortranarray(np.full((*SHAPE, 4), 9, np.uint8))
    for image in table.ids:
        assert table.decode(image, out=buf) is buf
        np.testing.assert_array_equal(buf, expected_channels(truth, image))
    with pytest.raises(ValueError):
        table.decode(table.ids[0], out=np.zeros((*SHAPE, 3), np.uint8))


def test_missing_ids_are_background_with_get(severstal):
    path, truth = severstal
    table = MaskTable(path, SHAPE, classes=CLASSES)
    assert not table.get("not-in-file.jpg").any()
    assert table.get("not-in-file.jpg").shape == (*SHAPE, 4)
    image = table.ids[0]
    np.testing.assert_array_equal(table.get(image), expected_channels(truth, image))


def test_texts_are_the_rows_as_written(severstal):
    path, _ = severstal
    table = MaskTable(path, SHAPE)
    with open(path, newline="") as handle:
        records = list(csv.reader(handle))[1:]
    for image in table.ids:
        want = {cls: text for i, cls, text in records if i == image}
        assert table.texts(image) == want


def test_instances_without_a_class_column(tmp_path):
    rng = np.random.default_rng(5)
    ships = {f"s{k}.jpg": [random_mask(rng, *SHAPE) for _ in range(k % 3 + 1)] for k in range(6)}
    rows = [[i, ref_encode(m)] for i, ms in ships.items() for m in ms]
    rows.append(["empty.jpg", ""])
    path = write(tmp_path / "ships.csv", ["ImageId", "EncodedPixels"], rows)
    table = MaskTable(path, SHAPE)
    assert table.layout == "union" and table.classes == []
    for image, ms in ships.items():
        np.testing.assert_array_equal(table[image], np.any(ms, axis=0).astype(np.uint8))
        assert table.texts(image) == [ref_encode(m) for m in ms]
    assert not table["empty.jpg"].any()


def test_packed_id_and_class_columns(tmp_path):
    rows, truth = make_rows(3)
    packed = [[f"{i}_{c}", t] for i, c, t in rows]
    path = write(tmp_path / "p.csv", ["ImageId_ClassId", "EncodedPixels"], packed)
    table = MaskTable(path, SHAPE, classes=CLASSES)
    for image in table.ids:
        np.testing.assert_array_equal(table[image], expected_channels(truth, image))


def test_a_bad_row_names_file_line_image_and_token(tmp_path):
    rows = [["a.jpg", 1, "1 3"], ["b.jpg", 2, "1 3 x 2"], ["a.jpg", 2, "5 400"],
            ["c.jpg", 1, "2 2"]]
    path = write(tmp_path / "bad.csv", ["ImageId", "ClassId", "EncodedPixels"], rows)
    table = MaskTable(path, SHAPE)
    with pytest.raises(RLEError) as info:
        table["b.jpg"]
    message = str(info.value)
    assert "bad.csv:3" in message and "'b.jpg'" in message and "'x'" in message
    assert info.value.token == 2 and info.value.reason == "not_a_number"
    out = np.full((*SHAPE, 2), 7, np.uint8)
    with pytest.raises(RLEError, match="bad.csv:4.*past the last pixel"):
        table.decode("a.jpg", out=out)
    assert (out == 7).all(), "a bad row changed out"
    np.testing.assert_array_equal(table["c.jpg"][:, :, 0], ref_decode("2 2", SHAPE))
    problems = table.check()
    assert len(problems) == 2
    assert problems[0].startswith(f"{path}:4: image 'a.jpg' class '2'")
    assert problems[1].startswith(f"{path}:3: image 'b.jpg' class '2'")


def test_shape_per_image_from_a_callable(tmp_path):
    sizes = {"a.jpg": (4, 5), "b.jpg": (7, 3)}
    rng = np.random.default_rng(8)
    masks = {i: random_mask(rng, *s) for i, s in sizes.items()}
    path = write(tmp_path / "s.csv", ["ImageId", "EncodedPixels"],
                 [[i, ref_encode(m)] for i, m in masks.items()])
    table = MaskTable(path, sizes.__getitem__)
    for image, m in masks.items():
        np.testing.assert_array_equal(table[image], m)
        assert table.shape_of(image) == m.shape


# ------------------------------------------------------------------------------ file forms
FORMS = ["plain", "bom", "crlf", "quoted", "gz", "bz2", "xz", "zip"]


def write_form(tmp_path, form, rows):
    header = ["ImageId", "ClassId", "EncodedPixels"]
    if form == "bom":
        return write(tmp_path / "t.csv", header, rows, bom=True)
    if form == "crlf":
        return write(tmp_path / "t.csv", header, rows, newline="\r\n")
    if form == "quoted":
        buf = io.StringIO()
        csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows([header, *rows])
        path = tmp_path / "t.csv"
        path.write_text(buf.getvalue())
        return path
    plain = write(tmp_path / "plain.csv", header, rows).read_bytes()
    path = tmp_path / f"t.csv.{form}" if form != "plain" else tmp_path / "plain.csv"
    if form == "gz":
        path.write_bytes(gzip.compress(plain))
    elif form == "bz2":
        path.write_bytes(bz2.compress(plain))
    elif form == "xz":
        path.write_bytes(lzma.compress(plain))
    elif form == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("train.csv", plain)
    return path


@pytest.mark.parametrize("form", FORMS)
def test_every_file_form_opens_as_a_table_and_in_the_command(tmp_path, form):
    rows, truth = make_rows(4, n_images=5)
    rows.append(['odd, "quoted" id.jpg', 1, ref_encode(np.eye(*SHAPE, dtype=np.uint8))])
    truth['odd, "quoted" id.jpg'] = {1: np.eye(*SHAPE, dtype=np.uint8)}
    path = write_form(tmp_path, form, rows)
    table = MaskTable(path, SHAPE, classes=CLASSES)
    assert sorted(table.ids) == sorted(i for i in truth if truth[i])
    for image in table.ids:
        np.testing.assert_array_equal(table[image], expected_channels(truth, image))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "rlecodec", "decode", str(path), "--shape",
                           "12x17", "--out", str(out), "--quiet"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    first = next(i for i in table.ids if i.startswith("img"))
    got = np.load(out / (first[:-4] + ".npy"))
    classes = sorted({int(c) for _, c, _ in rows})
    for k, cls in enumerate(classes):
        want = truth[first].get(cls, np.zeros(SHAPE, np.uint8))
        np.testing.assert_array_equal(got[:, :, k], want)


@pytest.mark.parametrize("content, says", [
    (b"\x00\x01\x02binary\xff\xfe junk", "not a CSV text file"),
    (b"ImageId,Pixels\na,1 2\n", "which column holds the rle"),
    (b"ImageId,EncodedPixels\na,1 2\nb,1 2,3\n", "t.csv:3: 3 fields, expected 2"),
    (b"ImageId,EncodedPixels\na,\"1 2\nb,1 2\n", "quoted field that never ends"),
    (b"", "is empty"),
    (b"ImageId,EncodedPixels\n\xff\xfe.jpg,1 2\n", "not UTF-8"),
])
def test_what_cannot_be_read_is_one_line_naming_the_file(tmp_path, content, says):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=says.replace("(", r"\(")):
        MaskTable(path, SHAPE)
    proc = subprocess.run([sys.executable, "-m", "rlecodec", "check", str(path), "--shape",
                           "12x17"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert says in proc.stderr and str(path) in proc.stderr


def test_a_zip_with_several_files_is_refused(tmp_path):
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "ImageId,EncodedPixels\n")
        archive.writestr("b.csv", "ImageId,EncodedPixels\n")
    with pytest.raises(ValueError, match="exactly one CSV file"):
        MaskTable(path, SHAPE)


# ------------------------------------------------------------------------------ data loaders
def test_pickles_small_and_reopens_the_file(severstal):
    path, truth = severstal
    table = MaskTable(path, SHAPE, classes=CLASSES)
    table[table.ids[0]]  # (opened and used before pickling)
    blob = pickle.dumps(table)
    assert len(blob) < 4096 + 64 * len(table._images)
    again = pickle.loads(blob)
    for image in again.ids:
        np.testing.assert_array_equal(again[image], expected_channels(truth, image))
    path.write_text(path.read_text() + "zzz.jpg,1,1 1\n")
    stale = pickle.loads(blob)
    with pytest.raises(ValueError, match="changed since the table was opened"):
        stale[stale.ids[0]]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_worker_processes_started_by_fork_and_spawn(severstal, method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available on this platform")
    path, truth = severstal
    table = MaskTable(path, SHAPE, classes=CLASSES)
    with multiprocessing.get_context(method).Pool(2) as pool:
        results = pool.map(table.__getitem__, table.ids, chunksize=2)
    for image, got in zip(table.ids, results, strict=True):
        np.testing.assert_array_equal(got, expected_channels(truth, image))


def test_threads_share_one_table(severstal):
    path, truth = severstal
    table = MaskTable(path, SHAPE, classes=CLASSES)
    ids = table.ids * 20
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(table.__getitem__, ids))
    for image, got in zip(ids, results, strict=True):
        np.testing.assert_array_equal(got, expected_channels(truth, image))


def test_options_are_checked_when_the_table_opens(severstal):
    path, _ = severstal
    with pytest.raises(ValueError):
        MaskTable(path, SHAPE, base=2)
    with pytest.raises(ValueError):
        MaskTable(path, SHAPE, layout="stack")
    with pytest.raises(TypeError):
        MaskTable(path, (True, 3))
    with pytest.raises(ValueError, match="cannot open"):
        MaskTable(path.parent / "missing.csv", SHAPE)
    assert repr(MaskTable(path, SHAPE)).startswith("MaskTable(")
    assert isinstance(rlecodec.MaskTable(path, SHAPE)[0], np.ndarray)


@pytest.mark.parametrize("seed", range(6))
def test_straight_from_the_file_matches_the_reference(tmp_path, seed):
    """The channels layout's one-call path from the file's bytes, on random rows of every
    variant: classes repeated (OR-ed), unknown or empty (channel 0), unsorted and overlapping runs
    (strict=False), malformed rows (an error, a given out untouched; a quote, escaped in
    the file, is left to the general path to word), other dtypes and values."""
    rng = np.random.default_rng(seed)
    order, base, relative = rng.choice(["F", "C"]), int(rng.integers(2)), bool(rng.random() < .3)
    strict = bool(rng.random() < 0.5)
    dtype, value = [(np.uint8, 1), (bool, True), (np.float32, 0.5), (np.int16, -3)][seed % 4]
    shape = (int(rng.integers(1, 40)), int(rng.integers(1, 40)))
    rows, truth = [], {}
    for k in range(12):
        image = f"i{k}"
        want = np.zeros((*shape, 3), bool)
        for _ in range(int(rng.integers(1, 5))):
            cls = rng.choice(["1", "2", "3", "7", ""])  # 7 and none: channel 0
            text = ref_encode(random_mask(rng, *shape), order, base, relative)
            if not strict and not relative and rng.random() < 0.3:
                pairs = text.split()
                pairs = [pairs[i:i + 2] for i in range(0, len(pairs), 2)]
                rng.shuffle(pairs)
                text = " ".join(" ".join(p) for p in pairs + pairs[:1])  # unsorted, overlaps
            if rng.random() < 0.1:
                text += " 1 x" if rng.random() < 0.5 else ' 2 "3"'  # (the file escapes it)
            rows.append([image, cls, text])
            if want is not None and ref_check(text, shape[0] * shape[1], base, relative,
                                              strict) is None:
                want[:, :, {"2": 1, "3": 2}.get(cls, 0)] |= ref_decode_lenient(
                    text, shape, order, base, relative).astype(bool)
            else:
                want = None
        truth[image] = want
    rng.shuffle(rows)
    path = write(tmp_path / "s.csv", ["ImageId", "ClassId", "EncodedPixels"], rows)
    table = MaskTable(path, shape, classes=["1", "2", "3"], order=order, base=base,
                      relative=relative, strict=strict, dtype=dtype, value=value)
    decoder = table._decode_image
    for k, image in enumerate(table.ids):
        buf = np.full((*shape, 3), 5, dtype)
        if truth[image] is None:
            with pytest.raises(RLEError, match=f"image '{image}'"):
                table[image]
            with pytest.raises(RLEError):
                table.decode(image, out=buf)
            assert (buf == np.array(5, dtype)).all(), "a bad row changed out"
            continue
        expected = np.where(truth[image], np.array(value, dtype), np.array(0, dtype))
        got = table[image]
        assert got.dtype == np.dtype(dtype) and got.flags.c_contiguous
        np.testing.assert_array_equal(got, expected)
        assert table.decode(image, out=buf) is buf
        np.testing.assert_array_equal(buf, expected)
        straight = decoder.straight(table._images, k, shape, None)
        assert straight is not None, "the straight path was not taken"
        np.testing.assert_array_equal(straight, expected)


def test_ids_of_every_length_and_alphabet_are_found(tmp_path):
    """table[id] finds ids by bisection over the file's sorted ids as bytes, padded with
    zeros as numpy holds them: ids that are prefixes of one another, non-ASCII ids, and
    near misses (a prefix, an extension, a zero byte, a lone surrogate) that are not in
    the file and raise KeyError."""
    rng = np.random.default_rng(3)
    stems = ["a", "ab", "abc", "b", "ba", "z" * 30, "é", "éa", "日本", "0", "00", "a b", "A"]
    ids = stems + [f"{s}{k}" for s in stems[:4] for k in range(3)]
    masks = {i: random_mask(rng, *SHAPE) for i in ids}
    rows = [[i, 2, ref_encode(m)] for i, m in masks.items()]
    rng.shuffle(rows)
    path = write(tmp_path / "ids.csv", ["ImageId", "ClassId", "EncodedPixels"], rows)
    table = MaskTable(path, SHAPE, classes=[1, 2])
    for image, m in masks.items():
        got = table[image]
        np.testing.assert_array_equal(got[:, :, 1], m)
        assert not got[:, :, 0].any()
        np.testing.assert_array_equal(table[table.ids.index(image)], got)
        assert table._reader is not None, "the one-call path was not taken"
        assert table._reader.get(image) is not None, image
    for miss in ["", "abcd", "aa", "é\x00", "a\x00", "日", "z" * 31, "\udcff", "B"]:
        assert table._reader.get(miss) is None
        with pytest.raises(KeyError):
            table[miss]
    for bad in [len(ids), -len(ids) - 1]:
        with pytest.raises(IndexError):
            table[bad]
    np.testing.assert_array_equal(table[np.int64(-1)], table[len(ids) - 1])
