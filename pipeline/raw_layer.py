"""The raw layer: find the files in the raw folder, recognise them by content, load them.

A source family (TEM reports, StatFin PX, Kela CSV) is loaded as one transaction: every file
of the family loads whole, or the family's raw tables stay as they were. A file whose name
and content hash are already loaded is not read again; new content under a known name is
loaded beside the old version (a vintage).

Nothing goes missing quietly. Every file of the folder is loaded or named, with the reason,
in what the load returns (and so in the run's summary and the raw asset's metadata):
ignored by name (``~$…`` and ``.~lock…#`` files of open documents, README …), a symbolic
link (not followed out of the raw folder), or recognised by no family. A file a family
recognises but cannot read fails that family's load, naming the file and the place. A file
that was loaded before and is gone, or no longer recognised, fails the load unless the run
accepts it (``accept_removed``: then its rows and versions are removed); so does a new
version whose period or areas are fewer than the version it replaces (``accept_shorter``).

``raw.file_versions`` lists every stored version of every file, and which one the folder
holds now (``in_force``): staging prefers that version, so putting an earlier download back
makes its numbers count again without loading it twice.

What a file is (its family, or why it is refused) is worked out once per file content and
process (:func:`inspect_file`, cached by path, size, mtime and inode): the three raw assets
of a run share it instead of each reading every file's head again.
"""

from __future__ import annotations

import os
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import integrity
from .faults import fault_point
from .models import all_checks
from .readers.common import FILE_VERSIONS, LoadContext, RawFile, RawInputError
from .readers.jsonstat import load_statfin, sniff_statfin
from .readers.kela import create_kela_tables, load_kela, sniff_kela
from .readers.px import KNOWN_TABLE_COLUMNS, create_statfin_tables, read_px_header, sniff_px
from .readers.tem_report import create_tem_tables, inspect_tem, load_tem, sniff_tem

IGNORED_NAMES = {"README.md", "README.txt", ".gitkeep", "desktop.ini", "Thumbs.db"}
# What `fetch` writes beside each download (URL, query, SHA-256): not data.
IGNORED_SUFFIXES = (".manifest.json",)
ACCEPT_REMOVED_FLAG = "--accept-removed"
ACCEPT_SHORTER_FLAG = "--accept-shorter"


def ignored_reason(name: str) -> str | None:
    """Why a file is passed over by its name alone, or None. Only files that are never data:
    the lock files Excel and LibreOffice keep beside an open document, downloads still in
    progress (``fetch`` writes to a dot file), fetch manifests, hidden and folder files."""
    if name.startswith("~$"):
        return "ignored: Excel's owner file of a workbook open in Excel (~$…), not data"
    if name.startswith(".~lock.") or name.startswith("~lock."):
        return "ignored: LibreOffice's lock file of an open document (.~lock…#), not data"
    if name.lower().endswith((".crdownload", ".part", ".partial", ".download")):
        return "ignored: a download still in progress"
    if name.endswith(IGNORED_SUFFIXES):
        return "ignored: the manifest `fetch` writes beside a download, not data"
    if name in IGNORED_NAMES:
        return "ignored: a README or folder file, not data"
    if name.startswith("."):
        return "ignored: a hidden file"
    return None


def ignored(path: Path) -> bool:
    """Files the raw layer (and the raw-folder sensor) never read (``ignored_reason``)."""
    return ignored_reason(path.name) is not None


def _statfin_table_id(path: Path, rel: str):
    """The short table id of a PX file (from its first bytes; from the whole header when a
    long header puts TABLEID and MATRIX past them) or of a PxWeb JSON response; None if it
    is neither."""
    found = sniff_px(path)
    if found is None:
        return sniff_statfin(path)  # a PxWeb json / json-stat2 response, or None
    return found.get("table_id") or read_px_header(path, rel).table_id


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
    # Like sniff, for the raw layer: raises RawInputError for a file of this family that
    # cannot be read (rather than passing it over as "not recognised").
    inspect: Callable[[Path, str], object] | None = None
    # SQL giving a stored version's (first month, last month, [areas]); parameters file, sha.
    coverage_sql: str = ""
    suffixes: tuple[str, ...] = ()  # a damaged file with such a name is this family's

    @property
    def relations(self) -> tuple[str, ...]:
        """Every raw table and view this family's asset fills."""
        return tuple(dict.fromkeys((*self.tables, *self.data, *self.derived)))


FAMILIES: dict[str, Family] = {
    # PX files and PxWeb API responses (json-stat2, json): the same tables either way.
    "statfin": Family("statfin", "Statistics Finland StatFin PX tables (12r5, 12u4, …)",
                      sniff_statfin, load_statfin, create_statfin_tables,
                      # The tables keyed by file. The cells (raw.statfin_cells, .._symbols)
                      # hang off raw.statfin_files.file_key; the views raw.statfin_12r5,
                      # raw.statfin_12u4 … show them (pipeline/readers/px.py).
                      ("raw.statfin_files", "raw.statfin_values", "raw.statfin_variables"),
                      ("raw.statfin_cells", "raw.statfin_symbols"),
                      tuple(f"raw.{view}" for view in KNOWN_TABLE_COLUMNS),
                      inspect=_statfin_table_id,
                      coverage_sql="""
                          select f.first_month, f.last_month,
                              (select list(distinct code order by code)
                               from raw.statfin_values as v
                               where v.file_key = f.file_key and v.column_name = 'area_code')
                          from raw.statfin_files as f where f.file = ? and f.file_sha256 = ?
                          order by f.file_key desc limit 1""",
                      suffixes=(".px",)),
    "tem": Family("tem", "TEM Työnvälitystilasto report exports (1208, 1356, 4253, TTV15)",
                  sniff_tem, load_tem, create_tem_tables,
                  ("raw.tem_report_cells", "raw.tem_report_files"), ("raw.tem_report_cells",),
                  inspect=inspect_tem,
                  coverage_sql="""
                      select min(month), max(month), list(distinct area order by area)
                      from raw.tem_report_cells where file = ? and file_sha256 = ?""",
                  suffixes=(".xlsx", ".xlsm")),
    "kela": Family("kela", "Kela: municipal share of the labour market subsidy (open data CSV)",
                   sniff_kela, load_kela, create_kela_tables, ("raw.kela_municipal_share",),
                   ("raw.kela_municipal_share",),
                   coverage_sql="""
                       select printf('%dM%02d', min(vuosikuukausi) // 100,
                                     min(vuosikuukausi) % 100),
                           printf('%dM%02d', max(vuosikuukausi) // 100,
                                  max(vuosikuukausi) % 100),
                           list(distinct lpad(kunta_nro, 3, '0') || ' ' || kunta_nimi
                                order by lpad(kunta_nro, 3, '0') || ' ' || kunta_nimi)
                       from raw.kela_municipal_share
                       where file = ? and file_sha256 = ? and aikatyyppi = 'Kuukausi'"""),
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


@dataclass(frozen=True)
class NotLoaded:
    """A file of the raw folder that is not loaded, and why."""

    file: str
    reason: str


@dataclass
class Scan:
    """What the raw folder holds: files by family, files refused (by the family they belong
    to; ``"*"`` when no family can be told), and every file not loaded, with the reason."""

    by_family: dict[str, list[tuple[Path, object]]] = field(default_factory=dict)
    unrecognised: list[str] = field(default_factory=list)
    refused: dict[str, list[RawInputError]] = field(default_factory=dict)
    not_loaded: list[NotLoaded] = field(default_factory=list)
    root: Path | None = None  # the raw folder as scanned

    def refused_for(self, family: str) -> list[RawInputError]:
        return [*self.refused.get(family, []), *self.refused.get("*", [])]

    def reason(self, rel: str) -> str | None:
        """Why the file is not loaded now (None: it is recognised by a family)."""
        for err in (e for errs in self.refused.values() for e in errs):
            if err.file == rel:
                return f"it cannot be read: {err}"
        return next((n.reason for n in self.not_loaded if n.file == rel), None)

    def family_of(self, rel: str) -> str | None:
        return next((fam for fam, files in self.by_family.items()
                     for p, _ in files if _rel(p, self) == rel), None)


def _rel(path: Path, found: Scan) -> str:
    return path.relative_to(found.root).as_posix() if found.root else path.name


UNRECOGNISED = ("not recognised as any source: no TEM report title (1208, 1356, 4253, TTV15) "
                "in its first lines, no PC-Axis header, no Kela kuntaosuus header line")


def scan(raw_dir: Path) -> Scan:
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise RawInputError(str(raw_dir), None, "the raw folder does not exist")
    out = Scan({name: [] for name in FAMILIES}, root=raw_dir)
    root = raw_dir.resolve()
    seen: set = set()
    for path in sorted(raw_dir.rglob("*")):
        rel = path.relative_to(raw_dir).as_posix()
        if path.is_symlink():
            out.not_loaded.append(NotLoaded(rel, _symlink_reason(path, root)))
            continue
        if not path.is_file():
            if not path.is_dir():  # a pipe, socket or device: reading it could block
                out.not_loaded.append(NotLoaded(rel, "not a regular file (a pipe, socket or "
                                                "device): not read"))
            continue
        if reason := ignored_reason(path.name):
            out.not_loaded.append(NotLoaded(rel, reason))
            continue
        family, detail, error, key = inspect_file(path, rel, root)
        seen.add(key)
        if error is not None:
            out.refused.setdefault(family or "*", []).append(error)
            out.not_loaded.append(NotLoaded(rel, f"refused: {error.problem}"
                                            + (f" ({error.place})" if error.place else "")))
        elif family is not None:
            out.by_family[family].append((path, detail))
        else:
            out.unrecognised.append(rel)
            out.not_loaded.append(NotLoaded(rel, UNRECOGNISED))
    # Forget files no longer in the folder (the cache holds what a run's assets share).
    for key in [k for k in _INSPECTED if k[0] == str(root) and k not in seen]:
        del _INSPECTED[key]
    return out


def _symlink_reason(path: Path, root: Path) -> str:
    """Why a symbolic link is not loaded: links are not followed (a link out of the raw
    folder would load whatever it points at; one inside it would load a file twice)."""
    target = Path(os.path.realpath(path))
    if not target.exists():
        return f"a symbolic link to {os.readlink(path)}, which does not exist: not loaded"
    try:
        inside = target.relative_to(root).as_posix()
    except ValueError:
        return (f"refused: a symbolic link to {target}, outside the raw folder: links are not "
                "followed; copy the file into the raw folder to load it")
    if target.is_dir():
        return f"a symbolic link to the folder {inside}: links are not followed"
    return f"a symbolic link to {inside}, which is loaded under its own name"


# (raw folder, relative path, size, mtime_ns, inode) -> (family, detail, error, key)
_INSPECTED: dict[tuple, tuple] = {}


def inspect_file(path: Path, rel: str, root: Path | None = None
                 ) -> tuple[str | None, object, RawInputError | None, tuple]:
    """(family, what it was recognised as, why it is refused, cache key) of one file of the
    raw folder ``root``: the families' heads-only checks, done once per file content and
    process."""
    st = path.stat()
    key = (str(root), rel, st.st_size, st.st_mtime_ns, st.st_ino)
    hit = _INSPECTED.get(key)
    if hit is None:
        hit = (*_inspect_uncached(path, rel), key)
        _INSPECTED[key] = hit
    return hit


def _inspect_uncached(path: Path, rel: str) -> tuple[str | None, object, RawInputError | None]:
    for fam in FAMILIES.values():
        try:
            detail = fam.inspect(path, rel) if fam.inspect else fam.sniff(path)
        except RawInputError as e:
            return fam.name, None, e
        except OSError as e:
            return _guess_family(path, rel), None, RawInputError(
                rel, None, f"cannot be read ({e.strerror or e})")
        if detail:
            return fam.name, detail, None
    if problem := _broken(path):
        # A damaged download must not be skipped quietly as "some other file".
        return _guess_family(path, rel), None, RawInputError(rel, None, problem)
    return None, None, None


def _guess_family(path: Path, rel: str) -> str | None:
    """The family a file that cannot be read belongs to: by its name's suffix, else by the
    folder it is in (tem/, statfin/, kela/); None when neither tells."""
    for fam in FAMILIES.values():
        if path.suffix.lower() in fam.suffixes:
            return fam.name
    top = rel.split("/", 1)[0] if "/" in rel else None
    return top if top in FAMILIES else None


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
    removed: list[str] = field(default_factory=list)    # gone from the folder (accepted)
    unrecognised: list[str] = field(default_factory=list)
    not_loaded: list[NotLoaded] = field(default_factory=list)  # every file not loaded, why
    shorter: list[str] = field(default_factory=list)    # shorter versions (accepted)
    reloaded: set[tuple[str, str]] = field(default_factory=set)  # rows changed outside a run


def load_family(con, raw_dir: Path, family: str, found: Scan | None = None, *,
                accept_removed: bool = False, accept_shorter: bool = False) -> FamilyLoad:
    """Bring the family's raw tables in line with the raw folder, in one transaction.

    Refuses (RawInputError, nothing written) when a file of the family cannot be read; when
    a file loaded before is gone or no longer recognised, unless ``accept_removed``; when a
    new version covers fewer months or areas than the one it replaces, unless
    ``accept_shorter``."""
    fam = FAMILIES[family]
    found = found or scan(raw_dir)
    now = datetime.now(UTC).replace(tzinfo=None)
    ctx = LoadContext(load_id=uuid.uuid4().hex[:16], loaded_at=now)
    con.execute("create schema if not exists audit")
    con.execute(LOAD_LOG_DDL)
    fam.create_tables(con)
    result = FamilyLoad(family, unrecognised=found.unrecognised,
                        not_loaded=list(found.not_loaded))
    files = [(RawFile.of(p, raw_dir), detail) for p, detail in found.by_family[family]]
    present = loaded_versions(con, fam)
    present_paths = {rel for rel, _sha in present}
    con.execute("begin transaction")
    try:
        if refused := found.refused_for(family):
            first = refused[0]
            if len(refused) > 1:
                others = ", ".join(e.file for e in refused[1:])
                raise RawInputError(first.file, first.place,
                                    f"{first.problem} (also refused: {others})")
            raise first
        _backfill_versions(con, fam)
        wanted = {rf.rel_path: rf.sha256 for rf, _ in files}
        result.reloaded = integrity.verify(con, fam, wanted, ctx)  # rows edited outside a run
        present -= result.reloaded
        gone = sorted(present_paths - set(wanted))
        if gone and not accept_removed:
            raise _gone_error(con, family, gone, found)
        # A file gone from the folder takes all its versions with it (accepted above).
        for rel in gone:
            for table in (*fam.tables, FILE_VERSIONS):
                con.execute(f"delete from {table} where file = ?", [rel])
            result.removed.append(rel)
            _log(con, ctx, family, rel, "", None, None, "removed", None)
        replaced = _in_force(con, family)
        for rf, detail in files:
            if (rf.rel_path, rf.sha256) in present:
                result.unchanged.append(rf.rel_path)
                continue
            # New content under a known name is a new vintage: the old version's rows stay
            # (audit.revisions compares them); staging takes the newest.
            status = "new version" if rf.rel_path in present_paths else "loaded"
            summary = fam.load(con, rf, ctx)
            rows = getattr(summary, "cells", None) or getattr(summary, "rows", None)
            # What the file was recognised as (a report number, a table id); Kela's
            # recogniser says only True: nothing to record.
            what = None if isinstance(detail, bool) or detail is None else str(detail)
            _log(con, ctx, family, rf.rel_path, rf.sha256, what, rows, status, None)
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
        # A version that replaces another (new, or an earlier download put back) covers at
        # least its months and areas: a half-copied file must not pass for a revision.
        for rel, sha in sorted(wanted.items()):
            if (old := replaced.get(rel)) and old != sha and \
                    (problem := _shorter(con, fam, rel, sha, old)):
                if not accept_shorter:
                    raise RawInputError(rel, None, f"{problem}{_gaps(con, family, rel)}; if "
                                        f"the shorter file is intended, run with "
                                        f"{ACCEPT_SHORTER_FLAG}")
                result.shorter.append(f"{rel}: {problem}")
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


def _gone_error(con, family: str, gone: list[str], found: Scan) -> RawInputError:
    """A file loaded before that the folder no longer holds as this family's: named with
    what became of it, and how to accept it."""
    def what(rel: str) -> str:
        before = con.execute("select detail from audit.load_log where family = ? and file = ? "
                             "and status in ('loaded', 'new version') "
                             "order by loaded_at desc limit 1", [family, rel]).fetchall()
        detail = before[0][0] if before else None
        was = f" (as {family} {detail})" if detail and detail != "True" else ""
        if (reason := found.reason(rel)) is not None:
            return f"was loaded before{was} and is not recognised now: {reason}"
        if (other := found.family_of(rel)) is not None:
            return f"was loaded before{was} and is now recognised as a {other} file"
        return f"was loaded before{was} and is gone from the raw folder"

    more = f" (and {len(gone) - 1} more: {', '.join(gone[1:])})" if len(gone) > 1 else ""
    return RawInputError(gone[0], None, f"{what(gone[0])}{more}; put it back, or run with "
                         f"{ACCEPT_REMOVED_FLAG} to remove its rows from the warehouse")


def _in_force(con, family: str) -> dict[str, str]:
    """file -> sha256 of the version in force before this load (the one a new version
    replaces)."""
    return dict(con.execute(f"select file, file_sha256 from {FILE_VERSIONS} "
                            "where family = ? and in_force", [family]).fetchall())


def _shorter(con, fam: Family, rel: str, sha: str, old_sha: str) -> str | None:
    """What a file's version ``sha`` lacks of the months and areas of the version
    ``old_sha`` it replaces; None if nothing."""
    if not fam.coverage_sql:
        return None
    rows = [con.execute(fam.coverage_sql, [rel, v]).fetchall() for v in (old_sha, sha)]
    if not rows[0] or not rows[1] or rows[0][0][0] is None or rows[1][0][0] is None:
        return None
    (old_first, old_last, old_areas), (first, last, areas) = rows[0][0], rows[1][0]
    lost = []
    if first > old_first:
        lost.append(f"the months {old_first}–{_before(first)}")
    if last < old_last:
        lost.append(f"the months {_after(last)}–{old_last}")
    missing = sorted(set(old_areas or ()) - set(areas or ()))
    if missing:
        shown = ", ".join(missing[:10]) + (f" … ({len(missing)} in all)"
                                           if len(missing) > 10 else "")
        lost.append(f"the areas {shown}")
    if not lost:
        return None
    return (f"covers {first}–{last} and {len(areas or ())} areas, but the version it replaces "
            f"covered {old_first}–{old_last} and {len(old_areas or ())} areas: it lacks "
            + "; ".join(lost))


def _gaps(con, family: str, rel: str, shown: int = 5) -> str:
    """The first rows the family's completeness checks find missing within the file (the
    version in force), as text to add to a message; '' if none."""
    for check in (c for c in all_checks() if c.model == f"raw_{family}" and c.blocking):
        rel_sql = con.sql(f"select * from ({check.sql}) where file = $file", params={"file": rel})
        n = rel_sql.aggregate("count(*)").fetchall()[0][0]
        if n:
            cols = rel_sql.columns
            shown_rows = []
            for r in rel_sql.limit(shown).fetchall():
                row = dict(zip(cols, r))
                what = " ".join(str(v) for c, v in row.items()
                                if c not in ("file", "report", "problem") and v is not None)
                shown_rows.append(f"{what} ({row['problem']})" if row.get("problem") else what)
            return f"; within the file {n} rows are missing, the first: {'; '.join(shown_rows)}"
    return ""


def _shift(month: str, by: int) -> str:
    """'2024M12' shifted by ``by`` months."""
    y, m = int(month[:4]), int(month[5:7])
    n = y * 12 + m - 1 + by
    return f"{n // 12}M{n % 12 + 1:02d}"


def _before(month: str) -> str:
    return _shift(month, -1)


def _after(month: str) -> str:
    return _shift(month, 1)


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
