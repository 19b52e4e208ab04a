"""Raw assets: one per source family, each loading that family's files from the raw folder."""


from dagster import (
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_duckdb import DuckDBResource

from ..raw_layer import FAMILIES, FILE_VERSIONS, load_family, scan
from ..readers.common import RawInputError
from .resources import PipelinePaths

WRITER_POOL = "warehouse_writer"  # one writer at a time on the working database


def raw_asset_key(family: str) -> AssetKey:
    return AssetKey(["raw", family])


def table_to_raw_asset() -> dict[str, AssetKey]:
    """Which raw asset fills each raw table or view (for wiring SQL models to their inputs).
    ``raw.file_versions`` is filled by every family; a model reading it reads its family's
    own tables too, which carry the dependency."""
    return {t: raw_asset_key(f.name) for f in FAMILIES.values() for t in f.relations}


def _raw_asset(family: str):
    fam = FAMILIES[family]

    @asset(
        key=raw_asset_key(family), group_name="raw", kinds={"duckdb", "python"},
        description=f"Raw layer: {fam.title}, as typed rows with lineage (file, SHA-256, place). "
                    f"Tables: {', '.join(fam.relations)}; and its rows of {FILE_VERSIONS}.",
        pool=WRITER_POOL,
    )
    def _load(context: AssetExecutionContext, duckdb: DuckDBResource,
              paths: PipelinePaths) -> MaterializeResult:
        with duckdb.get_connection() as con:
            try:
                found = scan(paths.raw)
                result = load_family(con, paths.raw, family, found)
            except RawInputError as e:
                raise Failure(description=str(e), metadata={"file": e.file,
                              "place": e.place or "", "problem": e.problem}) from e
            # Rows of the data tables (not the per-file and code-list tables).
            rows = sum(con.execute(f"select count(*) from {t}").fetchall()[0][0]
                       for t in fam.data)
        for file, _sha in sorted(result.reloaded):
            context.log.warning(f"{file}: its rows in the working database had been changed "
                                "outside a run; loaded again from the file")
        for name in result.unrecognised:
            context.log.warning(f"not recognised as any source, not loaded: {name}")
        table = "\n".join(f"| {f['file']} | {f['detail']} | {f['rows']} |" for f in result.loaded)
        return MaterializeResult(metadata={
            "dagster/row_count": rows,
            "files_loaded": len(result.loaded),
            "files_unchanged": len(result.unchanged),
            "files_removed": len(result.removed),
            "files_reloaded": MetadataValue.json(sorted(f for f, _ in result.reloaded)),
            "unrecognised_files": MetadataValue.json(result.unrecognised),
            "loaded": MetadataValue.md("| file | recognised as | rows |\n|---|---|---|\n" + table
                                       if table else "nothing new"),
        })

    return _load


raw_assets = [_raw_asset(name) for name in FAMILIES]
