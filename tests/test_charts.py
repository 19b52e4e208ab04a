"""The report's figures: their data equal the marts, their files are valid and reproducible.

One real pipeline run (module-scoped) publishes a warehouse from a copy of the bundled data
and, through the Dagster chart assets, the pilot area's full set of figures; the export
command then renders from that published warehouse.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import duckdb
import matplotlib.image
import openpyxl
import pandas as pd
import pytest
from conftest import copy_of_run, export

from pipeline.areas import PILOT_AREA
from pipeline.charts import figures, outputs, style

ALL = list(figures.FIGURES)

# The report's captions (Kuvio N – title – Lähde: source), as printed in the final report.
CAPTIONS = {
    "kuvio_1": ("Kuntakokeilualueen asiakasmäärät 2021–2024", "TEM, Työnvälitystilasto (1208)"),
    "kuvio_2": ("Työttömät työnhakijat 2021–2024. Työtön työnhakija = työtön tai kokoaikaisesti "
                "lomautettu", "TEM, Työnvälitystilasto (1208)"),
    "kuvio_3": ("Virta yli 3 kk:n työttömyyteen suhteessa vastaavaa kuukautta aikaisemmin "
                "alkaneisiin työttömyyksiin", "TEM, Työnvälitystilasto (1356)"),
    "kuvio_4": ("Virta yli 3 kk:n työttömyyteen suhteessa vastaavaa kuukautta aikaisemmin "
                "alkaneisiin työttömyyksiin, vuosikeskiarvot", "TEM, Työnvälitystilasto (1356)"),
    "kuvio_5": ("Virta yli 6 kk:n työttömyyteen suhteessa vastaavaa kuukautta aikaisemmin "
                "alkaneisiin työttömyyksiin", "TEM, Työnvälitystilasto (1356)"),
    "kuvio_6": ("Virta yli 6 kk:n työttömyyteen suhteessa vastaavaa kuukautta aikaisemmin "
                "alkaneisiin työttömyyksiin, vuosikeskiarvot", "TEM, Työnvälitystilasto (1356)"),
    "kuvio_7": ("Virta yli 12 kk:n työttömyyteen suhteessa vastaavaa kuukautta aikaisemmin "
                "alkaneisiin työttömyyksiin", "TEM, Työnvälitystilasto (1356)"),
    "kuvio_8": ("Pitkäaikaistyöttömät 2021–2024", "TEM, Työnvälitystilasto (1208)"),
    "kuvio_9": ("Pitkäaikaistyöttömien aktivointiaste (palveluissa olevien osuus kaikista "
                "pitkäaikaistyöttömistä) 2021–2024", "TEM, Työnvälitystilasto (4253)"),
    "kuvio_10": ("Pitkäaikaistyöttömien työttömyysjaksojen päättymissyyt 2021–2024",
                 "TEM, Työnvälitystilasto (TTV15)"),
    "kuvio_11": ("Pitkäaikaistyöttömien työttömyysjaksojen päättymissyyt",
                 "TEM, Työnvälitystilasto (TTV15)"),
}

# Each figure's rows straight from its mart, written independently of figures._QUERIES.
MART_SQL = {
    "monthly": """select year(month), month(month), value, source from marts.indicators_monthly
                  where area_code = ? and indicator = ? and value is not null
                    and month >= date '2021-01-01' and month < date '2025-01-01'
                  order by month""",
    "yearly": """select year, value, source from marts.indicators_yearly
                 where area_code = ? and indicator = ? and year in (2021, 2022, 2023, 2024)
                   and value is not null order by year""",
    "reasons_by_year": """select period::int, reason, spells, share_pct, masked_cells, source
                          from marts.ltu_spell_endings
                          where area_code = ? and period_type = 'year'
                            and period in ('2021', '2022', '2023', '2024')
                            and share_pct is not null
                          order by period, reason""",
    "reasons_total": """select reason, spells, share_pct, masked_cells, source
                        from marts.ltu_spell_endings
                        where area_code = ? and period_type = 'pilot'
                          and period = '2021-2024' and share_pct is not null order by reason""",
    "euros_yearly": """select year, municipal_share_eur, months_covered
                       from marts.municipal_share_yearly
                       where municipality_code = ? and municipal_share_eur is not null
                       order by year""",
}


@pytest.fixture(scope="module")
def run(bundled_run_once, tmp_path_factory) -> Path:
    """One full pipeline run on a copy of the bundled data; its Dagster chart assets write
    the pilot area's figures into ``reports``."""
    return copy_of_run(bundled_run_once, tmp_path_factory, "charts")


@pytest.fixture(scope="module")
def con(run):
    c = duckdb.connect(str(run / "marts" / "indicators.duckdb"), read_only=True)
    yield c
    c.close()



def mart_rows(con, figure_id: str, area: str) -> list[tuple]:
    spec = figures.FIGURES[figure_id]
    sql = MART_SQL[spec.kind]
    params = [area, spec.indicator] if "indicator = ?" in sql else [area]
    # Euros are DECIMAL in the mart; the figure plots them as the nearest double.
    return [tuple(float(v) if isinstance(v, Decimal) else v for v in row)
            for row in con.execute(sql, params).fetchall()]


def svg_text(path: Path) -> str:
    return " ".join("".join(e.itertext()) for e in ET.parse(path).getroot().iter()
                    if e.tag.endswith("text"))


def pdf_pages(path: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-z])", path.read_bytes()))


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --- specs ------------------------------------------------------------------------------

def test_every_figure_of_the_report_in_order():
    assert ALL == [f"kuvio_{n}" for n in range(1, 12)] + ["kuntaosuus"]
    for fid, (title, source) in CAPTIONS.items():
        spec = figures.FIGURES[fid]
        assert (spec.title["fi"], spec.source["fi"]) == (title, source), fid
        assert spec.number == int(fid.split("_")[1])
    share = figures.FIGURES["kuntaosuus"]
    assert share.source["fi"] == "Kela, työmarkkinatuen kuntaosuus"


def test_finnish_labels_use_a_decimal_comma():
    assert style.number(9.14, 1, "fi") == "9,1"
    assert style.number(9.14, 1, "en") == "9.1"
    assert style.number(25141000.4, 0, "fi") == "25\u202f141\u202f000"
    assert style.number(25141000.4, 0, "en") == "25,141,000"
    assert style.percent(24.16, 1, "fi") == "24,2\u00a0%"


def test_area_names():
    con = duckdb.connect()
    con.execute("create schema staging")
    con.execute("create table staging.stg_tem_cells as "
                "select 'KU091' as municipality_code, 'Helsinki' as municipality_name")
    assert figures.area_name(con, PILOT_AREA) is None  # the report's titles name it already
    assert figures.area_name(con, "KU564") == "Oulu"
    assert figures.area_name(con, "KU091") == "Helsinki"
    assert figures.area_name(con, "KU999") == "KU999"


# --- data -------------------------------------------------------------------------------

@pytest.mark.parametrize("area", [PILOT_AREA, "KU564"])
@pytest.mark.parametrize("figure_id", ALL)
def test_figure_data_is_exactly_the_mart_rows(con, figure_id, area):
    data = figures.figure_data(con, figure_id, area)
    expected = mart_rows(con, figure_id, area)
    assert len(data) > 0
    assert [tuple(r) for r in data.itertuples(index=False)] == [tuple(r) for r in expected]


def test_kuvio_8_and_9_plot_the_hand_computed_pilot_area(pilot_2023_run):
    """The pilot area's plotted numbers from hand-computed raw files (conftest.PILOT_2023),
    not from the bundled data (calibrated to the report: agreeing with it proves nothing):
    Kuvio 8 May 4757, June 4749; Kuvio 9 43000/5187 and 43000/5179 per cent."""
    c = duckdb.connect(str(pilot_2023_run / "marts" / "indicators.duckdb"), read_only=True)
    try:
        k8 = list(figures.figure_data(c, "kuvio_8", PILOT_AREA).itertuples(index=False))
        k9 = list(figures.figure_data(c, "kuvio_9", PILOT_AREA).itertuples(index=False))
    finally:
        c.close()
    assert [(y, m, v) for y, m, v, *_ in k8] == [(2023, 5, 4757.0), (2023, 6, 4749.0)]
    assert [(y, m) for y, m, *_ in k9] == [(2023, 5), (2023, 6)]
    assert [v for _, _, v, *_ in k9] == pytest.approx([8.289955, 8.302761], abs=1e-6)


def test_chart_tables_hold_the_data(con):
    """What the chart plots (and the Excel chart references) is the figure's data."""
    t = figures.chart_table(figures.FIGURES["kuvio_2"],
                            figures.figure_data(con, "kuvio_2", PILOT_AREA), "fi")
    assert list(t.columns) == ["2021", "2022", "2023", "2024"]
    assert list(t.index) == style.MONTHS["fi"]
    assert t.notna().sum().sum() == 48  # Nov–Dec 2024 from StatFin 12r5 (1208 has '..')
    pie = figures.figure_data(con, "kuvio_11", PILOT_AREA)
    t = figures.chart_table(figures.FIGURES["kuvio_11"], pie, "fi")
    assert sorted(t.iloc[:, 0]) == sorted(pie["share_pct"])
    assert t.iloc[:, 0].sum() == pytest.approx(100)


# --- the Dagster assets' files (pilot area, Finnish) ------------------------------------

@pytest.mark.parametrize("figure_id", ALL)
def test_assets_wrote_each_figure(run, con, figure_id):
    reports = run / "reports"
    img = matplotlib.image.imread(reports / f"{figure_id}.png")
    assert img.shape[0] >= 5.6 * 200 and img.shape[1] >= 11 * 200  # ≥ 200 dpi
    spec = figures.FIGURES[figure_id]
    data = figures.figure_data(con, figure_id, PILOT_AREA)
    _, chart_title = figures.titles(spec, data, "fi", None)
    text = svg_text(reports / f"{figure_id}.svg")
    assert chart_title in text
    caption_title = figures.titles(spec, data, "fi", None)[0]
    assert caption_title[:60] in text  # the caption (it may wrap after that)
    assert pdf_pages(reports / f"{figure_id}.pdf") == 1
    raw = (reports / f"{figure_id}.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # plain UTF-8, no BOM
    header = next(csv.reader(io.StringIO(raw.decode("utf-8"))))
    assert header == list(data.columns)
    # The CSV holds the plotted numbers at the precision of the figure's labels.
    got = pd.read_csv(reports / f"{figure_id}.csv")
    for column in data.columns:
        if data[column].dtype.kind == "f":
            digits = spec.decimals if column in ("value", "share_pct", spec.indicator) else 0
            assert got[column].tolist() == pytest.approx(data[column].round(digits).tolist(),
                                                         abs=1e-9), column
        else:
            assert got[column].tolist() == data[column].tolist(), column


def test_data_labels_are_finnish(run, con):
    text = svg_text(run / "reports" / "kuvio_9.svg")
    values = figures.figure_data(con, "kuvio_9", PILOT_AREA)["value"]
    for v in values:
        assert style.number(v, 1, "fi") in text
    assert "9,1" in text  # the report's first label (January 2021)


def test_figures_pdf_has_a_page_per_figure(run):
    assert pdf_pages(run / "reports" / "figures.pdf") == len(ALL)


def test_workbook_has_a_native_chart_per_figure(run, con):
    wb = openpyxl.load_workbook(run / "reports" / "figures.xlsx")
    assert wb.sheetnames[1:] == ALL
    for fid in ALL:
        ws = wb[fid]
        assert ws._charts, fid
        chart = ws._charts[0]
        cats = [(s.cat.strRef or s.cat.multiLvlStrRef).f for s in chart.series]
        refs = [s.val.numRef.f for s in chart.series] + cats
        assert all(r.startswith(f"'{fid}'!") for r in refs), refs
        spec = figures.FIGURES[fid]
        data = figures.figure_data(con, fid, PILOT_AREA)
        table = figures.chart_table(spec, data, "fi")
        first = 1 + table.index.nlevels  # the values' first column
        cells = [[ws.cell(4 + i, first + j).value for j in range(len(table.columns))]
                 for i in range(len(table))]
        want = [[None if pd.isna(v) else pytest.approx(v, rel=1e-14) for v in row]
                for row in table.to_numpy().tolist()]  # Excel keeps 15 significant digits
        assert cells == want, fid
        text = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
        # The source line names the sources the data came from (Kuvio 8: 1208, then 12r5
        # for the months 1208 lacks).
        assert f"Lähde: {figures.source_line(spec, data, 'fi')}" in text
        assert spec.source["fi"] in figures.source_line(spec, data, "fi")
        assert ws.cell(1, 1).value.startswith(f"Kuvio {spec.number} – " if spec.number else "")
        if spec.kind != "reasons_total":
            assert chart.x_axis.title is not None and chart.y_axis.title is not None


# --- export -------------------------------------------------------------------------------

def test_export_equals_the_assets_files_byte_for_byte(run, tmp_path, capsys):
    """Same data, same bytes: the export rerenders exactly what the Dagster run wrote."""
    assert export("--marts-dir", str(run / "marts"), "--out", str(tmp_path)) == 0
    printed = capsys.readouterr().out
    assert f"wrote {tmp_path / 'figures.xlsx'}" in printed
    mine, theirs = files_of(tmp_path), files_of(run / "reports")
    assert set(mine) == {f"{f}.{x}" for f in ALL for x in ("png", "svg", "pdf", "csv")} | {
        "figures.pdf", "figures.xlsx"}
    assert set(mine) <= set(theirs)
    differ = [name for name in mine if mine[name] != theirs[name]]
    assert not differ


def test_export_a_municipality_in_english(run, tmp_path):
    assert export("--marts-dir", str(run / "marts"), "--out", str(tmp_path), "--area",
                  "KU564", "--lang", "en", "--format", "svg,xlsx,csv") == 0
    out = tmp_path / "en" / "KU564"
    assert not list(tmp_path.glob("*.svg"))  # nothing for the pilot area
    assert not (tmp_path / "KU564").exists()  # nor the Finnish set of Oulu
    assert "Long-term unemployed 2021 - 2024 – Oulu" in svg_text(out / "kuvio_8.svg")
    assert "Figure 8 – Long-term unemployed 2021–2024, Oulu" in svg_text(out / "kuvio_8.svg")
    assert "Jan" in svg_text(out / "kuvio_2.svg")
    assert "Clients of the municipal pilot 2021 - 2024 – Oulu" in svg_text(out / "kuvio_1.svg")
    wb = openpyxl.load_workbook(out / "figures.xlsx")
    assert wb["kuvio_9"].cell(1, 1).value.startswith("Figure 9 – Activation rate")
    assert wb["kuvio_11"].cell(4, 1).value in figures.REASONS_EN.values()
    con = duckdb.connect(str(run / "marts" / "indicators.duckdb"), read_only=True)
    try:
        want = figures.figure_data(con, "kuvio_3", "KU564")
        want["value"] = want["value"].round(1)  # the report's precision for a rate
        pd.testing.assert_frame_equal(pd.read_csv(out / "kuvio_3.csv"), want,
                                      check_dtype=False)
    finally:
        con.close()
    before = files_of(out)
    assert export("--marts-dir", str(run / "marts"), "--out", str(tmp_path), "--area",
                  "564", "--lang", "en", "--format", "svg,xlsx,csv") == 0
    assert files_of(out) == before  # a rerun writes identical bytes


def test_export_one_figure(run, tmp_path):
    assert export("--marts-dir", str(run / "marts"), "--out", str(tmp_path), "--figure",
                  "kuvio_4", "--format", "png,pdf") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "figures_kuvio_4.pdf", "kuvio_4.pdf", "kuvio_4.png"]
    assert pdf_pages(tmp_path / "figures_kuvio_4.pdf") == 1


@pytest.mark.parametrize("argv, message", [
    (["--figure", "kuvio_99"], "unknown figure kuvio_99"),
    (["--area", "KU999"], "no data for area"),
    (["--format", "gif"], "unknown format gif"),
])
def test_export_errors(run, tmp_path, capsys, argv, message):
    assert export("--marts-dir", str(run / "marts"), "--out", str(tmp_path), *argv) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_export_area_codes_in_any_case():
    from pipeline.export import _area_code

    assert _area_code("ta_oulu") == _area_code(" TA_Oulu ") == "TA_OULU"
    assert _area_code("PILOT_AREA") == "pilot_area"
    assert _area_code("ku564") == _area_code("564 Oulu") == "KU564"
    assert _area_code("ta_nowhere") == "ta_nowhere"  # unknown: export says it has no data


def test_export_without_a_warehouse(tmp_path, capsys):
    assert export("--marts-dir", str(tmp_path / "none"), "--out", str(tmp_path)) == 2
    assert "does not exist yet" in capsys.readouterr().err


def test_outputs_skip_figures_without_data(tmp_path):
    """A figure the area has no number for is left out (not drawn empty) and named."""
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.indicators_monthly as select 'KU001' as area_code, "
                "date '2022-03-01' as month, 'unemployed' as indicator, 5.0 as value, "
                "'StatFin 12r5' as source")
    con.execute("create table marts.indicators_yearly (area_code varchar, year int, "
                "indicator varchar, value double, months_covered int, source varchar)")
    con.execute("create table marts.ltu_spell_endings (area_code varchar, period_type varchar, "
                "period varchar, reason varchar, spells double, share_pct double, "
                "masked_cells int, source varchar)")
    con.execute("create table marts.municipal_share_yearly (municipality_code varchar, "
                "year int, municipal_share_eur decimal(18, 2), months_covered int)")
    written = outputs.write_all(con, tmp_path, "KU001", formats=("csv", "xlsx"))
    assert [p.name for p in written.paths] == ["kuvio_2.csv", "figures.xlsx"]
    assert written.skipped == [f for f in ALL if f != "kuvio_2"]
    assert (tmp_path / "KU001" / "kuvio_2.csv").read_text() == (
        "year,month_no,value,source\n2022,3,5,StatFin 12r5\n")
