"""What the Dagster UI shows an analyst: each staging and mart asset's columns (names, types
and the warehouse's comments), each figure's chart on its asset page, descriptions that
Markdown does not mangle, and headless runs on the Overview timeline.

Two rules of the UI's code are checked in the webserver that is installed (its bundled
JavaScript), because the metadata below is shaped by them: Markdown metadata is shown inline
only under 1000 characters, and the timeline drops runs without a repository origin.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import dagster_webserver
import duckdb
import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance
from PIL import Image

from pipeline.charts import figures
from pipeline.definitions import build_defs
from pipeline.models import all_models
from pipeline.run_origin import CODE_LOCATION, REPOSITORY

WEBAPP = Path(dagster_webserver.__file__).parent / "webapp" / "build"


def webapp_js() -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace")
                     for p in (WEBAPP / "_next" / "static" / "chunks").glob("*.js"))


@pytest.fixture(scope="module")
def published_run(bundled_run_once):
    base = bundled_run_once[0]
    con = duckdb.connect(str(base / "marts" / "indicators.duckdb"), read_only=True)
    run_id = con.execute("select run_id from audit.runs order by published_at desc "
                         "limit 1").fetchall()[0][0]
    yield con, run_id
    con.close()


def materializations(run_id: str) -> dict[str, dict]:
    """asset key -> the metadata of its materialization in the run."""
    out = {}
    with DagsterInstance.get() as instance:
        for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
            mat = record.dagster_event.event_specific_data.materialization
            out[mat.asset_key.to_user_string()] = mat.metadata
    return out


def test_every_staging_and_mart_asset_shows_its_columns(published_run):
    con, run_id = published_run
    metadata = materializations(run_id)
    tables = [m.table for m in all_models()] + ["staging.area_members"]
    assert len(tables) > 10
    for table in tables:
        schema = metadata[table.replace(".", "/")]["dagster/column_schema"].value
        want = con.execute(
            "select column_name, data_type, comment from duckdb_columns() "
            "where database_name = current_database() and schema_name = ? and table_name = ? "
            "order by column_index", table.split(".")).fetchall()
        got = [(c.name, c.type, c.description) for c in schema.columns]
        assert got == want, table
        assert all(c.description for c in schema.columns), table  # every column explained


def test_each_figure_asset_shows_its_chart_inline(published_run):
    _, run_id = published_run
    metadata = materializations(run_id)
    js = webapp_js()
    # Dagster 1.13's MetadataEntry: Markdown is rendered in place only below 1000 characters.
    assert "mdStr.length<1e3" in js
    for fid in figures.FIGURES:
        md = metadata[f"reports/{fid}"]["chart"].value
        assert len(md) < 1000, fid
        m = re.fullmatch(rf"!\[{fid}\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", md)
        assert m, md[:80]
        image = Image.open(io.BytesIO(base64.b64decode(m.group(1))))
        assert image.format == "PNG" and image.width >= 180, fid
        # The image holds the chart's colours, not a blank square.
        assert len(image.convert("RGB").getcolors(64) or []) >= 3, fid
        assert list(metadata[f"reports/{fid}"])[0] == "chart"  # first in the table


def test_descriptions_render_as_written():
    """No unfilled {placeholder}, and no <angle> text outside code spans (Markdown would
    take it for an HTML tag and drop it)."""
    defs = build_defs("data/raw", "data/marts", "reports")
    graph = defs.resolve_asset_graph()
    checked = 0
    for key in graph.get_all_asset_keys():
        text = graph.get(key).description or ""
        prose = re.sub(r"`[^`]*`", "", text)
        assert not re.search(r"\{\w+\}", text), (key, text)
        assert not re.search(r"<[A-Za-z][^>]*>", prose), (key, text)
        checked += 1
    assert checked > 25
    share = graph.get(AssetKey(["reports", "kuntaosuus"])).description
    assert share.startswith("Työmarkkinatuen kuntaosuus vuosittain")
    published = graph.get(AssetKey(["published", "indicators_warehouse"])).description
    assert "`<marts-dir>/indicators.duckdb`" in published


def test_headless_runs_carry_the_code_location_the_timeline_needs(published_run):
    _, run_id = published_run
    # Dagster 1.13's timeline (useRunsForTimeline) skips a run without a repository origin.
    assert "||!r.repositoryOrigin)return" in webapp_js()
    with DagsterInstance.get() as instance:
        run = instance.get_run_by_id(run_id)
    origin = run.remote_job_origin
    assert origin is not None
    assert (origin.repository_origin.code_location_origin.location_name,
            origin.repository_origin.repository_name, origin.job_name) == (
        CODE_LOCATION, REPOSITORY, "refresh_indicators")
    # The location `make dev` and `make serve` load, so the run lands in that job's row.
    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert f"dagster dev -m {CODE_LOCATION}" in makefile


def test_figure_assets_and_the_catalogue_say_their_coverage(published_run):
    """The run's coverage per figure is on each figure asset's page (issue 12), and the
    catalogue asset lists the indicators."""
    con, run_id = published_run
    metadata = materializations(run_id)
    k9 = metadata["reports/kuvio_9"]
    assert k9["coverage"].value == (
        "Kuvio 9: drawn, 46 of 48 months (TEM 4253); 2024-11–2024-12: TEM 4253 '..' "
        "(not available)")
    assert k9["months_with_values"].value == con.execute(
        "select count(*) from audit.coverage where indicator = 'ltu_activation_rate_pct' "
        "and area_code = 'pilot_area' and year(month) between 2021 and 2024 "
        "and status in ('present', 'partial')").fetchall()[0][0]
    catalogue = metadata["marts/indicator_catalogue"]
    assert catalogue["dagster/row_count"].value == con.execute(
        "select count(*) from marts.indicator_catalogue").fetchall()[0][0]
    assert "| ltu_share_pct |" in catalogue["indicators"].value
