"""Writes synthetic TEM Työnvälitystilasto report exports (1208, 1356, 4253, TTV15).

SYNTHETIC DATA, in the layout TEM's reporting service exports (shared/formats/tem-report.md):
a title with the report number, metadata lines, a header row starting with ``Alue``, data
rows, footnotes. Workbooks are written with fixed timestamps so the bytes are reproducible.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl

from .world import World

# The report: part of the statistics could no longer be had from autumn 2024 on, so its
# Kuvio 8 and 9 end at October 2024. These cells are '..' (not available) in the exports.
NOT_AVAILABLE_FROM = (2024, 11)
SYNTHETIC_NOTE = "Huom: synteettinen esimerkkiaineisto, ei TEM:n julkaisemaa tietoa"
EXTRACTED = "Poimittu 15.01.2025"
FOOTNOTES = ["Lähde: TEM, Työnvälitystilasto", "... = salassapidettävä tieto",
             ". = tieto on loogisesti mahdoton esitettäväksi"]
FIXED_TIME = datetime(2025, 1, 15, 8, 0, 0)

TITLES = {
    "1208": "Työnvälitystilasto 1208: Työnhakijat ja kuntakokeilun asiakkaat kuukauden lopussa",
    "1356": "Työnvälitystilasto 1356: Virta yli 3, 6 ja 12 kuukauden työttömyyteen",
    "4253": "Työnvälitystilasto 4253: Pitkäaikaistyöttömien aktivointiaste",
    "TTV15": "Työnvälitystilasto TTV15: Pitkäaikaistyöttömien työttömyysjaksojen päättymissyyt",
}

Row = list[object]


def rate_1dp(num: int, den: int) -> float | str:
    """A published rate: 100 × num / den to one decimal, rounded half up; '..' if den is 0."""
    if den == 0:
        return ".."
    return float(Decimal(100 * num / den).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _area(world: World, code: str) -> str:
    return f"{code} {world.names[code]}"


def _month(ym: tuple[int, int]) -> str:
    return f"{ym[0]}M{ym[1]:02d}"


def rows_1208(world: World) -> tuple[Row, Iterable[Row]]:
    header = ["Alue", "Kuukausi", "Kuntakokeilun asiakkaat", "Työnhakijat",
              "Työttömät työnhakijat", "Pitkäaikaistyöttömät"]

    def rows():
        for code in world.codes:
            for ym in world.months:
                m = world.at(code, ym)
                clients = "." if m.pilot_clients is None else m.pilot_clients
                ltu = ".." if ym >= NOT_AVAILABLE_FROM else m.long_term_unemployed
                yield [_area(world, code), _month(ym), clients, m.jobseekers, m.unemployed, ltu]

    return header, rows()


def rows_4253(world: World) -> tuple[Row, Iterable[Row]]:
    # Columns in another order than the spec lists them, as real exports can be.
    header = ["Alue", "Kuukausi", "Pitkäaikaistyöttömien aktivointiaste (%)",
              "Palveluissa olevat pitkäaikaistyöttömät", "Pitkäaikaistyöttömät"]

    def rows():
        for code in world.codes:
            for ym in world.months:
                m = world.at(code, ym)
                s, ltu = m.ltu_in_services, m.long_term_unemployed
                if ym >= NOT_AVAILABLE_FROM:
                    yield [_area(world, code), _month(ym), "..", "..", ".."]
                else:
                    yield [_area(world, code), _month(ym), rate_1dp(s, ltu + s), s, ltu]

    return header, rows()


def rows_1356(world: World) -> tuple[Row, Iterable[Row]]:
    header = ["Alue", "Kuukausi", "Alkaneet työttömyysjaksot", "Virta yli 3 kk työttömyyteen",
              "Virta yli 6 kk työttömyyteen", "Virta yli 12 kk työttömyyteen"]

    def rows():
        for code in world.codes:
            for ym in world.months:
                m = world.at(code, ym)
                yield [_area(world, code), _month(ym), m.spells_started,
                       m.inflow[3], m.inflow[6], m.inflow[12]]

    return header, rows()


def rows_ttv15(world: World) -> tuple[Row, Iterable[Row]]:
    header = ["Alue", "Kuukausi", "Päättymissyy", "Päättyneet jaksot"]

    def rows():
        for code in world.codes:
            for ym in world.months:
                for reason, n in world.at(code, ym).endings.items():
                    # TEM masks very small counts of the smallest municipality.
                    value = "..." if code == "072" and 0 < n < 3 else n
                    yield [_area(world, code), _month(ym), reason, value]

    return header, rows()


REPORTS: dict[str, Callable[[World], tuple[Row, Iterable[Row]]]] = {
    "1208": rows_1208, "1356": rows_1356, "4253": rows_4253, "TTV15": rows_ttv15,
}


def write_xlsx(path: Path, report: str, world: World, sheet: str = "Raportti") -> None:
    header, rows = REPORTS[report](world)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for line in (TITLES[report], EXTRACTED, SYNTHETIC_NOTE):
        ws.append([line])
    ws.append([])
    ws.append(header)
    for row in rows:
        ws.append(row)
    ws.append([])
    for line in FOOTNOTES:
        ws.append([line])
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.creator = "synthetic sample generator"
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    wb.save(buf)
    _write_zip_fixed_time(buf.getvalue(), path)


def _write_zip_fixed_time(data: bytes, path: Path) -> None:
    """Re-pack a workbook with fixed entry times so reruns write identical bytes."""
    src = zipfile.ZipFile(io.BytesIO(data))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps 'modified' on save
                content = re.sub(rb"<dcterms:modified([^>]*)>[^<]*<",
                                 rb"<dcterms:modified\1>2025-01-15T08:00:00Z<", content)
            out.writestr(fixed, content)


def _csv_cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")  # decimal comma
    return str(value)


def write_csv(path: Path, report: str, world: World, encoding: str) -> None:
    """``encoding``: ``cp1252`` (Windows-1252) or ``utf-8-sig`` (UTF-8 with a BOM)."""
    header, rows = REPORTS[report](world)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow([TITLES[report]])
    w.writerow([EXTRACTED])
    w.writerow([SYNTHETIC_NOTE])
    w.writerow(header)
    for row in rows:
        w.writerow([_csv_cell(v) for v in row])
    w.writerow([])
    for line in FOOTNOTES:
        w.writerow([line])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
