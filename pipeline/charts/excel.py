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
from openpyxl.chart.data_source import AxDataSource, MultiLevelStrRef, StrRef
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.marker import DataPoint
from openpyxl.chart.text import RichText
from openpyxl.drawing.text import (
    CharacterProperties,
    Paragraph,
    ParagraphProperties,
    RichTextProperties,
)
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

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
YEAR_HEADER = {"fi": "Vuosi", "en": "Year"}
CONTENTS = {"fi": "Sisällys", "en": "Contents"}
HEADER_ROW = 3             # row 1 caption, row 2 empty, row 3 the table's header
CHART_ROWS = 26            # the chart's height in rows (13 cm at the default row height)
CHART_COLUMNS = 16         # the chart's width (26 cm) in default-width columns, for printing
ROTATED_LABELS = (figures.MONTHLY, figures.REASONS_BY_YEAR)  # many columns: labels upright
CONTENTS_TITLE_WIDTH = 95  # characters: Sisällys' title column; longer titles wrap
CONTENTS_SOURCE_WIDTH = 45  # and its source column


# The language a book's numbers are shown in, as a locale tag on every number format:
# without it LibreOffice (and any spreadsheet not set to Finnish) shows a Finnish book as
# 17,641 and 9.1; with it, 17 641 and 9,1 as on the PNG charts. Excel takes the separators
# from its user's settings whatever the tag, so a Finnish Excel shows the same.
LOCALE_TAG = {"fi": "[$-40B]", "en": "[$-409]"}  # Windows LCIDs: fi-FI, en-US


def _number_format(spec: figures.FigureSpec, lang: str) -> str:
    # Grouped thousands in every table, the one format of the charts' labels (which take
    # it from their cells) and value axes.
    digits = "#,##0" if spec.decimals == 0 else "#,##0." + "0" * spec.decimals
    return LOCALE_TAG[lang] + digits


def text_cell(ws, row: int, column: int, value: str, bold: bool = False):
    """A label written as text whatever it starts with: openpyxl would store a string
    starting with '=' as a live formula (a TEM reason label, an area name …)."""
    cell = ws.cell(row, column)
    cell.value = str(value)
    cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def _header_cell(ws, row: int, column: int, name: str):
    """A value column's header, right-aligned over its numbers; a year is a number."""
    if str(name).isdigit():
        cell = ws.cell(row, column, int(name))
        cell.font = Font(bold=True)
    else:
        cell = text_cell(ws, row, column, name, bold=True)
    cell.alignment = Alignment(horizontal="right")
    return cell


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


def _text_categories(chart, ref: Reference, levels: int = 1) -> None:
    # Categories are text (months, years as text, reasons): a string reference, so Excel
    # does not try to read them as numbers. Two columns (year, month) are a two-level axis:
    # the years under the months, as the report draws Kuvio 8 and 9.
    for series in chart.series:
        if levels > 1:
            series.cat = AxDataSource(multiLvlStrRef=MultiLevelStrRef(f=str(ref)))
        else:
            series.cat = AxDataSource(strRef=StrRef(f=str(ref)))


def _bar_chart(ws, spec, table: pd.DataFrame, last_row: int, lang: str, chart_title: str,
               levels: int = 1):
    chart = BarChart()
    chart.type, chart.grouping = "col", "clustered"
    chart.overlap = -10 if len(table.columns) > 1 else 0
    chart.gapWidth = 60 if len(table.columns) > 1 else (30 if levels > 1 else 120)
    data = Reference(ws, min_col=1 + levels, max_col=levels + len(table.columns),
                     min_row=HEADER_ROW, max_row=last_row)
    chart.add_data(data, titles_from_data=True)
    _text_categories(chart, Reference(ws, min_col=1, max_col=levels, min_row=HEADER_ROW + 1,
                                      max_row=last_row), levels)
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
    if spec.kind == figures.REASONS_BY_YEAR:
        # Reasons upright and wrapped, not slanted: LibreOffice slants long labels by
        # default and squeezes the columns to a third of the chart's height.
        chart.x_axis.txPr = RichText(
            bodyPr=RichTextProperties(rot=0, vert="horz"),
            p=[Paragraph(pPr=ParagraphProperties(defRPr=CharacterProperties(sz=800)),
                         endParaRPr=CharacterProperties(sz=800))])
    chart.x_axis.title = (YEAR_HEADER if levels > 1 else CATEGORY_HEADER[spec.kind])[lang]
    chart.y_axis.title = spec.unit[lang]
    chart.y_axis.numFmt = _number_format(spec, lang)
    # Columns start at 0, as in the report: an axis from 23.5 makes 26.9 look three times
    # 24.6 (Excel and LibreOffice otherwise pick the minimum themselves).
    chart.y_axis.scaling.min = 0
    # openpyxl ≥ 3.1 writes axes as deleted unless told otherwise: Excel then hides them.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    if len(table.columns) == 1:
        chart.legend = None
    else:
        chart.legend.position = "b"
    chart.title = chart_title
    return chart


def _pie_chart(ws, spec, table: pd.DataFrame, last_row: int, lang: str, chart_title: str,
               levels: int = 1):
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


def _last_column_for(ws, first_col: int, text: str) -> int:
    """The last column a one-line caption starting at ``first_col`` runs into (it overflows
    into empty cells); the print area must reach it or the printed line is cut. One line, not
    a wrapped cell: a taller row would also stretch the table rows beside it."""
    need, col, width = len(text) * 0.8, first_col, _width(ws, first_col)  # proportional font
    while width < need:
        col += 1
        width += _width(ws, col)
    return col


DEFAULT_WIDTH = 8.43  # Excel's default column width, in characters


def _width(ws, column: int) -> float:
    # Without creating the dimension: openpyxl would write a new one 13 characters wide.
    letter = get_column_letter(column)
    dims = ws.column_dimensions
    return (dims[letter].width or DEFAULT_WIDTH) if letter in dims else DEFAULT_WIDTH


def _lines(text: str, width: float) -> int:
    """How many lines ``text`` wraps to in a cell ``width`` characters wide (a little
    generous: a cut line is worse than a blank one)."""
    return max(1, -(-len(text) * 11 // (10 * max(int(width), 1))))


def _fit_one_landscape_page(ws, last_col: int, last_row: int) -> None:
    """Print the sheet on one landscape page: the table, the chart and the caption."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.print_area = f"A1:{get_column_letter(last_col)}{last_row}"
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5


def _table_rows(ws, spec, table: pd.DataFrame, lang: str) -> int:
    """Write the chart's table under its header; returns the number of category columns
    (1, or 2 for a chronological series: the year on its first month, then the month)."""
    fmt = _number_format(spec, lang)
    if isinstance(table.index, pd.MultiIndex):  # (year, month number): a chronological series
        text_cell(ws, HEADER_ROW, 1, YEAR_HEADER[lang], bold=True)
        text_cell(ws, HEADER_ROW, 2, CATEGORY_HEADER[spec.kind][lang], bold=True)
        previous = None
        for i, (year, month) in enumerate(table.index, start=HEADER_ROW + 1):
            if year != previous:
                ws.cell(i, 1, int(year)).alignment = Alignment(horizontal="left")
                previous = year
            text_cell(ws, i, 2, style.MONTHS[lang][int(month) - 1])
        levels = 2
    else:
        text_cell(ws, HEADER_ROW, 1, CATEGORY_HEADER[spec.kind][lang], bold=True)
        for i, category in enumerate(table.index, start=HEADER_ROW + 1):
            text_cell(ws, i, 1, str(category).replace("\n", " "))
        levels = 1
    for j, name in enumerate(table.columns, start=1 + levels):
        _header_cell(ws, HEADER_ROW, j, name)
    for i, (_category, row) in enumerate(table.iterrows(), start=HEADER_ROW + 1):
        for j, value in enumerate(row, start=1 + levels):
            cell = ws.cell(i, j, None if pd.isna(value) else float(value))
            cell.number_format = fmt
    return levels


def _figure_sheet(wb: Workbook, entry, lang: str, synthetic: bool,
                  area_name: str | None) -> None:
    spec, data = entry.spec, entry.data
    ws = wb.create_sheet(spec.id)
    caption_title, chart_title = figures.titles(spec, data, lang, area_name, entry.coverage)
    head, *rest = style.caption_lines(
        spec.number, caption_title, figures.source_line(spec, data, lang), lang, synthetic,
        figures.notes(spec, data, lang, entry.coverage, entry.missing))
    table = figures.chart_table(spec, data, lang)
    levels = _table_rows(ws, spec, table, lang)
    last_row = HEADER_ROW + len(table)
    reasons = spec.kind in (figures.REASONS_BY_YEAR, figures.REASONS_TOTAL)
    ws.column_dimensions["A"].width = 28 if reasons else (8 if levels > 1 else 12)
    if levels > 1:
        ws.column_dimensions["B"].width = 10
    for j, name in enumerate(table.columns, start=1 + levels):
        # As wide as the header ('% päättyneistä jaksoista'): a right-aligned header
        # wider than its column is cut where the column to its left holds text.
        ws.column_dimensions[get_column_letter(j)].width = max(14, len(str(name)) + 3)

    make = _pie_chart if spec.kind == figures.REASONS_TOTAL else _bar_chart
    chart = make(ws, spec, table, last_row, lang, chart_title, levels)
    chart.width, chart.height = 26, 13  # cm
    anchor_col = levels + len(table.columns) + 2
    ws.add_chart(chart, ws.cell(HEADER_ROW, anchor_col).coordinate)
    last_col = anchor_col + CHART_COLUMNS - 1
    text_cell(ws, 1, 1, head, bold=True)
    last_col = max(last_col, _last_column_for(ws, 1, head))
    # The source line and notes under the chart, where the report prints them.
    note_row = HEADER_ROW + CHART_ROWS + 1
    for k, line in enumerate(rest):
        text_cell(ws, note_row + k, anchor_col, line)
        last_col = max(last_col, _last_column_for(ws, anchor_col, line))
    _fit_one_landscape_page(ws, last_col, max(last_row, note_row + len(rest) - 1))


def _contents_sheet(wb: Workbook, entries, lang: str, area_name: str | None,
                    synthetic: bool) -> None:
    ws = wb.active
    ws.title = CONTENTS[lang]
    text_cell(ws, 1, 1, CONTENTS[lang] + (f" – {area_name}" if area_name else ""), bold=True)
    if synthetic:  # the book may travel without the charts' captions: say it here too
        text_cell(ws, 2, 1, style.SYNTHETIC_NOTE[lang], bold=True)
    first = 4
    for i, entry in enumerate(entries, start=first):
        spec = entry.spec
        caption_title, _ = figures.titles(spec, entry.data, lang, area_name, entry.coverage)
        text_cell(ws, i, 1, spec.id)
        word = style.FIGURE_WORD[lang]
        title = text_cell(ws, i, 2, f"{word} {spec.number} – {caption_title}"
                          if spec.number is not None else caption_title)
        title.alignment = Alignment(wrap_text=True, vertical="top")
        source = text_cell(ws, i, 3, f"{style.SOURCE_WORD[lang]}: "
                                     f"{figures.source_line(spec, entry.data, lang)}")
        source.alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[i].height = 15 * max(_lines(title.value, CONTENTS_TITLE_WIDTH),
                                               _lines(source.value, CONTENTS_SOURCE_WIDTH))
        ws.cell(i, 1).alignment = Alignment(vertical="top")
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = CONTENTS_TITLE_WIDTH
    ws.column_dimensions["C"].width = CONTENTS_SOURCE_WIDTH
    last = first + len(entries) - 1
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as the list needs
    ws.print_area = f"A1:C{max(last, 2)}"


def write_workbook(entries, path: Path, lang: str = "fi", synthetic: bool = False,
                   area_name: str | None = None) -> Path:
    """One sheet per entry (``outputs.Entry``: spec, data, coverage) in order, after a
    contents sheet; identical bytes for identical data."""
    wb = Workbook()
    _contents_sheet(wb, entries, lang, area_name, synthetic)
    for entry in entries:
        _figure_sheet(wb, entry, lang, synthetic, area_name)
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
