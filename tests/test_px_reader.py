"""StatFin PX: the reader (pipeline.readers.px) and the sample writer (pipeline.sample.px).

The reader is tried on the shared 12r5 example, on small hand-written fixtures for the
layouts real StatFin files use (2 STUB + 2 HEADING variables, iso-8859-1, language variants,
the June 2026 variable names, wrapped lists, unknown keywords), on every error it must
report, and on files written by the sample writer, which pyaxis must read identically.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from pipeline.readers import px as px_module
from pipeline.readers.common import LoadContext, RawFile, RawInputError
from pipeline.readers.px import PxLoadSummary, load_px, short_table_id, sniff_px
from pipeline.sample.px import write_px

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "px"
# shared/ beside the repository, never a fixed machine path.
SHARED_EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "formats" / "examples"
CTX = LoadContext(load_id="test-load", loaded_at=datetime(2026, 1, 2, 3, 4, 5))


# --- helpers -----------------------------------------------------------------------------------

@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


def load(con, path: Path, ctx: LoadContext = CTX) -> PxLoadSummary:
    """Load like the pipeline does: one transaction around the reader."""
    con.execute("BEGIN")
    try:
        summary = load_px(con, RawFile.of(path, path.parent), ctx)
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return summary


def cell(con, table: str, **codes) -> tuple:
    """(value, symbol) of the one cell with these codes."""
    where = " AND ".join(f"{k} = ?" for k in codes)
    rows = con.execute(f"SELECT value, symbol FROM {table} WHERE {where}",
                       list(codes.values())).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def columns(con, table: str) -> list[str]:
    schema, name = table.split(".")
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND "
        "table_name = ? ORDER BY ordinal_position", [schema, name]).fetchall()]


def variant(tmp_path: Path, name: str, edit, source: str = "two_stub_two_heading.px") -> Path:
    """A copy of a fixture with its text edited (for the error cases)."""
    text = (FIXTURES / source).read_text(encoding="utf-8")
    edited = edit(text)
    assert edited != text, "the edit changed nothing"
    path = tmp_path / name
    path.write_text(edited, encoding="utf-8")
    return path


# --- the shared example ------------------------------------------------------------------------

def test_shared_example_loads_with_codes_values_and_symbols(con):
    s = load(con, FIXTURES / "12r5_example.px")
    assert (s.table_id, s.target_table, s.rows) == ("12r5", "raw.statfin_12r5", 54)
    assert s.matrix == "001_12r5_2024m12"
    assert s.symbols == {"...": 18}
    assert s.periods == ("2024M10", "2024M12")
    assert s.areas == 3
    t = "raw.statfin_12r5"
    assert cell(con, t, area_code="KU564", month="2024M11",
                content_code="TYOTTOMATLOPUSSA") == (8567.0, None)
    assert cell(con, t, area_code="KU564", month="2024M10", content_code="TYOTOSUUS") == (8.4, None)
    assert cell(con, t, area_code="KU244", month="2024M12",
                content_code="AVPAIKATLOPUSSA") == (44.0, None)
    # Whole-country (SSS) cells are confidential: a symbol beside a NULL value, never 0.
    assert con.execute(f"SELECT count(*), count(value), min(symbol), max(symbol) FROM {t} "
                       "WHERE area_code = 'SSS'").fetchone() == (18, 0, "...", "...")
    assert columns(con, t) == [
        "area_code", "month", "content_code", "value", "symbol", "cell_index", "table_id",
        "matrix", "load_id", "loaded_at", "file", "file_sha256", "place"]
    row = con.execute(f"SELECT cell_index, place, table_id, matrix, load_id, loaded_at, file "
                      f"FROM {t} WHERE area_code = 'KU564' AND month = '2024M11' "
                      "AND content_code = 'TYOTTOMATLOPUSSA'").fetchone()
    assert row == (25, "PX cell 25", "statfin_tyonv_pxt_12r5", "001_12r5_2024m12", "test-load",
                   datetime(2026, 1, 2, 3, 4, 5), "12r5_example.px")


def test_shared_example_files_and_values_tables(con):
    load(con, FIXTURES / "12r5_example.px")
    f = con.execute("SELECT table_id, matrix, codepage, language, stub, heading, cells, "
                    "symbols, first_month, last_month, last_updated, title "
                    "FROM raw.statfin_files").fetchall()
    assert len(f) == 1
    assert f[0][:11] == ("statfin_tyonv_pxt_12r5", "001_12r5_2024m12", "utf-8", "fi",
                         ["Alue", "Kuukausi"], ["Tiedot"], 54, 18, "2024M10", "2024M12",
                         "20250120 08:00")
    assert f[0][11].startswith("Työttömät työnhakijat eri ryhmissä")
    v = con.execute("SELECT variable, column_name, position, code, label FROM "
                    "raw.statfin_values ORDER BY variable, position").fetchall()
    assert ("Alue", "area_code", 1, "KU564", "Oulu") in v
    assert ("Tiedot", "content_code", 3, "TYOTOSUUS",
            "Työttömien työnhakijoiden %-osuus työvoimasta (%)") in v
    assert len(v) == 3 + 3 + 6


@pytest.mark.skipif(not (SHARED_EXAMPLES / "12r5_example.px").exists(),
                    reason="shared formats folder not mounted")
def test_fixture_copy_matches_the_shared_example():
    assert (FIXTURES / "12r5_example.px").read_bytes() == \
        (SHARED_EXAMPLES / "12r5_example.px").read_bytes()


# --- layouts -----------------------------------------------------------------------------------

def test_two_stub_and_two_heading_variables(con):
    s = load(con, FIXTURES / "two_stub_two_heading.px")
    t = "raw.statfin_12u4"
    assert (s.table_id, s.target_table, s.rows, s.areas) == ("12u4", t, 24, 2)
    assert s.symbols == {"-": 1, ".": 1, "..": 1, "...": 2}
    # Row-major over STUB (Alue, Sukupuoli), then HEADING (Kuukausi, Tiedot).
    assert cell(con, t, area_code="KU564", sex="SSS", month="2024M11",
                content_code="TYOTTOMATLOPUSSA") == (8567.0, None)
    assert cell(con, t, area_code="SSS", sex="2", month="2024M10",
                content_code="AKTASTE") == (29.3, None)
    assert cell(con, t, area_code="KU564", sex="2", month="2024M11",
                content_code="TYOTTOMATLOPUSSA") == (-3950.0, None)
    assert cell(con, t, area_code="KU564", sex="2", month="2024M11",
                content_code="AKTASTE") == (31.0, None)
    # Quoted and unquoted symbols alike.
    assert cell(con, t, area_code="KU564", sex="1", month="2024M10",
                content_code="AKTASTE") == (None, "...")
    assert cell(con, t, area_code="KU564", sex="1", month="2024M11",
                content_code="AKTASTE") == (None, ".")
    assert cell(con, t, area_code="KU564", sex="1", month="2024M11",
                content_code="TYOTTOMATLOPUSSA") == (None, "-")
    assert cell(con, t, area_code="KU564", sex="2", month="2024M10",
                content_code="AKTASTE") == (None, "..")
    assert columns(con, t)[:5] == ["area_code", "sex", "month", "content_code", "value"]


def test_language_variants_are_ignored(con):
    """[sv]/[en] keywords carry other labels and codes; only the default language counts."""
    load(con, FIXTURES / "two_stub_two_heading.px")
    codes = {r[0] for r in con.execute("SELECT DISTINCT area_code FROM raw.statfin_12u4")
             .fetchall()}
    assert codes == {"SSS", "KU564"}
    labels = dict(con.execute("SELECT code, label FROM raw.statfin_values "
                              "WHERE variable = 'Alue'").fetchall())
    assert labels == {"SSS": "KOKO MAA", "KU564": "Oulu"}
    title, last_updated = con.execute("SELECT title, last_updated FROM raw.statfin_files") \
        .fetchone()
    # A string split over two lines is one string; the latest LAST-UPDATED wins.
    assert title == ("Aktivointiaste ja palveluissa olevat laskentapäivänä muuttujina Alue, "
                     "Sukupuoli, Kuukausi ja Tiedot")
    assert last_updated == "20241216 08:00"


def test_wrapped_lists_unknown_keywords_and_data_text_in_a_note(con):
    """STUB, VALUES and CODES wrap over lines; X-UNKNOWN-KEYWORD, SURPRISE, MAP … are
    ignored; a NOTE holding ';' and 'DATA=' inside quotes does not end the header."""
    s = load(con, FIXTURES / "two_stub_two_heading.px")
    assert s.rows == 24
    stub, heading = con.execute("SELECT stub, heading FROM raw.statfin_files").fetchone()
    assert (stub, heading) == (["Alue", "Sukupuoli"], ["Kuukausi", "Tiedot"])
    contents = [r[0] for r in con.execute(
        "SELECT code FROM raw.statfin_values WHERE variable = 'Tiedot' ORDER BY position")
        .fetchall()]
    assert contents == ["AKTASTE", "TYOTTOMATLOPUSSA"]


def test_iso_8859_1_file_with_umlauts(con):
    s = load(con, FIXTURES / "latin1_ikaryhmat.px")
    t = "raw.statfin_12u4"
    assert s.rows == 8 and s.symbols == {".": 1, "...": 2}
    assert columns(con, t)[:3] == ["area_code", "age_group", "month"]
    assert cell(con, t, area_code="KU859", age_group="15-19", month="2019M01") == (12.0, None)
    assert cell(con, t, area_code="KU072", age_group="SSS", month="2019M02") == (41.0, None)
    assert cell(con, t, area_code="KU072", age_group="15-19", month="2019M02") == (None, ".")
    labels = dict(con.execute("SELECT code, label FROM raw.statfin_values").fetchall())
    assert labels["KU859"] == "Tyrnävä" and labels["SSS"] == "Ikäryhmät yhteensä"
    assert con.execute("SELECT codepage, title FROM raw.statfin_files").fetchone() == (
        "iso-8859-1", "Työttömät ikäryhmittäin, vanha iso-8859-1 -tiedosto")


def test_june_2026_names_timeperiod_m_and_contentscode(con):
    """timeperiod_m → month, contentscode → content_code; short TABLEID; a variable
    without CODES uses its labels as codes."""
    s = load(con, FIXTURES / "new_names.px")
    t = "raw.statfin_12r5"
    assert (s.table_id, s.target_table, s.periods) == ("12r5", t, ("2026M04", "2026M05"))
    assert columns(con, t)[:3] == ["area_code", "month", "content_code"]
    assert cell(con, t, area_code="KU564", month="2026M05",
                content_code="AVPAIKATLOPUSSA") == (1310.0, None)
    assert cell(con, t, area_code="KU244", month="2026M04",
                content_code="TYOTTOMATLOPUSSA") == (None, "-")
    assert con.execute(f"SELECT DISTINCT table_id FROM {t}").fetchall() == [("12r5",)]


def test_files_of_one_table_share_it_and_a_wider_file_adds_columns(con):
    """12r5 under both variable naming generations lands in one table; a 12u4 file with
    more variables than the first one adds its columns (ALTER TABLE), in one transaction."""
    con.execute("BEGIN")
    load_px(con, RawFile.of(FIXTURES / "12r5_example.px"), CTX)
    load_px(con, RawFile.of(FIXTURES / "new_names.px"), CTX)
    load_px(con, RawFile.of(FIXTURES / "latin1_ikaryhmat.px"), CTX)
    load_px(con, RawFile.of(FIXTURES / "two_stub_two_heading.px"), CTX)
    con.execute("COMMIT")
    assert con.execute("SELECT count(*) FROM raw.statfin_12r5").fetchone() == (54 + 8,)
    assert con.execute("SELECT file, count(*), count(sex), count(age_group) FROM "
                       "raw.statfin_12u4 GROUP BY file ORDER BY file").fetchall() == [
        ("latin1_ikaryhmat.px", 8, 0, 8), ("two_stub_two_heading.px", 24, 24, 0)]
    assert con.execute("SELECT count(*) FROM raw.statfin_files").fetchone() == (4,)


def test_short_table_id():
    assert short_table_id("statfin_tyonv_pxt_12r5") == "12r5"
    assert short_table_id("12u4") == "12u4"
    assert short_table_id(None, "001_12r5_2024m12") == "12r5"


# --- sniffing ----------------------------------------------------------------------------------

def test_sniff_px_reads_the_header_only():
    info = sniff_px(FIXTURES / "12r5_example.px")
    assert info["table_id"] == "12r5"
    assert info["tableid"] == "statfin_tyonv_pxt_12r5"
    assert info["matrix"] == "001_12r5_2024m12"
    assert (info["stub"], info["heading"]) == (["Alue", "Kuukausi"], ["Tiedot"])
    latin = sniff_px(FIXTURES / "latin1_ikaryhmat.px")
    assert latin["table_id"] == "12u4" and latin["stub"] == ["Alue", "Ikäryhmät"]


def test_sniff_px_refuses_other_files(tmp_path):
    csv = tmp_path / "kela.csv"
    csv.write_text("aikatyyppi,kuukausi_nro,vuosikuukausi\nkk,1,202101\n", encoding="utf-8")
    xlsx = tmp_path / "report.xlsx"
    xlsx.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    empty = tmp_path / "empty.px"
    empty.write_bytes(b"")
    for p in (csv, xlsx, empty, tmp_path / "missing.px"):
        assert sniff_px(p) is None, p


# --- errors ------------------------------------------------------------------------------------

def _replace(old: str, new: str, count: int = 1):
    return lambda text: text.replace(old, new, count)


ERRORS = [
    ("count.px", _replace("\"..\" 3912 31 -3950;", "\"..\" 3912 31;"),
     "DATA",
     r"DATA has 23 values but the variables call for 2 \(Alue\) × 3 \(Sukupuoli\) × 2 "
     r"\(Kuukausi\) × 2 \(Tiedot\) = 24"),
    ("too_many.px", _replace("31 -3950;", "31 -3950 7;"), "DATA",
     r"DATA has 25 values but .* = 24"),
    ("token.px", _replace("30.9 8567", "30.9 85x67"), "PX cell 15",
     r"DATA value '85x67' is neither a number nor a statistical symbol .*"
     r"\(Alue=KU564, Sukupuoli=SSS, Kuukausi=2024M11, Tiedot=TYOTTOMATLOPUSSA\)"),
    ("token2.px", _replace("28.1 250000", "28.1 2.5.0"), "PX cell 1",
     r"DATA value '2.5.0' is neither a number nor a statistical symbol"),
    ("symbol.px", _replace('"..." "..." .', '"..." "...." .'), "PX cell 17",
     r"DATA value '....' is neither a number"),
    ("quote.px", _replace("30.5 8452", '30.5 84"52'), "PX cell 13", r"'84\"52'"),
    ("no_stub_heading.px", lambda t: re.sub(r"^(STUB|HEADING)[^;]*;\n", "", t, flags=re.M),
     "header", r"no STUB or HEADING keyword"),
    ("no_values.px", _replace('VALUES("Sukupuoli")="Sukupuolet yhteensä","Miehet","Naiset";\n',
                              ""),
     "header", r'no VALUES\("Sukupuoli"\) for variable \'Sukupuoli\''),
    ("no_data.px", lambda t: t[:t.index("\nDATA=") + 1], "header", r"no DATA keyword"),
    ("codes.px", _replace('CODES("Sukupuoli")="SSS","1","2";', 'CODES("Sukupuoli")="SSS","1";'),
     "line 48", r'CODES\("Sukupuoli"\) has 2 codes but VALUES\("Sukupuoli"\) has 3 values'),
    ("truncated.px", lambda t: t[:t.rindex("31 -3950;")], "DATA",
     r"DATA does not end with ';' \(is the file truncated\?\)"),
    ("unterminated.px", _replace('MATRIX="001_12u4_2024m11";', 'MATRIX="001_12u4_2024m11'),
     "line 9", r"keyword MATRIX: a string is not closed on its line"),
]


@pytest.mark.parametrize("name,edit,place,message", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_the_place_and_the_problem(con, tmp_path, name, edit, place, message):
    path = variant(tmp_path, name, edit)
    with pytest.raises(RawInputError) as e:
        load(con, path)
    assert e.value.file == name
    assert e.value.place == place
    assert re.search(message, e.value.problem), e.value.problem


def test_bad_token_leaves_no_rows_behind(con, tmp_path):
    """Even a caller that commits after the error keeps no partial rows of the file."""
    path = variant(tmp_path, "late_error.px", _replace("31 -3950;", "31 oops;"))
    con.execute("BEGIN")
    with pytest.raises(RawInputError, match="PX cell 23"):
        load_px(con, RawFile.of(path, tmp_path), CTX)
    con.execute("COMMIT")
    assert con.execute("SELECT count(*) FROM raw.statfin_12u4").fetchone() == (0,)


def test_undecodable_bytes_name_the_line(con, tmp_path):
    path = tmp_path / "bad_bytes.px"
    text = (FIXTURES / "two_stub_two_heading.px").read_bytes()
    # A label in iso-8859-1 bytes inside a file that says CODEPAGE="utf-8".
    path.write_bytes(text.replace(b'VALUES("Alue")="KOKO MAA"',
                                  'VALUES("Alue")="KOKO MÄÄ"'.encode("latin-1")))
    with pytest.raises(RawInputError) as e:
        load(con, path)
    assert e.value.place == "line 30"
    assert "cannot be decoded as CODEPAGE 'utf-8'" in e.value.problem


def test_empty_file(con, tmp_path):
    path = tmp_path / "empty.px"
    path.write_bytes(b"\n\n")
    with pytest.raises(RawInputError, match="the file is empty"):
        load(con, path)


# --- the writer --------------------------------------------------------------------------------

AREAS = [("SSS", "KOKO MAA"), ("KU564", "Oulu"), ("KU859", "Tyrnävä"), ("MK17",
         "Pohjois-Pohjanmaa")]
SEXES = [("SSS", "Yhteensä"), ("1", "Miehet"), ("2", "Naiset")]
AGES = [("SSS", "Yhteensä"), ("15-19", "15-19"), ("20-24", "20-24")]
MONTHS = [f"2024M{m:02d}" for m in range(1, 13)]
CONTENTS = [("AKTASTE", "Aktivointiaste (%)"),
            ("TYOTTOMATLOPUSSA", "Työttömät työnhakijat laskentapäivänä (lkm.)"),
            ("PALVELUISSAYHTEENSA", "Palveluissa yhteensä laskentapäivänä (lkm.)")]


def _cells():
    """Deterministic 12u4-shaped cells: rates with a decimal, counts, some symbols."""
    i = 0
    for _ in range(len(AREAS) * len(SEXES) * len(AGES) * len(MONTHS)):
        for k in range(len(CONTENTS)):
            if i % 17 == 5:
                yield "..."
            elif i % 29 == 3:
                yield ".."
            elif k == 0:
                yield round((i % 997) / 10, 1)
            else:
                yield (i * 7919) % 10007
            i += 1


def _write(path: Path, codepage: str) -> int:
    return write_px(
        path, table_id="12u4", matrix="001_12u4_2024m12",
        title="Aktivointiaste ja palveluissa olevat laskentapäivänä (4250)",
        contents="Aktivointiaste ja palveluissa olevat",
        variables=[("Alue", *zip(*AREAS)), ("Sukupuoli", *zip(*SEXES)),
                   ("Ikäryhmät", *zip(*AGES)), ("Kuukausi", MONTHS, MONTHS),
                   ("Tiedot", *zip(*CONTENTS))],
        stub_names=["Alue", "Sukupuoli", "Ikäryhmät", "Kuukausi"], heading_names=["Tiedot"],
        data=_cells(), codepage=codepage, units={"AKTASTE": "%"}, precision={"AKTASTE": 1},
        translations={"sv": {"title": "Aktiveringsgrad",
                             "variables": {"Alue": "Område", "Sukupuoli": "Kön",
                                           "Ikäryhmät": "Åldersgrupp", "Kuukausi": "Månad",
                                           "Tiedot": "Uppgifter"}},
                      "en": {"title": "Activation rate",
                             "variables": {"Alue": "Region", "Sukupuoli": "Sex",
                                           "Ikäryhmät": "Age group", "Kuukausi": "Month",
                                           "Tiedot": "Information"},
                             "values": {"Sukupuoli": ["Total", "Males", "Females"]}}},
        last_updated="20250120 08:00")


@pytest.mark.parametrize("codepage", ["utf-8", "iso-8859-1"])
def test_writer_round_trips_through_load_px(con, tmp_path, codepage):
    path = tmp_path / f"12u4_{codepage}.px"
    n = _write(path, codepage)
    expected = list(_cells())
    assert n == len(expected) == 4 * 3 * 3 * 12 * 3
    text = path.read_bytes().decode(codepage)
    assert text.startswith(f'CHARSET="ANSI";\nAXIS-VERSION="2013";\nCODEPAGE="{codepage}";')
    assert 'STUB[sv]="Område","Kön","Åldersgrupp","Månad";' in text
    assert 'PRECISION("Tiedot","Aktivointiaste (%)")=1;' in text
    assert 'TIMEVAL("Kuukausi")=TLIST(M1),"2024M01",' in text
    assert text.rstrip().endswith(";") and '"..."' in text
    s = load(con, path)
    assert (s.rows, s.areas, s.periods) == (n, 4, ("2024M01", "2024M12"))
    got = con.execute("SELECT value, symbol FROM raw.statfin_12u4 ORDER BY cell_index") \
        .fetchall()
    assert got == [(None, v) if isinstance(v, str) else (float(v), None) for v in expected]
    assert s.symbols == {sym: expected.count(sym) for sym in ("...", "..")}
    labels = dict(con.execute("SELECT code, label FROM raw.statfin_values WHERE "
                              "variable = 'Alue'").fetchall())
    assert labels["KU859"] == "Tyrnävä"
    # Codes from the cell index agree with the writer's row-major order.
    i = (((2 * 3 + 1) * 3 + 2) * 12 + 10) * 3 + 2  # KU859, men, 20-24, 2024M11, services
    assert cell(con, "raw.statfin_12u4", area_code="KU859", sex="1", age_group="20-24",
                month="2024M11", content_code="PALVELUISSAYHTEENSA") == \
        ((None, expected[i]) if isinstance(expected[i], str) else (float(expected[i]), None))


@pytest.mark.parametrize("chunk_bytes", [61, 997])
def test_data_read_in_chunks_keeps_every_cell_in_order(con, tmp_path, monkeypatch,
                                                       chunk_bytes):
    """Chunk cuts fall inside tokens and quotes; cells keep their DATA order and codes."""
    path = tmp_path / "12u4.px"
    _write(path, "utf-8")
    monkeypatch.setattr(px_module, "_CHUNK_BYTES", chunk_bytes)
    load(con, path)
    got = con.execute("SELECT value, symbol FROM raw.statfin_12u4 ORDER BY cell_index") \
        .fetchall()
    assert got == [(None, v) if isinstance(v, str) else (float(v), None) for v in _cells()]


def test_tokens_longer_than_a_chunk_and_crlf_cuts(con, monkeypatch):
    """With 3-byte chunks every token straddles a cut (and is carried over), and CRLF
    line ends are split: the cells are still the file's, in order."""
    monkeypatch.setattr(px_module, "_CHUNK_BYTES", 3)
    load(con, FIXTURES / "latin1_ikaryhmat.px")
    load(con, FIXTURES / "two_stub_two_heading.px")
    assert con.execute("SELECT list(coalesce(symbol, value::VARCHAR) ORDER BY cell_index) "
                       "FROM raw.statfin_12u4 WHERE file = 'latin1_ikaryhmat.px'") \
        .fetchone()[0] == ["241.0", "252.0", "12.0", "...", "38.0", "41.0", "...", "."]
    assert cell(con, "raw.statfin_12u4", area_code="KU564", sex="SSS", month="2024M11",
                content_code="TYOTTOMATLOPUSSA") == (8567.0, None)
    assert con.execute("SELECT count(*) FROM raw.statfin_12u4 WHERE file = "
                       "'two_stub_two_heading.px'").fetchone() == (24,)


@pytest.mark.parametrize("codepage", ["utf-8", "iso-8859-1"])
def test_pyaxis_reads_the_writers_file_like_load_px(con, tmp_path, codepage):
    pyaxis = pytest.importorskip("pyaxis.pyaxis")
    logging.getLogger("pyaxis").setLevel(logging.WARNING)
    path = tmp_path / "12u4.px"
    _write(path, codepage)
    parsed = pyaxis.parse(uri=str(path), encoding=codepage)
    df = parsed["DATA"]
    load(con, path)
    ours = con.execute("""
        SELECT a.label, s.label, g.label, c.month, t.label, c.value, c.symbol
        FROM raw.statfin_12u4 c
        JOIN raw.statfin_values a ON a.variable = 'Alue' AND a.code = c.area_code
        JOIN raw.statfin_values s ON s.variable = 'Sukupuoli' AND s.code = c.sex
        JOIN raw.statfin_values g ON g.variable = 'Ikäryhmät' AND g.code = c.age_group
        JOIN raw.statfin_values t ON t.variable = 'Tiedot' AND t.code = c.content_code
        ORDER BY c.cell_index""").fetchall()
    assert len(df) == len(ours)
    assert list(df.columns) == ["Alue", "Sukupuoli", "Ikäryhmät", "Kuukausi", "Tiedot", "DATA"]
    for i in (0, 1, 5, 100, 333, len(ours) - 1):
        row = df.iloc[i]
        area, sex, age, month, content, value, symbol = ours[i]
        assert (row["Alue"], row["Sukupuoli"], row["Ikäryhmät"], row["Kuukausi"],
                row["Tiedot"]) == (area, sex, age, month, content)
        assert _pyaxis_cell(row["DATA"]) == (value, symbol)
    # Every cell: pyaxis's text and our value/symbol agree.
    assert [_pyaxis_cell(x) for x in df["DATA"]] == [(v, s) for *_, v, s in ours]


def _pyaxis_cell(data) -> tuple:
    """pyaxis's DATA text as (value, symbol): it keeps '"..."' as text, turns '"..'"
    (its default statistical-disclosure pattern) into NaN."""
    if isinstance(data, float) and math.isnan(data):
        return None, ".."
    if data.startswith('"'):
        return None, data.strip('"')
    return float(data), None


def test_writer_reproduces_the_shared_example(con, tmp_path):
    """The 12r5 example rewritten by write_px loads to the same cells, codes and labels,
    and its header carries the keywords PxWeb writes."""
    codes = ["HAKIJALOPUSSA", "TYOTTOMATLOPUSSA", "TYOVOIMATK", "TYOTOSUUS",
             "PITKAAIKAISTYOTTOMAT", "AVPAIKATLOPUSSA"]
    labels = ["Työnhakijoita laskentapäivänä (lkm.)",
              "Työttömät työnhakijat laskentapäivänä (lkm.)",
              "TK:n Työssäkäyntitilaston työvoima (lkm.)",
              "Työttömien työnhakijoiden %-osuus työvoimasta (%)",
              "Pitkäaikaistyöttömät (lkm.)", "Avoimet työpaikat kuukauden laskentapäivänä (lkm.)"]
    months = ["2024M10", "2024M11", "2024M12"]
    data = ["..."] * 18 + [
        14044, 8452, 100560, 8.4, 2364, 901, 14210, 8567, 100560, 8.5, 2489, 533,
        13508, 8164, 100560, 8.1, 2355, 1618, 1137, 704, 9168, 7.7, 192, 142,
        1047, 670, 9168, 7.3, 186, 76, 1090, 675, 9168, 7.4, 178, 44]
    path = tmp_path / "rewritten.px"
    write_px(path, table_id="statfin_tyonv_pxt_12r5", matrix="001_12r5_2024m12",
             title="Työttömät työnhakijat", contents="Työttömät työnhakijat",
             variables=[("Alue", ["SSS", "KU564", "KU244"], ["KOKO MAA", "Oulu", "Kempele"]),
                        ("Kuukausi", months, months), ("Tiedot", codes, labels)],
             stub_names=["Alue", "Kuukausi"], heading_names=["Tiedot"], data=data,
             units={"TYOTOSUUS": "%"}, precision={"TYOTOSUUS": 1},
             translations={"en": {"variables": {"Alue": "Region", "Kuukausi": "Month",
                                                "Tiedot": "Information"}}},
             last_updated="20250120 08:00")
    text = path.read_text(encoding="utf-8")
    for line in ('CHARSET="ANSI";', 'LANGUAGES="fi","en";', 'CONTVARIABLE="Tiedot";',
                 'STUB[en]="Region","Month";', 'VALUES[en]("Region")="KOKO MAA","Oulu","Kempele";',
                 'CODES("Alue")="SSS","KU564","KU244";',
                 'TIMEVAL("Kuukausi")=TLIST(M1),"2024M10","2024M11","2024M12";',
                 'UNITS("Työttömien työnhakijoiden %-osuus työvoimasta (%)")="%";',
                 'UNITS("Pitkäaikaistyöttömät (lkm.)")="lkm";',
                 'LAST-UPDATED("Pitkäaikaistyöttömät (lkm.)")="20250120 08:00";',
                 'SOURCE="KEHA-keskus, Työnvälitystilasto";',
                 '"..." "..." "..." "..." "..." "..."', "1090 675 9168 7.4 178 44;"):
        assert line in text.splitlines(), line
    load(con, FIXTURES / "12r5_example.px")
    load(con, path)
    query = ("SELECT list((area_code, month, content_code, value, symbol) ORDER BY cell_index) "
             "FROM raw.statfin_12r5 WHERE file = ?")
    assert con.execute(query, ["rewritten.px"]).fetchone() == \
        con.execute(query, ["12r5_example.px"]).fetchone()


def test_writer_formats_precision_when_the_content_is_in_the_stub(tmp_path):
    path = tmp_path / "stub_content.px"
    write_px(path, table_id="t1", matrix="m", title="t", contents="c",
             variables=[("Tiedot", ["RATE", "COUNT"], ["Rate (%)", "Count"]),
                        ("Kuukausi", ["2024M01", "2024M02"], ["2024M01", "2024M02"])],
             stub_names=["Tiedot"], heading_names=["Kuukausi"],
             data=[1.5, 2.25, 3.0, 4], precision={"RATE": 2})
    assert path.read_text(encoding="utf-8").endswith("DATA=\n1.50 2.25\n3 4;\n")


def test_writer_refuses_wrong_data(tmp_path):
    kw = dict(table_id="t1", matrix="m", title="t", contents="c",
              variables=[("Alue", ["A", "B"], ["a", "b"]), ("Tiedot", ["X"], ["x"])],
              stub_names=["Alue"], heading_names=["Tiedot"])
    with pytest.raises(ValueError, match="data ended early"):
        write_px(tmp_path / "a.px", data=[1], **kw)
    with pytest.raises(ValueError, match="more than the expected 2"):
        write_px(tmp_path / "b.px", data=[1, 2, 3], **kw)
    with pytest.raises(ValueError, match="not a statistical symbol"):
        write_px(tmp_path / "c.px", data=[1, "x"], **kw)
    assert not list(tmp_path.iterdir())  # nothing half-written is left behind


# --- narrow storage, views, removal, versions ------------------------------------------------

def test_cells_are_stored_narrow_and_the_view_computes_the_codes(con):
    """raw.statfin_cells holds (cell_key, value) per DATA cell, the symbols apart; the layout
    (position, size, stride) is in raw.statfin_variables; the view's codes follow."""
    s = load(con, FIXTURES / "two_stub_two_heading.px")
    key = con.execute("SELECT file_key, dataset FROM raw.statfin_files").fetchall()
    assert key == [(1, "12u4")]
    assert columns(con, "raw.statfin_cells") == ["cell_key", "value"]
    # A number cell is in raw.statfin_cells, a symbol cell in raw.statfin_symbols.
    assert con.execute("SELECT count(*) FROM raw.statfin_cells").fetchone() == (24 - 5,)
    assert dict(con.execute("SELECT symbol, count(*) FROM raw.statfin_symbols GROUP BY 1")
                .fetchall()) == s.symbols
    assert con.execute("SELECT min(cell_key), max(cell_key), count(DISTINCT cell_key) FROM "
                       "(SELECT cell_key FROM raw.statfin_cells UNION ALL "
                       "SELECT cell_key FROM raw.statfin_symbols)").fetchone() == (
        10**12, 10**12 + 23, 24)
    assert con.execute("SELECT variable, column_name, position, n_values, stride FROM "
                       "raw.statfin_variables ORDER BY position").fetchall() == [
        ("Alue", "area_code", 0, 2, 12), ("Sukupuoli", "sex", 1, 3, 4),
        ("Kuukausi", "month", 2, 2, 2), ("Tiedot", "content_code", 3, 2, 1)]
    # The same codes by hand from the layout: variable k's position is (i // stride) % n.
    by_hand = con.execute("""
        SELECT c.cell_key % 1000000000000 AS i, list(x.code ORDER BY v.position) AS codes
        FROM (SELECT cell_key FROM raw.statfin_cells
              UNION ALL SELECT cell_key FROM raw.statfin_symbols) AS c
        JOIN raw.statfin_variables AS v ON v.file_key = c.cell_key // 1000000000000
        JOIN raw.statfin_values AS x ON x.file_key = v.file_key AND x.variable = v.variable
            AND x.position = (c.cell_key % 1000000000000 // v.stride) % v.n_values
        GROUP BY ALL ORDER BY i""").fetchall()
    view = con.execute("SELECT cell_index, [area_code, sex, month, content_code] "
                       "FROM raw.statfin_12u4 ORDER BY cell_index").fetchall()
    assert by_hand == view
    assert con.execute("SELECT count(*) FROM duckdb_views() WHERE schema_name = 'raw' "
                       "AND view_name = 'statfin_12u4'").fetchone() == (1,)


def test_a_removed_file_leaves_no_cells(con, tmp_path):
    """The raw layer deletes a removed file from the tables keyed by ``file``; its cells,
    keyed by file_key, vanish from the views at once and from storage at the next load."""
    from pipeline.raw_layer import FAMILIES
    from pipeline.readers.px import create_statfin_tables

    create_statfin_tables(con)
    load(con, FIXTURES / "12r5_example.px")
    load(con, FIXTURES / "new_names.px")
    con.execute("BEGIN")
    for table in FAMILIES["statfin"].tables:
        con.execute(f"DELETE FROM {table} WHERE file = ?", ["12r5_example.px"])
    con.execute("COMMIT")
    assert con.execute("SELECT DISTINCT file FROM raw.statfin_12r5").fetchall() == [
        ("new_names.px",)]
    stored = ("SELECT (SELECT count(*) FROM raw.statfin_cells) + "
              "(SELECT count(*) FROM raw.statfin_symbols)")
    assert con.execute(stored).fetchone() == (54 + 8,)
    create_statfin_tables(con)  # what the raw layer calls before each load of the family
    assert con.execute(stored).fetchone() == (8,)
    assert con.execute("SELECT count(*) FROM raw.statfin_symbols").fetchone() == \
        con.execute("SELECT sum(symbols) FROM raw.statfin_files").fetchone()
    # A new file gets a new key, never the removed one's.
    load(con, FIXTURES / "12r5_example.px")
    assert con.execute("SELECT file, file_key FROM raw.statfin_files ORDER BY file_key"
                       ).fetchall() == [("new_names.px", 2), ("12r5_example.px", 3)]
    assert cell(con, "raw.statfin_12r5", area_code="KU564", month="2024M11",
                content_code="TYOTTOMATLOPUSSA") == (8567.0, None)


def test_two_versions_of_a_file_are_both_kept(con, tmp_path):
    """A new download under a known name is loaded beside the old one (a vintage): both are
    in the view, told apart by load_id and file_sha256."""
    path = tmp_path / "12r5.px"
    path.write_bytes((FIXTURES / "12r5_example.px").read_bytes())
    load(con, path, LoadContext("first", datetime(2026, 1, 1)))
    path.write_bytes((FIXTURES / "12r5_example.px").read_bytes().replace(
        b"8567 100560", b"8568 100560"))
    load(con, path, LoadContext("second", datetime(2026, 2, 1)))
    rows = con.execute("SELECT load_id, value FROM raw.statfin_12r5 WHERE area_code = 'KU564' "
                       "AND month = '2024M11' AND content_code = 'TYOTTOMATLOPUSSA' "
                       "ORDER BY load_id").fetchall()
    assert rows == [("first", 8567.0), ("second", 8568.0)]
    assert con.execute("SELECT count(DISTINCT file_sha256) FROM raw.statfin_12r5").fetchone() \
        == (2,)


def test_the_wide_layout_of_earlier_versions_is_replaced(con):
    """A warehouse written by the wide-table reader (raw.statfin_12u4 a table, no file_key)
    is converted: the old tables go, so every PX file loads again into the narrow ones."""
    from pipeline.readers.px import create_statfin_tables

    con.execute("CREATE SCHEMA raw")
    con.execute("CREATE TABLE raw.statfin_12u4 (area_code VARCHAR, value DOUBLE, "
                "file VARCHAR, file_sha256 VARCHAR)")
    con.execute("CREATE TABLE raw.statfin_files (load_id VARCHAR, file VARCHAR, "
                "file_sha256 VARCHAR)")
    con.execute("INSERT INTO raw.statfin_files VALUES ('old', 'x.px', 'abc')")
    create_statfin_tables(con)
    assert con.execute("SELECT count(*) FROM raw.statfin_files").fetchone() == (0,)
    assert con.execute("SELECT table_type FROM information_schema.tables WHERE "
                       "table_schema = 'raw' AND table_name = 'statfin_12u4'").fetchone() == (
        "VIEW",)
    load(con, FIXTURES / "two_stub_two_heading.px")
    assert con.execute("SELECT count(*) FROM raw.statfin_12u4").fetchone() == (24,)


def test_known_tables_have_their_columns_before_any_file(con):
    from pipeline.readers.px import create_statfin_tables

    create_statfin_tables(con)
    assert columns(con, "raw.statfin_12u4")[:6] == [
        "area_code", "sex", "age_group", "month", "content_code", "value"]
    assert con.execute("SELECT count(*) FROM raw.statfin_12u4").fetchone() == (0,)
    assert con.execute("SELECT comment FROM duckdb_views() WHERE view_name = 'statfin_12r5'"
                       ).fetchone()[0].startswith("One row per DATA cell")


# --- the tokeniser's two paths ---------------------------------------------------------------

TOKENS = ['1', '-5', '.5', '"..."', '..', '"."', '-', '12.3', '+4', '1e3', '"-"', '0', '"..']


@pytest.mark.parametrize("sep", [" ", "\n", "\r\n", "  \t", " \n "])
def test_every_layout_of_blanks_gives_the_same_cells(sep):
    """Single blanks take the short path; CRLF and runs of blanks the general one: the same
    values, symbols and counts either way."""
    buf = ("\n" + sep.join(TOKENS[:-1]) + sep).encode()
    chunk = px_module._tokenise(buf, 100, True, key_base=5 * 10**12)
    assert chunk.n == 12
    numbers = [0, 1, 2, 7, 8, 9, 11]
    assert chunk.cells.column("cell_key").to_pylist() == [5 * 10**12 + 100 + i
                                                          for i in numbers]
    assert chunk.cells.column("value").to_pylist() == [1.0, -5.0, 0.5, 12.3, 4.0, 1000.0, 0.0]
    assert chunk.symbols.to_pylist() == [
        {"cell_key": 5 * 10**12 + i, "symbol": s}
        for i, s in ((103, "..."), (104, ".."), (105, "."), (106, "-"), (110, "-"))]
    assert chunk.counts == {"...": 1, "..": 1, ".": 1, "-": 2}


def test_a_quoted_number_takes_the_general_path():
    chunk = px_module._tokenise(b'1 "2" 3 ', 0, True)
    assert chunk.cells.column("value").to_pylist() == [1.0, 2.0, 3.0]
    assert chunk.symbols is None


@pytest.mark.parametrize("text,index,token", [
    (b'1 2 .. "..." "...." 3 ', 4, "...."), (b'1 "."." 2 ', 1, '"."."'), (b"1 2 3x ", 2, "3x"),
    (b"1 2 \xe4 ", 2, "\\xe4")])
def test_bad_tokens_are_named_on_both_paths(text, index, token):
    for variant in (text, text.replace(b" ", b"\r\n")):
        with pytest.raises(px_module._BadToken) as e:
            px_module._tokenise(variant, 10, True)
        assert (e.value.index, e.value.text) == (10 + index, token), variant


def test_cells_in_force_take_the_newest_file_cell_by_cell(con, tmp_path):
    """audit.statfin_cells_in_force: with one file per table every cell is in force; with
    several, the newest (LAST-UPDATED) wins where they overlap and the older file's other
    cells stay in force."""

    def write(name, months, value, updated):
        codes = ["TYOTTOMATLOPUSSA", "TYOVOIMATK"]
        write_px(tmp_path / name, table_id="12r5", matrix="m", title="t", contents="c",
                 variables=[("Alue", ["KU564", "KU244"], ["Oulu", "Kempele"]),
                            ("Kuukausi", months, months), ("Tiedot", codes, codes)],
                 stub_names=["Alue", "Kuukausi"], heading_names=["Tiedot"],
                 data=[value] * (2 * len(months) * 2), last_updated=updated)
        return load(con, tmp_path / name)

    from pipeline.models import model, run_model
    from pipeline.raw_layer import FAMILIES

    for fam in FAMILIES.values():  # stg_file_versions reads every family's file list
        fam.create_tables(con)
    run_model(con, model("staging.stg_file_versions"))  # the view reads it
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    lineage = (Path(px_module.__file__).parents[1] / "sql" / "audit" / "lineage.sql").read_text(
        encoding="utf-8")
    view = re.search(r"create or replace view audit\.statfin_cells_in_force as.*?;\n", lineage,
                     re.S)
    con.execute(view.group())
    in_force = ("SELECT month, value, file FROM audit.statfin_cells_in_force WHERE "
                "area_code = 'KU564' AND content_code = 'TYOTTOMATLOPUSSA' ORDER BY month")
    write("old.px", ["2024M10", "2024M11", "2024M12"], 1, "20250101 08:00")
    run_model(con, model("staging.stg_file_versions"))  # the one rule: which version first
    assert con.execute(in_force).fetchall() == [
        ("2024M10", 1.0, "old.px"), ("2024M11", 1.0, "old.px"), ("2024M12", 1.0, "old.px")]
    write("new.px", ["2024M12", "2025M01"], 2, "20250201 08:00")
    run_model(con, model("staging.stg_file_versions"))
    assert con.execute(in_force).fetchall() == [
        ("2024M10", 1.0, "old.px"), ("2024M11", 1.0, "old.px"), ("2024M12", 2.0, "new.px"),
        ("2025M01", 2.0, "new.px")]
    assert con.execute("SELECT count(*) FROM audit.statfin_cells_in_force").fetchone() == (
        (3 + 2 - 1) * 2 * 2,)
