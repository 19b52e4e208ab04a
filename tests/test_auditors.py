"""What the README promises auditors: every table and column of the published warehouse has a
comment, the notebook opens in JupyterLab from the project's environment (``make notebook``),
and a session sees a new publish once it has closed every connection and reconnected."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest
from conftest import ROOT

from pipeline.raw_docs import RAW_DOCS, document_raw
from pipeline.warehouse import connect_published, publish

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_table_and_column_of_the_published_warehouse_has_a_comment(bundled_run_once):
    con = duckdb.connect(str(bundled_run_once[0] / "marts" / "indicators.duckdb"),
                         read_only=True)
    try:
        columns = con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where database_name = current_database() and coalesce(comment, '') = ''"
        ).fetchall()
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = current_database() and coalesce(comment, '') = ''"
        ).fetchall()
        views = con.execute(
            "select schema_name, view_name from duckdb_views() "
            "where database_name = current_database() and not internal "
            "and coalesce(comment, '') = ''").fetchall()
        raw = con.execute("select count(*) from duckdb_columns() where database_name = "
                          "current_database() and schema_name = 'raw'").fetchall()[0][0]
    finally:
        con.close()
    assert (columns, tables, views) == ([], [], [])
    assert raw > 100
    assert "Every table and column carries a comment" in README


def test_raw_comments_fill_only_what_the_readers_leave(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema raw")
    con.execute("create table raw.tem_report_files (report VARCHAR, title VARCHAR)")
    con.execute("comment on column raw.tem_report_files.title is 'the reader''s own'")
    assert document_raw(con) == 2  # the table and `report`
    got = dict(con.execute("select column_name, comment from duckdb_columns() "
                           "where table_name = 'tem_report_files'").fetchall())
    assert got == {"report": RAW_DOCS["raw.tem_report_files"][1]["report"],
                   "title": "the reader's own"}
    assert document_raw(con) == 0  # nothing left to fill


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_notebook_opens_the_notebook_in_jupyterlab(tmp_path):
    port = _free_port()
    log = tmp_path / "jupyter.log"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    # -o: the environment is this one, do not reinstall it.
    proc = subprocess.Popen(["make", "-o", ".venv/.installed", f"NOTEBOOK_PORT={port}",
                             "notebook"], cwd=ROOT, env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = None
        deadline = time.monotonic() + 180  # a limit for a hang, not a speed requirement
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            m = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=(\w+)", log.read_text())
            url = m and f"http://127.0.0.1:{port}/api/%s&token={m.group(1)}"
            time.sleep(0.5)
        assert url, log.read_text()
        contents = json.load(urllib.request.urlopen(
            url % "contents/kuvio_8_from_raw_to_chart.ipynb?content=0", timeout=30))
        assert contents["type"] == "notebook"
        specs = json.load(urllib.request.urlopen(url % "kernelspecs?", timeout=30))
        # ipykernel's spec: "python", which jupyter_client starts as the server's own Python,
        # and the server is JupyterLab of the project's environment (the one running tests).
        assert specs["kernelspecs"]["python3"]["spec"]["argv"][0] in ("python", sys.executable)
        venv = Path(sys.executable).parent.parent
        assert f"JupyterLab extension loaded from {venv}" in log.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    assert "make notebook" in README


def _work_db(path: Path, value: int) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.t as select ? as v", [value])
    con.close()
    return path


def test_a_session_sees_a_new_publish_after_closing_every_connection(tmp_path):
    """DuckDB keeps one database per file per process: while any connection to the published
    file is open, a new connection in the same process still reads the file as it was."""
    marts = tmp_path / "marts"
    publish(_work_db(tmp_path / "a.duckdb", 1), marts)
    first = connect_published(marts)
    assert first.execute("select v from marts.t").fetchall() == [(1,)]
    publish(_work_db(tmp_path / "b.duckdb", 2), marts)
    again = connect_published(marts)  # the same process, the first still open
    assert again.execute("select v from marts.t").fetchall() == [(1,)]
    again.close()
    first.close()
    fresh = connect_published(marts)  # every connection closed: the new publish
    assert fresh.execute("select v from marts.t").fetchall() == [(2,)]
    fresh.close()
    # A new process sees it at once, whatever this one holds open.
    held = connect_published(marts)
    publish(_work_db(tmp_path / "c.duckdb", 3), marts)
    out = subprocess.run([sys.executable, "-c",
                          "import duckdb, sys; print(duckdb.connect(sys.argv[1], read_only=True)"
                          ".execute('select v from marts.t').fetchall())",
                          str(marts / "indicators.duckdb")], capture_output=True, text=True)
    held.close()
    assert out.stdout.strip() == "[(3,)]", out.stderr
    assert "close every connection" in README
