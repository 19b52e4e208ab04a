"""The working database and the published, read-only copy that users open.

DuckDB lets one process write a file and nobody else open it meanwhile, so the pipeline
writes its own working database and, after a successful run, publishes a copy atomically:
checkpoint and close the writer, copy aside, fsync, rename over ``indicators.duckdb``. A
reader that opened the old file keeps it; new readers see the new one; a failed run
publishes nothing. The file is named unlike its schemas (``raw``, ``staging``, ``marts``,
``audit``) because DuckDB makes a file's name its catalog name.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

PUBLISHED_NAME = "indicators.duckdb"
WORK_DIR_NAME = ".work"
WORK_DB_NAME = "pipeline_work.duckdb"


def published_path(marts_dir: Path) -> Path:
    return Path(marts_dir) / PUBLISHED_NAME


def work_db_path(marts_dir: Path) -> Path:
    return Path(marts_dir) / WORK_DIR_NAME / WORK_DB_NAME


def publish(work_db: Path, marts_dir: Path) -> Path:
    """Copy the working database into place as the published warehouse, atomically."""
    work_db, target = Path(work_db), published_path(marts_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(work_db))
    try:
        con.execute("checkpoint")  # fold the WAL in, so the copy is the whole database
    finally:
        con.close()
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(work_db, tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def connect_published(marts_dir: Path) -> duckdb.DuckDBPyConnection:
    """Open the published warehouse read-only; a clear error if there is none yet."""
    path = published_path(marts_dir)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist yet: run `make run` (or `python -m pipeline run`) first")
    return duckdb.connect(str(path), read_only=True)


def export_parquet(published: Path, out_dir: Path) -> list[Path]:
    """Each mart as ``<out_dir>/<table>.parquet`` (for Power BI and Excel), from the published
    file. Written aside and swapped in, so readers never see a half-written folder."""
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.tmp")
    old = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    con = duckdb.connect(str(published), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' "
            "order by table_name").fetchall()]
        for t in tables:
            # COPY takes no bound parameters; the path is ours, the table name from the catalog.
            con.execute(f"copy (select * from marts.{t}) to '{tmp / (t + '.parquet')}' "
                        "(format parquet, compression zstd)")
    finally:
        con.close()
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return sorted(out_dir.glob("*.parquet"))
