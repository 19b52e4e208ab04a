"""Resources: where the folders are, and the working DuckDB database."""


from contextlib import contextmanager
from pathlib import Path

from dagster import ConfigurableResource, Failure
from dagster_duckdb import DuckDBResource

from ..storage import StorageError, connect_working


class PipelinePaths(ConfigurableResource):
    """The folders a run reads and writes (see ``python -m pipeline run --help``)."""

    raw_dir: str = "data/raw"
    marts_dir: str = "data/marts"
    reports_dir: str = "reports"

    @property
    def raw(self) -> Path:
        return Path(self.raw_dir)

    @property
    def marts(self) -> Path:
        return Path(self.marts_dir)

    @property
    def reports(self) -> Path:
        return Path(self.reports_dir)


class WorkingDuckDB(DuckDBResource):
    """``DuckDBResource`` that does not retry for ~100 s: a lock held by another process
    is waited on for a few seconds, then reported with its process id; a full disk and a
    read-only folder are reported at once (as a dagster Failure, which the run's summary
    prints)."""

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
