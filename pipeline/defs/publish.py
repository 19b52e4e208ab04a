"""Publishing: the working database becomes ``<marts-dir>/indicators.duckdb``, atomically."""

from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_duckdb import DuckDBResource

from .. import reports_status
from ..audit import create_audit_views, record_run
from ..coverage import lost_coverage, lost_coverage_text
from ..faults import fault_point
from ..models import all_models
from ..raw_docs import document_raw
from ..storage import StorageError, explain_os_error
from ..warehouse import export_parquet, publish, published_path
from .ingest import WRITER_POOL
from .resources import PipelinePaths
from .transform import model_key

PUBLISHED_KEY = AssetKey(["published", "indicators_warehouse"])
BOOK_ID = "figures"  # reports/figures: figures.pdf and figures.xlsx, every figure


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
    run_id = context.run.run_id
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
        run = record_run(con, run_id, published_path(paths.marts))
        con.execute("commit")
    # The charts this run draws from the new warehouse are owed from before the rename on,
    # so a kill between the rename and the charts leaves them owed (reports_status).
    owed = figures_out_of_date(context.run.asset_selection)
    try:
        target = publish(duckdb.database, paths.marts, before_rename=lambda: (
            reports_status.before_publish(paths.marts, run_id, owed)))
        reports_status.published(paths.marts, run_id)
        parquet = export_parquet(target, paths.marts / "parquet")
    except StorageError as e:
        raise Failure(description=str(e)) from e
    except OSError as e:  # one not yet put in words where it happened
        err = explain_os_error(e, Path(e.filename or paths.marts))
        if err is None:
            raise
        raise Failure(description=str(err)) from e
    fault_point("after_publish")
    checksums = "\n".join(f"| {t} | {run['mart_rows'][t]} | `{c}` |"
                          for t, c in run["mart_checksums"].items())
    return MaterializeResult(metadata={
        "path": MetadataValue.path(str(target)),
        "bytes": target.stat().st_size,
        "code_version": run["code_version"],
        "input_files": len(run["input_files"]),
        "parquet_files": len(parquet),
        "charts_owed": MetadataValue.json(sorted(owed)),
        "marts": MetadataValue.md("| mart | rows | checksum |\n|---|---|---|\n" + checksums),
    })


def figures_out_of_date(selection) -> list[str]:
    """The charts this run is to draw after publishing (figure ids, and the book of all
    figures): those in ``selection``, the run's asset selection (empty or None: every
    asset). A selection without charts owes none: that is the user's choice."""
    from ..charts.figures import FIGURES

    ids = [*FIGURES, BOOK_ID]
    if not selection:  # the whole job (None, or an empty set from execute_in_process)
        return ids
    chosen = {k.path[1] for k in selection if len(k.path) == 2 and k.path[0] == "reports"}
    return [f for f in ids if f in chosen]
