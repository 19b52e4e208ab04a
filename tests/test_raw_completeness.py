"""A half-copied or gapped raw file is refused, naming the file and the first missing rows.

Issue 13, finding 3: the TEM 1356 CSV cut at 70 % on a line boundary, or report 1208 with one
row (Kempele 2022M06) deleted, published NULL inflow or NULL counts for the pilot area while
all 13 checks passed. Now the raw assets' blocking checks
(``pipeline/sql/checks/raw_<family>__*.sql``) and the raw layer's comparison with the version
a file replaces stop the run; a failed check shows its first rows in the run's summary and
in its Dagster metadata. Expected rows are those the test removes, read from the bundled
files.
"""

from __future__ import annotations

import hashlib
import io
import shutil

import duckdb
import openpyxl
import pytest
from conftest import BUNDLED_RAW, copy_of_run
from dagster import AssetCheckKey, AssetKey, DagsterEventType, DagsterInstance

from pipeline.raw_layer import load_family
from pipeline.readers.common import RawFile, RawInputError
from pipeline.readers.tem_report import load_tem
from pipeline.runner import run_pipeline
from pipeline.warehouse import published_path

TEM_1356 = "tem/1356_virrat_2019-2024.csv"
TEM_1208 = "tem/TEM_1208_tyonhakijat_2019-2024.xlsx"


@pytest.fixture(scope="module")
def published(bundled_run_once, tmp_path_factory):
    return copy_of_run(bundled_run_once, tmp_path_factory, "completeness")


@pytest.fixture
def folder(published, tmp_path):
    raw, marts = tmp_path / "raw", tmp_path / "marts"
    shutil.copytree(published / "raw", raw)
    shutil.copytree(published / "marts", marts)
    return raw, marts


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cut_at_70_percent(path) -> list[str]:
    """Cut the file at 70 % of its bytes, after the last whole line; the lines dropped."""
    data = path.read_bytes()
    cut = data.rindex(b"\n", 0, int(len(data) * 0.7)) + 1
    path.write_bytes(data[:cut])
    return data[cut:].decode("utf-8-sig").splitlines()


def _delete_row(path, area: str, month: str) -> int:
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    row = next(c.row for c in ws["A"] if c.value == area and ws.cell(c.row, 2).value == month)
    ws.delete_rows(row)
    wb.save(path)
    return row


def _run(raw, marts, tmp_path, **kwargs) -> tuple[int, str]:
    out = io.StringIO()
    code = run_pipeline(str(raw), str(marts), str(tmp_path / "reports"), out=out, **kwargs)
    return code, out.getvalue()


def test_the_1356_csv_cut_at_70_percent_fails_the_run_naming_file_and_rows(folder, tmp_path):
    raw, marts = folder
    before = _sha(published_path(marts))
    dropped = _cut_at_70_percent(raw / TEM_1356)
    # What the cut took: the rest of one municipality's months, and two whole municipalities.
    first_lost = dropped[0].split(";")
    assert first_lost[:2] == ["436 Lumijoki", "2022M08"]
    code, log = _run(raw, marts, tmp_path)
    assert code == 1, log
    assert (f"raw/tem: {TEM_1356}: covers 2019M01–2024M12 and 6 areas, but the version it "
            "replaces covered 2019M01–2024M12 and 8 areas: it lacks the areas 072 Hailuoto, "
            "859 Tyrnävä") in log
    assert ("within the file 29 rows are missing, the first: 436 Lumijoki 2022M08 (no row); "
            "436 Lumijoki 2022M09 (no row);") in log
    assert "--accept-shorter" in log
    assert "nothing was published" in log and _sha(published_path(marts)) == before

    # Accepting a shorter file does not accept a gap inside it: the blocking check stops it.
    code, log = _run(raw, marts, tmp_path, accept_shorter=True)
    assert code == 1, log
    assert "check failed: raw/tem every_area_has_every_month (29 offending rows)" in log
    assert f"{TEM_1356}  1356    436 Lumijoki  2022M08             no row" in log
    assert "… and 19 more" in log
    assert "nothing was published" in log and _sha(published_path(marts)) == before


def test_a_row_deleted_from_1208_fails_the_check_showing_the_row_in_summary_and_metadata(
        folder, tmp_path):
    raw, marts = folder
    before = _sha(published_path(marts))
    _delete_row(raw / TEM_1208, "244 Kempele", "2022M06")
    code, log = _run(raw, marts, tmp_path)
    assert code == 1, log
    assert "check failed: raw/tem every_area_has_every_month (1 offending rows)" in log
    assert f"{TEM_1208}  1208    244 Kempele  2022M06             no row" in log
    assert "nothing was published" in log and _sha(published_path(marts)) == before
    # The Dagster check result carries the same rows.
    with DagsterInstance.get() as instance:
        run_id = instance.get_runs(limit=1)[0].run_id
        events = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    key = AssetCheckKey(AssetKey(["raw", "tem"]), "every_area_has_every_month")
    [data] = [e.dagster_event.event_specific_data for e in events
              if e.dagster_event.event_specific_data.asset_check_key == key]
    assert not data.passed and data.metadata["offending_rows"].value == 1
    assert data.metadata["first_rows"].value == {
        "columns": ["file", "report", "area", "month", "breakdown", "problem"],
        "rows": [[TEM_1208, "1208", "244 Kempele", "2022M06", None, "no row"]]}
    assert "| tem/TEM_1208_tyonhakijat_2019-2024.xlsx | 1208 | 244 Kempele | 2022M06 |" in \
        data.metadata["sample"].value


def test_a_failed_staging_check_shows_its_rows_in_the_summary(folder, tmp_path):
    """Before: only 'published_rate_matches (1 offending rows)'."""
    raw, marts = folder
    p = raw / "tem" / "tem4253_aktivointiaste.csv"
    lines = p.read_bytes().decode("cp1252").split("\r\n")
    i = next(i for i, ln in enumerate(lines) if ln.startswith("244 Kempele;2022M05;"))
    cells = lines[i].split(";")
    cells[2] = "99,9"
    lines[i] = ";".join(cells)
    p.write_bytes("\r\n".join(lines).encode("cp1252"))
    code, log = _run(raw, marts, tmp_path)
    assert code == 1
    summary = log[log.index("\nchecks: "):]
    assert ("check failed: marts/indicator_values_by_source published_rates_match "
            "(1 offending rows)") in summary
    row = summary.split("published_rates_match (1 offending rows)\n")[1].splitlines()[1]
    assert row.split()[:5] == ["KU244", "2022-05-01", "ltu_activation_rate_pct", "TEM",
                               "4253"], summary
    assert "99.9" in row, summary


def _shorten_period(path, last_month: str) -> None:
    """Drop every row after ``last_month`` (all areas alike): a shorter, complete file."""
    data = path.read_bytes().decode("utf-8-sig").split("\r\n")
    kept = [ln for ln in data if not (ln[:3].isdigit() and ln.split(";")[1] > last_month)]
    path.write_bytes("\r\n".join(kept).encode("utf-8-sig"))


def test_a_new_version_with_a_shorter_period_needs_accept_shorter(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW / "tem", raw / "tem")
    con = duckdb.connect()
    load_family(con, raw, "tem")
    _shorten_period(raw / TEM_1356, "2024M09")
    with pytest.raises(RawInputError) as err:
        load_family(con, raw, "tem")
    assert str(err.value) == (
        f"{TEM_1356}: covers 2019M01–2024M09 and 8 areas, but the version it replaces covered "
        "2019M01–2024M12 and 8 areas: it lacks the months 2024M10–2024M12; if the shorter "
        "file is intended, run with --accept-shorter")
    in_force = "select file_sha256 from raw.file_versions where file = ? and in_force"
    old = con.execute(in_force, [TEM_1356]).fetchall()
    result = load_family(con, raw, "tem", accept_shorter=True)
    assert result.shorter and con.execute(in_force, [TEM_1356]).fetchall() != old
    check = (BUNDLED_RAW.parent.parent / "pipeline" / "sql" / "checks"
             / "raw_tem__every_area_has_every_month.sql").read_text(encoding="utf-8")
    assert con.execute(check).fetchall() == []  # shorter, but whole


def test_negative_counts_are_refused_by_the_reader_with_file_and_cell(tmp_path):
    path = tmp_path / "TEM_1208.xlsx"
    shutil.copy(BUNDLED_RAW / TEM_1208, path)
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    row = next(c.row for c in ws["A"] if c.value == "244 Kempele"
               and ws.cell(c.row, 2).value == "2022M06")
    ws.cell(row, 5).value = -3  # Työttömät työnhakijat
    wb.save(path)
    con = duckdb.connect()
    con.execute("begin transaction")
    with pytest.raises(RawInputError) as err:
        load_tem(con, RawFile.of(path, tmp_path), _ctx())
    con.execute("rollback")
    assert str(err.value) == (f"TEM_1208.xlsx, Raportti!E{row}: 'Työttömät työnhakijat' holds "
                              "-3: a count or rate cannot be negative")


def _ctx():
    from datetime import datetime

    from pipeline.readers.common import LoadContext

    return LoadContext("test", datetime(2025, 1, 1))


def test_a_kela_municipality_missing_a_month_fails_the_kela_check(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW / "kela", raw / "kela")
    p = raw / "kela" / "data.csv"
    lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
    total = "Kuukausi,5,202205,2022,244,Kempele,Yhteensä,Yhteensä,Yhteensä,"
    [line] = [i for i, ln in enumerate(lines) if ln.startswith(total)]
    del lines[line]
    p.write_text("".join(lines), encoding="utf-8")
    con = duckdb.connect()
    load_family(con, raw, "kela")
    check = (BUNDLED_RAW.parent.parent / "pipeline" / "sql" / "checks"
             / "raw_kela__every_municipality_has_every_month.sql").read_text(encoding="utf-8")
    assert con.execute(check).fetchall() == [
        ("kela/data.csv", "244", "Kempele", 202205, "no total row", None)]
