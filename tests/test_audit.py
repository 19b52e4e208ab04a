"""The auditors' warehouse: lineage, read-only access, documentation, Parquet, vintages, and
readers that keep working while a run publishes."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import textwrap
import time

import duckdb
import openpyxl
import pytest
from conftest import ROOT, copy_of_run

from pipeline.dictionary import undocumented
from pipeline.runner import run_pipeline
from pipeline.verify import read_reference


@pytest.fixture(scope="module")
def run_dirs(bundled_run_once, tmp_path_factory):
    return copy_of_run(bundled_run_once, tmp_path_factory, "audit")


def ro(base):
    return duckdb.connect(str(base / "marts" / "indicators.duckdb"), read_only=True)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True,
                          text=True, cwd=ROOT)


def test_lineage_of_kuvio_8_values_adds_up_to_the_published_figure(run_dirs):
    con = ro(run_dirs)
    for ref in [r for r in read_reference() if r["figure"] == "kuvio_8"][::9]:
        month = ref["period"] + "-01"
        rows = con.execute("select municipality_code, value, file, place from "
                           "audit.lineage('pilot_area', 'long_term_unemployed', ?)",
                           [month]).fetchall()
        assert len(rows) == 8  # one raw cell per pilot municipality
        assert all(r[2].endswith(".xlsx") and r[3].startswith("Raportti!F") for r in rows)
        assert sum(r[1] for r in rows) == float(ref["value"])


def test_lineage_cell_is_the_raw_file_cell(run_dirs):
    """Open the workbook independently and read the cell the lineage names."""
    con = ro(run_dirs)
    file, place, value = con.execute(
        "select file, place, value from audit.lineage('KU564', 'long_term_unemployed', "
        "'2023-06-01')").fetchall()[0]
    sheet, cell = place.split("!")
    ws = openpyxl.load_workbook(run_dirs / "raw" / file, read_only=True)[sheet]
    assert ws[cell].value == value
    assert ws[f"A{cell[1:]}"].value == "564 Oulu" and ws[f"B{cell[1:]}"].value == "2023M06"


def test_lineage_of_a_rate_recomputes_it(run_dirs):
    con = ro(run_dirs)
    rows = dict(con.execute(
        "select measure, sum(value) from audit.lineage('pilot_area', 'ltu_activation_rate_pct', "
        "'2022-03-01') group by measure").fetchall())
    s, ltu = rows["Palveluissa olevat pitkäaikaistyöttömät"], rows["Pitkäaikaistyöttömät"]
    mart = con.execute("select value from marts.indicators_monthly where area_code = "
                       "'pilot_area' and indicator = 'ltu_activation_rate_pct' and month = "
                       "'2022-03-01'").fetchall()[0][0]
    assert mart == pytest.approx(100 * s / (s + ltu))
    starts = con.execute("select month from audit.lineage('KU564', 'inflow_12m_ratio_pct', "
                         "'2022-01-01') where measure = 'Alkaneet työttömyysjaksot'").fetchall()
    assert [str(m[0]) for m in starts] == ["2021-01-01"]  # twelve months before, across a year


def test_sql_command_reads_and_refuses_writes(run_dirs):
    marts = str(run_dirs / "marts")
    ok = cli("sql", "select count(*) as n from marts.indicators_monthly", "--marts-dir", marts,
             "--csv")
    assert ok.returncode == 0 and ok.stdout.splitlines()[0] == "n"
    assert int(ok.stdout.splitlines()[1]) > 10_000
    for stmt in ("create table marts.x (a int)",
                 "delete from marts.indicators_monthly",
                 "update marts.indicators_monthly set value = 0"):
        res = cli("sql", stmt, "--marts-dir", marts)
        assert res.returncode == 1
        assert "read-only" in res.stderr
    con = ro(run_dirs)
    assert con.execute("select count(*) from marts.indicators_monthly where value = 0 "
                       "and indicator = 'jobseekers'").fetchall() == [(0,)]


def test_every_mart_and_audit_column_is_documented(run_dirs, tmp_path):
    con = ro(run_dirs)
    missing = [n for n in undocumented(con) if n.startswith(("marts.", "audit.", "staging."))]
    assert missing == []
    out = tmp_path / "dictionary.md"
    res = cli("dictionary", "--marts-dir", str(run_dirs / "marts"), "--out", str(out))
    assert res.returncode == 0, res.stderr
    text = out.read_text(encoding="utf-8")
    assert "### `marts.indicators_monthly` (table)" in text
    assert "| `area_code` | VARCHAR |" in text and "aktivointiaste" in text


def test_marts_as_parquet(run_dirs):
    con = ro(run_dirs)
    tables = [r[0] for r in con.execute("select table_name from duckdb_tables() where "
                                        "schema_name = 'marts'").fetchall()]
    assert "indicators_monthly" in tables
    for t in tables:
        p = run_dirs / "marts" / "parquet" / f"{t}.parquet"
        n_parquet = duckdb.sql(f"select count(*) from read_parquet('{p}')").fetchall()[0][0]
        assert n_parquet == con.execute(f"select count(*) from marts.{t}").fetchall()[0][0]


def test_audit_runs_records_inputs_and_checksums(run_dirs):
    con = ro(run_dirs)
    run = con.execute("select run_id, code_version, json_array_length(input_files), "
                      "mart_checksums->>'$.\"marts.indicators_monthly\"' from audit.runs "
                      "order by published_at desc limit 1").fetchall()[0]
    assert len(run[0]) == 36 and run[1]
    assert run[2] == 7  # the seven bundled raw files
    assert len(run[3]) == 32
    log = con.execute("select count(*), count(distinct file) from audit.load_log "
                      "where status = 'loaded'").fetchall()[0]
    assert log == (7, 7)


def test_revised_download_keeps_old_vintage_and_lists_the_change(run_dirs, tmp_path):
    raw, marts = tmp_path / "raw", tmp_path / "marts"
    shutil.copytree(run_dirs / "raw", raw)
    shutil.copytree(run_dirs / "marts", marts)
    wb_path = next(raw.rglob("*1208*.xlsx"))
    wb = openpyxl.load_workbook(wb_path)
    ws = wb.worksheets[0]
    row = next(r for r in ws.iter_rows() if r[0].value == "564 Oulu" and r[1].value == "2022M05")
    old = row[2].value  # Kuntakokeilun asiakkaat
    row[2].value = old + 10
    ws["A2"] = "Poimittu 15.02.2025"  # TEM's later extraction, same file name
    wb.save(wb_path)
    out = io.StringIO()
    assert run_pipeline(str(raw), str(marts), str(tmp_path / "reports"), out=out) == 0, \
        out.getvalue()
    con = duckdb.connect(str(marts / "indicators.duckdb"), read_only=True)
    revs = con.execute("select source, area_code, month, measure, old_value, new_value, "
                       "old_vintage_date, new_vintage_date from audit.revisions").fetchall()
    assert revs == [("TEM 1208", "KU564", __import__("datetime").date(2022, 5, 1),
                     "Kuntakokeilun asiakkaat", float(old), float(old + 10),
                     __import__("datetime").date(2025, 1, 15),
                     __import__("datetime").date(2025, 2, 15))]
    versions = con.execute("select count(distinct file_sha256) from raw.tem_report_cells "
                           "where file = ?", [wb_path.relative_to(raw).as_posix()]).fetchall()
    assert versions == [(2,)]
    new_value = con.execute("select value from marts.indicators_monthly where area_code = "
                            "'KU564' and indicator = 'pilot_clients' and month = '2022-05-01'"
                            ).fetchall()
    assert new_value == [(float(old + 10),)]


READER = textwrap.dedent("""
    import sys, time, duckdb, pathlib
    db, stop, out = sys.argv[1], pathlib.Path(sys.argv[2]), open(sys.argv[3], 'w')
    n = 0
    while not stop.exists():
        try:
            con = duckdb.connect(db, read_only=True)
            runs = con.execute('select count(*) from audit.runs').fetchall()[0][0]
            rows = con.execute('select count(*) from marts.indicators_monthly').fetchall()[0][0]
            con.close()
            out.write(f'ok {runs} {rows}\\n')
        except Exception as e:
            out.write(f'error {type(e).__name__}: {e}\\n'.replace(chr(10), ' ') + '\\n')
        n += 1
        time.sleep(0.05)
    out.close()
""")


def test_readers_query_the_published_file_during_a_run(run_dirs, tmp_path):
    marts = tmp_path / "marts"
    shutil.copytree(run_dirs / "marts", marts)
    db = marts / "indicators.duckdb"
    before = ro(run_dirs).execute("select count(*) from audit.runs").fetchall()[0][0]
    stop, log = tmp_path / "stop", tmp_path / "reader.log"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db), str(stop), str(log)])
    try:
        time.sleep(1.0)
        out = io.StringIO()
        assert run_pipeline(str(run_dirs / "raw"), str(marts), str(tmp_path / "r"),
                            out=out) == 0, out.getvalue()
        time.sleep(1.0)
    finally:
        stop.touch()
        reader.wait(timeout=30)
    lines = log.read_text().splitlines()
    assert len(lines) > 20
    errors = [ln for ln in lines if not ln.startswith("ok ")]
    assert errors == []
    # Every state a reader saw is a whole one: the old run or the new, never a mix.
    states = {tuple(ln.split()[1:]) for ln in lines}
    assert {s[0] for s in states} <= {str(before), str(before + 1)}
    assert str(before + 1) in {s[0] for s in states}
    assert len({s[1] for s in states}) == 1
