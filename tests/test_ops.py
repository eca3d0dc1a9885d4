"""Run-space operations against the numpy reference (decode both masks, count pixels) on
random masks of every variant, empty, touching and nested runs; coco.iou and coco.merge
against pycocotools; and ``rlecodec score`` against a plain-numpy scoring of two CSVs."""

import csv
import subprocess
import sys

import numpy as np
import pycocotools.mask as pycoco
import pytest
from reference import random_mask, ref_decode, ref_encode

import rlecodec
from rlecodec import RLEError, coco

VARIANTS = [dict(order="F", base=1, relative=False), dict(order="C", base=1, relative=False),
            dict(order="F", base=0, relative=True), dict(order="C", base=0, relative=False)]


def pair(rng, h, w):
    a, b = random_mask(rng, h, w), random_mask(rng, h, w)
    if rng.random() < 0.3:  # nested and touching runs
        b = a.copy()
        b[rng.integers(0, h):, rng.integers(0, w)] ^= 1
    return a, b


@pytest.mark.parametrize("variant", VARIANTS)
def test_measures_and_set_operations_match_the_reference(variant):
    rng = np.random.default_rng(len(str(variant)))
    for _ in range(150):
        h, w = (int(v) for v in rng.integers(1, 25, 2))
        a, b = pair(rng, h, w)
        ta, tb = (ref_encode(m, variant["order"], variant["base"], variant["relative"])
                  for m in (a, b))
        on_a, on_b = a != 0, b != 0
        inter, union = int((on_a & on_b).sum()), int((on_a | on_b).sum())
        assert rlecodec.area(ta, (h, w), **variant) == int(on_a.sum())
        assert rlecodec.intersection_area(ta, tb, (h, w), **variant) == inter
        assert rlecodec.iou(ta, tb, (h, w), **variant) == (inter / union if union else 1.0)
        total = int(on_a.sum() + on_b.sum())
        assert rlecodec.dice(ta, tb, (h, w), **variant) == (2 * inter / total if total else 1.0)
        args = (variant["order"], variant["base"], variant["relative"])
        assert rlecodec.union(ta, tb, (h, w), **variant) == ref_encode(on_a | on_b, *args)
        assert rlecodec.intersection(ta, tb, (h, w), **variant) == ref_encode(on_a & on_b, *args)
        assert rlecodec.difference(ta, tb, (h, w), **variant) == ref_encode(on_a & ~on_b, *args)


def test_inputs_of_every_kind_and_the_empty_masks():
    shape = (4, 4)
    assert rlecodec.area(None) == 0 and rlecodec.area("") == 0 and rlecodec.area("-1") == 0
    assert rlecodec.area([[0, 3], [9, 2]], base=0) == 5 and rlecodec.area(b"1 3") == 3
    assert rlecodec.iou("", None, shape) == 1.0 and rlecodec.iou("", None, shape, empty=0) == 0
    assert rlecodec.dice(float("nan"), "-", shape) == 1.0
    assert rlecodec.iou("1 3", "", shape) == 0.0
    assert rlecodec.union("", "", shape) == ""
    # Unsorted and overlapping runs with strict=False: their union, as decode takes it.
    assert rlecodec.area("5 3 1 2 2 4", strict=False) == 7
    assert rlecodec.union("5 3 1 2", "2 4", shape, strict=False) == "1 7"


def test_malformed_operands_name_the_operand_and_token():
    with pytest.raises(RLEError, match=r"^b: token 2 \('x'\)"):
        rlecodec.iou("1 3", "1 2 x 1", (4, 4))
    with pytest.raises(RLEError, match="^a: run 0 .* past the last pixel") as info:
        rlecodec.dice("15 5", "1 1", (4, 4))
    assert info.value.reason == "past_end"
    with pytest.raises(RLEError, match="unsorted"):
        rlecodec.union("5 1 1 1", "1 1", (4, 4))
    with pytest.raises(RLEError, match=r"list_b\[1\]"):
        rlecodec.iou_matrix(["1 1"], ["1 1", "1 99"], (4, 4))


@pytest.mark.parametrize("threads", [1, 2])
def test_iou_matrix_matches_pairwise_iou(threads):
    rng = np.random.default_rng(threads)
    h, w = 18, 23
    masks_a = [random_mask(rng, h, w) for _ in range(9)]
    masks_b = [random_mask(rng, h, w) for _ in range(7)]
    masks_b[2][:] = 0  # (an empty one against everything)
    ta, tb = [ref_encode(m) for m in masks_a], [ref_encode(m) for m in masks_b]
    got = rlecodec.iou_matrix(ta, tb, (h, w), threads=threads)
    assert got.shape == (9, 7) and got.dtype == np.float64
    for i, ma in enumerate(masks_a):
        for j, mb in enumerate(masks_b):
            union = ((ma != 0) | (mb != 0)).sum()
            want = ((ma != 0) & (mb != 0)).sum() / union if union else 1.0
            assert got[i, j] == want
    assert rlecodec.iou_matrix([], tb, (h, w)).shape == (0, 7)


def pycoco_objects(rng, n, h, w):
    masks = [random_mask(rng, h, w) for _ in range(n)]
    if n > 1:
        masks[0][:] = 0
    return [pycoco.encode(np.asfortranarray(m)) for m in masks]


def test_coco_iou_matches_pycocotools_with_crowds_and_boxes():
    rng = np.random.default_rng(11)
    for _ in range(200):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        dts, gts = pycoco_objects(rng, int(rng.integers(1, 6)), h, w), pycoco_objects(
            rng, int(rng.integers(1, 6)), h, w)
        crowd = [int(c) for c in rng.integers(0, 2, len(gts))]
        np.testing.assert_array_equal(coco.iou(dts, gts, crowd), pycoco.iou(dts, gts, crowd))
        boxes_d, boxes_g = rng.random((4, 4)) * 20, rng.random((3, 4)) * 20
        np.testing.assert_allclose(coco.iou(boxes_d, boxes_g, [0, 1, 0]),
                                   pycoco.iou(boxes_d, boxes_g, [0, 1, 0]), rtol=1e-15)
    assert coco.iou([], [dts[0]], [0]) == pycoco.iou([], [dts[0]], [0]) == []


def test_coco_merge_matches_pycocotools_byte_for_byte():
    rng = np.random.default_rng(12)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        objs = pycoco_objects(rng, int(rng.integers(1, 6)), h, w)
        for intersect in (False, True):
            want = pycoco.merge(objs, intersect=intersect)
            got = coco.merge(objs, intersect=intersect)
            assert got["counts"] == want["counts"] and got["size"] == list(want["size"])
    uncompressed = {"size": [2, 3], "counts": [0, 2, 0, 3, 1]}  # (zero counts, as given)
    assert coco.merge([uncompressed])["counts"] == pycoco.merge(
        pycoco.frPyObjects([uncompressed], 2, 3))["counts"]
    with pytest.raises(ValueError, match="item 1 has size"):
        coco.merge([objs[0], {"size": [h + 1, w], "counts": [(h + 1) * w]}])
    with pytest.raises(ValueError):
        coco.merge([])


# ------------------------------------------------------------------------------ score
def write(path, rows, header=("ImageId", "ClassId", "EncodedPixels")):
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([list(header), *rows])
    return path


def reference_score(truth_rows, sub_rows, shape, metric):
    """The leaderboard's mean from the definition, in plain numpy."""
    def masks(rows):
        out = {}
        for image, cls, text in rows:
            m = ref_decode(text, shape) != 0
            out[(image, str(cls))] = out.get((image, str(cls)), np.zeros(shape, bool)) | m
        return out
    truth, sub = masks(truth_rows), masks(sub_rows)
    scores = []
    for key in list(truth) + [k for k in sub if k not in truth]:
        a, b = truth.get(key, np.zeros(shape, bool)), sub.get(key, np.zeros(shape, bool))
        inter, total = (a & b).sum(), a.sum() + b.sum()
        if total == 0:
            scores.append(1.0)
        else:
            scores.append(2 * inter / total if metric == "dice" else inter / (total - inter))
    return float(np.mean(scores)), len(scores)


@pytest.mark.parametrize("metric", ["dice", "iou"])
def test_score_matches_the_definition(tmp_path, metric):
    rng = np.random.default_rng(3)
    shape = (20, 30)
    truth, sub = [], []
    for k in range(25):
        for cls in (1, 2, 3):
            m = random_mask(rng, *shape)
            if rng.random() < 0.7:
                truth.append([f"i{k}.jpg", cls, ref_encode(m)])
            if rng.random() < 0.7:
                guess = m if rng.random() < 0.5 else random_mask(rng, *shape)
                sub.append([f"i{k}.jpg", cls, ref_encode(guess)])
    sub.append(["new.jpg", 1, "1 5"])
    want, n_keys = reference_score(truth, sub, shape, metric)
    proc = subprocess.run([sys.executable, "-m", "rlecodec", "score",
                           write(tmp_path / "t.csv", truth), write(tmp_path / "s.csv", sub),
                           "--shape", "20x30", "--metric", metric, "--per-image",
                           tmp_path / "per.csv"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    words = proc.stdout.split()
    assert words[0] == metric and abs(float(words[1]) - want) < 1e-12
    assert f"over {n_keys} (image, class) keys" in proc.stdout
    extra = {(i, str(c)) for i, c, _ in sub} - {(i, str(c)) for i, c, _ in truth}
    assert f"{len(extra)} keys only in the submission" in proc.stderr
    with open(tmp_path / "per.csv", newline="") as handle:
        per = list(csv.reader(handle))
    assert per[0] == ["ImageId", "ClassId", metric] and len(per) == n_keys + 1
    assert abs(np.mean([float(r[2]) for r in per[1:]]) - want) < 1e-12


def test_score_stops_at_a_bad_row_unless_told_to_skip(tmp_path):
    truth = write(tmp_path / "t.csv", [["a", 1, "1 3"], ["b", 1, "2 2"]])
    sub = write(tmp_path / "s.csv", [["a", 1, "1 3"], ["b", 1, "2 x"]])
    base = [sys.executable, "-m", "rlecodec", "score", truth, sub, "--shape", "4x4"]
    proc = subprocess.run(base, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "s.csv:3: image 'b' class '1'" in proc.stderr and "'x'" in proc.stderr
    proc = subprocess.run([*base, "--skip-bad"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout.startswith("dice 0.500000000000")
    assert "bad: " in proc.stderr
