"""Faults: a run killed at any moment (kill -9) leaves the published warehouse as it was, and
the next run recovers by itself; a failing blocking check publishes nothing.

The runs here are ``python -m pipeline run`` subprocesses on a temp copy of the bundled TEM
files (enough for every mart, and quicker than all sources). To kill at exact moments, the
subprocess gets a ``sitecustomize`` that pauses it (1) inside a raw load's transaction,
after a file's rows are written and before the commit, and (2) when the published file's
temp copy is complete, before it is renamed into place.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import BUNDLED_RAW, ROOT

from pipeline.definitions import build_defs
from pipeline.runner import run_pipeline
from pipeline.warehouse import published_path, work_db_path

HOOK = '''
import os, sys, time

_at, _marker = os.environ.get("KK_FAULT_AT"), os.environ.get("KK_FAULT_MARKER")


def _pause():
    open(_marker, "w").close()
    time.sleep(300)  # until killed


if _at == "publish":
    import shutil

    _copyfile = shutil.copyfile

    def _copy(src, dst, *args, **kwargs):
        result = _copyfile(src, dst, *args, **kwargs)
        if os.path.basename(str(dst)).startswith(".indicators.duckdb."):
            _pause()
        return result

    shutil.copyfile = _copy
elif _at == "raw_load":
    import importlib.abc
    import importlib.machinery

    class _Hook(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "pipeline.raw_layer":
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            run = spec.loader.exec_module

            def exec_module(module):
                run(module)
                log = module._log

                def _log(*args):  # (con, ctx, family, file, sha, detail, rows, status, error)
                    log(*args)
                    if args[7] != "failed" and args[7] != "removed":
                        _pause()

                module._log = _log

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, _Hook())
'''


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def no_reports(d) -> list:
    graph = build_defs(str(d["raw"]), str(d["marts"])).resolve_asset_graph()
    return sorted(k for k in graph.materializable_asset_keys if k.path[0] != "reports")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A good published warehouse (staging, marts, publish; no charts: quicker)."""
    root = tmp_path_factory.mktemp("faults")
    d = {"root": root, "raw": root / "raw", "marts": root / "marts",
         "reports": root / "reports", "hooks": root / "hooks"}
    shutil.copytree(BUNDLED_RAW / "tem", d["raw"] / "tem")
    d["hooks"].mkdir()
    (d["hooks"] / "sitecustomize.py").write_text(HOOK)
    out = io.StringIO()
    assert run_pipeline(str(d["raw"]), str(d["marts"]), str(d["reports"]), out=out,
                        selection=no_reports(d)) == 0, out.getvalue()
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


def assert_whole(d, held: set[tuple], new_version: tuple[str, str]) -> None:
    """The working database holds the baseline's file versions, and the new version either
    not at all or whole (as many cells as the version it replaces): never half loaded."""
    base = {(f, s): n for f, s, n in d["raw_cells"]}
    got = {(f, s): n for f, s, n in held}
    assert {k: n for k, n in got.items() if k != new_version} == base
    if new_version in got:
        old = next(n for (f, _s), n in base.items() if f == new_version[0])
        assert got[new_version] == old


def assert_published_intact(d) -> None:
    path = published_path(d["marts"])
    assert sha(path) == d["published_sha"]
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("select count(*) from marts.indicators_monthly").fetchall()[0][0] > 0
    finally:
        con.close()


def start_run(d, log: Path, fault: str | None = None) -> subprocess.Popen:
    env = dict(os.environ)
    if fault:
        env.update(KK_FAULT_AT=fault, KK_FAULT_MARKER=str(d["root"] / f"{fault}.marker"),
                   PYTHONPATH=os.pathsep.join([str(d["hooks"]), env.get("PYTHONPATH", "")]))
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", "--raw-dir", str(d["raw"]),
         "--marts-dir", str(d["marts"]), "--reports-dir", str(d["reports"])],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def kill_after(p: subprocess.Popen, seconds: float, log: Path) -> None:
    time.sleep(seconds)
    assert p.poll() is None, "the run ended before it was killed:\n" + log.read_text()
    p.kill()
    p.wait()


def kill_at_marker(p: subprocess.Popen, marker: Path, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert p.poll() is None, "the run ended before the fault point:\n" + log.read_text()
        assert time.monotonic() < deadline, "fault point not reached:\n" + log.read_text()
        time.sleep(0.05)
    p.kill()
    p.wait()


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


def test_kill_9_at_any_moment_keeps_the_published_warehouse_and_the_next_run_recovers(base):
    d = base
    # A new download of a TEM report (a later 'Poimittu' date), so that every run below has
    # a raw load to do.
    f = d["raw"] / "tem" / "tem4253_aktivointiaste.csv"
    f.write_bytes(f.read_bytes().replace(b"Poimittu 15.01.2025", b"Poimittu 16.01.2025"))
    new_version = ("tem/tem4253_aktivointiaste.csv", sha(f))
    logs = d["root"] / "logs"
    logs.mkdir()

    # Inside the raw load's transaction: rows written, not committed. They are gone.
    log = logs / "raw_load.log"
    p = start_run(d, log, "raw_load")
    kill_at_marker(p, d["root"] / "raw_load.marker", log)
    assert_published_intact(d)
    assert working_raw_cells(d, d["root"] / "scratch_raw") == d["raw_cells"]

    # At fixed times: while importing, starting up, loading or building.
    for seconds in (1, 3, 6):
        log = logs / f"after_{seconds}s.log"
        kill_after(start_run(d, log), seconds, log)
        assert_published_intact(d)
        assert_whole(d, working_raw_cells(d, d["root"] / f"scratch_{seconds}"), new_version)

    # The published file's temp copy is complete, not yet renamed over the published file.
    log = logs / "publish.log"
    p = start_run(d, log, "publish")
    kill_at_marker(p, d["root"] / "publish.marker", log)
    assert_published_intact(d)
    stale = list(d["marts"].glob(".indicators.duckdb.*.tmp"))
    assert stale, "the temp copy should be left behind by the killed run"
    # That run's raw load committed: the new version is there, whole.
    held = working_raw_cells(d, d["root"] / "scratch_publish")
    assert_whole(d, held, new_version)
    assert new_version in {(f, s) for f, s, _ in held}

    # The next run needs no manual step: it frees the dead runs' pool slot, removes the temp
    # file, and publishes.
    log = logs / "recovery.log"
    p = start_run(d, log)
    assert p.wait(timeout=180) == 0, log.read_text()
    text = log.read_text()
    assert "recovered: run" in text and "pool slot freed" in text
    assert f"recovered: removed {stale[0].name}" in text
    assert "published" in text
    assert not list(d["marts"].glob(".indicators.duckdb.*")), "temp files left"
    assert not (work_db_path(d["marts"]).parent / (work_db_path(d["marts"]).name + ".wal")
                ).exists()
    path = published_path(d["marts"])
    assert sha(path) != d["published_sha"]
    con = duckdb.connect(str(path), read_only=True)
    try:
        files = con.execute("select distinct file, file_sha256 from raw.tem_report_cells"
                            ).fetchall()
        [(latest,)] = con.execute("select run_id from audit.runs order by published_at desc "
                                  "limit 1").fetchall()
    finally:
        con.close()
    assert new_version in files
    run_line = next(ln for ln in text.splitlines() if ln.startswith("run ") and "assets" in ln)
    assert latest.startswith(run_line.split()[1].rstrip(":"))
