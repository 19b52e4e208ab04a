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

from .readers.common import sql_literal

PUBLISHED_NAME = "indicators.duckdb"
WORK_DIR_NAME = ".work"
WORK_DB_NAME = "pipeline_work.duckdb"


def published_path(marts_dir: Path) -> Path:
    return Path(marts_dir) / PUBLISHED_NAME


def work_db_path(marts_dir: Path) -> Path:
    return Path(marts_dir) / WORK_DIR_NAME / WORK_DB_NAME


def publish(work_db: Path, marts_dir: Path, before_rename=None) -> Path:
    """Copy the working database into place as the published warehouse, atomically.

    ``before_rename()`` is called when the copy is complete, just before it replaces the
    published file. A full disk or a read-only folder raises ``StorageError`` naming the
    path; the published file is then unchanged and no temp copy is left."""
    from .faults import fault_point
    from .storage import connect_working, explain_os_error

    work_db, target = Path(work_db), published_path(marts_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    con = connect_working(work_db)
    try:
        con.execute("checkpoint")  # fold the WAL in, so the copy is the whole database
    finally:
        con.close()
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        try:
            shutil.copyfile(work_db, tmp)
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        except OSError as e:
            err = explain_os_error(e, tmp, f"the copy of the working database that would "
                                           f"replace {target}; {target} is unchanged")
            raise (err or e) from e
        if before_rename is not None:
            before_rename()
        fault_point("before_publish_rename")
        try:
            os.replace(tmp, target)
        except OSError as e:
            raise (explain_os_error(e, target) or e) from e
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def quote_identifier(name: str) -> str:
    """A SQL identifier in double quotes (a double quote inside doubled)."""
    return '"' + name.replace('"', '""') + '"'


quote_literal = sql_literal  # the one quoting function (readers/common.py)


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
            # The path goes to DuckDB as an argument, never inside SQL text (a folder may be
            # named q'x); the table name is quoted as an identifier.
            con.table(f"marts.{quote_identifier(t)}").write_parquet(
                str(tmp / f"{t}.parquet"), compression="zstd")
    except (OSError, duckdb.Error) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        from .storage import explain_duckdb_error, explain_os_error

        err = (explain_os_error(e, tmp) if isinstance(e, OSError)
               else explain_duckdb_error(e, tmp))
        raise (err or e) from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        con.close()
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    shutil.rmtree(old, ignore_errors=True)
    return sorted(out_dir.glob("*.parquet"))
