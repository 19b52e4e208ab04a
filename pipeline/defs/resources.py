"""Resources: where the folders are, and the working DuckDB database."""


from contextlib import contextmanager
from pathlib import Path

from dagster import ConfigurableResource, Failure, InitResourceContext
from dagster_duckdb import DuckDBResource

from ..storage import StorageError, connect_working


class PipelinePaths(ConfigurableResource):
    """The folders a run reads and writes (see ``python -m pipeline run --help``)."""

    raw_dir: str = "data/raw"
    marts_dir: str = "data/marts"
    reports_dir: str = "reports"
    # Publish even when values the published warehouse has are lost (audit.coverage);
    # `python -m pipeline run --accept-coverage-loss`. Schedules and sensors never do.
    accept_coverage_loss: bool = False

    @property
    def raw(self) -> Path:
        return Path(self.raw_dir)

    @property
    def marts(self) -> Path:
        return Path(self.marts_dir)

    @property
    def reports(self) -> Path:
        return Path(self.reports_dir)


class WorkingDatabase(DuckDBResource):
    """The pipeline's own read-write DuckDB database (``<marts-dir>/.work/``). Its folder is
    made when a run starts, not when the definitions are imported: importing
    ``pipeline.definitions`` (the UI, a test, ``dg``) creates nothing.

    Unlike ``DuckDBResource`` it does not retry for ~100 s: a lock held by another process
    is waited on for a few seconds, then reported with its process id; a full disk and a
    read-only folder are reported at once (as a dagster Failure, which the run's summary
    prints)."""

    def setup_for_execution(self, context: InitResourceContext) -> None:
        try:
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        except OSError:  # a read-only folder: get_connection says so, in words
            pass

    @contextmanager
    def get_connection(self):
        try:
            con = connect_working(Path(self.database))
        except StorageError as e:
            raise Failure(description=str(e)) from e
        try:
            yield con
        finally:
            con.close()
