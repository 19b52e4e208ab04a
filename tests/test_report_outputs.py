"""The report's outputs as a report writer hands them on (issue 15) and safe exports (issue 13,
finding 4): Kuvio 8 and 9 as the report draws them, every empty month explained, no export
replacing another, groups drawn with their coverage, one number format, CSV at the report's
precision, a workbook that prints, and no formula in any exported cell.

Expected values come from the published marts read with SQL written here, from hand-made
frames, or from the final report's text (``../shared/seed``), not from the figure code.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from conftest import BUNDLED_RAW, ROOT, copy_of_run, export

from pipeline.areas import PILOT_AREA
from pipeline.charts import excel, figures, outputs, style

SEED = ROOT.parent / "shared" / "seed"
NNBSP = "\u202f"  # the Finnish thousands separator of every label


@pytest.fixture(scope="module")
def run(bundled_run_once, tmp_path_factory) -> Path:
    return copy_of_run(bundled_run_once, tmp_path_factory, "report_outputs")


@pytest.fixture(scope="module")
def con(run):
    c = duckdb.connect(str(run / "marts" / "indicators.duckdb"), read_only=True)
    yield c
    c.close()



def svg_texts(path: Path) -> list[str]:
    """Every text element of an SVG, in drawing order."""
    return ["".join(e.itertext()) for e in ET.parse(path).getroot().iter()
            if e.tag.endswith("}text")]


def flat(texts: list[str]) -> str:
    """The texts as one line with single spaces (captions wrap at spaces)."""
    return re.sub(r"\s+", " ", " ".join(texts))


def pdf_pages(path: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-z])", path.read_bytes()))


def monthly_rows(con, area: str, indicator: str) -> list[tuple[int, int, float]]:
    return con.execute(
        "select year(month), month(month), value from marts.indicators_monthly "
        "where area_code = ? and indicator = ? and value is not null "
        "and month between date '2021-01-01' and date '2024-12-01' order by month",
        [area, indicator]).fetchall()


# --- Kuvio 8 and 9: one chronological series --------------------------------------------

# Kuvio 8 runs to December 2024: where TEM 1208 has no number ('..', Nov–Dec 2024) the
# catalogue's next source, StatFin 12r5, gives it (the caption says so); Kuvio 9's only
# source is TEM 4253, which ends in October 2024, as the report's does.
@pytest.mark.parametrize("figure_id, indicator, decimals, last, months", [
    ("kuvio_8", "long_term_unemployed", 0, (2024, 12), 48),
    ("kuvio_9", "ltu_activation_rate_pct", 1, (2024, 10), 46)])
def test_kuvio_8_and_9_are_one_chronological_series(run, con, figure_id, indicator, decimals,
                                                    last, months):
    rows = monthly_rows(con, PILOT_AREA, indicator)
    assert (rows[0][:2], rows[-1][:2], len(rows)) == ((2021, 1), last, months)
    spec = figures.FIGURES[figure_id]
    table = figures.chart_table(spec, figures.figure_data(con, figure_id, PILOT_AREA), "fi")
    assert list(table.index) == [(y, m) for y, m, _ in rows]  # one column per month, in order
    assert table.iloc[:, 0].tolist() == [v for _, _, v in rows]
    texts = svg_texts(run / "reports" / f"{figure_id}.svg")
    labels = [style.number(v, decimals, "fi") for _, _, v in rows]
    assert [t for t in texts if t in set(labels)] == labels  # the report's labels in time order
    assert [t for t in texts if t in {"2021", "2022", "2023", "2024"}] == [
        "2021", "2022", "2023", "2024"]  # the years under the axis, once each
    assert not set(style.MONTHS["fi"]) & set(texts)  # no month groups


def test_the_chronological_series_leaves_an_empty_month_empty():
    spec = figures.FIGURES["kuvio_8"]
    data = pd.DataFrame({"year": [2022, 2022, 2023], "month_no": [11, 12, 2],
                         "value": [5.0, 6.0, 7.0]})
    table = figures.chart_table(spec, data, "fi")
    assert list(table.index) == [(2022, 11), (2022, 12), (2023, 1), (2023, 2)]
    assert table.iloc[:, 0].tolist()[:2] == [5.0, 6.0]
    assert pd.isna(table.iloc[2, 0]) and table.iloc[3, 0] == 7.0


# --- every gap explained ----------------------------------------------------------------

AUTUMN_2024 = ("osaa tilastointiin tarvittavista tiedoista ei järjestelmämuutosten takia "
               "ollut enää saatavilla syksystä 2024 alkaen")


def test_the_empty_months_of_kuvio_1_8_and_9_say_why(run):
    k1 = flat(svg_texts(run / "reports" / "kuvio_1.svg"))
    assert "Tammi–helmikuu 2021 puuttuvat: kuntakokeilu käynnistyi 1.3.2021" in k1
    k9 = flat(svg_texts(run / "reports" / "kuvio_9.svg"))
    assert f"Marras–joulukuu 2024 puuttuvat: loppuraportin mukaan ”{AUTUMN_2024}”" in k9
    # Kuvio 8 has those months from the next source, and says which.
    k8 = flat(svg_texts(run / "reports" / "kuvio_8.svg"))
    assert "puuttu" not in k8
    assert "Huom: marras–joulukuu 2024: StatFin 12r5 (TEM 1208:ssa ei lukua)." in k8
    assert "Lähde: TEM, Työnvälitystilasto (1208); Tilastokeskus, StatFin 12r5" in k8
    assert "puuttu" not in flat(svg_texts(run / "reports" / "kuvio_2.svg"))  # no gap, no note
    wb = openpyxl.load_workbook(run / "reports" / "figures.xlsx")
    cells = [str(c.value) for row in wb["kuvio_9"].iter_rows() for c in row if c.value]
    assert any(c.startswith("Marras–joulukuu 2024 puuttuvat") for c in cells)


def test_the_report_says_what_the_notes_quote():
    seeds = sorted(SEED.glob("*.txt"))
    if not seeds:
        pytest.skip(f"the final report's text is not beside the repository ({SEED})")
    report = re.sub(r"\s+", " ", seeds[0].read_text(encoding="utf-8"))
    assert AUTUMN_2024[0].upper() + AUTUMN_2024[1:] in report
    assert "kuntakokeilut käynnistyivät osana hallituksen työllisyystoimia 1.3.2021" in report


def test_gap_notes_come_from_the_missing_months():
    """Hand-made data: the notes name the months the data lacks, whatever they are."""
    months = [(y, m) for y in range(2021, 2025) for m in range(1, 13)]
    lacking = {(2021, 1), (2021, 2), (2022, 6), (2023, 11), (2023, 12), (2024, 1)}
    data = pd.DataFrame([(y, m, 1.0) for y, m in months if (y, m) not in lacking],
                        columns=["year", "month_no", "value"])
    clients = figures.gap_notes(figures.FIGURES["kuvio_1"], data, "fi")
    assert clients == (
        "Tammi–helmikuu 2021 puuttuvat: kuntakokeilu käynnistyi 1.3.2021, joten sillä ei "
        "vielä ollut asiakkaita.",
        "Kesäkuu 2022 puuttuu: lähdeaineistossa ei ole niille lukua.",
        "Marraskuu 2023 – tammikuu 2024 puuttuvat: lähdeaineistossa ei ole niille lukua.")
    # The pilot's start explains missing clients only, not missing unemployed.
    unemployed = figures.gap_notes(figures.FIGURES["kuvio_2"], data, "en")
    assert unemployed[0] == ("January–February 2021 are missing: the source data hold no "
                             "number for them.")
    full = pd.DataFrame([(y, m, 1.0) for y, m in months], columns=["year", "month_no", "value"])
    assert figures.gap_notes(figures.FIGURES["kuvio_8"], full, "fi") == ()


# --- exports never overwrite each other ---------------------------------------------------

def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_partial_and_other_language_exports_leave_the_full_set_alone(run, tmp_path):
    out = tmp_path / "reports"
    shutil.copytree(run / "reports", out)
    before = files(out)
    assert {"figures.xlsx", "figures.pdf", "kuvio_8.svg"} <= set(before)
    marts = str(run / "marts")

    assert export("--marts-dir", marts, "--out", str(out), "--figure", "kuvio_8") == 0
    assert export("--marts-dir", marts, "--out", str(out), "--figure", "kuvio_8", "kuvio_9",
                  "--format", "xlsx") == 0
    assert export("--marts-dir", marts, "--out", str(out), "--lang", "en") == 0
    after = files(out)
    assert {name: after[name] for name in before} == before  # nothing replaced

    one = openpyxl.load_workbook(out / "figures_kuvio_8.xlsx")
    assert one.sheetnames == ["Sisällys", "kuvio_8"]
    assert pdf_pages(out / "figures_kuvio_8.pdf") == 1
    two = openpyxl.load_workbook(out / "figures_kuvio_8_kuvio_9.xlsx")
    assert two.sheetnames == ["Sisällys", "kuvio_8", "kuvio_9"]
    english = openpyxl.load_workbook(out / "en" / "figures.xlsx")
    assert english.sheetnames[0] == "Contents"
    assert english["kuvio_8"].cell(1, 1).value.startswith("Figure 8 – Long-term unemployed")
    assert "Long-term unemployed 2021 - 2024" in svg_texts(out / "en" / "kuvio_8.svg")
    assert pdf_pages(out / "en" / "figures.pdf") == len(figures.FIGURES)


def test_the_paths_of_an_export():
    assert outputs.area_dir(Path("r"), PILOT_AREA, "fi") == Path("r")
    assert outputs.area_dir(Path("r"), PILOT_AREA, "en") == Path("r/en")
    assert outputs.area_dir(Path("r"), "KU564", "en") == Path("r/en/KU564")
    assert outputs.book_stem(None) == outputs.book_stem(list(figures.FIGURES)) == "figures"
    assert outputs.book_stem(["kuvio_9", "kuvio_8"]) == "figures_kuvio_8_kuvio_9"


# --- groups: all members, or the coverage said ------------------------------------------

def test_group_coverage(con):
    # TA_OULU has 11 members (pipeline/areas.py); the bundled data hold the 8 pilot ones.
    assert figures.group_coverage(con, "TA_OULU", "kuntaosuus") == (8, 11)
    assert figures.group_coverage(con, "TA_OULU", "kuvio_10") == (8, 11)
    assert figures.group_coverage(con, PILOT_AREA, "kuvio_8") == (8, 8)
    assert figures.group_coverage(con, "KU564", "kuvio_8") is None


def test_an_employment_area_is_drawn_with_its_coverage(run, tmp_path, capsys):
    assert export("--marts-dir", str(run / "marts"), "--out", str(tmp_path), "--area",
                  "TA_OULU") == 0
    err = capsys.readouterr().err
    # The one group rule: a partial sum, said to be one (8 of TA_OULU's 11 are in the data).
    assert "skipped" not in err
    assert ("partial kuvio_8: Note: the numbers are the sum of 8 of the area's 11 "
            "municipalities; no numbers for KU615, KU785, KU889.") in err
    assert "partial kuntaosuus" in err
    out = tmp_path / "TA_OULU"
    title = "Työmarkkinatuen kuntaosuus 2019–2024, Oulun seudun työllisyysalue (8/11 kuntaa)"
    assert title in flat(svg_texts(out / "kuntaosuus.svg"))
    assert "(8/11 kuntaa)" in flat(svg_texts(out / "kuvio_10.svg"))
    assert "(8/11 kuntaa)" in flat(svg_texts(out / "kuvio_8.svg"))
    for name in ("kuntaosuus.csv", "kuvio_8.csv", "kuvio_10.csv", "kuvio_11.csv"):
        rows = list(csv.DictReader((out / name).open(encoding="utf-8")))
        assert rows and {(r["municipalities_with_data"], r["municipalities_in_area"])
                         for r in rows} == {("8", "11")}, name
    wb = openpyxl.load_workbook(out / "figures.xlsx")
    assert wb.sheetnames[1:] == list(figures.FIGURES)
    assert any("(8/11 kuntaa)" in str(c.value) for c in wb["Sisällys"]["B"])

    assert export("--marts-dir", str(run / "marts"), "--out", str(tmp_path), "--area",
                  "TA_OULU", "--lang", "en", "--format", "svg") == 0
    assert "(8 of 11 municipalities)" in flat(svg_texts(tmp_path / "en" / "TA_OULU" /
                                                        "kuntaosuus.svg"))


def test_a_complete_group_carries_no_coverage_columns(run):
    header = (run / "reports" / "kuvio_10.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "year,reason,spells,share_pct,masked_cells,source"


# --- the workbook ------------------------------------------------------------------------

def test_workbook_axes_headers_pages_and_contents(run, con):
    path = run / "reports" / "figures.xlsx"
    wb = openpyxl.load_workbook(path)
    for fid, spec in figures.FIGURES.items():
        ws = wb[fid]
        chart = ws._charts[0]
        if spec.kind != figures.REASONS_TOTAL:
            assert chart.y_axis.scaling.min == 0, fid  # columns from 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage, fid
        assert (ws.page_setup.orientation, ws.page_setup.fitToWidth,
                ws.page_setup.fitToHeight) == ("landscape", 1, 1), fid
        assert ws.print_area, fid
    headers = [c.value for c in wb["kuvio_1"][3]][1:5]
    assert headers == [2021, 2022, 2023, 2024]  # numbers, aligned with the numbers below
    assert all(c.data_type == "n" for c in wb["kuvio_10"][3][1:5])

    contents = wb["Sisällys"]
    assert style.SYNTHETIC_NOTE["fi"] in [c.value for c in contents["A"]]
    listed = [c.value for c in contents["B"] if c.value]
    for fid, spec in figures.FIGURES.items():
        title, _ = figures.titles(spec, figures.figure_data(con, fid, PILOT_AREA), "fi", None)
        assert any(v.endswith(title) for v in listed), title  # the whole title, not cut
    assert contents.column_dimensions["B"].width * 2 > max(len(v) for v in listed)
    assert all(contents.cell(r, 2).alignment.wrap_text for r in range(4, 4 + len(listed)))


def formula_cells(path: Path) -> list[str]:
    """Cells with a formula, from the workbook's XML itself (an <f> element)."""
    with zipfile.ZipFile(path) as z:
        return [name for name in z.namelist() if name.startswith("xl/worksheets/")
                and re.search(rb"<f[ >]", z.read(name))]


def test_workbook_has_no_formula(run):
    path = run / "reports" / "figures.xlsx"
    assert not formula_cells(path)
    wb = openpyxl.load_workbook(path)
    assert not [c.coordinate for ws in wb for row in ws.iter_rows() for c in row
                if c.data_type == "f"]


# --- numbers -----------------------------------------------------------------------------

def test_one_number_format_for_every_label(run, con):
    texts = svg_texts(run / "reports" / "kuvio_1.svg")
    assert not [t for t in texts if re.fullmatch(r"\d{4,}", t) and t not in
                {"2021", "2022", "2023", "2024"}]  # no ungrouped 16521 beside 24 041 065
    clients = monthly_rows(con, PILOT_AREA, "pilot_clients")
    for _, _, v in clients:
        assert f"{int(v) // 1000}{NNBSP}{int(v) % 1000:03d}" in texts
    share = con.execute("select municipal_share_eur from marts.municipal_share_yearly "
                        "where municipality_code = 'pilot_area' and year = 2021").fetchall()[0][0]
    euros = round(share)
    grouped = f"{euros:,}".replace(",", NNBSP)
    assert grouped in svg_texts(run / "reports" / "kuntaosuus.svg")
    # The same format on the value axis as on the labels.
    assert f"20{NNBSP}000" in texts


def test_csv_at_the_reports_precision_warehouse_and_parquet_in_full(run, con):
    k8 = list(csv.DictReader((run / "reports" / "kuvio_8.csv").open(encoding="utf-8")))
    assert k8[0] == {"year": "2021", "month_no": "1", "value": "3828",
                     "source": "TEM 1208"}  # persons, whole; the source it came from
    assert all(re.fullmatch(r"\d+", r["value"]) for r in k8)
    k9 = list(csv.DictReader((run / "reports" / "kuvio_9.csv").open(encoding="utf-8")))
    assert all(re.fullmatch(r"\d+\.\d", r["value"]) for r in k9)  # rates, one decimal
    rows = monthly_rows(con, PILOT_AREA, "ltu_activation_rate_pct")
    assert [r["value"] for r in k9] == [
        format(style.rounded(v, 1), "f") for _, _, v in rows]
    k10 = list(csv.DictReader((run / "reports" / "kuvio_10.csv").open(encoding="utf-8")))
    assert all(re.fullmatch(r"\d+", r["spells"]) and re.fullmatch(r"\d+\.\d", r["share_pct"])
               for r in k10)
    # Full precision stays in the warehouse and in Parquet.
    assert any(abs(v * 10 - round(v * 10)) > 1e-6 for _, _, v in rows)
    parquet = run / "marts" / "parquet" / "indicators_monthly.parquet"
    full = duckdb.sql(
        "select value from read_parquet($p) where area_code = 'pilot_area' and "
        "indicator = 'ltu_activation_rate_pct' and value is not null and "
        "month between date '2021-01-01' and date '2024-12-01' order by month",
        params={"p": str(parquet)}).fetchall()
    assert [v for (v,) in full] == [v for _, _, v in rows]


def test_half_up_rounding_as_the_report():
    assert style.number(8.05, 1, "fi") == "8,1"  # the float 8.05 is 8.04999…: not 8,0
    assert style.number(-11000.4, 0, "fi") == f"-11{NNBSP}000"
    assert style.number(1234.5, 1, "en") == "1,234.5"


# --- formula injection (issue 13, finding 4) ---------------------------------------------

def test_csv_escapes_text_that_a_spreadsheet_reads_as_a_formula(tmp_path):
    labels = ["=1+1", "+41", "-2", "@SUM(A1)", "\tx", "\ry", "Muu", "a=b"]
    data = pd.DataFrame({"year": [2021] * len(labels), "reason": labels,
                         "spells": [-3.0, 1, 2, 3, 4, 5, 6, 7],
                         "share_pct": [-12.25, 1, 2, 3, 4, 5, 6, 7.0],
                         "masked_cells": [0] * len(labels)})
    path = outputs.write_csv(data, tmp_path / "k.csv", figures.FIGURES["kuvio_10"])
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    assert [r[1] for r in rows[1:]] == [
        "'=1+1", "'+41", "'-2", "'@SUM(A1)", "'\tx", "'\ry", "Muu", "a=b"]
    # Numbers stay numbers, negative ones too.
    assert (rows[1][2], rows[1][3]) == ("-3", "-12.3")


def test_a_formula_in_a_raw_label_stays_text_through_a_whole_run(tmp_path):
    """A TTV15 ending reason that is a formula reaches kuvio_10.csv escaped and the workbook
    as text, through the raw reader, the marts and the Dagster chart assets."""
    from pipeline.runner import run_pipeline

    label = '=HYPERLINK("http://x","Muu")'
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW, raw)
    ttv15 = raw / "tem" / "TTV15_paattymissyyt.xlsx"
    wb = openpyxl.load_workbook(ttv15)
    ws = wb.worksheets[0]
    changed = 0
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == "Muu tai tuntematon syy":
                cell.value = label
                cell.data_type = "s"  # text in the raw file, as a label typed into TEM's
                changed += 1
    assert changed > 100
    wb.save(ttv15)

    out = io.StringIO()
    assert run_pipeline(str(raw), str(tmp_path / "marts"), str(tmp_path / "reports"),
                        out=out) == 0, out.getvalue()
    reports = tmp_path / "reports"
    for name in ("kuvio_10.csv", "kuvio_11.csv"):
        cells = [c for row in csv.reader((reports / name).open(encoding="utf-8", newline=""))
                 for c in row]
        assert "'" + label in cells, name
        assert label not in cells, name
    assert not formula_cells(reports / "figures.xlsx")
    book = openpyxl.load_workbook(reports / "figures.xlsx")
    for sheet in ("kuvio_10", "kuvio_11"):
        found = [c for row in book[sheet].iter_rows() for c in row if c.value == label]
        assert found and all(c.data_type == "s" for c in found), sheet


def test_workbook_labels_are_strings_whatever_they_start_with(tmp_path):
    wb = openpyxl.Workbook()
    cell = excel.text_cell(wb.active, 1, 1, "=1+1")
    assert (cell.data_type, cell.value) == ("s", "=1+1")
    wb.save(tmp_path / "x.xlsx")
    assert not formula_cells(tmp_path / "x.xlsx")
