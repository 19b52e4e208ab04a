"""figures.xlsx: a sheet per figure with its data and a native Excel chart over those cells.

Users restyle the charts in Excel (colours, labels, axes) rather than redraw them, so each
chart is an openpyxl chart that references the sheet's table, not a picture. The table is
``figures.chart_table`` (what the matplotlib figure plots); the caption sits above it and the
source line (lähde) below the chart. Saved with fixed timestamps so that the same data
always gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, PieChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.marker import DataPoint
from openpyxl.chart.text import RichText
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RichTextProperties,
)
from openpyxl.styles import Font

from . import figures, style

# Workbook and zip entry times: fixed, so reruns on the same data write identical files.
FIXED_TIME = datetime(2025, 1, 1, 0, 0, 0)
FIXED_W3CDTF = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()

CATEGORY_HEADER = {
    figures.MONTHLY: {"fi": "Kuukausi", "en": "Month"},
    figures.YEARLY: {"fi": "Vuosi", "en": "Year"},
    figures.REASONS_BY_YEAR: {"fi": "Päättymissyy", "en": "Reason"},
    figures.REASONS_TOTAL: {"fi": "Päättymissyy", "en": "Reason"},
    figures.EUROS_YEARLY: {"fi": "Vuosi", "en": "Year"},
}
CONTENTS = {"fi": "Sisällys", "en": "Contents"}
HEADER_ROW = 3             # row 1 caption, row 2 empty, row 3 the table's header
CHART_ROWS = 26            # the chart's height in rows (13 cm at the default row height)
ROTATED_LABELS = (figures.MONTHLY, figures.REASONS_BY_YEAR)  # many columns: labels upright


def _number_format(spec: figures.FigureSpec) -> str:
    if spec.kind == figures.EUROS_YEARLY:
        return "#,##0"  # Excel shows the user's own thousands separator
    return "0" if spec.decimals == 0 else "0." + "0" * spec.decimals


def _labels(rotated: bool) -> DataLabelList:
    labels = DataLabelList()
    labels.showVal = True
    for flag in ("showSerName", "showCatName", "showLegendKey", "showPercent"):
        setattr(labels, flag, False)
    size = 700 if rotated else 900
    labels.txPr = RichText(
        bodyPr=RichTextProperties(rot=-5400000 if rotated else 0, vert="horz"),
        p=[Paragraph(pPr=ParagraphProperties(defRPr=CharacterProperties(sz=size)),
                     endParaRPr=CharacterProperties(sz=size))])
    return labels


def _colour(hex_colour: str) -> str:
    return hex_colour.lstrip("#").upper()


def _text_categories(chart, ref: Reference) -> None:
    # Categories are text (months, years as text, reasons): a string reference, so Excel
    # does not try to read them as numbers.
    for series in chart.series:
        series.cat = AxDataSource(strRef=StrRef(f=str(ref)))


def _bar_chart(ws, spec, table: pd.DataFrame, last_row: int, lang: str, chart_title: str):
    chart = BarChart()
    chart.type, chart.grouping = "col", "clustered"
    chart.overlap = -10 if len(table.columns) > 1 else 0
    chart.gapWidth = 60 if len(table.columns) > 1 else 120
    data = Reference(ws, min_col=2, max_col=1 + len(table.columns), min_row=HEADER_ROW,
                     max_row=last_row)
    chart.add_data(data, titles_from_data=True)
    _text_categories(chart, Reference(ws, min_col=1, min_row=HEADER_ROW + 1, max_row=last_row))
    for name, series in zip(table.columns, chart.series, strict=True):
        if str(name).isdigit():
            colour = _colour(style.year_colour(int(name)))
        else:
            colour = _colour(style.category_colour(0))
        series.graphicalProperties.solidFill = colour
        series.graphicalProperties.line.solidFill = colour
    if spec.kind == figures.YEARLY:  # a column per year, each in its year's colour
        for i, year in enumerate(table.index):
            point = DataPoint(idx=i)
            point.graphicalProperties.solidFill = _colour(style.year_colour(int(year)))
            chart.series[0].dPt.append(point)
    chart.dataLabels = _labels(spec.kind in ROTATED_LABELS)
    chart.x_axis.axPos = "b"
    chart.x_axis.title = CATEGORY_HEADER[spec.kind][lang]
    chart.y_axis.title = spec.unit[lang]
    chart.y_axis.numFmt = _number_format(spec)
    # openpyxl ≥ 3.1 writes axes as deleted unless told otherwise: Excel then hides them.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    if len(table.columns) == 1:
        chart.legend = None
    else:
        chart.legend.position = "b"
    chart.title = chart_title
    return chart


def _pie_chart(ws, spec, table: pd.DataFrame, last_row: int, lang: str, chart_title: str):
    chart = PieChart()
    chart.add_data(Reference(ws, min_col=2, min_row=HEADER_ROW, max_row=last_row),
                   titles_from_data=True)
    _text_categories(chart, Reference(ws, min_col=1, min_row=HEADER_ROW + 1, max_row=last_row))
    for i in range(len(table)):
        point = DataPoint(idx=i)
        point.graphicalProperties.solidFill = _colour(style.category_colour(i))
        chart.series[0].dPt.append(point)
    chart.dataLabels = _labels(rotated=False)
    chart.legend.position = "r"
    chart.title = chart_title
    return chart


def _figure_sheet(wb: Workbook, spec, data: pd.DataFrame, lang: str, synthetic: bool,
                  area_name: str | None) -> None:
    ws = wb.create_sheet(spec.id)
    caption_title, chart_title = figures.titles(spec, data, lang, area_name)
    head, *rest = style.caption_lines(spec.number, caption_title,
                                      figures.source_line(spec, data, lang), lang,
                                      synthetic, figures.notes(spec, data, lang))
    ws.cell(1, 1, head).font = Font(bold=True)
    table = figures.chart_table(spec, data, lang)
    ws.cell(HEADER_ROW, 1, CATEGORY_HEADER[spec.kind][lang]).font = Font(bold=True)
    for j, name in enumerate(table.columns, start=2):
        ws.cell(HEADER_ROW, j, str(name)).font = Font(bold=True)
    fmt = _number_format(spec)
    for i, (category, row) in enumerate(table.iterrows(), start=HEADER_ROW + 1):
        ws.cell(i, 1, str(category).replace("\n", " "))
        for j, value in enumerate(row, start=2):
            cell = ws.cell(i, j, None if pd.isna(value) else float(value))
            cell.number_format = fmt
    last_row = HEADER_ROW + len(table)
    reasons = spec.kind in (figures.REASONS_BY_YEAR, figures.REASONS_TOTAL)
    ws.column_dimensions["A"].width = 28 if reasons else 12
    for j in range(2, 2 + len(table.columns)):
        ws.column_dimensions[ws.cell(HEADER_ROW, j).column_letter].width = 14

    make = _pie_chart if spec.kind == figures.REASONS_TOTAL else _bar_chart
    chart = make(ws, spec, table, last_row, lang, chart_title)
    chart.width, chart.height = 26, 13  # cm
    anchor_col = len(table.columns) + 3
    anchor = ws.cell(HEADER_ROW, anchor_col).coordinate
    ws.add_chart(chart, anchor)
    # The source line and notes under the chart, where the report prints them.
    for k, line in enumerate(rest):
        ws.cell(HEADER_ROW + CHART_ROWS + 1 + k, anchor_col, line)


def _contents_sheet(wb: Workbook, entries, lang: str, area_name: str | None) -> None:
    ws = wb.active
    ws.title = CONTENTS[lang]
    ws.cell(1, 1, CONTENTS[lang] + (f" – {area_name}" if area_name else "")).font = \
        Font(bold=True)
    for i, (spec, data) in enumerate(entries, start=3):
        caption_title, _ = figures.titles(spec, data, lang, area_name)
        ws.cell(i, 1, spec.id)
        word = style.FIGURE_WORD[lang]
        ws.cell(i, 2, f"{word} {spec.number} – {caption_title}" if spec.number is not None
                else caption_title)
        ws.cell(i, 3, f"{style.SOURCE_WORD[lang]}: {figures.source_line(spec, data, lang)}")
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 100
    ws.column_dimensions["C"].width = 60


def write_workbook(entries: list[tuple[figures.FigureSpec, pd.DataFrame]], path: Path,
                   lang: str = "fi", synthetic: bool = False,
                   area_name: str | None = None) -> Path:
    """One sheet per (spec, data) in order, after a contents sheet; identical bytes for
    identical data."""
    wb = Workbook()
    _contents_sheet(wb, entries, lang, area_name)
    for spec, data in entries:
        _figure_sheet(wb, spec, data, lang, synthetic, area_name)
    wb.properties.creator = "pipeline"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_zip_fixed_time(buf.getvalue(), path)
    return path


def _write_zip_fixed_time(data: bytes, path: Path) -> None:
    """Re-pack the workbook with fixed entry times; openpyxl stamps 'modified' with the
    current time on save, so it is set back here."""
    src = zipfile.ZipFile(io.BytesIO(data))
    tmp = path.with_name(f".{path.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"<dcterms:modified([^>]*)>[^<]*<",
                                 rb"<dcterms:modified\1>" + FIXED_W3CDTF + rb"<", content)
            out.writestr(fixed, content)
    tmp.replace(path)
