"""Resources: where the folders are, and the working DuckDB database."""


from pathlib import Path

from dagster import ConfigurableResource


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
