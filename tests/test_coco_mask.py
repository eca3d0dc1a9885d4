"""rlecodec.coco.mask against pycocotools.mask itself on thousands of random cases: masks
of every dtype and layout, stacks, polygons of every kind, boxes, crowd IoU, merges; the
inputs pycocotools crashes on refused with the item named; and a COCOeval segmentation
run that gives the same stats with either module."""

import contextlib
import copy
import io
import warnings

import numpy as np
import pytest
from reference import random_mask

from rlecodec import RLEError, coco
from rlecodec.coco import mask as ours

pycoco = pytest.importorskip("pycocotools.mask")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools on numpy 2


def as_dtype(rng, mask):
    """The mask in a random dtype and memory layout; foreground stays != 0."""
    kind = int(rng.integers(0, 6))
    if kind == 0:
        out = mask.astype(bool)
    elif kind == 1:
        out = mask.astype(np.int32) * 7
    elif kind == 2:
        out = np.asfortranarray(mask.astype(np.uint16))
    elif kind == 3:
        out = mask.astype(np.int64) * -1
    elif kind == 4:
        wide = np.zeros((mask.shape[0], 2 * mask.shape[1]) + mask.shape[2:], np.uint8)
        wide[:, ::2] = mask
        out = wide[:, ::2]
    else:
        out = mask.astype(np.uint8) * 255
    return out


def theirs_encode(mask):
    return pycoco.encode(np.asfortranarray((np.asarray(mask) != 0).astype(np.uint8)))


def test_stacks_encode_in_one_batch_like_their_masks_one_by_one():
    """An (H, W, N) stack is scanned as one 3-D array (masks along its last axis): the same
    counts as pycocotools for every layout, reversed and strided views, byte-swapped
    integers (taken mask by mask) and stacks of no masks or empty masks."""
    rng = np.random.default_rng(21)
    for _ in range(200):
        h, w, n = (int(v) for v in rng.integers(1, 30, 3))
        stack = np.stack([random_mask(rng, h, w) for _ in range(n)], axis=2)
        want = theirs_encode(stack)
        masks_first = stack.transpose(2, 0, 1).copy().transpose(1, 2, 0)
        views = [stack, np.asfortranarray(stack), masks_first, stack.astype(">u2"),
                 stack.astype(bool)]
        for view in views:
            assert ours.encode(view) == want
        assert ours.encode(stack[::-1, ::-1, ::-1]) == theirs_encode(stack[::-1, ::-1, ::-1])
        assert ours.encode(stack[::2, 1::3, ::2]) == theirs_encode(stack[::2, 1::3, ::2])
    assert ours.encode(np.zeros((4, 5, 0), np.uint8)) == []
    flat = np.zeros((0, 5, 2), np.uint8)
    assert ours.encode(flat) == theirs_encode(flat)


def test_encode_decode_area_bbox_match_pycocotools():
    rng = np.random.default_rng(0)
    for _ in range(600):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        n = int(rng.integers(0, 4))
        stack = np.stack([random_mask(rng, h, w) for _ in range(n)], axis=2) if n else \
            np.zeros((h, w, 0), np.uint8)
        single = random_mask(rng, h, w)
        assert ours.encode(as_dtype(rng, single)) == theirs_encode(single)
        rles = ours.encode(as_dtype(rng, stack))
        assert rles == theirs_encode(stack)
        if not n:
            continue
        got, want = ours.decode(rles), pycoco.decode(rles)
        assert got.shape == want.shape == (h, w, n) and got.dtype == np.uint8
        assert got.flags.f_contiguous
        np.testing.assert_array_equal(got, want)
        one, their_one = ours.decode(rles[0]), pycoco.decode(rles[0])
        assert one.shape == (h, w) and one.flags.f_contiguous
        np.testing.assert_array_equal(one, their_one)
        area = ours.area(rles)
        assert area.dtype == np.uint32 and area.tolist() == pycoco.area(rles).tolist()
        assert type(ours.area(rles[0])) is np.uint32 and ours.area(rles[0]) == pycoco.area(rles[0])
        np.testing.assert_array_equal(ours.toBbox(rles), pycoco.toBbox(rles))
        assert ours.toBbox(rles).dtype == np.float64 and ours.toBbox(rles[0]).shape == (4,)
        np.testing.assert_array_equal(ours.toBbox(rles[0]), pycoco.toBbox(rles[0]))
        text = {"size": rles[0]["size"], "counts": rles[0]["counts"].decode()}
        np.testing.assert_array_equal(ours.decode(text), pycoco.decode(text))


def test_iou_and_merge_match_pycocotools():
    rng = np.random.default_rng(1)
    for _ in range(400):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        m, n = (int(v) for v in rng.integers(0, 5, 2))
        dt = [theirs_encode(random_mask(rng, h, w)) for _ in range(m)]
        gt = [theirs_encode(random_mask(rng, h, w)) for _ in range(n)]
        crowd = rng.integers(0, 2, n).tolist()
        got, want = ours.iou(dt, gt, crowd), pycoco.iou(dt, gt, crowd)
        if m == 0 or n == 0:
            assert got == want == []
        else:
            assert got.shape == (m, n) and got.dtype == np.float64 and got.flags.f_contiguous
            np.testing.assert_array_equal(got, want)
        boxes_dt = rng.uniform(0, 30, (m, 4))
        boxes_gt = rng.uniform(0, 30, (n, 4))
        got = ours.iou(boxes_dt, boxes_gt, crowd)
        want = pycoco.iou(boxes_dt, boxes_gt, crowd)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
        if m and n:
            np.testing.assert_array_equal(ours.iou(boxes_dt.tolist(), boxes_gt.tolist(), crowd),
                                          want)
        objs = dt + gt
        if objs:
            for intersect in (0, 1):
                assert ours.merge(objs, intersect) == pycoco.merge(objs, intersect)
            assert ours.merge(objs[:1]) == pycoco.merge(objs[:1])
    # pycocotools' own merge([]) reads past a buffer (AddressSanitizer: heap overflow in
    # rleToString); what it returns when that goes unnoticed:
    assert ours.merge([]) == {"size": [0, 0], "counts": b""}


def runs_of_counts(counts):
    starts = np.cumsum([0, *counts[:-1]])
    return [(int(s), int(s + n)) for s, n, k in zip(starts, counts, range(len(counts)),
                                                     strict=True) if k % 2 and n]


def combined_counts(lists, total, intersect):
    """COCO counts of the union (or intersection) of interval lists, by a sweep over their
    ends: the reference for masks too large to decode."""
    edges = sorted([(s, 1) for runs in lists for s, _ in runs] +
                   [(e, -1) for runs in lists for _, e in runs])
    need = len(lists) if intersect else 1
    counts, depth, last, on = [], 0, 0, False
    for x, step in edges:
        depth += step
        if (depth >= need) != on:
            counts.append(x - last)
            last, on = x, not on
    counts.append(total - last)
    return counts


def test_merges_of_large_masks_with_few_runs():
    """Masks whose pixels far outnumber their runs are merged list by list, not through a
    bitmap of the mask.  (pycocotools cannot be the reference here: its string writer
    overflows its buffer when every count of a result takes 6 characters.)"""
    from rlecodec import _codec
    rng = np.random.default_rng(7)
    h, w = 200_000, 1_000
    for k in (1, 2, 3, 5, 8):
        objs, lists = [], []
        for _ in range(k):
            counts, pos = [], 0
            while True:
                gap, length = int(rng.integers(0, 5_000_000)), int(rng.integers(1, 3_000_000))
                if pos + gap + length > h * w:
                    counts.append(h * w - pos)
                    break
                counts += [gap, length]
                pos += gap + length
            objs.append(ours.frPyObjects({"size": [h, w], "counts": counts}, h, w))
            lists.append(runs_of_counts(counts))
        for intersect in (0, 1):
            got = ours.merge(objs, intersect)
            assert got["size"] == [h, w]
            counts = _codec.coco_counts_from_string(got["counts"]).tolist()
            if k == 1:
                assert got == objs[0]
            else:
                expected = combined_counts(lists, h * w, intersect)
                assert runs_of_counts(counts) == runs_of_counts(expected)
                assert sum(counts) == h * w and all(c > 0 for c in counts[1:])
    with pytest.raises(ValueError, match=r"item 1 has size \[2, 3\], not \[3, 2\]"):
        ours.merge([{"size": [3, 2], "counts": [6]}, {"size": [2, 3], "counts": [6]}])


def random_polygon(rng, h, w):
    """Convex, concave (star), self-intersecting, beyond the border, sub-pixel, on pixel
    centres, or with repeated points."""
    kind = int(rng.integers(0, 7))
    k = int(rng.integers(3, 12))
    cx, cy = rng.uniform(-0.2 * w, 1.2 * w), rng.uniform(-0.2 * h, 1.2 * h)
    angles = np.sort(rng.uniform(0, 2 * np.pi, k))
    radius = rng.uniform(0.5, max(h, w))
    if kind == 0:
        r = np.full(k, radius)
    elif kind == 1:
        r = radius * rng.uniform(0.2, 1, k)
    elif kind == 2:
        return rng.uniform(-5, max(h, w) + 5, 2 * k).tolist()
    elif kind == 3:
        return rng.uniform(-3 * max(h, w), 4 * max(h, w), 2 * k).tolist()
    elif kind == 4:
        r = np.full(k, rng.uniform(0.05, 0.6))
    elif kind == 5:
        return rng.integers(-2, max(h, w) + 2, 2 * k).astype(float).tolist()
    else:
        xy = rng.integers(0, max(h, w), 2 * k).astype(float)
        xy[2:4] = xy[0:2]
        return xy.tolist()
    xy = np.column_stack([cx + r * np.cos(angles), cy + r * np.sin(angles)]).ravel()
    return np.round(xy, int(rng.integers(0, 4))).tolist()


def test_frpyobjects_polygons_are_bit_identical():
    rng = np.random.default_rng(2)
    for _ in range(1500):
        h, w = (int(v) for v in rng.integers(1, 60, 2))
        polys = [random_polygon(rng, h, w) for _ in range(int(rng.integers(1, 4)))]
        assert ours.frPyObjects(polys, h, w) == pycoco.frPyObjects(polys, h, w)


def test_frpyobjects_on_large_images_and_zigzags():
    rng = np.random.default_rng(3)
    for _ in range(40):
        h, w = (int(v) for v in rng.integers(200, 900, 2))
        xs = np.repeat(np.linspace(0, w, 120), 2)  # a comb: many toggles per column
        ys = np.tile([0, h], 120)
        comb = np.column_stack([xs, ys]).ravel().tolist()
        polys = [random_polygon(rng, h, w) for _ in range(5)] + [comb]
        assert ours.frPyObjects(polys, h, w) == pycoco.frPyObjects(polys, h, w)


def test_frpyobjects_boxes_and_uncompressed_rles():
    rng = np.random.default_rng(4)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 50, 2))
        boxes = np.column_stack([rng.uniform(-10, w + 10, (5, 2)), rng.uniform(0, 40, (5, 2))])
        if rng.random() < 0.3:
            boxes = np.round(boxes)
        want = pycoco.frPyObjects(boxes, h, w)
        assert ours.frPyObjects(boxes, h, w) == want
        assert ours.frPyObjects(boxes.tolist(), h, w) == want  # (pycocotools: TypeError)
        mask = random_mask(rng, h, w)
        unc = coco.encode(mask, compressed=False)
        assert ours.frPyObjects(unc, 99, 99) == pycoco.frPyObjects(unc, 99, 99)
        assert ours.frPyObjects([unc, unc], h, w) == pycoco.frPyObjects([unc, unc], h, w)
    assert ours.frPyObjects([], 5, 5) == []


@pytest.mark.parametrize("call, error, words", [
    (lambda: ours.decode({"size": [3, 3], "counts": b"12"}), RLEError, "sum to 3"),
    (lambda: ours.decode([{"size": [3, 3], "counts": b"9"}, {"size": [3, 3], "counts": b"1"}]),
     RLEError, "item 1: counts sum to 1"),
    (lambda: ours.decode({"size": [3, 3], "counts": b"1\x7f"}), RLEError, "outside"),
    (lambda: ours.area({"size": [4, 4], "counts": [1, 2]}), RLEError, "sum to 3"),
    (lambda: ours.frPyObjects({"size": [3, 3], "counts": [1, 2, 3]}, 3, 3), RLEError,
     "sum to 6"),
    (lambda: ours.frPyObjects([{"size": [2, 2], "counts": [4]},
                               {"size": [2, 2], "counts": [-1, 5]}], 2, 2),
     RLEError, "item 1"),
    (lambda: ours.frPyObjects([[0, 0, 1, 1, 2, 0], [0, 0, 5, 5]], 9, 9), ValueError,
     "polygon 1 has 2 points"),
    (lambda: ours.frPyObjects([[0, 0, 1, 1, 2, 0, 3]], 9, 9), ValueError, "odd number"),
    (lambda: ours.frPyObjects([[0, 0, 1, float("nan"), 2, 0]], 9, 9), ValueError,
     "polygon 0: coordinate 3 is nan"),
    (lambda: ours.frPyObjects([[0, 0, 1, 1e300, 2, 0]], 9, 9), ValueError, "coordinate 3"),
    (lambda: ours.frPyObjects(np.array([[1, 1, -2, 3]]), 9, 9), ValueError, "box 0"),
    (lambda: ours.frPyObjects(np.array([[1, 1, 2, 3], [0, np.inf, 1, 1]]), 9, 9), ValueError,
     "box 1"),
    (lambda: ours.frPyObjects([[0, 0, 1, 1, 2, 0]], 9.0, 9), TypeError, "h must be"),
    (lambda: ours.frPyObjects("polygon", 9, 9), TypeError, "takes polygons"),
    (lambda: ours.encode(np.zeros((3, 3), np.float32)), TypeError, "threshold"),
    (lambda: ours.encode(np.zeros(3, np.uint8)), ValueError, "(H, W, N)"),
    (lambda: ours.decode([]), ValueError, "at least one"),
    (lambda: ours.iou([{"size": [2, 2], "counts": [4]}], [], [0]), ValueError, "iscrowd"),
])
def test_what_pycocotools_crashes_on_is_a_clear_error(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_an_ambiguous_stack_points_to_coco_mask():
    stack = np.zeros((64, 48, 3), np.uint8)
    with pytest.warns(UserWarning, match="coco.mask.encode"):
        coco.encode(stack)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coco.encode(np.zeros((3, 64, 48), np.uint8))
        coco.encode(np.zeros((500, 28, 28), np.uint8))


def evaluation_data(seed):
    """A small COCO dataset with polygon and crowd RLE ground truth, and detections."""
    rng = np.random.default_rng(seed)
    images, anns, dets = [], [], []
    for img in range(1, 9):
        h, w = (int(v) for v in rng.integers(60, 160, 2))
        images.append({"id": img, "height": h, "width": w})
        for _ in range(int(rng.integers(1, 6))):
            cat = int(rng.integers(1, 4))
            crowd = int(rng.random() < 0.15)
            if crowd:
                seg = coco.encode(random_mask(rng, h, w), compressed=False)
            else:
                seg = [random_polygon(rng, h, w) for _ in range(int(rng.integers(1, 3)))]
            anns.append({"id": len(anns) + 1, "image_id": img, "category_id": cat,
                         "segmentation": seg, "iscrowd": crowd, "area": 0.0,
                         "bbox": [0, 0, 1, 1]})
            # A detection of it, shifted a little (or a false one), sometimes two.
            rles = seg if crowd else pycoco.frPyObjects(seg, h, w)
            truth = pycoco.decode(pycoco.merge(rles) if isinstance(rles, list) else
                                  pycoco.frPyObjects(rles, h, w))
            for _ in range(int(rng.integers(0, 3))):
                found = np.roll(truth, tuple(int(v) for v in rng.integers(-4, 5, 2)), (0, 1))
                if rng.random() < 0.2:
                    found = random_mask(rng, h, w)
                rle = pycoco.encode(np.asfortranarray(found))
                rle["counts"] = rle["counts"].decode()
                dets.append({"image_id": img, "category_id": cat, "segmentation": rle,
                             "score": float(rng.random())})
    dataset = {"images": images, "annotations": anns,
               "categories": [{"id": c, "name": str(c)} for c in (1, 2, 3)]}
    return dataset, dets


def evaluate(module, monkeypatch, dataset, dets):
    from pycocotools import coco as coco_api
    from pycocotools import cocoeval
    monkeypatch.setattr(coco_api, "maskUtils", module)
    monkeypatch.setattr(cocoeval, "maskUtils", module)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = coco_api.COCO()
        gt.dataset = copy.deepcopy(dataset)
        gt.createIndex()
        for ann in gt.dataset["annotations"]:  # the area COCO files carry, from the masks
            ann["area"] = float(module.area(gt.annToRLE(ann)))
        dt = gt.loadRes(copy.deepcopy(dets))
        run = cocoeval.COCOeval(gt, dt, "segm")
        run.evaluate()
        run.accumulate()
        run.summarize()
    return run


@pytest.mark.parametrize("seed", [5, 6])
def test_cocoeval_gives_the_same_stats_with_either_module(seed, monkeypatch):
    dataset, dets = evaluation_data(seed)
    theirs = evaluate(pycoco, monkeypatch, dataset, dets)
    mine = evaluate(ours, monkeypatch, dataset, dets)
    assert mine.stats.tolist() == theirs.stats.tolist()
    assert np.isfinite(theirs.stats).any() and (theirs.stats > 0).any()
    for key in theirs.ious:
        np.testing.assert_array_equal(np.asarray(mine.ious[key]), np.asarray(theirs.ious[key]))
