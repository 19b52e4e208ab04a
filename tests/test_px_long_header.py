"""A valid PX file whose header passes 1 MiB is read (issue 13, finding 6).

PX splits long strings into quoted pieces, one per line; a NOTE of 1.4 MB is legal. The
reader read the header in 1 MiB pieces and took a string cut by the end of a piece for "a
string is not closed on its line". The cells must be those of the same file without the
NOTE.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest
from conftest import BUNDLED_RAW

from pipeline.readers.common import LoadContext, RawFile
from pipeline.readers.px import _HEADER_READ, load_px, read_px_header

PX = BUNDLED_RAW / "statfin" / "statfin_tyonv_pxt_12r5.px"
PIECE = b'"Huomautus: pitk\xe4 selite, joka jatkuu rivilt\xe4 toiselle ja toiselle. "'


def _with_note(dst, lines: int, cut_inside_a_string: bool = True) -> bytes:
    """The bundled 12r5 file with a multi-line NOTE (``lines`` quoted pieces) before its
    CONTENTS keyword; padded so that the first read ends inside a quoted piece."""
    src = PX.read_bytes()
    at = src.index(b"CONTENTS=")
    for pad in range(len(PIECE) + 2):
        note = (b'NOTE="' + b"x" * pad + b'"\r\n' + b"\r\n".join([PIECE] * lines) + b";\r\n")
        data = src[:at] + note + src[at:]
        if not cut_inside_a_string:
            break
        cut = data[:_HEADER_READ]
        line = cut[cut.rindex(b"\n") + 1:]
        if line.count(b'"') % 2 == 1:  # the read ends between a piece's quotes
            break
    dst.write_bytes(data)
    return data


def _cells(path, tmp_path):
    con = duckdb.connect()
    con.execute("begin transaction")
    summary = load_px(con, RawFile.of(path, path.parent), LoadContext("t", datetime(2025, 1, 1)))
    con.execute("commit")
    rows = con.execute("select area_code, month, content_code, value, symbol, place "
                       "from raw.statfin_12r5 order by cell_index").fetchall()
    return summary, rows


@pytest.mark.parametrize("lines", [20_000, 80_000])  # a 1.4 MB and a 5.7 MB NOTE
def test_a_header_past_one_mib_with_a_long_note_is_read(tmp_path, lines):
    path = tmp_path / "12r5_note.px"
    data = _with_note(path, lines)
    assert len(data) > _HEADER_READ and data.index(b"DATA=") > _HEADER_READ
    header = read_px_header(path)
    assert header.table_id == "12r5" and header.cells == 5040
    note = next(k for k in header.keywords if k.name == "NOTE")
    assert data.index(b"CONTENTS=") - data.index(b"NOTE=") > 1_400_000 * lines // 20_000
    assert len(note.items) == 1 and note.items[0].count("Huomautus: pitkä selite") == lines
    summary, rows = _cells(path, tmp_path)
    _orig_summary, orig = _cells(PX, tmp_path)
    assert summary.rows == 5040 and rows == orig


def test_a_long_note_before_every_other_keyword_is_recognised_and_loaded(tmp_path):
    """The order of PX keywords is only recommended: a file may start with a NOTE of
    megabytes, so that TABLEID, MATRIX and STUB come after the head the raw layer first
    reads to recognise a file. It was refused as "has a .px name but no PC-Axis header"."""
    from pipeline.raw_layer import scan

    raw = tmp_path / "raw"
    (raw / "statfin").mkdir(parents=True)
    path = raw / "statfin" / "12r5_note_first.px"
    note = b"NOTE=" + b"\r\n".join([PIECE] * 20_000) + b";\r\n"
    path.write_bytes(note + PX.read_bytes())
    assert PX.read_bytes().index(b"TABLEID=") + len(note) > 1_400_000
    found = scan(raw)
    assert found.not_loaded == [] and found.refused == {}
    assert [(p.name, str(detail)) for p, detail in found.by_family["statfin"]] == \
        [("12r5_note_first.px", "12r5")]
    summary, rows = _cells(path, tmp_path)
    _orig_summary, orig = _cells(PX, tmp_path)
    assert summary.rows == 5040 and rows == orig
