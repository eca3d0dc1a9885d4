"""The fast paths (64-pixel bit masks, tiles of columns transposed into rows, row-sorted
transposes in run space, scattered writes, COCO strings straight into pixels) agree with
the plain reference at every block boundary."""

import numpy as np
import pytest
from reference import ref_decode, ref_encode, reference_coco_string

import rlecodec
from rlecodec import _codec

EDGES = [1, 2, 63, 64, 65, 127, 128, 129, 200]


def masks_for(h, w, rng):
    yield (rng.random((h, w)) < 0.5).astype(np.uint8)                 # noise: short runs
    block = np.zeros((h, w), np.uint8)
    block[h // 3: h - h // 4, w // 5: w - 1] = 1                       # long runs
    yield block
    yield np.ones((h, w), np.uint8)                                    # all on
    stripes = np.zeros((h, w), np.uint8)
    stripes[:, ::2] = 1
    yield stripes


@pytest.mark.parametrize("h", EDGES)
def test_block_boundaries_both_orders(h):
    rng = np.random.default_rng(h)
    for w in EDGES:
        for m in masks_for(h, w, rng):
            for order in "FC":
                text = ref_encode(m, order)
                assert rlecodec.encode(m, order=order) == text, (h, w, order)
                assert rlecodec.encode(np.asfortranarray(m), order=order) == text
                np.testing.assert_array_equal(rlecodec.decode(text, (h, w), order=order), m)
                out = np.full((w, h), 9, np.uint8).T  # Fortran layout
                np.testing.assert_array_equal(rlecodec.decode(text, order=order, out=out), m)


def test_wide_and_tall_tiles_with_strided_and_converted_reads():
    rng = np.random.default_rng(7)
    for h, w in [(70, 1100), (1100, 70), (130, 600)]:
        m = (rng.random((h, w)) < 0.02).astype(np.uint8)
        m[5:60, 100:400 if w > 400 else w - 1] = 1
        big = np.zeros((h, 2 * w), np.float32)
        big[:, ::2] = m * 0.75
        for order in "FC":
            want = ref_encode(m, order)
            assert rlecodec.encode(big[:, ::2], order=order) == want
            assert rlecodec.encode(big[:, ::2], order=order, threshold=0.5) == want
            assert rlecodec.encode(m.astype(bool)[::-1, ::-1][::-1, ::-1], order=order) == want


def test_decoder_paths_agree_on_dense_and_sparse_runs():
    """Mean run length decides between scattered and transposed writes: test both sides."""
    rng = np.random.default_rng(8)
    for density in (0.05, 0.5, 0.95):
        m = (rng.random((150, 170)) < density).astype(np.uint8)
        for text in (ref_encode(m), ref_encode(np.repeat(m[:, :17], 10, axis=1))):
            want = ref_decode(text, (150, 170))
            np.testing.assert_array_equal(rlecodec.decode(text, (150, 170)), want)
            np.testing.assert_array_equal(rlecodec.decode(text, (150, 170), dtype=np.int32,
                                                          value=-3), want.astype(np.int32) * -3)


@pytest.mark.parametrize("h,w", [(1, 1), (2, 300), (63, 65), (64, 64), (65, 63), (129, 200),
                                 (300, 2)])
def test_short_runs_into_row_major_bytes_through_tiles(h, w):
    """Noise-like column-major runs into a C-ordered byte output go through tiles of 64
    columns transposed 16 x 16 and 8 x 8 bytes at a time: every block edge, any byte value,
    flipped and sliced outputs."""
    rng = np.random.default_rng(h * 1000 + w)
    for density in (0.05, 0.5, 0.95):
        m = (rng.random((h, w)) < density).astype(np.uint8)
        text = ref_encode(m)
        for dtype, value in [(np.uint8, 255), (bool, True), (np.int8, -2)]:
            want = np.where(m != 0, value, 0).astype(dtype)
            np.testing.assert_array_equal(rlecodec.decode(text, (h, w), dtype=dtype,
                                                          value=value), want)
            flipped = np.full((h, w), 7, dtype)[::-1]            # negative row stride
            rlecodec.decode(text, out=flipped, value=value)
            np.testing.assert_array_equal(flipped, want)
            wide = np.full((h, w + 5), 7, dtype)
            rlecodec.decode(text, out=wide[:, 2:w + 2], value=value)   # rows wider than w
            np.testing.assert_array_equal(wide[:, 2:w + 2], want)
            sentinel = np.array(7).astype(dtype)
            assert (wide[:, :2] == sentinel).all() and (wide[:, w + 2:] == sentinel).all()


@pytest.mark.parametrize("h,w", [(20_000, 70), (40_000, 35), (131_073, 3)])
def test_long_columns_through_narrower_tiles(h, w):
    """Columns too long for 64 in a tile are taken 32 or 16 at a time, and past 2**17
    pixels one by one: short runs, long runs over tile edges, a partial last tile."""
    rng = np.random.default_rng(w)
    flat = (rng.random(h * w) < 0.4).astype(np.uint8)
    flat[h * 15 + 7: h * 17 + 9] = 1                  # across the 16-column edge
    flat[h * 32 - 5: h * 33 + 5] = 1                  # and the 32-column one
    m = flat.reshape((h, w), order="F")
    text = ref_encode(m)
    np.testing.assert_array_equal(rlecodec.decode(text, (h, w)), m)
    out = np.full((h, w + 3), 5, np.uint8)
    rlecodec.decode(text, out=out[:, 1:w + 1], value=9)
    np.testing.assert_array_equal(out[:, 1:w + 1], m * np.uint8(9))
    assert (out[:, 0] == 5).all() and (out[:, w + 1:] == 5).all()


@pytest.mark.parametrize("h", [1, 63, 64, 100])
def test_tile_runs_across_lines_and_tiles(h):
    """In the tile path 64 columns are one line of pixels: a long run through whole
    columns and across tile edges (columns 63|64 and 127|128), runs that start on a tile's
    last pixel or end on it, among many short ones (so the path is taken)."""
    rng = np.random.default_rng(h)
    w = 200
    m = (rng.random((h, w)) < 0.3).astype(np.uint8)
    flat = m.reshape(-1, order="F")        # pixel numbering: flat[c * h + r] is m[r, c]
    flat[60 * h + h // 2: 131 * h - h // 3] = 1      # from mid column 60 to mid column 130
    flat[191 * h: 193 * h] = 1                        # exactly columns 191 and 192
    flat[128 * h - 2: 128 * h + 1] = [0, 1, 1]        # from a band's last pixel on
    flat[64 * h - 3: 64 * h] = 1                      # up to the end of a band
    flat[64 * h] = 0
    m = flat.reshape((h, w), order="F")
    text = ref_encode(m)
    runs = np.asarray(text.split(), dtype=np.int64).reshape(-1, 2)
    assert runs[:, 1].sum() < 8 * len(runs)           # mean run short: tiles
    np.testing.assert_array_equal(rlecodec.decode(text, (h, w)), m)
    np.testing.assert_array_equal(rlecodec.decode(text, (h, w), value=200, dtype=np.uint8),
                                  m * np.uint8(200))


@pytest.mark.parametrize("order", ["F", "C"])
def test_encode_skips_empty_64_pixel_blocks_without_losing_edges(order):
    """Runs that end or start exactly at a 64-pixel block edge, next to empty blocks."""
    n = 64 * 5
    for start, stop in [(0, 64), (63, 64), (64, 65), (64, 128), (127, 129), (0, 1),
                        (n - 1, n), (n - 64, n), (100, 300)]:
        line = np.zeros(n, np.uint8)
        line[start:stop] = 3
        for m in (line[None, :], line[:, None], np.tile(line, (3, 1)), np.tile(line, (3, 1)).T):
            m = np.ascontiguousarray(m) if order == "C" else np.asfortranarray(m)
            assert rlecodec.encode(m, order=order) == ref_encode(m, order), (start, stop)


def blobs(h, w, count, rng):
    """Filled ellipses: columns cut by one or several runs whose ends move a little from
    column to column, as in real defect and cloud masks."""
    m = np.zeros((h, w), np.uint8)
    for _ in range(count):
        cy, cx = rng.integers(0, h), rng.integers(0, w)
        ry, rx = rng.integers(1, max(2, h // 3)), rng.integers(1, max(2, w // 8))
        y0, x0 = max(cy - ry, 0), max(cx - rx, 0)
        yy, xx = np.ogrid[y0:cy + ry + 1, x0:cx + rx + 1]
        inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        m[y0:y0 + inside.shape[0], x0:x0 + inside.shape[1]] |= inside[:h - y0, :w - x0]
    return m


def _encode_large(m):
    """ref_encode's text of a 0/1 mask, its runs found with np.diff instead of a walk."""
    edges = np.flatnonzero(np.diff(m.ravel(order="F"), prepend=0, append=0))
    return " ".join(f"{s + 1} {e - s}" for s, e in edges.reshape(-1, 2))


@pytest.mark.parametrize("h,w", [(256, 1600), (700, 900), (4096, 8193)])
def test_run_space_transpose_of_blobs(h, w):
    """Column-major runs into a row-major output through the run-space transpose: outputs
    zeroed first (small), written line by line (above 512 KiB) and left as calloc'd zeros
    (32 MiB and more), with one and several runs per column."""
    rng = np.random.default_rng(h + w)
    for count in (1, 7, 40):
        m = blobs(h, w, count, rng)
        if h * w > 1 << 22:  # too many pixels for ref_encode's walk
            np.testing.assert_array_equal(rlecodec.decode(_encode_large(m), (h, w)), m)
            continue
        text = ref_encode(m)
        np.testing.assert_array_equal(rlecodec.decode(text, (h, w)), m)
        want = m.astype(np.int32) * -7
        np.testing.assert_array_equal(rlecodec.decode(text, (h, w), dtype=np.int32, value=-7),
                                      want)
        out = np.full((h, w), 5, np.uint8)
        np.testing.assert_array_equal(rlecodec.decode(text, out=out, value=2), m * 2)
        assert rlecodec.encode(m) == text


@pytest.mark.parametrize("w", [1, 5, 31, 32, 33, 63, 64, 65, 95, 200])
def test_groups_of_32_columns_stay_inside_their_rows(w):
    """Column-major runs into a small row-major byte output are written 32 columns at a
    time: a narrower last group must not spill into the next row or past the output
    (guard columns around an ``out`` view), and groups must not leak into one another."""
    rng = np.random.default_rng(w)
    h = 90
    for m in (blobs(h, w, 3, rng), np.ones((h, w), np.uint8), *masks_for(h, w, rng)):
        text = ref_encode(m)
        big = np.full((h, w + 2), 7, np.uint8)
        rlecodec.decode(text, out=big[:, 1:-1], value=3)
        np.testing.assert_array_equal(big[:, 1:-1], m * 3)
        assert (big[:, 0] == 7).all() and (big[:, -1] == 7).all()
        np.testing.assert_array_equal(rlecodec.decode(text, (h, w)), m)


@pytest.mark.parametrize("step", [2, 3, 17])
def test_stripes_across_the_lines_of_a_large_output(step):
    """Column runs whose row segments are far more than the runs (pixel-wide stripes, a
    segment per pixel and row): from the row where a row's segments get that short, the
    row-by-row writer keeps the row as bytes, flipped where runs start or end, and copies
    it out; runs that start and end after the switch, dtypes other than bytes (which stay
    with segments) and an ``out`` view with guard columns are all checked."""
    h, w = 800, 701  # above 512 KiB, so the row-by-row writer is the one
    m = np.zeros((h, w), np.uint8)
    m[h // 5: h // 4, 10:40] = 1  # a block before the stripes begin
    m[h // 3:, ::step] = 1
    m[h // 2: 3 * h // 4, 1::step] = 1  # and runs that start and end after it
    text = ref_encode(m)
    np.testing.assert_array_equal(rlecodec.decode(text, (h, w)), m)
    np.testing.assert_array_equal(rlecodec.decode(text, (h, w), dtype=np.int32, value=-7),
                                  m.astype(np.int32) * -7)
    out = np.full((h, w + 2), 5, np.uint8)
    rlecodec.decode(text, out=out[:, 1:-1], value=2)
    np.testing.assert_array_equal(out[:, 1:-1], m * 2)
    assert (out[:, 0] == 5).all() and (out[:, -1] == 5).all()


def test_fills_of_every_short_length_and_alignment():
    """Runs along memory are written with a few overlapping stores when short: every length
    up to past the point where memset takes over, at every alignment, leave their
    neighbours alone."""
    w = 300
    for length in list(range(1, 40)) + [63, 64, 65, 127, 128, 129, 255, 256, 257, 258]:
        m = np.zeros((16, w), np.uint8)
        for row in range(16):
            m[row, row + 3: row + 3 + min(length, w - row - 4)] = 1
        text = ref_encode(m, "C")
        out = np.full((16, w + 2), 9, np.uint8)
        rlecodec.decode(text, order="C", out=out[:, 1:-1], value=4)
        np.testing.assert_array_equal(out[:, 1:-1], m * 4)
        assert (out[:, 0] == 9).all() and (out[:, -1] == 9).all()


@pytest.mark.parametrize("bands", [2, 3, 7])
def test_large_masks_read_in_bands_match_the_reference(monkeypatch, bands):
    """Masks above rlecodec._encode._BAND_BYTES are read in bands of memory lines, one per
    thread, and their runs joined: a run across a seam stays one run, in both orders, for
    every layout and dtype (the size limit is lowered here so that small masks take it)."""
    monkeypatch.setattr(rlecodec._encode, "_BAND_BYTES", 0)
    rng = np.random.default_rng(bands)
    h, w = 37, 29
    cases = [np.ones((h, w), np.uint8), blobs(h, w, 4, rng), np.zeros((h, w), np.uint8)]
    cases.append(np.repeat(blobs(h, 5, 2, rng), 6, axis=1)[:, :w])
    cases += list(masks_for(h, w, rng))  # noise: across memory it is scanned whole
    for m in cases:
        for order in "FC":
            want = ref_encode(m, order)
            assert rlecodec.encode(m, order=order, threads=bands) == want
            assert rlecodec.encode(np.asfortranarray(m), order=order, threads=bands) == want
            assert rlecodec.encode(m.astype(np.float32) * 0.8, order=order, threshold=0.5,
                                   threads=bands) == want
            view = np.zeros((h, 2 * w), np.int16)[:, ::2]
            view[...] = m
            assert rlecodec.encode(view, order=order, threads=bands) == want
            assert rlecodec.encode(m, order=order, base=0, relative=True,
                                   threads=bands) == ref_encode(m, order, 0, True)
    with pytest.raises(ValueError):
        rlecodec.encode(cases[0], threads=0)


@pytest.mark.parametrize("h,w", [(300, 401), (2000, 64), (2100, 2048)])
def test_sources_gathered_into_one_mask_write_only_their_runs(h, w):
    """Column runs written into a row-major mask that already holds other sources' pixels
    (a label map, a union): by the run-space sweep (small masks, or few runs for the rows:
    a dot in a tall mask) or row by row (above 4 MiB); either way only their runs, never
    the zeros around them, even where a source's rows are pixel-wide stripes (which a new
    output copies out whole)."""
    rng = np.random.default_rng(h)
    block = np.zeros((h, w), np.uint8)
    block[h // 4: 3 * h // 4, w // 4: 3 * w // 4] = 1
    stripes = np.zeros((h, w), np.uint8)
    stripes[h // 3:, ::2] = 1
    dot = np.zeros((h, w), np.uint8)
    dot[h - 5: h - 2, 3:6] = 1
    sources = {1: block, 2: stripes, 3: dot, 4: blobs(h, w, 5, rng)}
    texts = {k: _encode_large(m) for k, m in sources.items()}
    want = np.zeros((h, w), np.uint8)
    for k, m in sources.items():
        want[m != 0] = k
    got = rlecodec.decode_classes(texts, (h, w), layout="labels", last_wins=True)
    np.testing.assert_array_equal(got, want)
    union = rlecodec.decode_instances(list(texts.values()), (h, w))
    np.testing.assert_array_equal(union, want != 0)


@pytest.mark.parametrize("bands", [2, 3, 7])
def test_large_outputs_written_in_bands_match_the_reference(monkeypatch, bands):
    """New outputs above rlecodec._decode.LAZY_ZEROS_BYTES are written in bands of memory
    lines, one per thread, after the whole input is checked: every part of every run lands
    in its band, in both orders and for every dtype; a malformed input raises as always
    (the size limit is lowered here so that small outputs take the path)."""
    monkeypatch.setattr(rlecodec._decode, "LAZY_ZEROS_BYTES", 0)
    rng = np.random.default_rng(bands)
    h, w = 41, 23
    cases = [np.ones((h, w), np.uint8), blobs(h, w, 4, rng), np.zeros((h, w), np.uint8),
             *masks_for(h, w, rng)]
    for m in cases:
        for order in "FC":
            text = ref_encode(m, order)
            got = rlecodec.decode(text, (h, w), order=order, threads=bands)
            np.testing.assert_array_equal(got, m)
            got = rlecodec.decode(text, (h, w), order=order, dtype=np.int32, value=-5,
                                  threads=bands)
            np.testing.assert_array_equal(got, m.astype(np.int32) * -5)
            rel = ref_encode(m, order, 0, True)
            got = rlecodec.decode(rel, (h, w), order=order, base=0, relative=True,
                                  threads=bands)
            np.testing.assert_array_equal(got, m)
    with pytest.raises(rlecodec.RLEError) as info:
        rlecodec.decode("1 5 3 2", (h, w), threads=bands)
    assert info.value.reason == "overlap"
    np.testing.assert_array_equal(
        rlecodec.decode("1 5 3 2", (h, w), strict=False, threads=bands).ravel(order="F")[:6],
        [1, 1, 1, 1, 1, 0])
    with pytest.raises(ValueError):
        rlecodec.decode("1 1", (h, w), threads=0)



def _alternating(lengths, total, on):
    """``total`` pixels as pieces of the given lengths, on and off in turn from ``on``."""
    flat, at = np.zeros(total, np.uint8), 0
    for n in lengths:
        flat[at:at + n] = on
        at += n
        on = not on
        if at >= total:
            break
    return flat


@pytest.mark.parametrize("order", "FC")
def test_the_line_writer_around_its_16_byte_stores(order):
    """Decoding along memory into bytes stores 16 bytes per short gap or run, overwritten
    by the next piece: runs and gaps of every length from 1 to 40 (across the 16-byte
    edge), ending anywhere near the end of the array, over any old content."""
    rng = np.random.default_rng(16)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        lengths = rng.integers(1, 41, 2 * h * w)
        flat = _alternating(lengths, h * w, bool(rng.integers(0, 2)))
        mask = flat.reshape((h, w), order=order)
        text = ref_encode(mask, order)
        out = np.full((h, w), 200, np.uint8) if order == "C" else np.full((w, h), 200, np.uint8).T
        np.testing.assert_array_equal(rlecodec.decode(text, order=order, out=out, value=7),
                                      mask * 7)
        assert rlecodec.decode(text, (h, w), order=order).tobytes(order=order) == \
            flat.tobytes()


def test_the_tile_writer_around_its_stores_and_tile_edges():
    """Short column-major runs into row-major bytes go through tiles of 64 columns written
    as lines: mostly short runs and gaps (so the tiles are taken) with some of 14 to 40
    pixels, across tile edges and ending anywhere near a tile's end, over any old content."""
    rng = np.random.default_rng(64)
    tiles = 0
    for _ in range(300):
        h, w = int(rng.integers(1, 40)), int(rng.integers(1, 200))
        short = rng.integers(1, 7, 2 * h * w)
        lengths = np.where(rng.random(2 * h * w) < 0.15, rng.integers(14, 41, 2 * h * w), short)
        flat = _alternating(lengths, h * w, bool(rng.integers(0, 2)))
        mask = flat.reshape((h, w), order="F")
        text = ref_encode(mask)
        runs = np.asarray(text.split(), np.int64).reshape(-1, 2)
        tiles += bool(len(runs)) and runs[:, 1].sum() < 8 * len(runs)
        out = np.full((h, w), 200, np.uint8)
        np.testing.assert_array_equal(rlecodec.decode(text, out=out, value=7), mask * 7)
        np.testing.assert_array_equal(rlecodec.decode(text, (h, w)), mask)
    assert tiles > 200  # (nearly all took the tile path)


def test_coco_decode_into_fortran_memory():
    from rlecodec import coco
    rng = np.random.default_rng(17)
    for _ in range(200):
        h, w = (int(v) for v in rng.integers(1, 60, 2))
        masks = (rng.random((3, h, w)) < rng.random()).astype(np.uint8)
        objs = coco.encode(masks)
        one = coco.decode(objs[0], memory="F")
        assert one.flags.f_contiguous and one.dtype == np.uint8
        np.testing.assert_array_equal(one, masks[0])
        many = coco.decode(objs, memory="F", dtype=bool)
        assert all(m.flags.f_contiguous for m in many) and many.dtype == bool
        np.testing.assert_array_equal(many, masks.astype(bool))
        win = coco.decode(objs[1], memory="F", window=np.s_[1:, :-1])
        assert win.flags.f_contiguous
        np.testing.assert_array_equal(win, masks[1][1:, :-1])
    with pytest.raises(ValueError, match="memory must be"):
        coco.decode(objs[0], memory="K")


def _random_counts(rng, total):
    """COCO counts adding up to ``total``: mostly short (one character after the delta),
    with zeros, long ones and jumps that take two or more characters."""
    counts, left = [], total
    noisy = rng.random() < 0.5
    while left > 0:
        pick = rng.random()
        if noisy and pick < 0.9:
            c = int(rng.integers(0, 9))
        elif pick < 0.6:
            c = int(rng.integers(0, 20))
        else:
            c = int(rng.choice([16, 17, 31, 32, 33, 511, 512, 513, 5000]))
        c = min(c, left)
        counts.append(c)
        left -= c
    return counts


def _laid_out(counts, h, w):
    """The definition: counts laid out column-major, background first, alternating."""
    return np.repeat(np.arange(len(counts)) % 2, counts).astype(np.uint8).reshape(
        (h, w), order="F")


def test_coco_strings_straight_into_pixels_match_their_definition():
    """A compressed string into memory in COCO's pixel order (a new F array, a given one,
    batches, threads) is written without runs between: every path against the counts
    laid out, for one-byte dtypes and values, widths that are not multiples of 8 or 16."""
    from rlecodec import coco
    rng = np.random.default_rng(23)
    for trial in range(300):
        h, w = (int(v) for v in rng.integers(1, 70, 2))
        counts = [_random_counts(rng, h * w) for _ in range(3)]
        objs = [{"size": [h, w], "counts": bytes(reference_coco_string(c))} for c in counts]
        if trial % 3 == 0:
            objs[0]["counts"] = objs[0]["counts"].decode()  # (str counts too)
        want = np.stack([_laid_out(c, h, w) for c in counts])
        for text, mask in zip(objs, want, strict=True):  # (the path on its own takes them)
            raw = text["counts"] if isinstance(text["counts"], bytes) else text["counts"].encode()
            for zeroed in (False, True):  # (long zero runs skipped on a line of zeros)
                assert _codec.coco_line(raw, h * w, 3, zeroed) == (mask.T * 3).tobytes()
        dtype, value = [(np.uint8, 1), (bool, True), (np.int8, -1), (np.uint8, 255)][trial % 4]
        expect = want.astype(dtype) * np.array(value, dtype)
        got = coco.decode(objs[0], memory="F", dtype=dtype, value=value)
        assert got.flags.f_contiguous
        np.testing.assert_array_equal(got, expect[0])
        out = np.full((w, h), 7, dtype).T
        assert coco.decode(objs[1], out=out, value=value) is out
        np.testing.assert_array_equal(out, expect[1])
        for threads in (1, 2):
            many = coco.decode(objs, memory="F", dtype=dtype, value=value, threads=threads)
            np.testing.assert_array_equal(many, expect)
        stack = np.full((3, w, h), 7, dtype).transpose(0, 2, 1)
        coco.decode(objs, out=stack, value=value)
        np.testing.assert_array_equal(stack, expect)
        # Row-major memory: strings of short runs go into a line, then transposed.
        np.testing.assert_array_equal(coco.decode(objs[2], dtype=dtype, value=value),
                                      expect[2])
        wide = np.full((h, w + 3), 7, dtype)
        coco.decode(objs[2], out=wide[:, 1:w + 1], value=value)
        np.testing.assert_array_equal(wide[:, 1:w + 1], expect[2])
        assert (wide[:, 0] == wide.dtype.type(7)).all()
        assert (wide[:, w + 1:] == wide.dtype.type(7)).all()
        for threads in (1, 2):
            np.testing.assert_array_equal(
                coco.decode(objs, dtype=dtype, value=value, threads=threads), expect)
        stack = np.full((3, h, w), 7, dtype)
        coco.decode(objs, out=stack, value=value)
        np.testing.assert_array_equal(stack, expect)


def _corrupted(rng, text, alphabet, cuts, inserted):
    """``text`` with one or two random edits: a character replaced (below ``cuts[0]``), the
    rest cut off (below ``cuts[1]``) or one of the first ``inserted`` of ``alphabet``
    inserted."""
    text = bytearray(text)
    for _ in range(int(rng.integers(1, 3))):
        where = int(rng.integers(0, len(text) + 1))
        kind = rng.random()
        if kind < cuts[0] and where < len(text):
            text[where] = alphabet[int(rng.integers(0, len(alphabet)))]
        elif kind < cuts[1]:
            del text[where:]
        else:
            text[where:where] = bytes([alphabet[int(rng.integers(0, inserted))]])
    return bytes(text)


def test_coco_strings_that_are_wrong_fail_alike_on_the_straight_path():
    """Corrupted strings: decoding straight into F memory, or through a line into C memory,
    gives the very error of the exact reader (which int32 masks take), and a given array is
    left untouched."""
    from rlecodec import coco
    rng = np.random.default_rng(29)
    alphabet = bytes(range(48, 123)) + b"/ \x00\xff"  # every count character and some not
    outcomes = {"error": 0, "mask": 0}
    for _ in range(2000):
        h, w = (int(v) for v in rng.integers(1, 30, 2))
        text = _corrupted(rng, reference_coco_string(_random_counts(rng, h * w)), alphabet,
                          (0.5, 0.75), 40)
        obj = {"size": [h, w], "counts": text}
        try:
            want = coco.decode(obj, dtype=np.int32).astype(np.uint8)
        except rlecodec.RLEError as err:
            outcomes["error"] += 1
            assert _codec.coco_line(text, h * w, 1, False) is None
            for item in (obj, [obj, obj]):
                for memory in "FC":
                    with pytest.raises(rlecodec.RLEError) as got:
                        coco.decode(item, memory=memory)
                    assert (str(got.value).removeprefix("item 0: "), got.value.token,
                            got.value.reason) == (str(err), err.token, err.reason)
            for out in (np.full((w, h), 7, np.uint8).T, np.full((h, w), 7, np.uint8)):
                with pytest.raises(rlecodec.RLEError):
                    coco.decode(obj, out=out)
                assert (out == 7).all()
        else:
            outcomes["mask"] += 1
            np.testing.assert_array_equal(coco.decode(obj, memory="F"), want)
            np.testing.assert_array_equal(coco.decode(obj), want)
            assert _codec.coco_line(text, h * w, 1, True) == want.T.tobytes()
    assert min(outcomes.values()) > 100, outcomes  # (both kinds were tried)


def test_a_large_coco_mask_into_new_f_memory_is_written_on_zeros():
    """Past the size where a new result is calloc'd zeros, only the straight path's value
    runs (and the first bytes of each long zero run) are written, or one band of the mask
    per thread: the mask is still exact, short runs beside long ones included."""
    from rlecodec import coco
    rng = np.random.default_rng(31)
    h, w = 3001, 3001  # 9 MB a mask: 4 of them pass the lazy-zeros size
    counts = []
    for _ in range(4):
        c = _random_counts(rng, 20_000)
        counts.append(c + [h * w - 40_000] + _random_counts(rng, 20_000))
    objs = [{"size": [h, w], "counts": bytes(reference_coco_string(c))} for c in counts]
    got = coco.decode(objs, memory="F")
    for mask, c in zip(got, counts, strict=True):
        np.testing.assert_array_equal(mask, _laid_out(c, h, w))
    big = _random_counts(rng, 30_000) + [6001 * 6001 - 60_000] + _random_counts(rng, 30_000)
    obj = {"size": [6001, 6001], "counts": reference_coco_string(big)}
    want = _laid_out(big, 6001, 6001)
    for threads in (1, 2):  # (straight into the calloc'd line, or in bands of columns)
        for memory in "FC":
            one = coco.decode(obj, memory=memory, threads=threads)
            assert one.flags.f_contiguous if memory == "F" else one.flags.c_contiguous
            np.testing.assert_array_equal(one, want)
            del one


def _mixed_counts(rng, total):
    """COCO counts adding up to ``total`` in stretches of one kind each, so that the string
    reader's steps start, stop and start again at either parity: deltas of one character
    (noise), of one or two, zeros, and counts of three characters or more."""
    counts, left = [], total
    while left > 0:
        kind = int(rng.integers(0, 4))
        for _ in range(int(rng.integers(1, 40))):
            if kind == 0:
                c = int(rng.integers(1, 9))
            elif kind == 1:
                c = int(rng.integers(1, 600))
            elif kind == 2:
                c = int(rng.choice([0, 1, 2]))
            else:
                c = int(rng.integers(1, 40_000))
            c = min(c, left)
            counts.append(c)
            left -= c
            if left == 0:
                break
    return counts


def _coco_reason(err):
    """The reason an RLEError gives for a kernel's error on a compressed string."""
    from rlecodec.coco import _STRING_ERRORS
    return err.reason if err.reason == "size_mismatch" else _STRING_ERRORS.get(
        err.reason, (err.reason,))[0]


def test_compressed_strings_read_into_runs_match_the_count_by_count_reader():
    """The string reader's steps (four or eight short counts at a time) against the
    definition: valid strings give the counts laid out, their areas and their canonical
    strings after a merge with themselves; corrupted ones the
    very error (count and reason) of reading counts one by one and then checking them."""
    from rlecodec import coco
    rng = np.random.default_rng(31)
    alphabet = bytes(range(48, 123)) + b"/ \x00\xff"
    outcomes = {"error": 0, "mask": 0}
    for trial in range(600):
        h, w = int(rng.integers(1, 200)), int(rng.integers(1, 300))
        counts = _mixed_counts(rng, h * w)
        text = bytes(reference_coco_string(counts))
        if trial % 2:
            text = _corrupted(rng, text, alphabet, (0.6, 0.7), 64)
        obj = {"size": [h, w], "counts": text}
        try:  # the reference: counts read one by one, then checked and laid out
            read = _codec.coco_counts_from_string(text)
            _codec.coco_runs_from_counts(read, h * w)
        except _codec.KernelError as err:
            outcomes["error"] += 1
            for call, options in ((coco.decode, {"dtype": np.int32}), (coco.area, {})):
                with pytest.raises(rlecodec.RLEError) as got:
                    call(obj, **options)
                assert (got.value.token, got.value.reason) == (err.token, _coco_reason(err))
            continue
        outcomes["mask"] += 1
        want = _laid_out(read.tolist(), h, w)
        np.testing.assert_array_equal(coco.decode(obj, dtype=np.int32), want)
        assert coco.area(obj) == int(want.sum())
        # (Runs joined where a count of 0 lies between: a merge writes them back as one.)
        assert coco.merge([obj, obj])["counts"] == coco.encode(want)["counts"]
    assert min(outcomes.values()) > 100, outcomes
