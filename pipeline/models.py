"""SQL models: ``pipeline/sql/<schema>/<name>.sql`` with its documentation in ``<name>.yml``.

Each ``.sql`` file is one SELECT (import CTEs, logic CTEs, ``select * from final``) that an
auditor can read on its own; running it replaces the table ``<schema>.<name>``. Its ``.yml``
states the grain and each column's meaning; they become DuckDB comments, so the published
warehouse documents itself. A model's inputs are the ``raw.``/``staging.``/``marts.`` tables
its SQL names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from .readers.common import sql_literal  # noqa: F401 - used here, and by importers

SQL_DIR = Path(__file__).resolve().parent / "sql"
# Where each schema's models live: sql/audit/*.sql are the audit views and macros made at
# publish (pipeline/audit.py); the audit tables a run computes are models in audit/models.
SCHEMA_DIRS = {"staging": "staging", "marts": "marts", "audit": "audit/models"}
SCHEMAS = tuple(SCHEMA_DIRS)
MACROS_SQL = SQL_DIR / "macros.sql"  # the indicators' formulas, defined once
# schema.name not followed by "(": marts.pct(...) is a macro call, not a table.
TABLE_REF = re.compile(r"\b(raw|staging|marts|audit)\.([a-z_][a-z0-9_]*)\b(?!\s*\()")


@dataclass(frozen=True)
class Model:
    schema: str
    name: str
    sql: str
    description: str
    columns: dict[str, str]

    @property
    def table(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def path(self) -> str:
        """The model's SQL file, relative to the repository (pipeline/sql/…)."""
        return f"pipeline/sql/{SCHEMA_DIRS[self.schema]}/{self.name}.sql"

    @property
    def inputs(self) -> list[str]:
        """Tables this model reads, in order of first mention."""
        sql = re.sub(r"--[^\n]*", "", self.sql)
        seen = []
        for schema, name in TABLE_REF.findall(sql):
            t = f"{schema}.{name}"
            if t != self.table and t not in seen:
                seen.append(t)
        return seen


@cache
def all_models() -> tuple[Model, ...]:
    models = []
    for schema in SCHEMAS:
        for sql_path in sorted((SQL_DIR / SCHEMA_DIRS[schema]).glob("*.sql")):
            doc_path = sql_path.with_suffix(".yml")
            doc = yaml.safe_load(doc_path.read_text(encoding="utf-8")) if doc_path.exists() else {}
            models.append(Model(
                schema=schema,
                name=sql_path.stem,
                sql=sql_path.read_text(encoding="utf-8"),
                description=_with_catalogue((doc or {}).get("description", "")),
                columns={k: _with_catalogue(str(v))
                         for k, v in ((doc or {}).get("columns") or {}).items()},
            ))
    return tuple(models)


def ordered(tables: list[str] | None = None) -> list[Model]:
    """The models in an order that runs each after the models it reads (default all; with
    ``tables``, those and every model they read, directly or not)."""
    by_table = {m.table: m for m in all_models()}
    out: list[Model] = []

    def visit(table: str, path: tuple[str, ...] = ()) -> None:
        m = by_table.get(table)
        if m is None or m in out:
            return
        if table in path:
            raise ValueError(f"models read each other in a cycle: {' -> '.join(path)}")
        for t in m.inputs:
            visit(t, (*path, table))
        out.append(m)

    for t in tables or list(by_table):
        visit(t)
    return out


def _with_catalogue(text: str) -> str:
    """A model's documentation with ``{indicators}`` replaced by the catalogue's list, so no
    .yml restates an indicator's sources or formula."""
    if "{indicators}" not in text:
        return text
    from .catalogue import describe_indicators

    return text.replace("{indicators}", describe_indicators())


def model(table: str) -> Model:
    for m in all_models():
        if m.table == table:
            return m
    raise KeyError(table)


def run_model(con, m: Model) -> int:
    """Rebuild ``m``'s table and its comments in one transaction; return its row count."""
    con.execute("begin transaction")
    try:
        con.execute(f"create schema if not exists {m.schema}")
        con.execute("create schema if not exists marts")
        con.execute(MACROS_SQL.read_text(encoding="utf-8"))
        con.execute(f"create or replace table {m.table} as (\n{m.sql}\n)")
        document(con, m.table, m.description, {**catalogue_column_docs(), **m.columns})
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return con.execute(f"select count(*) from {m.table}").fetchall()[0][0]


def document(con, table: str, description: str, columns: dict[str, str]) -> None:
    """Write a table's and its columns' descriptions as DuckDB comments."""
    if description:
        con.execute(f"comment on table {table} is {sql_literal(description.strip())}")
    actual = {r[0] for r in con.execute(f"describe {table}").fetchall()}
    for col, text in columns.items():
        if col in actual:
            con.execute(f"comment on column {table}.{col} is {sql_literal(text.strip())}")


def catalogue_column_docs() -> dict[str, str]:
    """A comment for a column named after an indicator (marts.area_month_counts has one per
    count), from the catalogue."""
    from .catalogue import catalogue

    cat = catalogue()
    return {i.id: f"{i.fi} — {i.en} ({i.kind}, {i.unit}; "
                  f"{', '.join(cat.sources[s].label for s in i.source_ids())})"
            for i in cat.indicators.values()}




@dataclass(frozen=True)
class Check:
    """A data-quality check: a query returning the offending rows (none = passed).

    ``sql/checks/<model>__<name>.sql``; its first comment line says what it checks, a line
    ``-- severity: warn`` makes it a warning instead of a stop.
    """

    model: str
    name: str
    sql: str
    description: str
    blocking: bool


@cache
def all_checks() -> tuple[Check, ...]:
    out = []
    for path in sorted((SQL_DIR / "checks").glob("*__*.sql")):
        model_name, name = path.stem.split("__", 1)
        sql = path.read_text(encoding="utf-8")
        comments = [ln[2:].strip() for ln in sql.splitlines() if ln.startswith("--")]
        blocking = not any(c.lower() == "severity: warn" for c in comments)
        description = next((c for c in comments if not c.lower().startswith("severity")), name)
        out.append(Check(model_name, name, sql, description, blocking))
    return tuple(out)


def checks_for(m: Model) -> list[Check]:
    return [c for c in all_checks() if c.model == m.name]


def run_check(con, c: Check, preview_rows: int = 10) -> tuple[int, list[str], list[tuple]]:
    """(number of offending rows, column names, the first few of them)."""
    rel = con.sql(c.sql)
    n = rel.aggregate("count(*)").fetchall()[0][0]
    return n, rel.columns, rel.limit(preview_rows).fetchall()
