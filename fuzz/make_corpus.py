"""Write the seed corpus: the test suite's tricky strings and the real-world samples.

    python fuzz/make_corpus.py fuzz/corpus [../shared/realworld/samples.jsonl]
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import sys

SEEDS = [
    "", "-1", "-", " ", "1 3 10 2", "1 3 5", "1 3 x 2", "1 3 1.5 2", "1 3 -5 2", "0 3",
    "15 3", "1 17", "5 3 1 2", "1 5 3 2", "1 0", "99999999999999999999999999 1",
    "9223372036854775807 1", "1 9223372036854775808", "2 3 4 1", "0001 003", "1\t3\n10 2",
    "1 2 3 2", "٣ 1", "1 3 \u00a0 2", "12345678 1", "1 12345678", "1 1 " * 40,
    # COCO compressed counts (the harness tries every input as those too)
    "4", "04", "022", "52;0", "0P", "04N", "o" * 14, "0\x7f", "<", "1O1",
    # batches, split at '|' by the harness: the bad item first, in the middle, last
    "1 3|2 2|5 1", "x 1|1 1", "1 1|1 1 3|2 2", "1 2||16 1", "|", "1 1|-5 1",
]
# Bytes that are not UTF-8: lone surrogates once the harness reads them with
# surrogateescape (flags 16 | 32), latin-1 letters otherwise.
BYTE_SEEDS = [b"\xff", b"1 3 \xed\xa0\x80 2", b"1 1|\xe9 1|2 1", b"0\xe93", b"1 \x80"]


def seed(shape: tuple[int, int], flags: int, text: str) -> bytes:
    return bytes([shape[0], shape[1], flags]) + text.encode("utf-8")


def main(folder: str, samples: str | None = None) -> None:
    out = pathlib.Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    seeds = [seed((4, 4), flags, text) for text in SEEDS for flags in (0, 1, 6, 8, 16)]
    seeds += [bytes([4, 4, flags]) + raw for raw in BYTE_SEEDS for flags in (0, 16, 48, 54)]
    if samples and pathlib.Path(samples).exists():
        for line in pathlib.Path(samples).read_text().splitlines():
            rec = json.loads(line)
            if rec["height"] > 255 or rec["width"] > 255:
                continue  # the harness takes one byte per dimension
            flags = (rec["order"] == "C") | (rec["index_base"] << 1) | (rec["relative"] << 2)
            seeds.append(seed((rec["height"], rec["width"]), flags, rec["encoded"]))
    for data in seeds:
        (out / hashlib.sha1(data).hexdigest()).write_bytes(data)
    print(f"{len(seeds)} seeds in {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
