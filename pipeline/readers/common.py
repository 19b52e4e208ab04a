"""What every raw-file reader shares: the file's identity, lineage columns and errors.

Every raw table carries the same lineage columns so an auditor can go from any value back
to the file and the place in it:

    load_id      the load that wrote the row (one per pipeline run and file)
    loaded_at    when (UTC)
    file         path relative to the raw folder
    file_sha256  SHA-256 of the file's bytes
    place        where in the file: ``Raportti!C7`` (sheet and cell), ``line 12`` (CSV) or
                 ``PX cell 12345`` (0-based index into the PX DATA section)

Statistical symbols (`...` salassapidettävä / confidential, `..` not available, `.` not
applicable, `-` nil) are kept in a ``symbol`` column beside a NULL ``value``; never 0.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

# Statistical symbols used by Statistics Finland and TEM, with their meaning.
SYMBOLS: dict[str, str] = {
    "...": "confidential (salassapidettävä)",
    "..": "not available",
    ".": "not applicable",
    "-": "nil",
}

LINEAGE_COLUMNS_SQL = """
    load_id VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    file VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    place VARCHAR NOT NULL
"""


class RawInputError(ValueError):
    """Bad input: names the file, the place in it and what is wrong."""

    def __init__(self, file: str, place: str | None, problem: str):
        self.file = file
        self.place = place
        self.problem = problem
        where = f"{file}, {place}" if place else file
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class RawFile:
    """A file in the raw folder: where it is, how it is named in lineage, its hash."""

    path: Path
    rel_path: str
    sha256: str

    @classmethod
    def of(cls, path: Path, raw_dir: Path | None = None) -> RawFile:
        path = Path(path)
        if raw_dir is not None:
            try:
                rel = path.resolve().relative_to(Path(raw_dir).resolve()).as_posix()
            except ValueError:
                rel = path.name
        else:
            rel = path.name
        return cls(path=path, rel_path=rel, sha256=file_sha256(path))


@dataclass(frozen=True)
class LoadContext:
    """Identifies one load: written into every raw row's lineage columns."""

    load_id: str
    loaded_at: datetime


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sql_literal(text: str) -> str:
    """A SQL string literal (a single quote inside doubled), for the few statements that
    take no bound parameters (COMMENT ON, ATTACH): the one quoting function of the project."""
    return "'" + str(text).replace("'", "''") + "'"


def duckdb_file_path(path: Path | str) -> str:
    """A path as DuckDB's file readers (``read_csv``) take it, naming that one file only.

    DuckDB expands glob patterns in a path even when it is a bound parameter: a file or folder
    named ``data[12].csv`` or ``raw*`` would read ``data1.csv`` or every ``raw…`` folder
    instead, under this file's name and hash. Each ``[``, ``*`` and ``?`` goes in a
    one-character class (``[[]``), which matches just that character."""
    return re.sub(r"([\[*?])", r"[\1]", str(path))


def split_symbol(text: str) -> tuple[float | None, str | None] | None:
    """A cell's text as (value, symbol) when it is a statistical symbol, else None."""
    t = text.strip().strip('"')
    if t in SYMBOLS:
        return None, t
    return None


# Every stored version of every raw file, and the one the raw folder holds now. The raw layer
# keeps it (pipeline/raw_layer.py); each family's create_*_tables creates it, so that staging,
# which reads it, also works on tables a reader filled directly.
FILE_VERSIONS = "raw.file_versions"

FILE_VERSIONS_DDL = f"""
create table {FILE_VERSIONS} (
    family VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    load_id VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    in_force BOOLEAN NOT NULL
)"""

FILE_VERSIONS_DOCS = {
    None: "Tiedostoversiot — every version of every raw file the raw tables hold (a new "
          "download under a known name is a new version; older ones stay for audit.revisions), "
          "and which version the raw folder holds now. Staging takes that one first.",
    "family": "Source family: statfin, tem or kela.",
    "file": "The file, relative to the raw folder.",
    "file_sha256": "SHA-256 of this version's content.",
    "load_id": "The load that read this version.",
    "loaded_at": "When this version was loaded (UTC).",
    "in_force": "Voimassa — true for the version the raw folder holds now (one per file).",
}


def create_file_versions(con) -> None:
    """``raw.file_versions``, documented (models read it before any file is loaded)."""
    con.execute("create schema if not exists raw")
    if con.execute("select count(*) from duckdb_tables() where database_name = "
                   "current_database() and schema_name = 'raw' and table_name = "
                   "'file_versions'").fetchall()[0][0]:
        return
    con.execute(FILE_VERSIONS_DDL)
    for column, text in FILE_VERSIONS_DOCS.items():
        what = f"table {FILE_VERSIONS}" if column is None else f"column {FILE_VERSIONS}.{column}"
        con.execute(f"comment on {what} is {sql_literal(text)}")
