"""Staging and mart assets: one per SQL model in ``pipeline/sql``, with their checks."""


import re
import time

from dagster import (
    AssetKey,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableSchema,
    asset,
)
from dagster_duckdb import DuckDBResource

from .. import areas, catalogue
from ..faults import fault_point
from ..models import TABLE_REF, Model, all_models, checks_for, document, run_model
from ..raw_layer import FILE_VERSIONS
from .checks import check_results, check_specs
from .ingest import WRITER_POOL, table_to_raw_asset

AREA_MEMBERS = "staging.area_members"
CATALOGUE_KEY = AssetKey(["marts", "indicator_catalogue"])


def model_key(table: str) -> AssetKey:
    return AssetKey(table.split("."))


def _input_keys(m: Model) -> list[AssetKey]:
    raw = table_to_raw_asset()
    # What its checks read too (a cross-source check reads another table): a check must
    # not run before, or without, the table it compares with.
    checked = [t for c in checks_for(m) for t in check_inputs(c) if t != m.table]
    keys = []
    for t in [*m.inputs, *checked]:
        if t == FILE_VERSIONS:  # every family writes it: a model reading it follows them all
            keys += sorted(set(raw.values()), key=lambda k: k.to_user_string())
        elif t in catalogue.TABLES:
            keys.append(CATALOGUE_KEY)
        else:
            keys.append(raw.get(t, model_key(t)))
    return list(dict.fromkeys(keys))


def check_inputs(c) -> list[str]:
    """The tables a check's SQL names."""
    sql = re.sub(r"--[^\n]*", "", c.sql)
    return list(dict.fromkeys(f"{s}.{n}" for s, n in TABLE_REF.findall(sql)))


def _preview(con, table: str, n: int = 5) -> str:
    rel = con.sql(f"select * from {table} limit {n}")
    rows = rel.fetchall()
    head = "| " + " | ".join(rel.columns) + " |\n|" + "---|" * len(rel.columns) + "\n"
    return head + "\n".join("| " + " | ".join(str(v) for v in r) + " |" for r in rows)


def column_schema(con, table: str) -> TableSchema:
    """The table's columns as the warehouse holds them: name, DuckDB type and the comment
    its model's .yml gave it (what ``dagster/column_schema`` shows in the asset's Columns)."""
    schema, name = table.split(".")
    rows = con.execute(
        "select column_name, data_type, comment from duckdb_columns() "
        "where database_name = current_database() and schema_name = ? and table_name = ? "
        "order by column_index", [schema, name]).fetchall()
    return TableSchema(columns=[TableColumn(n, t, description=c or None) for n, t, c in rows])


def _model_asset(m: Model):
    checks = checks_for(m)
    group = m.schema

    @asset(
        key=model_key(m.table), group_name=group, kinds={"duckdb", "sql"},
        deps=_input_keys(m), description=m.description or None,
        check_specs=check_specs(checks, model_key(m.table)),
        pool=WRITER_POOL,
        metadata={"sql_file": m.path},
    )
    def _build(duckdb: DuckDBResource):
        start = time.monotonic()
        with duckdb.get_connection() as con:
            rows = run_model(con, m)
            fault_point("model_built", m.table)
            results = check_results(con, checks)  # offending rows shown (defs/checks.py)
            preview = _preview(con, m.table)
            columns = column_schema(con, m.table)
        return MaterializeResult(
            metadata={"dagster/row_count": rows, "table": m.table,
                      "dagster/column_schema": MetadataValue.table_schema(columns),
                      "seconds": round(time.monotonic() - start, 3),
                      "preview": MetadataValue.md(preview)},
            check_results=results,
        )

    return _build


@asset(key=model_key(AREA_MEMBERS), group_name="staging", kinds={"duckdb", "python"},
       description="One row per group of municipalities and member: which municipalities form "
                   "each area (pilot_area …), from pipeline/areas.py.", pool=WRITER_POOL)
def area_members(duckdb: DuckDBResource) -> MaterializeResult:
    rows = areas.area_member_rows()
    with duckdb.get_connection() as con:
        con.execute("begin transaction")
        con.execute("create schema if not exists staging")
        con.execute("create or replace table staging.area_members "
                    "(area_code VARCHAR, area_name VARCHAR, municipality_code VARCHAR)")
        con.executemany("insert into staging.area_members values (?, ?, ?)", rows)
        document(con, AREA_MEMBERS,
                 "One row per group of municipalities and member municipality. "
                 "Defined in pipeline/areas.py.",
                 {"area_code": "Alue — the group's code (pilot_area = kuntakokeilualue).",
                  "area_name": "Alueen nimi — the group's name.",
                  "municipality_code": "Kunta — a member municipality (KU564)."})
        con.execute("commit")
        columns = column_schema(con, AREA_MEMBERS)
    return MaterializeResult(metadata={
        "dagster/row_count": len(rows),
        "dagster/column_schema": MetadataValue.table_schema(columns)})


@asset(key=CATALOGUE_KEY, group_name="marts", kinds={"duckdb", "yaml"},
       description="The indicator catalogue, pipeline/indicators.yml: the one definition of "
                   "every indicator (names, unit, kind, sources in order of preference with "
                   "the raw measure each is read from, a rate's formula and parts, the yearly "
                   "rule), as the tables marts.indicator_catalogue, marts.indicator_sources, "
                   "marts.indicator_parts and marts.sources. Every mart reads it. Indicators: "
                   + catalogue.describe_indicators(),
       pool=WRITER_POOL, code_version=catalogue.version())
def indicator_catalogue(duckdb: DuckDBResource) -> MaterializeResult:
    with duckdb.get_connection() as con:
        con.execute("begin transaction")
        counts = catalogue.write_tables(con)
        con.execute("commit")
    table = "\n".join(f"| {i.id} | {i.fi} | {i.kind} | {i.unit} | "
                      f"{', '.join(i.source_ids())} |"
                      for i in catalogue.catalogue().indicators.values())
    return MaterializeResult(metadata={
        "dagster/row_count": counts["marts.indicator_catalogue"],
        "tables": MetadataValue.json(counts),
        "indicators": MetadataValue.md(
            "| id | nimi | kind | unit | sources |\n|---|---|---|---|---|\n" + table),
    })


model_assets = [_model_asset(m) for m in all_models()]
