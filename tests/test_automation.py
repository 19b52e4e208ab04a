"""Unattended running: the monthly schedule, the raw-folder sensor, the writer pool, the
instance settings, and ``run --changed-only`` giving what a full run gives."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from conftest import BUNDLED_RAW, write_tem_csv
from dagster import (
    AssetKey,
    AssetSelection,
    DagsterInstance,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    build_schedule_context,
    build_sensor_context,
)

from pipeline.__main__ import DAGSTER_YAML, dagster_home
from pipeline.definitions import build_defs
from pipeline.defs import automation
from pipeline.defs.automation import (
    CHANGED_TAG,
    REFRESH_JOB,
    dump_cursor,
    fingerprint,
    load_cursor,
    monthly_refresh,
    raw_folder_sensor,
)
from pipeline.defs.ingest import WRITER_POOL
from pipeline.defs.resources import PipelinePaths
from pipeline.runner import run_pipeline
from pipeline.warehouse import published_path

HELSINKI = ZoneInfo("Europe/Helsinki")
KELA_HEAD = 4  # header and three lines of the bundled Kela file: enough to be recognised


# --- the schedule ---------------------------------------------------------------------------


def test_schedule_is_monthly_on_the_28th_at_six_helsinki_time():
    # croniter is vendored inside dagster 1.13; this is the iterator the daemon ticks by.
    from dagster._utils.schedules import schedule_execution_time_iterator

    assert monthly_refresh.cron_schedule == "0 6 28 * *"
    assert monthly_refresh.execution_timezone == "Europe/Helsinki"
    assert monthly_refresh.default_status == DefaultScheduleStatus.RUNNING
    start = datetime(2025, 1, 29, 12, 0, tzinfo=HELSINKI)  # just after January's tick
    ticks = schedule_execution_time_iterator(start.timestamp(), monthly_refresh.cron_schedule,
                                             monthly_refresh.execution_timezone)
    got = [next(ticks) for _ in range(3)]
    assert got == [datetime(2025, 2, 28, 6, 0, tzinfo=HELSINKI),   # February has a 28th
                   datetime(2025, 3, 28, 6, 0, tzinfo=HELSINKI),   # 06:00 EET, then
                   datetime(2025, 4, 28, 6, 0, tzinfo=HELSINKI)]   # 06:00 EEST (03:00 UTC)
    assert got[2].astimezone(ZoneInfo("UTC")).hour == 3


def test_schedule_requests_a_fetch_then_a_full_run():
    defs = build_defs()
    assert defs.resolve_schedule_def("monthly_refresh") is not None
    with DagsterInstance.ephemeral() as instance:
        ctx = build_schedule_context(instance=instance, scheduled_execution_time=datetime(
            2025, 2, 28, 6, 0, tzinfo=HELSINKI))
        result = monthly_refresh.evaluate_tick(ctx)
    [request] = result.run_requests
    assert request.asset_selection is None  # the whole job
    assert request.tags[automation.TRIGGER_TAG] == "schedule"
    graph = defs.resolve_asset_graph()
    everything = set(graph.materializable_asset_keys)
    fetches = {AssetKey(["fetch", "statfin"]), AssetKey(["fetch", "kela"])}
    monthly = defs.resolve_job_def(automation.FETCH_JOB)
    assert set(monthly.asset_layer.executable_asset_keys) == everything
    # Each public source is loaded after its fetch, in the same run.
    assert graph.get(AssetKey(["raw", "statfin"])).parent_keys == {AssetKey(["fetch", "statfin"])}
    assert graph.get(AssetKey(["raw", "kela"])).parent_keys == {AssetKey(["fetch", "kela"])}
    # The sensor's and `run`'s job never touches the network.
    refresh = defs.resolve_job_def(REFRESH_JOB)
    assert set(refresh.asset_layer.executable_asset_keys) == everything - fetches
    assert monthly.executor_def.name == refresh.executor_def.name == "in_process"


# --- the sensor -----------------------------------------------------------------------------


def _settle(path: Path, age: float = 60.0) -> None:
    """Give the file an mtime in the past, as a file copied in a while ago has."""
    t = time.time() - age
    os.utime(path, (t, t))


@pytest.fixture
def folder(tmp_path):
    """A small raw folder (one TEM report, a short Kela file) and an empty marts folder."""
    raw = tmp_path / "raw"
    write_tem_csv(raw / "tem" / "a_1208.csv", "1208", [["564 Oulu", "2022M01", 10, 100, 50, 30]])
    lines = (BUNDLED_RAW / "kela" / "data.csv").read_text(encoding="utf-8").splitlines()
    (raw / "kela").mkdir()
    (raw / "kela" / "data.csv").write_text("\n".join(lines[:KELA_HEAD]) + "\n", encoding="utf-8")
    (raw / "README.md").write_text("ignored")
    for p in raw.rglob("*"):
        if p.is_file():
            _settle(p, 120)
    return {"raw": raw, "marts": tmp_path / "marts"}


def _publish_fake(folder, fp, tables: dict[str, str] | None = None) -> None:
    """A published warehouse whose audit.runs says it was built from ``fp``'s files."""
    tables = tables or {"tem": "raw.tem_report_cells", "kela": "raw.kela_municipal_share"}
    path = published_path(folder["marts"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema audit")
    con.execute("create table audit.runs (run_id VARCHAR, published_at TIMESTAMP, "
                "code_version VARCHAR, input_files JSON, mart_checksums JSON, mart_rows JSON)")
    files = [{"file": rel, "file_sha256": st.sha256, "table": tables[st.family]}
             for rel, st in fp.items() if st.family]
    con.execute("insert into audit.runs values ('r1', now(), 'v1', ?, '{}', '{}')",
                [json.dumps(files)])
    con.close()


def _tick(folder, cursor=None):
    defs = build_defs(str(folder["raw"]), str(folder["marts"]), str(folder["marts"] / "r"))
    paths = PipelinePaths(raw_dir=str(folder["raw"]), marts_dir=str(folder["marts"]))
    with DagsterInstance.ephemeral() as instance:
        ctx = build_sensor_context(instance=instance, cursor=cursor, definitions=defs,
                                   resources={"paths": paths})
        return raw_folder_sensor(ctx)


def test_make_dev_starts_the_schedule_and_sensor_stopped():
    """`make dev` sets PIPELINE_AUTOMATION=stopped; `make serve` leaves them running."""
    code = ("from pipeline.defs.automation import monthly_refresh as s, raw_folder_sensor as r;"
            "print(s.default_status.value, r.default_status.value)")
    env = {k: v for k, v in os.environ.items() if k != automation.AUTOMATION_ENV}
    run = [sys.executable, "-c", code]
    assert subprocess.run(run, env=env, capture_output=True, text=True,
                          check=True).stdout.split() == ["RUNNING", "RUNNING"]
    assert subprocess.run(run, env={**env, automation.AUTOMATION_ENV: "stopped"},
                          capture_output=True, text=True,
                          check=True).stdout.split() == ["STOPPED", "STOPPED"]
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    dev = makefile.split("\ndev:", 1)[1].split("\n\n", 1)[0]
    serve = makefile.split("\nserve:", 1)[1].split("\n\n", 1)[0]
    assert f"{automation.AUTOMATION_ENV}=stopped" in dev
    assert automation.AUTOMATION_ENV not in serve


def _keys(request) -> set[str]:
    return {k.to_user_string() for k in request.asset_selection}


def test_sensor_first_tick_runs_everything_and_remembers_hashes(folder):
    assert raw_folder_sensor.default_status == DefaultSensorStatus.RUNNING
    result = _tick(folder)
    [request] = result.run_requests
    assert request.asset_selection is None and request.tags[CHANGED_TAG] == "all"
    cursor = json.loads(result.cursor)
    assert set(cursor) == {"tem/a_1208.csv", "kela/data.csv"}  # README.md is ignored
    assert cursor["kela/data.csv"]["family"] == "kela"
    assert cursor["tem/a_1208.csv"]["family"] == "tem"
    assert len(cursor["kela/data.csv"]["sha256"]) == 64


def test_sensor_runs_only_on_content_changes(folder, monkeypatch):
    first = _tick(folder)
    _publish_fake(folder, load_cursor(first.cursor))
    kela = folder["raw"] / "kela" / "data.csv"

    # Nothing changed: no run.
    second = _tick(folder, first.cursor)
    assert not second.run_requests and "no file changed" in second.skip_reason.skip_message

    # Touched (a new mtime, same bytes): hashed again, still no run; the new mtime is kept,
    # so the next tick does not read the file again.
    _settle(kela, 30)
    third = _tick(folder, second.cursor)
    assert not third.run_requests
    assert load_cursor(third.cursor)["kela/data.csv"].mtime_ns == kela.stat().st_mtime_ns
    reads = []
    real = automation.file_sha256
    monkeypatch.setattr(automation, "file_sha256", lambda p: reads.append(p) or real(p))
    assert not _tick(folder, third.cursor).run_requests
    assert reads == []  # size and mtime unchanged: no file was read
    monkeypatch.undo()

    # One value changed: the Kela raw asset and everything downstream of it, nothing else.
    lines = kela.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1][:-1] + ("1" if lines[1][-1] != "1" else "2")
    kela.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _settle(kela, 20)
    fourth = _tick(folder, third.cursor)
    [request] = fourth.run_requests
    keys = _keys(request)
    assert {"raw/kela", "staging/stg_kela_municipal_share", "marts/municipal_share_yearly",
            "published/indicators_warehouse", "reports/kuntaosuus"} <= keys
    assert not keys & {"raw/tem", "raw/statfin", "staging/area_members",
                       "marts/indicator_catalogue"}
    # Everything downstream of raw/kela: Kela's indicators are in the shared marts
    # (indicators_monthly …), so every figure follows them.
    defs = build_defs(str(folder["raw"]), str(folder["marts"]))
    graph = defs.resolve_asset_graph()
    expected = AssetSelection.assets(AssetKey(["raw", "kela"])).downstream().resolve(graph)
    assert set(request.asset_selection) == expected & set(graph.materializable_asset_keys)
    assert {c.asset_key.to_user_string() for c in request.asset_check_keys} <= keys
    assert request.tags[CHANGED_TAG] == "kela"
    # The run was requested: the same state does not request it again.
    assert not _tick(folder, fourth.cursor).run_requests

    # A new file of another family: that family's part.
    new = write_tem_csv(folder["raw"] / "tem" / "b_4253.csv", "4253",
                        [["564 Oulu", "2022M01", 30, 10, 25.0]])
    _settle(new)
    fifth = _tick(folder, fourth.cursor)
    [request] = fifth.run_requests
    keys = _keys(request)
    assert {"raw/tem", "staging/stg_tem_cells", "marts/indicators_monthly"} <= keys
    assert "raw/kela" in keys  # the published warehouse is still behind on Kela (see above)

    # A removed file is a change too.
    _publish_fake(folder, load_cursor(fifth.cursor))
    new.unlink()
    sixth = _tick(folder, fifth.cursor)
    [request] = sixth.run_requests
    assert "raw/tem" in _keys(request) and "raw/kela" not in _keys(request)


def test_sensor_draws_the_charts_a_killed_run_owes_without_a_file_change(folder):
    """Issue 13, finding 5: a run that published and was killed before its charts leaves
    them owed (reports_status); the next tick runs just those charts, once."""
    from pipeline import reports_status

    first = _tick(folder)
    _publish_fake(folder, load_cursor(first.cursor))
    reports_status.before_publish(folder["marts"], "r1", ["kuvio_11", "figures"])
    reports_status.published(folder["marts"], "r1")
    second = _tick(folder, first.cursor)
    [request] = second.run_requests
    assert _keys(request) == {"reports/kuvio_11", "reports/figures"}
    assert request.tags[CHANGED_TAG] == "charts owed"
    assert _tick(folder, second.cursor).run_requests[0].run_key == request.run_key  # once
    reports_status.drawn(folder["marts"], "kuvio_11", "r2")
    reports_status.drawn(folder["marts"], "figures", "r2")
    third = _tick(folder, second.cursor)
    assert not third.run_requests and "no file changed" in third.skip_reason.skip_message
    state = json.loads(reports_status.status_path(folder["marts"]).read_text())
    assert state["runs"]["r1"]["reports_made_by"] == "r2"


def test_sensor_waits_for_a_file_still_being_written(folder):
    first = _tick(folder)
    _publish_fake(folder, load_cursor(first.cursor))
    new = write_tem_csv(folder["raw"] / "tem" / "c_4253.csv", "4253",
                        [["564 Oulu", "2022M01", 30, 10, 25.0]])  # mtime: now
    second = _tick(folder, first.cursor)
    assert not second.run_requests and "still being written" in second.skip_reason.skip_message
    assert "tem/c_4253.csv" not in load_cursor(second.cursor)
    _settle(new)
    assert _tick(folder, second.cursor).run_requests


def test_sensor_ignores_unrecognised_files_and_survives_a_bad_cursor(folder):
    first = _tick(folder)
    _publish_fake(folder, load_cursor(first.cursor))
    junk = folder["raw"] / "notes.txt"
    junk.write_text("not a source file")
    _settle(junk)
    second = _tick(folder, first.cursor)
    assert not second.run_requests and "not recognised" in second.skip_reason.skip_message
    assert load_cursor("not json") == {}
    assert load_cursor(dump_cursor(load_cursor(second.cursor))) == load_cursor(second.cursor)


def test_fingerprint_skips_hashing_when_size_and_mtime_are_unchanged(folder, monkeypatch):
    fp, _ = fingerprint(folder["raw"])
    monkeypatch.setattr(automation, "file_sha256", lambda p: pytest.fail(f"read {p}"))
    again, _ = fingerprint(folder["raw"], fp)
    assert again == fp


def test_definitions_show_the_schedule_sensor_and_job():
    defs = build_defs()
    assert defs.resolve_sensor_def("raw_folder_sensor").job_name == REFRESH_JOB
    assert defs.resolve_schedule_def("monthly_refresh").job_name == automation.FETCH_JOB


# --- the instance: one writer ------------------------------------------------------------------


def test_dagster_home_writes_the_pool_limit_and_keeps_telemetry_off(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert dagster_home() == home.resolve()
    text = (home / "dagster.yaml").read_text()
    assert text == DAGSTER_YAML
    assert "telemetry:\n  enabled: false" in text and "default_limit: 1" in text
    # The previous default file is upgraded; one someone edited is left alone.
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    dagster_home()
    assert (home / "dagster.yaml").read_text() == DAGSTER_YAML
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n# mine\n")
    dagster_home()
    assert (home / "dagster.yaml").read_text().endswith("# mine\n")


def test_session_instance_limits_the_writer_pool_to_one():
    with DagsterInstance.get() as instance:
        cfg = instance.event_log_storage.get_pool_config()
        assert cfg.default_pool_limit == 1
        assert instance.get_settings("telemetry") == {"enabled": False}


WRITER_SCRIPT = """
import sys, time
from dagster import DagsterInstance, asset, materialize

@asset(name=sys.argv[1], pool="warehouse_writer")
def writer() -> None:
    start = time.time()
    time.sleep(1.0)
    print(start, time.time(), flush=True)

with DagsterInstance.get() as instance:
    sys.exit(0 if materialize([writer], instance=instance).success else 1)
"""


def test_two_runs_started_together_take_turns_on_the_writer_pool(tmp_path):
    """Two processes, one instance: the second's writing step waits for the pool's one slot."""
    assert WRITER_POOL == "warehouse_writer"
    with DagsterInstance.get():  # the instance's tables exist before both start
        pass
    procs = [subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, name], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in ("writer_a", "writer_b")]
    spans = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]
        spans.append(tuple(float(x) for x in out.split()))
    (_a0, a1), (b0, _b1) = sorted(spans)
    assert b0 >= a1  # no overlap: the second waited instead of failing


# --- changed only = full ---------------------------------------------------------------------


def _last_run(marts: Path) -> dict:
    con = duckdb.connect(str(published_path(marts)), read_only=True)
    try:
        run_id, checks, rows = con.execute(
            "select run_id, mart_checksums, mart_rows from audit.runs "
            "order by published_at desc limit 1").fetchall()[0]
    finally:
        con.close()
    return {"run_id": run_id, "checksums": json.loads(checks), "rows": json.loads(rows)}


def _no_reports(raw, marts) -> list[AssetKey]:
    graph = build_defs(str(raw), str(marts)).resolve_asset_graph()
    return sorted(k for k in graph.materializable_asset_keys if k.path[0] != "reports")


def test_same_inputs_same_marts_and_changed_only_equals_a_full_run(tmp_path):
    """Idempotence (same working database, and a fresh one) and ``--changed-only``."""
    raw = tmp_path / "raw"
    for family in ("tem", "kela"):  # StatFin is large and not needed here
        shutil.copytree(BUNDLED_RAW / family, raw / family)
    a, fresh = tmp_path / "a", tmp_path / "fresh"
    out = io.StringIO()
    assert run_pipeline(str(raw), str(a), str(tmp_path / "r"), out=out,
                        selection=_no_reports(raw, a)) == 0, out.getvalue()
    first = _last_run(a)
    assert run_pipeline(str(raw), str(a), str(tmp_path / "r"), out=out,
                        selection=_no_reports(raw, a)) == 0, out.getvalue()
    second = _last_run(a)
    assert second["run_id"] != first["run_id"]
    assert second["checksums"] == first["checksums"] and second["rows"] == first["rows"]

    # Nothing changed: --changed-only does nothing.
    out = io.StringIO()
    assert run_pipeline(str(raw), str(a), str(tmp_path / "r"), out=out, changed_only=True) == 0
    assert "nothing changed since the published run" in out.getvalue()
    assert _last_run(a)["run_id"] == second["run_id"]

    # One Kela value changed: only Kela's part runs, and gives what a fresh full run gives.
    kela = raw / "kela" / "data.csv"
    lines = kela.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",1234.56"
    kela.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = io.StringIO()
    assert run_pipeline(str(raw), str(a), str(tmp_path / "r"), out=out,
                        changed_only=True) == 0, out.getvalue()
    log = out.getvalue()
    assert "changed: kela" in log and "(downstream of kela)" in log
    ran = set(re.findall(r"^\[\s*\d+/\d+\] (\S+)", log, re.M))
    assert {"raw/kela", "staging/stg_kela_municipal_share", "marts/municipal_share_yearly",
            "published/indicators_warehouse"} <= ran
    assert not ran & {"raw/tem", "raw/statfin", "staging/area_members"}
    assert "reports/kuntaosuus" in ran and "reports/figures" in ran
    # The checks of the assets that ran, and only they, ran with them.
    _keys_kela, checks_kela = automation.downstream_selection(
        ["kela"], build_defs(str(raw), str(a)).resolve_asset_graph())
    assert f"checks: {len(checks_kela)} passed, 0 warned, 0 failed" in log
    incremental = _last_run(a)
    assert run_pipeline(str(raw), str(fresh), str(tmp_path / "r2"), out=out,
                        selection=_no_reports(raw, fresh)) == 0, out.getvalue()
    full = _last_run(fresh)
    assert incremental["checksums"] == full["checksums"]
    changed = {t for t in full["checksums"] if full["checksums"][t] != first["checksums"][t]}
    # The marts that hold Kela's indicators; not TTV15's spell endings nor the catalogue.
    assert changed == {"marts.indicator_raw_values", "marts.indicator_values_by_source",
                       "marts.indicators_monthly", "marts.indicators_yearly",
                       "marts.area_month_counts", "marts.municipal_share_yearly"}

    # The earlier download put back: it is in force again (it was loaded before, so it is not
    # read again), and the marts are the first run's.
    kela.write_bytes((BUNDLED_RAW / "kela" / "data.csv").read_bytes())
    out = io.StringIO()
    assert run_pipeline(str(raw), str(a), str(tmp_path / "r"), out=out,
                        selection=_no_reports(raw, a), changed_only=True) == 0, out.getvalue()
    assert "changed: kela (1 file(s) with new content)" in out.getvalue()
    assert _last_run(a)["checksums"] == first["checksums"]
    con = duckdb.connect(str(published_path(a)), read_only=True)
    try:
        versions = con.execute("select file_sha256, in_force from raw.file_versions "
                               "where file = 'kela/data.csv' order by loaded_at").fetchall()
        loads = con.execute("select status from audit.load_log where file = 'kela/data.csv' "
                            "order by loaded_at").fetchall()
    finally:
        con.close()
    assert [now for _sha, now in versions] == [True, False]
    assert [s for (s,) in loads] == ["loaded", "new version"]


def test_incremental_selection_keeps_only_the_changed_familys_raw_asset(tmp_path):
    graph = build_defs(str(BUNDLED_RAW), str(tmp_path)).resolve_asset_graph()

    def reports(family: str) -> set[str]:
        keys, _checks = automation.downstream_selection([family], graph)
        return {k.path[1] for k in keys if k.path[0] == "reports"}

    # Every family feeds the catalogue's shared marts (indicators_monthly and the rest), so
    # every figure follows a change of any of them; the other families' raw assets do not.
    everything = {f"kuvio_{n}" for n in range(1, 12)} | {"kuntaosuus", "figures"}
    for family in ("kela", "statfin", "tem"):
        assert reports(family) == everything
        keys, _checks = automation.downstream_selection([family], graph)
        assert {k.path[1] for k in keys if k.path[0] == "raw"} == {family}
    # Checks go with their assets only.
    keys, checks = automation.downstream_selection(["kela"], graph)
    assert checks and {c.asset_key for c in checks} <= set(keys)


def test_every_model_input_is_an_asset_of_the_graph(tmp_path):
    """Raw views (raw.statfin_12r5 …) belong to their family's asset: no stray external
    assets in the UI."""
    graph = build_defs(str(BUNDLED_RAW), str(tmp_path)).resolve_asset_graph()
    assert set(graph.get_all_asset_keys()) == set(graph.materializable_asset_keys)
    stg = graph.get(AssetKey(["staging", "stg_statfin_cells"]))
    assert AssetKey(["raw", "statfin"]) in stg.parent_keys
