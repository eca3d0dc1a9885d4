"""Real competition strings from ../shared/realworld (skipped when that folder is absent)."""

import numpy as np
from reference import ref_check, ref_decode, ref_encode

import rlecodec


def test_every_real_string_decodes_like_the_reference(realworld_samples):
    assert len(realworld_samples) >= 50
    for rec in realworld_samples:
        shape = (rec["height"], rec["width"])
        opts = dict(order=rec["order"], base=rec["index_base"], relative=rec["relative"])
        text = rec["encoded"]
        where = f"{rec['competition']}:{rec['image_id']}"
        assert ref_check(text, shape[0] * shape[1], opts["base"], opts["relative"]) is None, where
        mask = rlecodec.decode(text, shape, **opts)
        if text.strip() in ("", "-1", "-"):
            assert not mask.any(), where
            continue
        want = ref_decode(text, shape, **opts)
        np.testing.assert_array_equal(mask, want, err_msg=where)
        # Re-encoding gives the canonical string (touching runs joined), same pixels.
        assert rlecodec.encode(mask, **opts) == ref_encode(want, **opts), where
        runs = rlecodec.to_runs(text, base=opts["base"], relative=opts["relative"])
        assert int(runs[:, 1].sum()) == int(mask.sum()), where


def test_real_strings_as_a_batch(realworld_samples):
    by_shape = {}
    for rec in realworld_samples:
        key = (rec["height"], rec["width"], rec["order"], rec["index_base"], rec["relative"])
        by_shape.setdefault(key, []).append(rec["encoded"])
    for (h, w, order, base, relative), texts in by_shape.items():
        stack = rlecodec.decode_many(texts, (h, w), order=order, base=base, relative=relative,
                                     threads=2)
        for text, mask in zip(texts, stack, strict=True):
            np.testing.assert_array_equal(
                mask, rlecodec.decode(text, (h, w), order=order, base=base, relative=relative))
