"""The C indexer of CSV files (src/csv.pxi) against Python's csv module: random records with
commas, quotes, doubled quotes, newlines inside quotes and \\r\\n line ends read back the
same, and arbitrary bytes never crash it (a result or a one-line error)."""

import csv
import io

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from rlecodec import _codec
from rlecodec._csvfile import RowIndex, TableError

# (No lone \r in a field: Python's reader takes one as a line end, as old Mac files had
# them; the indexer keeps it as data and ends lines at \n or \r\n only.)
FIELD = st.text(alphabet=st.sampled_from(list('ab1 ,"\n\t-é')), max_size=12)


def index(data: bytes, ncols: int, wanted: list[int]):
    slot = np.full(ncols, -1, np.int64)
    for k, col in enumerate(wanted):
        slot[col] = k
    header_end = data.index(b"\n") + 1
    return _codec.csv_index(np.frombuffer(data, np.uint8), header_end, 2, ncols, slot,
                            len(wanted))


@given(st.lists(st.lists(FIELD, min_size=3, max_size=3), max_size=20),
       st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]), st.sampled_from(["\n", "\r\n"]))
def test_records_read_back_as_the_csv_module_reads_them(records, quoting, newline):
    buf = io.StringIO()
    csv.writer(buf, quoting=quoting, lineterminator=newline).writerows([["a", "b", "c"],
                                                                        *records])
    data = buf.getvalue().encode("utf-8")
    expected = [r for r in csv.reader(io.StringIO(buf.getvalue(), newline=""))][1:]
    expected = [r for r in expected if any(cell.strip(" \t\r\n") for cell in r)]
    bounds, escaped, lines = index(data, 3, [0, 2])
    assert len(bounds) == len(expected)
    for r, record in enumerate(expected):
        for k, col in enumerate((0, 2)):
            start, end = bounds[r, k]
            raw = data[start:end]
            if escaped[r, k]:
                raw = raw.replace(b'""', b'"')
            assert raw.decode("utf-8") == record[col]
    assert list(lines) == sorted(lines)


@given(st.binary(max_size=200), st.integers(1, 4))
def test_arbitrary_bytes_never_crash_the_indexer(body, ncols):
    data = b"h\n" + body
    try:
        bounds, escaped, lines = index(data, ncols, list(range(ncols)))
    except ValueError as err:
        assert err.args[0] in ("fields", "after_quote", "open_quote")
        return
    assert ((0 <= bounds) & (bounds <= len(data))).all()
    assert (bounds[..., 0] <= bounds[..., 1]).all()


def test_a_row_index_names_the_line_of_a_bad_record(tmp_path):
    data = np.frombuffer(b'a,b\n1,2\n"3,4\n', np.uint8)
    try:
        RowIndex(data, "x.csv", ["a", "b"], 4, ["a", "b"])
    except TableError as err:
        assert str(err) == "x.csv:3: a quoted field that never ends"
    else:
        raise AssertionError("an open quote was accepted")
