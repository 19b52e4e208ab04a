"""Where a run writes (issue 13, findings 7 and 9): folder names that SQL must quote, a full
disk, a working database held by another process, a read-only marts folder. Each either
works or fails at once with its own message naming the path; the published warehouse
stays as it was and no temp file is left behind."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from conftest import BUNDLED_RAW, ROOT, copy_of_run
from dagster import Failure

from pipeline import warehouse
from pipeline.defs.resources import WorkingDatabase
from pipeline.runner import run_pipeline
from pipeline.storage import explain_duckdb_error
from pipeline.warehouse import published_path, work_db_path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".old")))


# --- finding 7: paths reach SQL only as bound parameters or quoted literals ----------------

@pytest.mark.parametrize("name", ["q'x", 'a "b" c'])
def test_a_marts_folder_that_sql_must_quote_publishes(tmp_path, name):
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW / "tem", raw / "tem")
    marts, reports = tmp_path / name / "marts", tmp_path / name / "reports"
    for attempt in (1, 2):  # the second publish also attaches the first (audit.runs)
        out = io.StringIO()
        code = run_pipeline(str(raw), str(marts), str(reports), out=out)
        log = out.getvalue()
        assert code == 0, log
        assert f"published {published_path(marts)}" in log
        assert "nothing was published" not in log
        assert leftovers(marts) == [], attempt
    con = duckdb.connect(str(published_path(marts)), read_only=True)
    try:
        runs = con.execute("select count(*) from audit.runs").fetchall()[0][0]
        n = con.execute("select count(*) from marts.indicators_monthly").fetchall()[0][0]
    finally:
        con.close()
    assert runs == 2
    parquet = marts / "parquet" / "indicators_monthly.parquet"
    assert duckdb.sql("select count(*) from read_parquet($p)",
                      params={"p": str(parquet)}).fetchall()[0][0] == n
    assert (reports / "kuvio_8.csv").exists()


def test_a_marts_folder_with_a_question_mark_is_refused_before_running(tmp_path):
    """DuckDB takes what follows '?' in a database path for options: every commit failed
    with 'Cannot open file "…/w.wal?x/…"' for each step, naming no cause."""
    marts = tmp_path / "w?x" / "marts"
    out = io.StringIO()
    code = run_pipeline(str(BUNDLED_RAW), str(marts), str(tmp_path / "reports"), out=out)
    log = out.getvalue()
    assert code == 1, log
    assert log.startswith(f"error: cannot use the working database {work_db_path(marts)}: "
                          "DuckDB cannot write a database whose path holds '?'; choose a "
                          "--marts-dir without '?'\nnothing was run; nothing was published"), log
    assert not work_db_path(marts).exists()


# --- finding 9: disk full, a held lock, a read-only folder ----------------------------------

@pytest.fixture
def base(bundled_run_once, tmp_path_factory) -> Path:
    return copy_of_run(bundled_run_once, tmp_path_factory, "storage")


def test_a_full_disk_while_publishing_says_so_and_keeps_the_published_file(base, monkeypatch):
    published = published_path(base / "marts")
    before = sha(published)
    real_copy = shutil.copyfile

    def copy_until_full(src, dst, *args, **kwargs):
        if Path(dst).name.startswith(".indicators.duckdb."):
            Path(dst).write_bytes(Path(src).read_bytes()[:4096])  # part of it, then full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return real_copy(src, dst, *args, **kwargs)

    monkeypatch.setattr(warehouse.shutil, "copyfile", copy_until_full)
    out = io.StringIO()
    code = run_pipeline(str(base / "raw"), str(base / "marts"), str(base / "reports"), out=out)
    log = out.getvalue()
    assert code == 1, log
    assert "FAILED published/indicators_warehouse: the disk is full: cannot write " in log
    assert f"{base / 'marts'}/.indicators.duckdb." in log
    assert f"{published} is unchanged" in log
    assert "nothing was published" in log
    assert sha(published) == before
    assert leftovers(base / "marts") == []


def test_a_step_failing_after_the_publish_is_reported_as_published(base, monkeypatch):
    """The summary says what was published, read from the published file's audit.runs: a
    full disk while writing the Parquet copies (after the rename) fails the run, but the
    warehouse was published, and the summary says both (on main it said 'nothing was
    published')."""
    from pipeline.defs import publish as publish_asset

    def parquet_disk_full(published, out_dir):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(out_dir))

    monkeypatch.setattr(publish_asset, "export_parquet", parquet_disk_full)
    out = io.StringIO()
    code = run_pipeline(str(base / "raw"), str(base / "marts"), str(base / "reports"), out=out)
    log = out.getvalue()
    assert code == 1, log
    run_id = log.split("run ", 1)[1][:8]
    published = published_path(base / "marts")
    assert f"published {published}\n" in log
    assert f"run {run_id} FAILED" in log and f"after publishing {published}" in log
    assert "nothing was published" not in log
    assert f"the disk is full: cannot write {base / 'marts' / 'parquet'}" in log
    con = duckdb.connect(str(published), read_only=True)
    try:
        latest = con.execute("select run_id from audit.runs order by published_at desc "
                             "limit 1").fetchall()[0][0]
    finally:
        con.close()
    assert latest.startswith(run_id)


def test_a_full_disk_while_loading_the_raw_layer_says_so_naming_the_file(base, monkeypatch):
    """A full disk met inside a step (DuckDB failing to write the working database's WAL
    while the raw layer commits) is said in words with the file, not as Dagster's
    'Error occurred while executing op "raw__tem"'."""
    from pipeline import raw_layer

    wal = f"{work_db_path(base / 'marts')}.wal"
    real_record = raw_layer.integrity.record

    def record_until_full(con, fam):
        if fam.name == "tem":
            raise duckdb.IOException(f'IO Error: Could not write file "{wal}": '
                                     "No space left on device")
        return real_record(con, fam)

    monkeypatch.setattr(raw_layer.integrity, "record", record_until_full)
    published = published_path(base / "marts")
    before = sha(published)
    out = io.StringIO()
    code = run_pipeline(str(base / "raw"), str(base / "marts"), str(base / "reports"), out=out)
    log = out.getvalue()
    assert code == 1, log
    assert (f'FAILED raw/tem: the disk is full (IOException: IO Error: Could not write file '
            f'"{wal}": No space left on device); free some space and run again') in log
    assert "Error occurred while executing op" not in log
    assert f"nothing was published ({published} is unchanged)" in log
    assert sha(published) == before


def test_duckdb_s_own_disk_full_error_is_named():
    err = explain_duckdb_error('IO Error: Could not write file "/x/pipeline_work.duckdb.wal": '
                               "No space left on device", Path("/x/pipeline_work.duckdb"))
    assert str(err).startswith("the disk is full: cannot write /x/pipeline_work.duckdb")


HOLD = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("holding", flush=True)
    time.sleep(600)
""")


@pytest.fixture
def holder(base):
    """Another process (a DuckDB shell, a notebook) with the working database open."""
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(work_db_path(base / "marts"))],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "holding"
    yield p
    p.kill()
    p.wait()


def test_a_working_database_held_by_another_process_names_the_process(base, holder):
    before = sha(published_path(base / "marts"))
    res = subprocess.run([sys.executable, "-m", "pipeline", "run", "--raw-dir",
                          str(base / "raw"), "--marts-dir", str(base / "marts"),
                          "--reports-dir", str(base / "reports")],
                         capture_output=True, text=True, cwd=ROOT, timeout=90)
    assert res.returncode == 1, res.stdout + res.stderr
    assert (f"error: the working database {work_db_path(base / 'marts')} is held by "
            f"process {holder.pid} (") in res.stdout
    assert "nothing was run" in res.stdout
    assert sha(published_path(base / "marts")) == before


def test_the_resource_does_not_retry_a_held_lock_for_minutes(base, holder):
    """Inside a run (the sensor's runs have no pre-flight check) the step fails with the
    same message after a few seconds, not DuckDBResource's ~100 s of retries."""
    resource = WorkingDatabase(database=str(work_db_path(base / "marts")))
    with pytest.raises(Failure, match=f"is held by process {holder.pid} "):
        with resource.get_connection():
            pass


def make_read_only(folder: Path) -> bool:
    """chmod for a normal user; root ignores modes, so there the immutable flag (chattr)."""
    if os.geteuid() != 0:
        for p in [folder, *folder.rglob("*")]:
            p.chmod(p.stat().st_mode & ~0o222)
        return True
    return subprocess.run(["chattr", "-R", "+i", str(folder)],
                          capture_output=True).returncode == 0


def make_writable(folder: Path) -> None:
    if os.geteuid() != 0:
        for p in [folder, *folder.rglob("*")]:
            p.chmod(p.stat().st_mode | 0o200)
    else:
        subprocess.run(["chattr", "-R", "-i", str(folder)], capture_output=True)


def test_a_read_only_marts_folder_says_so_at_once(base):
    marts = base / "marts"
    before = sha(published_path(marts))
    if not make_read_only(marts):
        pytest.skip("cannot make a folder read-only here (root without chattr)")
    try:
        probe = marts / "probe"
        try:
            probe.write_text("x")
            probe.unlink()
            pytest.skip("the folder stayed writable")
        except OSError:
            pass
        res = subprocess.run([sys.executable, "-m", "pipeline", "run", "--raw-dir",
                              str(base / "raw"), "--marts-dir", str(marts),
                              "--reports-dir", str(base / "reports")],
                             capture_output=True, text=True, cwd=ROOT, timeout=90)
    finally:
        make_writable(marts)
    assert res.returncode == 1, res.stdout + res.stderr
    assert f"error: cannot write {marts}: the folder or file is read-only" in res.stdout
    assert "nothing was run" in res.stdout
    assert sha(published_path(marts)) == before


def test_a_step_failure_says_what_happened_not_dagster_s_wrapper():
    """The summary line of a failed step: a blocking check's failure keeps its check's name
    (the last line); an error Dagster wraps shows its cause, a full disk said in words."""
    from dagster._utils.error import SerializableErrorInfo

    from pipeline.runner import _failure_text

    check = SerializableErrorInfo(
        "dagster._core.errors.DagsterAssetCheckFailedError: 1 blocking asset check failed "
        "with ERROR severity:\nraw/kela: every_municipality_has_every_month\n", [],
        "DagsterAssetCheckFailedError")
    assert _failure_text(check) == "raw/kela: every_municipality_has_every_month"

    def wrapped(cause: str) -> SerializableErrorInfo:
        return SerializableErrorInfo(
            'dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while '
            'executing op "raw__tem":\n', [], "DagsterExecutionStepExecutionError",
            cause=SerializableErrorInfo(cause, [], "X"))

    assert _failure_text(wrapped(
        '_duckdb.BinderException: Binder Error: column "x" not found\n\nLINE 1: select x')) \
        == 'BinderException: Binder Error: column "x" not found'
    assert _failure_text(wrapped(
        '_duckdb.IOException: IO Error: Could not write file "/m/w.wal": No space left on '
        "device\n")) == ('the disk is full (IOException: IO Error: Could not write file '
                         '"/m/w.wal": No space left on device); free some space and run again')
