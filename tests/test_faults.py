"""Faults: a run killed at any point of its code path (kill -9) leaves either the published
warehouse as it was, byte for byte, or a complete new publish recorded in ``audit.runs``;
the next run recovers by itself, and draws the charts a killed run published for and did
not draw (issue 13, findings 5 and 11).

The runs here are ``python -m pipeline run`` subprocesses on a temp copy of the bundled TEM
files (enough for every mart and chart, and quicker than all sources). They are killed at
the fault points of ``pipeline/faults.py`` (``PIPELINE_FAULT_AT``): the run writes a marker
file there and waits, the test kills it. No kill depends on how fast the machine is.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import openpyxl
import pytest
from conftest import BUNDLED_RAW, ROOT

from pipeline.audit import checksum, mart_tables
from pipeline.defs.publish import figures_out_of_date
from pipeline.reports_status import status_path
from pipeline.runner import run_pipeline
from pipeline.warehouse import published_path, work_db_path

TTV15 = "tem/TTV15_paattymissyyt.xlsx"
# The TTV15 cell the runs below change (Oulu, March 2022, "Muu tai tuntematon syy"): it
# counts in the pilot area's 2021–2024 total of that reason, which Kuvio 11 plots.
REASON = "Muu tai tuntematon syy"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A good published warehouse and its charts, from the bundled TEM files."""
    root = tmp_path_factory.mktemp("faults")
    d = {"root": root, "raw": root / "raw", "marts": root / "marts",
         "reports": root / "reports"}
    shutil.copytree(BUNDLED_RAW / "tem", d["raw"] / "tem")
    out = io.StringIO()
    assert run_pipeline(str(d["raw"]), str(d["marts"]), str(d["reports"]), out=out) == 0, \
        out.getvalue()
    d["published_sha"] = sha(published_path(d["marts"]))
    d["raw_cells"] = raw_cells(published_path(d["marts"]))
    return d


def raw_cells(db: Path) -> set[tuple]:
    """(file, sha256, rows) of every file version in the TEM raw table."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return set(con.execute("select file, file_sha256, count(*) from raw.tem_report_cells "
                               "group by all").fetchall())
    finally:
        con.close()


def working_raw_cells(d, scratch: Path) -> set[tuple]:
    """What the working database holds after a crash, as the next run will see it: opened
    from a copy (with its WAL, which DuckDB replays) so the run's own files stay untouched."""
    scratch.mkdir(parents=True, exist_ok=True)
    work = work_db_path(d["marts"])
    for f in work.parent.glob(work.name + "*"):
        shutil.copy(f, scratch / f.name)
    return raw_cells(scratch / work.name)


def change_ttv15(d, add: int) -> tuple[tuple[str, str], str]:
    """Add ``add`` to the changed cell in the TTV15 workbook: a new version of the file.
    Returns the new version (file, sha256) and the cell."""
    path = d["raw"] / TTV15
    wb = openpyxl.load_workbook(path)
    ws = wb["Raportti"]
    row = next(r for r in range(1, ws.max_row + 1)
               if (ws.cell(r, 1).value, ws.cell(r, 2).value, ws.cell(r, 3).value)
               == ("564 Oulu", "2022M03", REASON))
    ws.cell(row, 4).value += add
    wb.save(path)
    return (TTV15, sha(path)), f"Raportti!D{row}"


def kuvio_11_spells(d) -> float:
    with (d["reports"] / "kuvio_11.csv").open(encoding="utf-8") as f:
        return next(float(r["spells"]) for r in csv.DictReader(f) if r["reason"] == REASON)


def published_outcome(d, old_sha: str, run_id8: str) -> str:
    """'old' (the published file byte-identical to before) or 'new' (a complete publish by
    the killed run: audit.runs' latest row is that run, and every mart's checksum equals the
    one it recorded). Anything else fails."""
    path = published_path(d["marts"])
    if sha(path) == old_sha:
        return "old"
    con = duckdb.connect(str(path), read_only=True)
    try:
        run_id, recorded = con.execute("select run_id, mart_checksums from audit.runs "
                                       "order by published_at desc limit 1").fetchall()[0]
        assert run_id.startswith(run_id8), "the published file changed, not by the killed run"
        recorded = json.loads(recorded)
        assert recorded and recorded == {t: checksum(con, t) for t in mart_tables(con)}
        assert con.execute("select count(*) from marts.indicators_monthly").fetchall()[0][0]
    finally:
        con.close()
    return "new"


def start_run(d, log: Path, fault: str | None = None, *args: str) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("PIPELINE_FAULT_AT", None)
    if fault:
        env.update(PIPELINE_FAULT_AT=fault,
                   PIPELINE_FAULT_MARKER=str(d["root"] / f"{fault.replace(':', '_')}.marker"))
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", "--raw-dir", str(d["raw"]),
         "--marts-dir", str(d["marts"]), "--reports-dir", str(d["reports"]), *args],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def kill_at(d, fault: str, log: Path, timeout: float = 300) -> str:
    """Start a run, kill -9 it at the fault point; the run's id (8 characters)."""
    marker = d["root"] / f"{fault.replace(':', '_')}.marker"
    marker.unlink(missing_ok=True)
    p = start_run(d, log, fault)
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert p.poll() is None, "the run ended before the fault point:\n" + log.read_text()
        assert time.monotonic() < deadline, "fault point not reached:\n" + log.read_text()
        time.sleep(0.05)
    p.kill()
    p.wait()
    return re.search(r"^run (\w{8}): ", log.read_text(), re.M)[1]


def finish(d, log: Path, *args: str) -> str:
    p = start_run(d, log, None, *args)
    assert p.wait(timeout=600) == 0, log.read_text()
    return log.read_text()


def test_failing_blocking_check_stops_downstream_and_publishes_nothing(base, tmp_path):
    d = {**base, "raw": tmp_path / "raw", "marts": tmp_path / "marts"}
    shutil.copytree(base["raw"], d["raw"])
    shutil.copytree(base["marts"], d["marts"])
    # 4253's long-term unemployed no longer equal 1208's for Oulu, 2019M01 (a blocking check).
    f = d["raw"] / "tem" / "tem4253_aktivointiaste.csv"
    data = f.read_bytes()
    assert b"564 Oulu;2019M01;10,5;355;3010" in data
    f.write_bytes(data.replace(b"564 Oulu;2019M01;10,5;355;3010", b"564 Oulu;2019M01;10,5;355;3011"))
    out = io.StringIO()
    assert run_pipeline(str(d["raw"]), str(d["marts"]), str(tmp_path / "reports"), out=out) == 1
    log = out.getvalue()
    assert "check failed: marts/indicator_values_by_source sources_agree" in log
    ran = set(re.findall(r"^\[\s*\d+/\d+\] (\S+)", log, re.M))
    assert "raw/tem" in ran and "staging/stg_tem_cells" in ran
    assert "FAILED marts/indicator_values_by_source: " in log
    assert "marts/indicator_values_by_source" not in ran
    assert not ran & {"marts/indicators_monthly", "published/indicators_warehouse"}
    assert not any(k.startswith("reports/") for k in ran)
    assert "not run: upstream of them failed" in log and "nothing was published" in log
    assert sha(published_path(d["marts"])) == base["published_sha"]
    assert not (tmp_path / "reports").exists() or not list((tmp_path / "reports").iterdir())


def test_kill_9_at_each_fault_point_keeps_or_completes_the_publish_and_recovers(base):
    """One run killed at each fault point in turn, the next run recovering. Before the
    publish rename the published file must be the old one, byte for byte; from the rename
    on, a complete new publish recorded in audit.runs; a run killed after publishing owes
    its charts, and ``run --changed-only`` draws them (finding 5)."""
    d = base
    logs = d["root"] / "logs"
    logs.mkdir()
    old_spells = kuvio_11_spells(d)
    status = status_path(d["marts"])

    # A new version of TTV15: +100 spells for one reason (Kuvio 11 plots its total).
    v1, _cell = change_ttv15(d, 100)

    # Inside TEM's raw load, its rows written, before the commit: the rows are gone.
    run = kill_at(d, "raw_load:tem", logs / "raw_load.log")
    assert published_outcome(d, d["published_sha"], run) == "old"
    assert working_raw_cells(d, d["root"] / "scratch_raw") == d["raw_cells"]

    # After a model is built and committed (the raw load committed before it: whole).
    run = kill_at(d, "model_built:staging.stg_tem_cells", logs / "model.log")
    assert published_outcome(d, d["published_sha"], run) == "old"
    held = working_raw_cells(d, d["root"] / "scratch_model")
    assert {(f, s) for f, s, _ in held} == {(f, s) for f, s, _ in d["raw_cells"]} | {v1}
    rows = {f: n for f, _s, n in d["raw_cells"]}
    assert all(n == rows[f] for f, _s, n in held)  # every version whole, the new one too

    # The published file's temp copy complete, not yet renamed over the published file.
    run = kill_at(d, "before_publish_rename", logs / "before_rename.log")
    assert published_outcome(d, d["published_sha"], run) == "old"
    stale = list(d["marts"].glob(".indicators.duckdb.*.tmp"))
    assert stale, "the temp copy should be left behind by the killed run"

    # Right after the publish step, before the charts: a complete new publish, charts owed.
    killed = kill_at(d, "after_publish", logs / "after_publish.log")
    # Each run first removes what dead runs left: this one the temp copy.
    assert f"recovered: removed {stale[0].name}" in (logs / "after_publish.log").read_text()
    assert published_outcome(d, d["published_sha"], killed) == "new"
    assert kuvio_11_spells(d) == old_spells  # the chart still shows the old warehouse
    state = json.loads(status.read_text())
    [killed_id] = [r for r in state["runs"] if r.startswith(killed)]
    assert state["pending"]["kuvio_11"] == killed_id
    assert state["runs"][killed_id]["published_at"]
    assert state["runs"][killed_id]["reports_made_at"] is None  # not listed as complete

    # The next run needs no manual step: it frees the dead run's pool slot and, with
    # nothing else changed, draws the charts the killed run owed.
    text = finish(d, logs / "recovery.log", "--changed-only")
    assert f"recovered: run {killed}" in text and "pool slot freed" in text
    assert f"charts not finished by run {killed}: " in text and "reports/kuvio_11" in text
    assert "charts in " in text and "nothing changed" not in text
    assert not list(d["marts"].glob(".indicators.duckdb.*")), "temp files left"
    assert kuvio_11_spells(d) == old_spells + 100  # hand-computed: the cell got +100
    state = json.loads(status.read_text())
    assert state["pending"] == {}
    recovery = re.search(r"^run (\w{8}): ", text, re.M)[1]
    assert state["runs"][killed_id]["reports_made_by"].startswith(recovery)
    published_sha = sha(published_path(d["marts"]))
    assert published_outcome(d, published_sha, killed) == "old"  # charts only: not republished

    # During the charts (one figure drawn, the rest not): a new publish, the rest owed.
    change_ttv15(d, 100)
    killed = kill_at(d, "during_charts", logs / "during_charts.log")
    assert published_outcome(d, published_sha, killed) == "new"
    owed = json.loads(status.read_text())["pending"]
    every = figures_out_of_date(None)  # the 12 figures and the book of them all
    assert 0 < len(owed) < len(every) and {r[:8] for r in owed.values()} == {killed}
    if "kuvio_11" not in owed:  # the one drawn before the kill
        assert kuvio_11_spells(d) == old_spells + 200
    text = finish(d, logs / "recovery2.log", "--changed-only")
    assert f"charts not finished by run {killed}: " in text
    assert kuvio_11_spells(d) == old_spells + 200
    assert json.loads(status.read_text())["pending"] == {}
    text = finish(d, logs / "nothing.log", "--changed-only")
    assert "nothing changed since the published run" in text
