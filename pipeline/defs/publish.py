"""Publishing: the working database becomes ``<marts-dir>/indicators.duckdb``, atomically."""


from dagster import AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from ..models import all_models
from ..warehouse import publish
from .ingest import WRITER_POOL
from .resources import PipelinePaths
from .transform import model_key

PUBLISHED_KEY = AssetKey(["published", "indicators_warehouse"])


@asset(
    key=PUBLISHED_KEY, group_name="published", kinds={"duckdb"},
    deps=[model_key(m.table) for m in all_models() if m.schema == "marts"],
    description="The read-only warehouse users open: <marts-dir>/indicators.duckdb, published "
                "atomically after every mart and its blocking checks succeeded.",
    pool=WRITER_POOL,
)
def indicators_warehouse(duckdb: DuckDBResource, paths: PipelinePaths) -> MaterializeResult:
    target = publish(duckdb.database, paths.marts)
    return MaterializeResult(metadata={
        "path": MetadataValue.path(str(target)),
        "bytes": target.stat().st_size,
    })
