"""The audit schema: what each run used and made, and how to trace a number to its cells.

``audit.load_log`` (written by the raw layer) says which file was loaded when, with its hash;
``audit.runs`` records every published run: its id, time, the code version, the hashes of
the input files, and a checksum of each mart in its row order — two runs on the same inputs
must give the same checksums. ``sql/audit/*.sql`` defines the lineage views and macros.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import yaml

from .models import MACROS_SQL, SQL_DIR, document
from .raw_layer import FAMILIES, FILE_VERSIONS

PACKAGE_DIR = Path(__file__).resolve().parent

RUNS_DDL = """
create table if not exists audit.runs (
    run_id VARCHAR NOT NULL,
    published_at TIMESTAMP NOT NULL,
    code_version VARCHAR NOT NULL,
    input_files JSON NOT NULL,     -- [{file, file_sha256, family, in_force}] raw.file_versions
    mart_checksums JSON NOT NULL,  -- {table: checksum of its rows in order}
    mart_rows JSON NOT NULL        -- {table: row count}
)"""
RUNS_DOC = {
    "run_id": "Ajo — the Dagster run that published this warehouse.",
    "published_at": "Julkaistu — when the run published (UTC).",
    "code_version": "Koodiversio — git commit of the pipeline (or a hash of its source files).",
    "input_files": "Syötetiedostot — every raw file version in the warehouse "
                   "(raw.file_versions): file, SHA-256, family, and in_force = the version the "
                   "raw folder held for this run.",
    "mart_checksums": "Tarkistussummat — per mart, md5 of its row count and the sum of each "
                      "row's hash with its position (rowid): a changed value or row order "
                      "changes it; equal inputs "
                      "give equal checksums.",
    "mart_rows": "Rivimäärät — row count of each mart.",
}


def code_version() -> str:
    """The git commit (with '+dirty' for local changes), else a hash of the source files."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=PACKAGE_DIR,
                              capture_output=True, text=True, timeout=5)
        if head.returncode == 0:
            dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=PACKAGE_DIR,
                                   capture_output=True, text=True, timeout=5).stdout.strip()
            return head.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    h = hashlib.sha256()
    for p in sorted(PACKAGE_DIR.rglob("*")):
        if p.suffix in (".py", ".sql", ".yml") and "__pycache__" not in p.parts:
            h.update(p.relative_to(PACKAGE_DIR).as_posix().encode())
            h.update(p.read_bytes())
    return "src-" + h.hexdigest()[:12]


def mart_tables(con) -> list[str]:
    rows = con.execute("select table_name from duckdb_tables() where schema_name = 'marts' "
                       "and database_name = current_database() order by table_name").fetchall()
    return [f"marts.{r[0]}" for r in rows]


def checksum(con, table: str) -> str:
    """A checksum of the table's rows in their stored order (the order the model wrote them):
    md5 of the row count and the exact sum of each row's hash taken with its position
    (rowid), so a changed value, a row more or less, or a reordering changes it. Summing
    hashes instead of concatenating the rows' text keeps it to a second on millions of rows
    (the text of a whole-country mart took 8 s and GBs)."""
    return con.execute(f"select md5(count(*) || ':' || coalesce(sum(hash(rowid, t)::hugeint), "
                       f"0)) from {table} as t").fetchall()[0][0]


def input_files(con) -> list[dict]:
    """Every raw file version in the warehouse (``raw.file_versions``): file, SHA-256,
    family, whether the raw folder holds that version now, and its family's first table."""
    first_table = {name: fam.tables[0] for name, fam in FAMILIES.items()}
    schema, table = FILE_VERSIONS.split(".")
    if not con.execute("select count(*) from information_schema.tables where table_schema = ? "
                       "and table_name = ?", [schema, table]).fetchall()[0][0]:
        return []
    rows = con.execute(f"select file, file_sha256, family, in_force from {FILE_VERSIONS} "
                       "order by file, file_sha256").fetchall()
    return [{"file": f, "file_sha256": s, "family": fam, "in_force": bool(now),
             "table": first_table.get(fam)} for f, s, fam, now in rows]


def record_run(con, run_id: str, published: Path | None = None) -> dict:
    """Append this run to ``audit.runs`` and return what was recorded.

    A run killed after writing its row but before publishing left a row for a run that never
    published: rows absent from the currently published file are dropped first.
    """
    con.execute("create schema if not exists audit")
    con.execute(RUNS_DDL)
    if published is not None and Path(published).exists():
        # The path as a bound parameter: a folder may be named q'x.
        con.execute("attach ? as published_now (read_only)", [str(published)])
        try:
            has_runs = con.execute(
                "select count(*) from duckdb_tables() where database_name = 'published_now' "
                "and schema_name = 'audit' and table_name = 'runs'").fetchall()[0][0]
            if has_runs:
                con.execute("delete from audit.runs where run_id not in "
                            "(select run_id from published_now.audit.runs)")
        finally:
            con.execute("detach published_now")
    document(con, "audit.runs", "One row per published run: what it read and what it made.",
             RUNS_DOC)
    marts = mart_tables(con)
    row = {
        "run_id": run_id,
        "published_at": datetime.now(UTC).replace(tzinfo=None),
        "code_version": code_version(),
        "input_files": input_files(con),
        "mart_checksums": {t: checksum(con, t) for t in marts},
        "mart_rows": {t: con.execute(f"select count(*) from {t}").fetchall()[0][0]
                      for t in marts},
    }
    con.execute("insert into audit.runs values (?, ?, ?, ?, ?, ?)",
                [row["run_id"], row["published_at"], row["code_version"],
                 json.dumps(row["input_files"]), json.dumps(row["mart_checksums"]),
                 json.dumps(row["mart_rows"])])
    return row


def create_audit_views(con) -> None:
    """Run ``sql/audit/*.sql`` (lineage, revisions) and comment the audit schema from
    ``sql/audit/docs.yml``."""
    con.execute("create schema if not exists audit")
    con.execute("create schema if not exists marts")
    con.execute(MACROS_SQL.read_text(encoding="utf-8"))  # the views call marts' macros
    for path in sorted((SQL_DIR / "audit").glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))
    docs = yaml.safe_load((SQL_DIR / "audit" / "docs.yml").read_text(encoding="utf-8"))
    for table, doc in docs.items():
        exists = con.execute("select count(*) from duckdb_columns() where schema_name = ? "
                             "and table_name = ? and database_name = current_database()",
                             table.split(".")).fetchall()[0][0]
        if exists:
            document(con, table, doc.get("description", ""), doc.get("columns") or {})
