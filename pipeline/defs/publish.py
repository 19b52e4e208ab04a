"""Publishing: the working database becomes ``<marts-dir>/indicators.duckdb``, atomically."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_duckdb import DuckDBResource

from ..audit import create_audit_views, record_run
from ..coverage import lost_coverage, lost_coverage_text
from ..models import all_models
from ..raw_docs import document_raw
from ..warehouse import export_parquet, publish, published_path
from .ingest import WRITER_POOL
from .resources import PipelinePaths
from .transform import model_key

PUBLISHED_KEY = AssetKey(["published", "indicators_warehouse"])


@asset(
    key=PUBLISHED_KEY, group_name="published", kinds={"duckdb", "parquet"},
    deps=[model_key(m.table) for m in all_models() if m.schema in ("marts", "audit")],
    # Paths in code spans: the UI renders descriptions as Markdown, which drops <marts-dir>.
    description="The read-only warehouse users open: `<marts-dir>/indicators.duckdb`, "
                "published atomically after every mart and its blocking checks succeeded, with "
                "the audit schema (runs, coverage, lineage) and Parquet copies of the marts in "
                "`<marts-dir>/parquet/`.",
    pool=WRITER_POOL,
)
def indicators_warehouse(context: AssetExecutionContext, duckdb: DuckDBResource,
                         paths: PipelinePaths) -> MaterializeResult:
    with duckdb.get_connection() as con:
        lost, by_indicator = lost_coverage(con, published_path(paths.marts))
        if lost and not paths.accept_coverage_loss:
            raise Failure(description=lost_coverage_text(lost, by_indicator),
                          metadata={"lost": lost, "by_indicator": MetadataValue.md(
                              "| indicator | lost | areas | from | to | why |\n"
                              "|---|---|---|---|---|---|\n"
                              + "\n".join("| " + " | ".join(map(str, r)) + " |"
                                           for r in by_indicator))})
        if lost:
            context.log.warning(f"coverage lost and accepted: {lost} area-month value(s)")
        con.execute("begin transaction")
        create_audit_views(con)
        document_raw(con)  # every raw column commented, as the README promises
        run = record_run(con, context.run.run_id, published_path(paths.marts))
        con.execute("commit")
    target = publish(duckdb.database, paths.marts)
    parquet = export_parquet(target, paths.marts / "parquet")
    checksums = "\n".join(f"| {t} | {run['mart_rows'][t]} | `{c}` |"
                          for t, c in run["mart_checksums"].items())
    return MaterializeResult(metadata={
        "path": MetadataValue.path(str(target)),
        "bytes": target.stat().st_size,
        "code_version": run["code_version"],
        "input_files": len(run["input_files"]),
        "parquet_files": len(parquet),
        "marts": MetadataValue.md("| mart | rows | checksum |\n|---|---|---|\n" + checksums),
    })
