"""A raw folder holding only what anyone can download: a real StatFin 12r5 PX file.

``shared/real/statfin/statfin_tyonv_eckero.px`` is a real download of table 12r5 for Eckerö
(KU043), 2024M01–M11, with suppressed cells (see shared/real/README.md). Its known values:
TYOTTOMATLOPUSSA 2024M01 = 26, TYOVOIMATK 2024M01 = 448, PITKAAIKAISTYOTTOMAT 2024M01 = '...'.
With no TEM report present, the catalogue's next source (StatFin 12r5) must give the
indicators, and what it cannot give must be said in audit.coverage.
"""

from __future__ import annotations

import io
import shutil

import duckdb
import pytest
from conftest import ROOT, export

from pipeline.coverage import figure_coverage
from pipeline.runner import run_pipeline

ECKERO = ROOT.parent / "shared" / "real" / "statfin" / "statfin_tyonv_eckero.px"


@pytest.fixture(scope="module")
def eckero(tmp_path_factory):
    if not ECKERO.exists():
        pytest.fail(f"{ECKERO} is missing: shared/ lies beside the repository")
    base = tmp_path_factory.mktemp("eckero")
    (base / "raw" / "statfin").mkdir(parents=True)
    shutil.copy(ECKERO, base / "raw" / "statfin" / ECKERO.name)
    out = io.StringIO()
    code = run_pipeline(str(base / "raw"), str(base / "marts"), str(base / "reports"), out=out)
    assert code == 0, out.getvalue()
    con = duckdb.connect(str(base / "marts" / "indicators.duckdb"), read_only=True)
    yield base, con, out.getvalue()
    con.close()


def value(con, indicator, month="2024-01-01", area="KU043"):
    return con.execute("select value, source from marts.indicators_monthly where area_code = ? "
                       "and indicator = ? and month = ?::date",
                       [area, indicator, month]).fetchall()


def test_unemployed_come_from_statfin_12r5(eckero):
    _, con, _ = eckero
    assert value(con, "unemployed") == [(26.0, "StatFin 12r5")]
    # 100 × 26 / 448, from the same file's labour force
    assert value(con, "unemployment_rate_pct") == [(pytest.approx(100 * 26 / 448), "StatFin 12r5")]


def test_suppressed_long_term_unemployed_is_said_in_coverage(eckero):
    _, con, _ = eckero
    assert value(con, "long_term_unemployed") == [(None, None)]
    status = con.execute("select status, reason from audit.coverage where area_code = 'KU043' "
                         "and indicator = 'long_term_unemployed' and month = '2024-01-01'"
                         ).fetchall()
    assert status == [("suppressed", "StatFin 12r5 '...' (confidential)")]
    # ... and a figure of a TEM-only indicator says which file would make it.
    cov = {c.figure_id: c for c in figure_coverage(con, "KU043")}
    assert cov["kuvio_9"].line() == "Kuvio 9: not drawn: needs TEM report 4253 in data/raw/tem/"


def test_the_lineage_of_a_value_is_the_px_cell(eckero):
    _, con, _ = eckero
    rows = con.execute("select source, measure, value, file, place from "
                       "audit.lineage('KU043', 'unemployed', '2024-01-01')").fetchall()
    assert len(rows) == 1
    source, measure, v, file, place = rows[0]
    assert (source, measure, v, file) == ("StatFin 12r5", "TYOTTOMATLOPUSSA", 26.0,
                                          f"statfin/{ECKERO.name}")
    assert place.startswith("PX cell ")


def test_the_run_summary_names_what_is_missing(eckero):
    _, _, printed = eckero
    assert "Kuvio 9: not drawn: pilot_area and its municipalities are in no raw file; " \
           "needs TEM report 4253 in data/raw/tem/" in printed


def test_export_draws_kuvio_2_and_8_for_eckero(eckero, tmp_path, capsys):
    base, _, _ = eckero
    assert export("--area", "KU043", "--marts-dir", str(base / "marts"),
                  "--out", str(tmp_path), "--format", "png,svg,csv") == 0
    folder = tmp_path / "KU043"
    for fid in ("kuvio_2", "kuvio_8"):
        assert (folder / f"{fid}.png").stat().st_size > 10_000
        svg = (folder / f"{fid}.svg").read_text(encoding="utf-8")
        assert "Tilastokeskus, StatFin 12r5" in svg  # the source actually used
        assert "synteettinen" not in svg  # a real file: no synthetic-data note
    # Eckerö's long-term unemployed are '...' in January–March 2024: 8 months drawn.
    lines = (folder / "kuvio_8.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 8
    assert not (folder / "kuvio_9.png").exists()


def test_bundled_statfin_files_alone_are_marked_synthetic(tmp_path):
    """The bundled PX files say in their NOTE that they are synthetic: figures drawn from
    them alone (no TEM report) say so too."""
    from conftest import BUNDLED_RAW

    from pipeline.charts.figures import is_synthetic
    from pipeline.raw_layer import load_family

    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW / "statfin", raw / "statfin")
    con = duckdb.connect()
    load_family(con, raw, "statfin")
    assert is_synthetic(con)
    real = tmp_path / "real"
    (real / "statfin").mkdir(parents=True)
    shutil.copy(ECKERO, real / "statfin" / ECKERO.name)
    con = duckdb.connect()
    load_family(con, real, "statfin")
    assert not is_synthetic(con)


REAL_12R5_2026M06 = ROOT.parent / "shared" / "real" / "pxweb" / "12r5_2026M06_all_areas.json"


def test_a_month_outside_the_figures_years_is_said_as_such(tmp_path):
    """The real 12r5 response for 2026M06 (all areas) holds the pilot area, but not in the
    report's years 2021–2024: the summary must say that, not that the area is in no file."""
    (tmp_path / "raw" / "statfin").mkdir(parents=True)
    shutil.copy(REAL_12R5_2026M06, tmp_path / "raw" / "statfin" / "12r5_2026M06.json")
    out = io.StringIO()
    assert run_pipeline(str(tmp_path / "raw"), str(tmp_path / "marts"),
                        str(tmp_path / "reports"), out=out) == 0, out.getvalue()
    con = duckdb.connect(str(tmp_path / "marts" / "indicators.duckdb"), read_only=True)
    try:
        cov = {c.figure_id: c.line() for c in figure_coverage(con)}
        eckero = {c.figure_id: c.line() for c in figure_coverage(con, "KU043")}
    finally:
        con.close()
    assert cov["kuvio_8"] == ("Kuvio 8: not drawn: needs TEM report 1208 in data/raw/tem/; "
                              "needs TEM report 4253 in data/raw/tem/; StatFin 12r5 has it "
                              "only for 2026-06, outside the figure's years 2021–2024")
    assert "in no raw file" not in out.getvalue()
    # Eckerö is in the file too (its 2026-06 row), so the same holds for it.
    assert "StatFin 12r5 has it only for 2026-06" in eckero["kuvio_2"]
