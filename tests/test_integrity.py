"""The working database is protected from edits made outside a run (issue 13, finding 1):
a raw row changed there is noticed by the next run, which loads that file version again
from the raw folder (or, if the folder no longer holds it, refuses, naming the file)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import duckdb
import openpyxl
import pytest
from conftest import copy_of_run

from pipeline.runner import run_pipeline
from pipeline.warehouse import published_path, work_db_path

# The finding's cell: TTV15, Oulu, June 2023, spells that ended "Avoimille
# työmarkkinoille" (to the open labour market). The bundled workbook holds 67 there.
FILE, PLACE = "tem/TTV15_paattymissyyt.xlsx", "Raportti!D377"
RAW = "select value from raw.tem_report_cells where file = ? and place = ?"
MART = ("select spells from marts.ltu_spell_endings where area_code = ? and period_type = "
        "'month' and period = '2023-06' and reason = 'Avoimille työmarkkinoille'")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def base(bundled_run_once, tmp_path_factory) -> Path:
    return copy_of_run(bundled_run_once, tmp_path_factory, "integrity")


def published_rows(base: Path, sql: str, params=()) -> list:
    con = duckdb.connect(str(published_path(base / "marts")), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def tamper(base: Path, file: str, place: str, value: float) -> None:
    """What finding 1 did through `pipeline sql`: a read-write connection on the working
    database while no run holds it, changing one raw cell."""
    con = duckdb.connect(str(work_db_path(base / "marts")))
    try:
        n = con.execute("update raw.tem_report_cells set value = ? where file = ? and place = ?",
                        [value, file, place]).fetchall()[0][0]
        assert n == 1
    finally:
        con.close()


def run(base: Path, **kw) -> tuple[int, str]:
    out = io.StringIO()
    code = run_pipeline(str(base / "raw"), str(base / "marts"), str(base / "reports"),
                        out=out, **kw)
    return code, out.getvalue()


def raw_cell(base: Path, file: str, place: str):
    """The cell as the raw workbook holds it, read independently with openpyxl."""
    sheet, cell = place.split("!")
    return openpyxl.load_workbook(base / "raw" / file, read_only=True)[sheet][cell].value


def test_a_raw_row_edited_in_the_working_database_is_loaded_again_from_its_file(base):
    """Finding 1 as reported: 67 changed to 167 in the working database, then a full run.
    On main the run published 167 with every check passing."""
    value = raw_cell(base, FILE, PLACE)
    assert value == 67
    assert published_rows(base, RAW, [FILE, PLACE]) == [(67,)]
    [(pilot_before,)] = published_rows(base, MART, ["pilot_area"])
    tamper(base, FILE, PLACE, 167)

    code, log = run(base)
    assert code == 0, log
    # Published: what the raw file says; the raw row the lineage names holds it.
    assert published_rows(base, MART, ["KU564"]) == [(67,)]
    assert published_rows(base, MART, ["pilot_area"]) == [(pilot_before,)]
    assert published_rows(base, RAW, [FILE, PLACE]) == [(67,)]
    assert f"reloaded {FILE}: its rows in the working database had been changed" in log
    # The next run finds nothing to reload.
    code, log = run(base)
    assert code == 0 and "reloaded" not in log, log


def test_changed_only_notices_the_edit_too(base):
    tamper(base, FILE, PLACE, 167)
    code, log = run(base, changed_only=True)
    assert code == 0, log
    assert "changed: tem (1 file(s) whose rows in the working database were changed " \
           "outside a run)" in log
    assert published_rows(base, MART, ["KU564"]) == [(67,)]
    assert published_rows(base, RAW, [FILE, PLACE]) == [(67,)]


def test_an_edited_version_the_folder_no_longer_holds_refuses_the_run(base):
    """The edited rows belong to a version that a newer download replaced: it cannot be
    read again, so the run stops and names the file; nothing is published."""
    tamper(base, FILE, PLACE, 167)
    path = base / "raw" / FILE
    wb = openpyxl.load_workbook(path)
    wb["Raportti"]["A1"].value = str(wb["Raportti"]["A1"].value) + " "  # a new version
    wb.save(path)
    before = sha(published_path(base / "marts"))

    code, log = run(base)
    assert code == 1, log
    assert f"FAILED raw/tem: {FILE}: the working database's rows of this file" in log
    assert "were changed outside a run" in log and "delete " in log
    assert "nothing was published" in log
    assert sha(published_path(base / "marts")) == before


def test_a_column_a_new_pipeline_version_adds_is_not_an_edit(base):
    """The upgrade that added raw.statfin_files.notes (the PX reader adds the column to an
    older working database): the checksums an older version took, without that column,
    still hold; nothing is reloaded or refused. An edit after it is still caught."""
    from pipeline import integrity
    from pipeline.raw_layer import FAMILIES

    con = duckdb.connect(str(work_db_path(base / "marts")))
    try:  # the working database as the version before the column left it
        con.execute("alter table raw.statfin_files drop column notes")
        con.execute(f"delete from {integrity.CHECKSUMS} where family = 'statfin'")
        integrity.record(con, FAMILIES["statfin"])
        [(cols,)] = con.execute(f"select distinct columns from {integrity.CHECKSUMS} "
                                "where relation = 'raw.statfin_files'").fetchall()
        assert '"notes"' not in cols
    finally:
        con.close()
    code, log = run(base)
    assert code == 0 and "reloaded" not in log and "changed outside a run" not in log, log
    tamper(base, FILE, PLACE, 167)
    code, log = run(base)
    assert code == 0, log
    assert f"reloaded {FILE}" in log
    assert published_rows(base, RAW, [FILE, PLACE]) == [(67,)]
