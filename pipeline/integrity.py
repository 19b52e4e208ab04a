"""Tamper evidence for the raw layer: a checksum of each loaded file version's rows.

Anyone can open the working database (``<marts>/.work/pipeline_work.duckdb``) read-write
while no run holds it. A raw row changed there would be published by every later run: its
file is unchanged, so it is not read again. So when a file version is loaded, its rows in
each raw table are counted and summed into a checksum (DuckDB's ``hash`` of each whole
row, added up: order does not matter, one parallel pass); every later load of the family
recomputes them first (``raw.file_version_checksums``). A version whose rows no longer
match is loaded again from its file when the raw folder still holds that version (same
SHA-256); otherwise the run is refused, naming the file.

This catches edits made by mistake or by a tool that does not know about it; someone who
also rewrites ``raw.file_version_checksums`` is not stopped (the working database is not
a place for anything but the pipeline: the published warehouse is what users open).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from .readers.common import FILE_VERSIONS, RawInputError
from .readers.px import CELL_KEY_FACTOR

CHECKSUMS = "raw.file_version_checksums"

DDL = f"""
create table if not exists {CHECKSUMS} (
    family VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    relation VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    checksum HUGEINT NOT NULL,
    duckdb_version VARCHAR NOT NULL
)"""
DOCS = {
    None: "Tarkistussummat — per loaded file version and raw table: its row count and a "
          "checksum of its rows (the sum of DuckDB's hash of each row), taken when the "
          "version was loaded. Every load recomputes them: a version whose rows changed "
          "outside a run is loaded again from its file, or the run is refused.",
    "family": "Source family: statfin, tem or kela.",
    "file": "The file, relative to the raw folder.",
    "file_sha256": "SHA-256 of the version's content.",
    "relation": "The raw table holding the rows.",
    "rows": "Rows of this version in that table when it was loaded.",
    "checksum": "Sum of hash(row) over those rows (a HUGEINT; order-independent).",
    "duckdb_version": "The DuckDB version that computed it (hash() may differ between "
                      "versions: a checksum from another version is taken again, not compared).",
}

Key = tuple[str, str]                          # (file, file_sha256)
Sums = dict[Key, dict[str, tuple[int, int]]]   # version -> relation -> (rows, checksum)


def create(con) -> None:
    con.execute("create schema if not exists raw")
    con.execute(DDL)
    for column, text in DOCS.items():
        what = f"table {CHECKSUMS}" if column is None else f"column {CHECKSUMS}.{column}"
        con.execute(f"comment on {what} is '{text.replace(chr(39), chr(39) * 2)}'")


def _relations(fam) -> list[str]:
    """The family's raw tables that hold rows of a file version (not views)."""
    return list(dict.fromkeys((*fam.tables, *fam.data)))


def _columns(con, relation: str) -> set[str]:
    schema, table = relation.split(".")
    return {r[0] for r in con.execute(
        "select column_name from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = ?", [schema, table]).fetchall()}


def _sums(con, fam, only: list[Key] | None = None) -> Sums:
    """Rows and checksum of each version in each of the family's tables (all versions, or
    ``only`` those)."""
    out: Sums = {}
    for relation in _relations(fam):
        cols = _columns(con, relation)
        if {"file", "file_sha256"} <= cols:
            sql = (f"select file, file_sha256, count(*), sum(hash(t)::hugeint) "
                   f"from {relation} as t")
            params: list = []
            if only is not None:
                if not only:
                    continue
                sql += " where (file, file_sha256) in (select unnest(?), unnest(?))"
                params = [[f for f, _ in only], [s for _, s in only]]
            rows = con.execute(sql + " group by all", params).fetchall()
        elif "cell_key" in cols:
            # StatFin cells hang off raw.statfin_files.file_key (cell_key // factor).
            keys = ("" if only is None else
                    " where (f.file, f.file_sha256) in (select unnest(?), unnest(?))")
            if only is not None and not only:
                continue
            rows = con.execute(f"""
                select f.file, f.file_sha256, c.n, c.s
                from (select cell_key // {CELL_KEY_FACTOR} as file_key, count(*) as n,
                             sum(hash(t)::hugeint) as s
                      from {relation} as t group by all) as c
                join raw.statfin_files as f using (file_key){keys}""",
                [] if only is None else [[f for f, _ in only], [s for _, s in only]]
            ).fetchall()
        else:
            continue
        for file, sha, n, s in rows:
            out.setdefault((file, sha), {})[relation] = (int(n), int(s))
    return out


def _stored(con, family: str) -> Sums:
    out: Sums = {}
    for file, sha, relation, n, s in con.execute(
            f"select file, file_sha256, relation, rows, checksum from {CHECKSUMS} "
            "where family = ? and duckdb_version = ?", [family, duckdb.__version__]).fetchall():
        out.setdefault((file, sha), {})[relation] = (int(n), int(s))
    return out


def _differs(stored: dict, now: dict) -> bool:
    """Rows changed: a table's count or checksum differs. A version with no rows left at
    all is not 'changed' but gone (its tables were rebuilt, or it was removed)."""
    if not any(n for n, _ in now.values()):
        return False
    return any(now.get(r, (0, 0)) != v for r, v in stored.items()) or bool(
        set(now) - set(stored))


def changed_versions(con, fam) -> list[Key]:
    """The family's loaded versions whose rows no longer match their checksums."""
    stored = _stored(con, fam.name)
    if not stored:
        return []
    now = _sums(con, fam)
    return sorted(k for k, v in stored.items() if _differs(v, now.get(k, {})))


def verify(con, fam, in_folder: dict[str, str], ctx) -> set[Key]:
    """Before a load: the versions whose rows changed outside a run, removed so that the
    load reads them again from the raw folder (``in_folder``: file -> SHA-256 it holds
    now). A changed version the folder no longer holds refuses the run (RawInputError)."""
    create(con)
    # A file gone from the folder is removed with all its versions: nothing to reload.
    changed = [(f, s) for f, s in changed_versions(con, fam) if f in in_folder]
    for file, sha in changed:
        if in_folder[file] != sha:
            db = con.execute("select path from duckdb_databases() "
                             "where database_name = current_database()").fetchall()[0][0]
            raise RawInputError(file, None, (
                f"the working database's rows of this file (version SHA-256 {sha[:12]}…) "
                "were changed outside a run: they no longer match what was loaded, and the "
                "raw folder no longer holds this version to load it again. Put that "
                f"version back in the raw folder, or delete {db} to rebuild it from the "
                "raw folder"))
    for file, sha in changed:
        _forget(con, fam, file, sha)
        con.execute(
            "insert into audit.load_log values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [ctx.load_id, ctx.loaded_at, fam.name, file, sha, None, None,
             "reloaded", "its rows in the working database had been changed outside a run"])
    return set(changed)


def _forget(con, fam, file: str, sha: str) -> None:
    """Delete one version's rows from every table of the family, and its listing."""
    relations = _relations(fam)
    for relation in relations:  # cells first: they find their file_key in statfin_files
        if "cell_key" in _columns(con, relation):
            con.execute(f"delete from {relation} where cell_key // {CELL_KEY_FACTOR} in "
                        "(select file_key from raw.statfin_files where file = ? "
                        "and file_sha256 = ?)", [file, sha])
    for relation in (*relations, FILE_VERSIONS, CHECKSUMS):
        if {"file", "file_sha256"} <= _columns(con, relation):
            con.execute(f"delete from {relation} where file = ? and file_sha256 = ?",
                        [file, sha])


def record(con, fam) -> None:
    """After a load, before its commit: checksums of the versions that have none (just
    loaded, or from before this table existed); drop those of versions gone."""
    create(con)
    con.execute(f"delete from {CHECKSUMS} where family = ? and (duckdb_version <> ? or "
                f"(file, file_sha256) not in (select file, file_sha256 from {FILE_VERSIONS} "
                "where family = ?))", [fam.name, duckdb.__version__, fam.name])
    missing = [tuple(r) for r in con.execute(
        f"select distinct file, file_sha256 from {FILE_VERSIONS} where family = ? and "
        f"(file, file_sha256) not in (select file, file_sha256 from {CHECKSUMS} "
        "where family = ?) order by all", [fam.name, fam.name]).fetchall()]
    rows = [[fam.name, file, sha, relation, n, s, duckdb.__version__]
            for (file, sha), by_relation in sorted(_sums(con, fam, missing).items())
            for relation, (n, s) in sorted(by_relation.items())]
    if rows:
        con.executemany(f"insert into {CHECKSUMS} values (?, ?, ?, ?, ?, ?, ?)", rows)


def changed_in(db: Path) -> dict[str, list[str]] | None:
    """{family: files whose rows changed outside a run} of a working database, opened
    read-only; None when it cannot be opened (missing, or a run holds it)."""
    from .raw_layer import FAMILIES

    if not Path(db).exists():
        return None
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None
    try:
        if not con.execute("select count(*) from duckdb_tables() where schema_name = 'raw' "
                           "and table_name = 'file_version_checksums'").fetchall()[0][0]:
            return {}
        out = {}
        for fam in FAMILIES.values():
            try:
                changed = changed_versions(con, fam)
            except duckdb.CatalogException:  # the family has no tables yet
                continue
            if changed:
                out[fam.name] = [f for f, _ in changed]
        return out
    finally:
        con.close()
