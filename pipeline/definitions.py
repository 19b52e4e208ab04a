"""Dagster definitions: ``dagster dev -m pipeline.definitions`` shows these in the UI."""

from __future__ import annotations

from pathlib import Path

from dagster import Definitions
from dagster_duckdb import DuckDBResource

from .defs.automation import automation
from .defs.fetch import FetchSettings, fetch_assets
from .defs.ingest import raw_assets
from .defs.publish import indicators_warehouse
from .defs.reports import figure_assets
from .defs.resources import PipelinePaths
from .defs.transform import area_members, model_assets
from .warehouse import work_db_path


def build_defs(raw_dir: str = "data/raw", marts_dir: str = "data/marts",
               reports_dir: str = "reports") -> Definitions:
    work_db = work_db_path(Path(marts_dir))
    work_db.parent.mkdir(parents=True, exist_ok=True)
    return Definitions(
        assets=[*fetch_assets, *raw_assets, area_members, *model_assets, indicators_warehouse,
                *figure_assets],
        resources={
            "duckdb": DuckDBResource(database=str(work_db)),
            "paths": PipelinePaths(raw_dir=raw_dir, marts_dir=marts_dir, reports_dir=reports_dir),
            "fetch_settings": FetchSettings(),
        },
        **automation,  # jobs, schedules, sensors: the monthly run and the raw-folder sensor
    )


defs = build_defs()
