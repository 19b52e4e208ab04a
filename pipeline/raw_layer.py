"""The raw layer: find the files in the raw folder, recognise them by content, load them.

A source family (TEM reports, StatFin PX, Kela CSV) is loaded as one transaction: every file
of the family loads whole, or the family's raw tables stay as they were. A file whose name
and content hash are already loaded is not read again; new content under a known name is
loaded beside the old version (a vintage), and a file removed from the folder is removed
from the raw tables with all its versions.

``raw.file_versions`` lists every stored version of every file, and which one the folder
holds now (``in_force``): staging prefers that version, so putting an earlier download back
makes its numbers count again without loading it twice.
"""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import integrity
from .faults import fault_point
from .readers.common import FILE_VERSIONS, LoadContext, RawFile, RawInputError
from .readers.kela import create_kela_tables, load_kela, sniff_kela
from .readers.px import KNOWN_TABLE_COLUMNS, create_statfin_tables, load_px, sniff_px
from .readers.tem_report import create_tem_tables, load_tem, sniff_tem

IGNORED_NAMES = {"README.md", "README.txt", ".gitkeep", "desktop.ini", "Thumbs.db"}


@dataclass(frozen=True)
class Family:
    """A source family: how to recognise its files, load one, and which raw tables it fills."""

    name: str
    title: str
    sniff: Callable[[Path], object]
    load: Callable[..., object]
    create_tables: Callable[..., None]  # so models can read a family that has no files yet
    tables: tuple[str, ...]   # keyed by file: a removed file's rows are deleted from each
    data: tuple[str, ...]     # the tables whose rows are the family's data (its row count)
    derived: tuple[str, ...] = ()  # other relations its loads fill (keyed otherwise, views)

    @property
    def relations(self) -> tuple[str, ...]:
        """Every raw table and view this family's asset fills."""
        return tuple(dict.fromkeys((*self.tables, *self.data, *self.derived)))


FAMILIES: dict[str, Family] = {
    "statfin": Family("statfin", "Statistics Finland StatFin PX tables (12r5, 12u4, …)",
                      lambda p: (sniff_px(p) or {}).get("table_id"), load_px,
                      create_statfin_tables,
                      # The tables keyed by file. The cells (raw.statfin_cells, .._symbols)
                      # hang off raw.statfin_files.file_key; the views raw.statfin_12r5,
                      # raw.statfin_12u4 … show them (pipeline/readers/px.py).
                      ("raw.statfin_files", "raw.statfin_values", "raw.statfin_variables"),
                      ("raw.statfin_cells", "raw.statfin_symbols"),
                      tuple(f"raw.{view}" for view in KNOWN_TABLE_COLUMNS)),
    "tem": Family("tem", "TEM Työnvälitystilasto report exports (1208, 1356, 4253, TTV15)",
                  sniff_tem, load_tem, create_tem_tables,
                  ("raw.tem_report_cells", "raw.tem_report_files"), ("raw.tem_report_cells",)),
    "kela": Family("kela", "Kela: municipal share of the labour market subsidy (open data CSV)",
                   sniff_kela, load_kela, create_kela_tables, ("raw.kela_municipal_share",),
                   ("raw.kela_municipal_share",)),
}

LOAD_LOG_DDL = """
create table if not exists audit.load_log (
    load_id VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    family VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    detail VARCHAR,          -- what the file was recognised as (report number, table id)
    rows BIGINT,
    status VARCHAR NOT NULL, -- loaded, new version, removed, failed
    error VARCHAR
)"""


@dataclass
class Scan:
    """What the raw folder holds: files by family, and files nothing recognised."""

    by_family: dict[str, list[tuple[Path, object]]] = field(default_factory=dict)
    unrecognised: list[str] = field(default_factory=list)


def scan(raw_dir: Path) -> Scan:
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise RawInputError(str(raw_dir), None, "the raw folder does not exist")
    out = Scan({name: [] for name in FAMILIES})
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
        if path.name in IGNORED_NAMES or path.name.startswith("."):
            continue
        for fam in FAMILIES.values():
            detail = fam.sniff(path)
            if detail:
                out.by_family[fam.name].append((path, detail))
                break
        else:
            rel = path.relative_to(raw_dir).as_posix()
            if problem := _broken(path):
                # A damaged download must not be skipped quietly as "some other file".
                raise RawInputError(rel, None, problem)
            out.unrecognised.append(rel)
    return out


def _broken(path: Path) -> str | None:
    """Why a file that no family recognised cannot be what its name says, if it cannot."""
    if path.stat().st_size == 0:
        return "the file is empty"
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        if not zipfile.is_zipfile(path):
            return "has an .xlsx name but is not a readable Excel workbook"
        try:
            with zipfile.ZipFile(path) as z:
                if "xl/workbook.xml" not in z.namelist():
                    return "is a zip file but not an Excel workbook (no xl/workbook.xml)"
        except zipfile.BadZipFile as e:
            return f"not a readable Excel workbook ({e})"
    if suffix == ".px":
        return "has a .px name but no PC-Axis header (TABLEID, STUB/HEADING, DATA) was found"
    return None


@dataclass
class FamilyLoad:
    family: str
    loaded: list[dict] = field(default_factory=list)    # files read this time
    unchanged: list[str] = field(default_factory=list)  # already loaded, same hash
    removed: list[str] = field(default_factory=list)    # gone from the folder
    unrecognised: list[str] = field(default_factory=list)
    reloaded: set[tuple[str, str]] = field(default_factory=set)  # rows changed outside a run


def load_family(con, raw_dir: Path, family: str, found: Scan | None = None) -> FamilyLoad:
    """Bring the family's raw tables in line with the raw folder, in one transaction."""
    fam = FAMILIES[family]
    found = found or scan(raw_dir)
    now = datetime.now(UTC).replace(tzinfo=None)
    ctx = LoadContext(load_id=uuid.uuid4().hex[:16], loaded_at=now)
    con.execute("create schema if not exists audit")
    con.execute(LOAD_LOG_DDL)
    fam.create_tables(con)
    result = FamilyLoad(family, unrecognised=found.unrecognised)
    files = [(RawFile.of(p, raw_dir), detail) for p, detail in found.by_family[family]]
    present = loaded_versions(con, fam)
    present_paths = {rel for rel, _sha in present}
    con.execute("begin transaction")
    try:
        _backfill_versions(con, fam)
        wanted = {rf.rel_path: rf.sha256 for rf, _ in files}
        result.reloaded = integrity.verify(con, fam, wanted, ctx)  # rows edited outside a run
        present -= result.reloaded
        # A file gone from the folder takes all its versions with it.
        for rel in sorted(present_paths - set(wanted)):
            for table in (*fam.tables, FILE_VERSIONS):
                con.execute(f"delete from {table} where file = ?", [rel])
            result.removed.append(rel)
            _log(con, ctx, family, rel, "", None, None, "removed", None)
        for rf, detail in files:
            if (rf.rel_path, rf.sha256) in present:
                result.unchanged.append(rf.rel_path)
                continue
            # New content under a known name is a new vintage: the old version's rows stay
            # (audit.revisions compares them); staging takes the newest.
            status = "new version" if rf.rel_path in present_paths else "loaded"
            summary = fam.load(con, rf, ctx)
            rows = getattr(summary, "cells", None) or getattr(summary, "rows", None)
            _log(con, ctx, family, rf.rel_path, rf.sha256, str(detail), rows, status, None)
            con.execute(f"insert into {FILE_VERSIONS} values (?, ?, ?, ?, ?, false)",
                        [family, rf.rel_path, rf.sha256, ctx.load_id, ctx.loaded_at])
            result.loaded.append({"file": rf.rel_path, "detail": str(detail), "rows": rows,
                                  "summary": summary})
        # The version in the folder is in force, whether just loaded or loaded long ago.
        con.execute(f"update {FILE_VERSIONS} set in_force = false where family = ?", [family])
        if wanted:
            con.executemany(f"update {FILE_VERSIONS} set in_force = true "
                            "where family = ? and file = ? and file_sha256 = ?",
                            [[family, rel, sha] for rel, sha in sorted(wanted.items())])
        integrity.record(con, fam)
        fault_point("raw_load", family)
        con.execute("commit")
    except RawInputError as e:
        con.execute("rollback")
        _log(con, ctx, family, e.file, "", None, None, "failed", str(e))
        raise
    except BaseException:
        con.execute("rollback")
        raise
    return result


def loaded_versions(con, fam: Family) -> set[tuple[str, str]]:
    """(file, sha256) of every version the family's first raw table holds now."""
    schema, table = fam.tables[0].split(".")
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table]).fetchall()[0][0]
    if not exists:
        return set()
    return set(con.execute(f"select distinct file, file_sha256 from {fam.tables[0]}").fetchall())


def _backfill_versions(con, fam: Family) -> None:
    """A warehouse from before ``raw.file_versions``: list the versions its raw tables hold
    (the newest of each file in force until this load says otherwise)."""
    listed = con.execute(f"select count(*) from {FILE_VERSIONS} where family = ?",
                         [fam.name]).fetchall()[0][0]
    if listed:
        return
    con.execute(f"""
        insert into {FILE_VERSIONS}
        select ?, file, file_sha256, min(load_id), min(loaded_at), false
        from {fam.tables[0]} group by file, file_sha256 order by file, min(loaded_at)""",
                [fam.name])


def _log(con, ctx, family, file, sha, detail, rows, status, error) -> None:
    con.execute("insert into audit.load_log values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [ctx.load_id, ctx.loaded_at, family, file, sha, detail, rows, status, error])
