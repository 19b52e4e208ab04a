"""The TEM report reader on small files: layouts it must accept and inputs it must refuse."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest
from conftest import FIXTURES, write_tem_csv, write_tem_xlsx

from pipeline.readers.common import LoadContext, RawFile, RawInputError
from pipeline.readers.tem_report import load_tem, read_report, sniff_tem

CTX = LoadContext("test", datetime(2025, 1, 1))
ROWS_4253 = [["564 Oulu", "2024M10", 2364, 264, 10.0], ["244 Kempele", "2024M10", 192, 24, 11.1]]


def cells(path):
    facts, table = read_report(RawFile.of(path, path.parent))
    return facts, {(r["area"], r["month"], r["breakdown"], r["measure"]): (r["value"], r["symbol"],
                   r["place"]) for r in table.to_pylist()}


def test_shared_example_workbook_columns_out_of_order():
    ex = FIXTURES / "examples" / "tem_4253_example.xlsx"  # copy of shared/formats/examples
    facts, c = cells(ex)
    assert facts["report"] == "4253"
    assert facts["extracted_on"].isoformat() == "2025-01-15"
    assert c[("564 Oulu", "2024M11", None, "Palveluissa olevat pitkäaikaistyöttömät")][:2] == (298, None)
    assert c[("244 Kempele", "2024M12", None, "Pitkäaikaistyöttömien aktivointiaste (%)")][0] == 12.7
    assert c[("564 Oulu", "2024M10", None, "Pitkäaikaistyöttömät")][2] == "Raportti!E5"
    assert len(c) == 18
    assert any("salassapidettävä" in n for n in facts["notes"])


def test_csv_cp1252_decimal_comma_and_symbols(tmp_path):
    p = write_tem_csv(tmp_path / "x.csv", "4253",
                      [["564 Oulu", "2024M10", 2364, 264, 10.0],
                       ["072 Hailuoto", "2024M10", "...", "...", ".."]])
    facts, c = cells(p)
    assert facts["encoding"] == "cp1252" and facts["file_format"] == "csv"
    assert c[("564 Oulu", "2024M10", None, "Pitkäaikaistyöttömien aktivointiaste (%)")][0] == 10.0
    assert c[("072 Hailuoto", "2024M10", None, "Pitkäaikaistyöttömät")][:2] == (None, "...")
    assert c[("072 Hailuoto", "2024M10", None, "Pitkäaikaistyöttömien aktivointiaste (%)")][:2] == (None, "..")
    # Place: line 5 (title, metadata, blank, header), field 3.
    assert c[("564 Oulu", "2024M10", None, "Pitkäaikaistyöttömät")][2] == "line 5, field 3"


def test_csv_utf8_bom_and_extra_title_lines(tmp_path):
    p = write_tem_csv(tmp_path / "y.csv", "4253", [["564 Oulu", "2024M10", 2364, 264, 10.0]],
                      encoding="utf-8-sig",
                      preamble=["Raportti", "TEM raportointipalvelu", "Työnvälitystilasto 4253: x",
                                "Poimittu 02.03.2025", "Alueet: Oulu"])
    facts, c = cells(p)
    assert facts["encoding"] == "utf-8-sig"
    assert facts["extracted_on"].isoformat() == "2025-03-02"
    assert c[("564 Oulu", "2024M10", None, "Palveluissa olevat pitkäaikaistyöttömät")][0] == 264


def test_ttv15_long_layout_reasons_read_from_data(tmp_path):
    rows = [["2023M01", "Avoimille työmarkkinoille", "564 Oulu", 31],
            ["2023M01", "Uusi syy, jota koodi ei tunne", "564 Oulu", 4],
            ["2023M01", "Avoimille työmarkkinoille", "072 Hailuoto", "..."]]
    p = write_tem_xlsx(tmp_path / "t.xlsx", "TTV15", rows,
                       header=["Kuukausi", "Päättymissyy", "Alue", "Päättyneet jaksot"])
    facts, c = cells(p)
    assert facts["report"] == "TTV15"
    assert c[("564 Oulu", "2023M01", "Uusi syy, jota koodi ei tunne", "Päättyneet jaksot")][0] == 4
    assert c[("072 Hailuoto", "2023M01", "Avoimille työmarkkinoille", "Päättyneet jaksot")][1] == "..."


def test_sniff_by_content_not_name(tmp_path):
    p = write_tem_csv(tmp_path / "download (3).txt", "1208",
                      [["564 Oulu", "2021M03", 1, 2, 2, 1]])
    assert sniff_tem(p) == "1208"
    other = tmp_path / "notes.csv"
    other.write_text("a;b\n1;2\n")
    assert sniff_tem(other) is None


BAD_INPUTS = {
    "missing column": (
        lambda d: write_tem_csv(d / "f.csv", "4253", [["564 Oulu", "2024M10", 1, 1]],
                                header=["Alue", "Kuukausi", "Pitkäaikaistyöttömät",
                                        "Palveluissa olevat pitkäaikaistyöttömät"]),
        "lacks column(s) Pitkäaikaistyöttömien aktivointiaste (%)"),
    "text in a count": (
        lambda d: write_tem_csv(d / "f.csv", "4253", [["564 Oulu", "2024M10", "noin 20", 1, 1.0]]),
        "line 5, field 3: 'Pitkäaikaistyöttömät' holds 'noin 20'"),
    "bad month": (
        lambda d: write_tem_csv(d / "f.csv", "4253", [["564 Oulu", "2024M13", 1, 1, 1.0]]),
        "line 5, field 2: '2024M13' is not a month"),
    "bad area": (
        lambda d: write_tem_csv(d / "f.csv", "4253", [["Oulu", "2024M10", 1, 1, 1.0]]),
        "'Oulu' is not an area like '564 Oulu'"),
    "conflicting duplicate": (
        lambda d: write_tem_xlsx(d / "f.xlsx", "4253", [["564 Oulu", "2024M10", 1, 1, 1.0],
                                                        ["564 Oulu", "2024M10", 2, 1, 1.0]]),
        "Raportti!A6: duplicate row: 564 Oulu 2024M10 appears with different values "
        "(first at Raportti!A5)"),
    "empty file": (lambda d: (d / "f.csv").write_bytes(b"") and d / "f.csv" or d / "f.csv",
                   "the file is empty"),
    "not a workbook": (lambda d: (d / "f.xlsx").write_text("hello") and d / "f.xlsx",
                       "has an .xlsx name but is not an Excel workbook"),
    "undecodable": (lambda d: (d / "f.csv").write_bytes(
        "Työnvälitystilasto 4253\r\n".encode("cp1252") + b"Alue;Kuukausi\x81\r\n") and d / "f.csv",
        "line 2: cannot be decoded as UTF-8 or Windows-1252"),
    "no header": (lambda d: write_tem_csv(d / "f.csv", "4253", [], header=["Area", "Month"]),
                  "no header row with the columns 'Alue' and 'Kuukausi'"),
    "no data rows": (lambda d: write_tem_csv(d / "f.csv", "4253", []), "no data rows"),
    "not a number": (
        lambda d: write_tem_csv(d / "f.csv", "4253", [["564 Oulu", "2024M10", "nan", 1, 1.0]]),
        "line 5, field 3: 'Pitkäaikaistyöttömät' holds 'nan'"),
    # The first problem in the file's order: line 5's count before line 6's month and the
    # duplicate of line 7; within a line, the area before the counts.
    "first problem first": (
        lambda d: write_tem_csv(d / "f.csv", "4253", [["564 Oulu", "2024M10", "x", 1, 1.0],
                                                      ["564 Oulu", "2024M99", 1, 1, 1.0],
                                                      ["564 Oulu", "2024M10", 1, 1, 1.0]]),
        "line 5, field 3: 'Pitkäaikaistyöttömät' holds 'x'"),
    "area before counts": (
        lambda d: write_tem_csv(d / "f.csv", "4253", [["564 Oulu", "2024M10", 1, 1, 1.0],
                                                      ["Oulu", "2024M11", "x", 1, 1.0]]),
        "line 6, field 1: 'Oulu' is not an area"),
    # A count of persons is whole: '1,159' (a thousands separator) was read as 1.159 persons
    # and published, every check passing. A rate (%) keeps its decimals.
    "thousands separator in a count": (
        lambda d: write_tem_csv(d / "f.csv", "4253", [["564 Oulu", "2024M10", "1,159", 1, 1.5]]),
        "line 5, field 3: 'Pitkäaikaistyöttömät' holds '1,159': a count is a whole number "
        "(a thousands separator?)"),
    "fraction in a workbook count": (
        lambda d: write_tem_xlsx(d / "f.xlsx", "4253", [["564 Oulu", "2024M10", 20, 2.5, 1.5]]),
        "Raportti!D5: 'Palveluissa olevat pitkäaikaistyöttömät' holds 2.5: a count is a whole "
        "number"),
    # Half-copied, cut inside the last row's rate (12,5 read as 12) with no footnote left:
    # a CSV writer ends every line, so a last line without its line break is refused.
    "cut inside the last line": (
        lambda d: _cut(write_tem_csv(d / "f.csv", "4253", [["564 Oulu", "2024M10", 45, 5, 11.1],
                                                           ["564 Oulu", "2024M11", 40, 5, 12.5]])),
        "line 6: the file ends inside this line, with no line break after it"),
    "workbook number as area": (
        lambda d: write_tem_xlsx(d / "f.xlsx", "4253", [[564, "2024M10", 1, 1, 1.0]]),
        "Raportti!A5: '564' is not an area like '564 Oulu'"),
}


def _cut(path):
    """The file cut inside its last data row's rate: '12,5' becomes '12'."""
    data = path.read_bytes()
    path.write_bytes(data[:data.rindex(b";12,5") + len(b";12")])
    return path


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_refused_with_file_and_place(tmp_path, case):
    make, message = BAD_INPUTS[case]
    path = make(tmp_path)
    con = duckdb.connect()
    con.execute("begin transaction")
    with pytest.raises(RawInputError) as err:
        load_tem(con, RawFile.of(path, tmp_path), CTX)
    con.execute("rollback")
    assert str(err.value).startswith(path.name)
    assert message in str(err.value)
    # Nothing was loaded: the transaction leaves no raw rows behind.
    n = con.execute("select count(*) from information_schema.tables "
                    "where table_schema = 'raw'").fetchall()[0][0]
    assert n == 0 or con.execute("select count(*) from raw.tem_report_cells").fetchall()[0][0] == 0


def test_load_writes_lineage(tmp_path):
    p = write_tem_csv(tmp_path / "sub" / "a.csv", "4253", ROWS_4253)
    con = duckdb.connect()
    rf = RawFile.of(p, tmp_path)
    summary = load_tem(con, rf, CTX)
    assert (summary.report, summary.data_rows, summary.cells, summary.areas) == ("4253", 2, 6, 2)
    row = con.execute("select file, file_sha256, place, value, load_id from raw.tem_report_cells "
                      "where area = '244 Kempele' and measure = 'Pitkäaikaistyöttömät'").fetchall()
    assert row == [("sub/a.csv", rf.sha256, "line 6, field 3", 192.0, "test")]
