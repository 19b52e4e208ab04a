"""Dagster definitions: ``dagster dev -m pipeline.definitions`` shows these in the UI."""

from __future__ import annotations

from pathlib import Path

from dagster import Definitions

from .defs.automation import automation
from .defs.fetch import FetchSettings, fetch_assets
from .defs.ingest import raw_assets
from .defs.publish import indicators_warehouse
from .defs.reports import figure_assets
from .defs.resources import PipelinePaths, WorkingDatabase
from .defs.transform import area_members, indicator_catalogue, model_assets
from .warehouse import work_db_path


def build_defs(raw_dir: str = "data/raw", marts_dir: str = "data/marts",
               reports_dir: str = "reports", accept_coverage_loss: bool = False) -> Definitions:
    work_db = work_db_path(Path(marts_dir))
    return Definitions(
        assets=[*fetch_assets, *raw_assets, area_members, indicator_catalogue, *model_assets,
                indicators_warehouse, *figure_assets],
        resources={
            "duckdb": WorkingDatabase(database=str(work_db)),
            "paths": PipelinePaths(raw_dir=raw_dir, marts_dir=marts_dir, reports_dir=reports_dir,
                                   accept_coverage_loss=accept_coverage_loss),
            "fetch_settings": FetchSettings(),
        },
        **automation,  # jobs, schedules, sensors: the monthly run and the raw-folder sensor
    )


defs = build_defs()
