"""Tamper evidence for the raw layer: a checksum of each loaded file version's rows.

Anyone can open the working database (``<marts>/.work/pipeline_work.duckdb``) read-write
while no run holds it. A raw row changed there would be published by every later run: its
file is unchanged, so it is not read again. So when a file version is loaded, its rows in
each raw table are counted and summed into a checksum (DuckDB's ``hash`` of each row's
columns, added up: order does not matter, one parallel pass); every later load of the family
recomputes them first (``raw.file_version_checksums``). A version whose rows no longer
match is loaded again from its file when the raw folder still holds that version (same
SHA-256); otherwise the run is refused, naming the file. The checksum covers the columns the
table had when it was taken (``columns``): a new pipeline version that adds a column to a raw
table does not set it off; one that changes a column's type has its checksums taken again.

This catches edits made by mistake or by a tool that does not know about it; someone who
also rewrites ``raw.file_version_checksums`` is not stopped (the working database is not
a place for anything but the pipeline: the published warehouse is what users open).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from .readers.common import FILE_VERSIONS, RawInputError, sql_literal
from .readers.px import CELL_KEY_FACTOR

CHECKSUMS = "raw.file_version_checksums"

DDL = f"""
create table if not exists {CHECKSUMS} (
    family VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    relation VARCHAR NOT NULL,
    columns VARCHAR NOT NULL,
    rows BIGINT NOT NULL,
    checksum HUGEINT NOT NULL,
    duckdb_version VARCHAR NOT NULL
)"""
DOCS = {
    None: "Tarkistussummat — per loaded file version and raw table: its row count and a "
          "checksum of its rows (the sum of DuckDB's hash of each row's columns), taken when "
          "the version was loaded. Every load recomputes them: a version whose rows changed "
          "outside a run is loaded again from its file, or the run is refused.",
    "family": "Source family: statfin, tem or kela.",
    "file": "The file, relative to the raw folder.",
    "file_sha256": "SHA-256 of the version's content.",
    "relation": "The raw table holding the rows.",
    "columns": "The columns the checksum covers, [[name, type], …] in order (JSON): a column "
               "added to the table later (a new pipeline version) is not part of it.",
    "rows": "Rows of this version in that table when it was loaded.",
    "checksum": "Sum of hash(columns) over those rows (a HUGEINT; order-independent).",
    "duckdb_version": "The DuckDB version that computed it (hash() may differ between "
                      "versions: a checksum from another version is taken again, not compared).",
}

Key = tuple[str, str]                          # (file, file_sha256)
Sums = dict[Key, dict[str, tuple[int, int]]]   # version -> relation -> (rows, checksum)


def create(con) -> None:
    con.execute("create schema if not exists raw")
    if _signature(con, CHECKSUMS) and "columns" not in dict(_signature(con, CHECKSUMS)):
        con.execute(f"drop table {CHECKSUMS}")  # an early layout: taken again
    con.execute(DDL)
    for column, text in DOCS.items():
        what = f"table {CHECKSUMS}" if column is None else f"column {CHECKSUMS}.{column}"
        con.execute(f"comment on {what} is {sql_literal(text)}")


def _relations(fam) -> list[str]:
    """The family's raw tables that hold rows of a file version (not views)."""
    return list(dict.fromkeys((*fam.tables, *fam.data)))


def _signature(con, relation: str) -> list[tuple[str, str]]:
    """(column, type) of a table, in order; [] if there is no such table."""
    schema, table = relation.split(".")
    return [tuple(r) for r in con.execute(
        "select column_name, data_type from duckdb_columns() where database_name = "
        "current_database() and schema_name = ? and table_name = ? order by column_index",
        [schema, table]).fetchall()]


def _sig_text(sig: list[tuple[str, str]]) -> str:
    return json.dumps([list(c) for c in sig])


def _sig_parse(text: str) -> list[tuple[str, str]] | None:
    try:
        return [tuple(c) for c in json.loads(text)]
    except (ValueError, TypeError):  # not a column list: cannot be checked, taken again
        return None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sums(con, relation: str, sig: list[tuple[str, str]],
          only: list[Key] | None = None) -> dict[Key, tuple[int, int]]:
    """Rows and checksum (over the columns of ``sig``) of each version in one table: all
    versions, or ``only`` those."""
    names = {c for c, _ in sig}
    if not sig or (only is not None and not only):
        return {}
    row_hash = "hash(" + ", ".join(f"t.{_ident(c)}" for c, _ in sig) + ")::hugeint"
    params: list = []
    if {"file", "file_sha256"} <= names:
        sql = f"select file, file_sha256, count(*), sum({row_hash}) from {relation} as t"
        if only is not None:
            sql += " where (file, file_sha256) in (select unnest(?), unnest(?))"
            params = [[f for f, _ in only], [s for _, s in only]]
        sql += " group by all"
    elif "cell_key" in names:
        # StatFin cells hang off raw.statfin_files.file_key (cell_key // factor).
        sql = f"""
            select f.file, f.file_sha256, c.n, c.s
            from (select cell_key // {CELL_KEY_FACTOR} as file_key, count(*) as n,
                         sum({row_hash}) as s
                  from {relation} as t group by all) as c
            join raw.statfin_files as f using (file_key)"""
        if only is not None:
            sql += " where (f.file, f.file_sha256) in (select unnest(?), unnest(?))"
            params = [[f for f, _ in only], [s for _, s in only]]
    else:
        return {}
    return {(file, sha): (int(n), int(s))
            for file, sha, n, s in con.execute(sql, params).fetchall()}


def _differs(stored: dict, now: dict) -> bool:
    """Rows changed: a table's count or checksum differs. A version with no rows left at
    all is not 'changed' but gone (its tables were rebuilt, or it was removed)."""
    if not any(n for n, _ in now.values()):
        return False
    return any(now.get(r, (0, 0)) != v for r, v in stored.items())


def check_versions(con, fam) -> tuple[list[Key], list[Key]]:
    """(changed, unverifiable): the family's loaded versions whose rows no longer match
    their checksums; and those whose checksum covers a column the table no longer has with
    that type (a new pipeline version changed the table): their checksums are taken again."""
    stored: dict[Key, dict[str, tuple[int, int]]] = {}
    groups: dict[tuple[str, str], list[Key]] = {}   # (relation, columns) -> versions
    for file, sha, relation, cols, n, s in con.execute(
            f"select file, file_sha256, relation, columns, rows, checksum from {CHECKSUMS} "
            "where family = ? and duckdb_version = ?", [fam.name, duckdb.__version__]
    ).fetchall():
        stored.setdefault((file, sha), {})[relation] = (int(n), int(s))
        groups.setdefault((relation, cols), []).append((file, sha))
    now: dict[Key, dict[str, tuple[int, int]]] = {}
    unverifiable: set[Key] = set()
    for (relation, cols), versions in groups.items():
        sig, current = _sig_parse(cols), set(_signature(con, relation))
        if sig is None or not set(sig) <= current:
            unverifiable.update(versions)
            continue
        for key, sums in _sums(con, relation, sig).items():
            now.setdefault(key, {})[relation] = sums
    changed = [k for k, v in stored.items()
               if k not in unverifiable and _differs(v, now.get(k, {}))]
    return sorted(changed), sorted(unverifiable)


def changed_versions(con, fam) -> list[Key]:
    """The family's loaded versions whose rows no longer match their checksums."""
    return check_versions(con, fam)[0]


def verify(con, fam, in_folder: dict[str, str], ctx) -> set[Key]:
    """Before a load: the versions whose rows changed outside a run, removed so that the
    load reads them again from the raw folder (``in_folder``: file -> SHA-256 it holds
    now). A changed version the folder no longer holds refuses the run (RawInputError)."""
    create(con)
    changed, unverifiable = check_versions(con, fam)
    for file, sha in unverifiable:  # taken again by record() at the end of this load
        con.execute(f"delete from {CHECKSUMS} where family = ? and file = ? and "
                    "file_sha256 = ?", [fam.name, file, sha])
    # A file gone from the folder is removed with all its versions: nothing to reload.
    changed = [(f, s) for f, s in changed if f in in_folder]
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
        if "cell_key" in dict(_signature(con, relation)):
            con.execute(f"delete from {relation} where cell_key // {CELL_KEY_FACTOR} in "
                        "(select file_key from raw.statfin_files where file = ? "
                        "and file_sha256 = ?)", [file, sha])
    for relation in (*relations, FILE_VERSIONS, CHECKSUMS):
        if {"file", "file_sha256"} <= set(dict(_signature(con, relation))):
            con.execute(f"delete from {relation} where file = ? and file_sha256 = ?",
                        [file, sha])


def record(con, fam) -> None:
    """After a load, before its commit: checksums of the versions that have none (just
    loaded, from before this table existed, or whose table changed); drop those of
    versions gone."""
    create(con)
    con.execute(f"delete from {CHECKSUMS} where family = ? and (duckdb_version <> ? or "
                f"(file, file_sha256) not in (select file, file_sha256 from {FILE_VERSIONS} "
                "where family = ?))", [fam.name, duckdb.__version__, fam.name])
    missing = [tuple(r) for r in con.execute(
        f"select distinct file, file_sha256 from {FILE_VERSIONS} where family = ? and "
        f"(file, file_sha256) not in (select file, file_sha256 from {CHECKSUMS} "
        "where family = ?) order by all", [fam.name, fam.name]).fetchall()]
    rows = []
    for relation in _relations(fam):
        sig = _signature(con, relation)
        for (file, sha), (n, s) in sorted(_sums(con, relation, sig, missing).items()):
            rows.append([fam.name, file, sha, relation, _sig_text(sig), n, s,
                         duckdb.__version__])
    if rows:
        con.executemany(f"insert into {CHECKSUMS} values (?, ?, ?, ?, ?, ?, ?, ?)", rows)


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
        if "columns" not in dict(_signature(con, CHECKSUMS)):  # none yet, or an early layout
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
