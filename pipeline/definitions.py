"""Dagster definitions: ``dagster dev -m pipeline.definitions`` shows these in the UI."""

from __future__ import annotations

from pathlib import Path

from dagster import Definitions

from .defs.automation import automation
from .defs.ingest import raw_assets
from .defs.publish import indicators_warehouse
from .defs.reports import figure_assets
from .defs.resources import PipelinePaths, WorkingDuckDB
from .defs.transform import area_members, model_assets
from .warehouse import work_db_path


def build_defs(raw_dir: str = "data/raw", marts_dir: str = "data/marts",
               reports_dir: str = "reports") -> Definitions:
    work_db = work_db_path(Path(marts_dir))
    try:
        work_db.parent.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only folder: a run's pre-flight check says so, in words
        pass
    return Definitions(
        assets=[*raw_assets, area_members, *model_assets, indicators_warehouse, *figure_assets],
        resources={
            "duckdb": WorkingDuckDB(database=str(work_db)),  # fails fast, says why
            "paths": PipelinePaths(raw_dir=raw_dir, marts_dir=marts_dir, reports_dir=reports_dir),
        },
        **automation,  # jobs, schedules, sensors: the monthly run and the raw-folder sensor
    )


defs = build_defs()
