"""Staging and mart assets: one per SQL model in ``pipeline/sql``, with their checks."""


import time

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_duckdb import DuckDBResource

from .. import areas
from ..faults import fault_point
from ..models import Model, all_models, checks_for, document, run_check, run_model
from ..raw_layer import FILE_VERSIONS
from .ingest import WRITER_POOL, table_to_raw_asset

AREA_MEMBERS = "staging.area_members"


def model_key(table: str) -> AssetKey:
    return AssetKey(table.split("."))


def _input_keys(m: Model) -> list[AssetKey]:
    raw = table_to_raw_asset()
    keys = [raw.get(t, model_key(t)) for t in m.inputs if t != FILE_VERSIONS]
    return list(dict.fromkeys(keys))


def _preview(con, table: str, n: int = 5) -> str:
    rel = con.sql(f"select * from {table} limit {n}")
    rows = rel.fetchall()
    head = "| " + " | ".join(rel.columns) + " |\n|" + "---|" * len(rel.columns) + "\n"
    return head + "\n".join("| " + " | ".join(str(v) for v in r) + " |" for r in rows)


def _model_asset(m: Model):
    checks = checks_for(m)
    group = m.schema

    @asset(
        key=model_key(m.table), group_name=group, kinds={"duckdb", "sql"},
        deps=_input_keys(m), description=m.description or None,
        check_specs=[AssetCheckSpec(c.name, asset=model_key(m.table), blocking=c.blocking,
                                    description=c.description) for c in checks],
        pool=WRITER_POOL,
        metadata={"sql_file": f"pipeline/sql/{m.schema}/{m.name}.sql"},
    )
    def _build(duckdb: DuckDBResource):
        start = time.monotonic()
        with duckdb.get_connection() as con:
            rows = run_model(con, m)
            fault_point("model_built", m.table)
            results = []
            for c in checks:
                n, cols, sample = run_check(con, c)
                preview = ""
                if n:
                    preview = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
                    preview += "\n".join("| " + " | ".join(map(str, r)) + " |" for r in sample)
                results.append(AssetCheckResult(
                    check_name=c.name, passed=n == 0,
                    severity=AssetCheckSeverity.ERROR if c.blocking else AssetCheckSeverity.WARN,
                    description=c.description,
                    metadata={"offending_rows": n, "sample": MetadataValue.md(preview or "none")},
                ))
            preview = _preview(con, m.table)
        return MaterializeResult(
            metadata={"dagster/row_count": rows, "table": m.table,
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
    return MaterializeResult(metadata={"dagster/row_count": len(rows)})


model_assets = [_model_asset(m) for m in all_models()]
