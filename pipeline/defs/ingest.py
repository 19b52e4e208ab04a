"""Raw assets: one per source family, each loading that family's files from the raw folder.

Each raw asset names, in its metadata, every file of the folder that is not loaded and why
(``not_loaded``), and runs the family's completeness checks
(``pipeline/sql/checks/raw_<family>__*.sql``, blocking): every area a file holds has every
month of the file's period and every measure. The folder's files are recognised once per
run and shared by the three assets (``pipeline.raw_layer.inspect_file``).
"""


from dagster import (
    AssetExecutionContext,
    AssetKey,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_duckdb import DuckDBResource
from pydantic import Field

from ..models import all_checks
from ..raw_layer import FAMILIES, FILE_VERSIONS, load_family, scan
from ..readers.common import RawInputError
from .checks import check_results, check_specs
from .fetch import FETCHED_FAMILIES, fetch_asset_key
from .resources import PipelinePaths

WRITER_POOL = "warehouse_writer"  # one writer at a time on the working database


class RawLoadConfig(Config):
    """What a run accepts that a raw load refuses by default (``python -m pipeline run
    --accept-removed / --accept-shorter``; in the UI, the launchpad's config)."""

    accept_removed: bool = Field(
        default=False, description="A file loaded before that is gone from the raw folder, "
        "or no longer recognised, is removed from the warehouse instead of failing the run.")
    accept_shorter: bool = Field(
        default=False, description="A new version of a file that covers fewer months or "
        "areas than the version it replaces is taken instead of failing the run.")


def raw_asset_key(family: str) -> AssetKey:
    return AssetKey(["raw", family])


def raw_checks(family: str):
    """The family's checks: ``pipeline/sql/checks/raw_<family>__<name>.sql``."""
    return [c for c in all_checks() if c.model == f"raw_{family}"]


def table_to_raw_asset() -> dict[str, AssetKey]:
    """Which raw asset fills each raw table or view (for wiring SQL models to their inputs).
    ``raw.file_versions`` is filled by every family; a model reading it reads its family's
    own tables too, which carry the dependency."""
    return {t: raw_asset_key(f.name) for f in FAMILIES.values() for t in f.relations}


def _raw_asset(family: str):
    fam = FAMILIES[family]
    checks = raw_checks(family)

    @asset(
        key=raw_asset_key(family), group_name="raw", kinds={"duckdb", "python"},
        description=f"Raw layer: {fam.title}, as typed rows with lineage (file, SHA-256, place). "
                    f"Tables: {', '.join(fam.relations)}; and its rows of {FILE_VERSIONS}.",
        check_specs=check_specs(checks, raw_asset_key(family)),
        pool=WRITER_POOL,
        # A public source's raw asset follows its fetch (the monthly job runs both; the
        # refresh job, without the fetch assets, loads what the folder holds).
        deps=[fetch_asset_key(family)] if family in FETCHED_FAMILIES else None,
    )
    def _load(context: AssetExecutionContext, config: RawLoadConfig, duckdb: DuckDBResource,
              paths: PipelinePaths) -> MaterializeResult:
        with duckdb.get_connection() as con:
            try:
                found = scan(paths.raw)
                result = load_family(con, paths.raw, family, found,
                                     accept_removed=config.accept_removed,
                                     accept_shorter=config.accept_shorter)
            except RawInputError as e:
                raise Failure(description=str(e), metadata={
                    "file": e.file, "place": e.place or "", "problem": e.problem}) from e
            # Rows of the data tables (not the per-file and code-list tables).
            rows = sum(con.execute(f"select count(*) from {t}").fetchall()[0][0]
                       for t in fam.data)
            results = check_results(con, checks)
        for file, _sha in sorted(result.reloaded):
            context.log.warning(f"{file}: its rows in the working database had been changed "
                                "outside a run; loaded again from the file")
        for item in result.not_loaded:  # a file ignored by name is expected: not a warning
            log = context.log.info if item.reason.startswith("ignored: ") else context.log.warning
            log(f"not loaded: {item.file}: {item.reason}")
        for rel in result.removed:
            context.log.warning(f"removed (accepted): {rel}")
        table = "\n".join(f"| {f['file']} | {f['detail']} | {f['rows']} |" for f in result.loaded)
        not_loaded = "\n".join(f"| {n.file} | {n.reason} |" for n in result.not_loaded)
        return MaterializeResult(metadata={
            "dagster/row_count": rows,
            "files_loaded": len(result.loaded),
            "files_unchanged": len(result.unchanged),
            "files_removed": len(result.removed),
            "files_reloaded": MetadataValue.json(sorted(f for f, _ in result.reloaded)),
            "removed_files": MetadataValue.json(result.removed),
            "shorter_files": MetadataValue.json(result.shorter),
            "unrecognised_files": MetadataValue.json(result.unrecognised),
            # Every file of the folder that is not loaded, with the reason.
            "not_loaded_files": MetadataValue.json(
                [{"file": n.file, "reason": n.reason} for n in result.not_loaded]),
            "not_loaded": MetadataValue.md("| file | why not loaded |\n|---|---|\n" + not_loaded
                                           if not_loaded else "every file is loaded"),
            "loaded": MetadataValue.md("| file | recognised as | rows |\n|---|---|---|\n" + table
                                       if table else "nothing new"),
        }, check_results=results)

    return _load


raw_assets = [_raw_asset(name) for name in FAMILIES]
