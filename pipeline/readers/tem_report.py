"""Reader for TEM Työnvälitystilasto report exports (1208, 1356, 4253, TTV15), XLSX or CSV.

The layout (shared/formats/tem-report.md): title lines naming the report number, metadata
lines (``Poimittu 15.01.2025``), a header row holding ``Alue`` and ``Kuukausi``, data rows
until the first empty row, footnotes. Everything is found by its label, so extra lines and
reordered columns work.

Each numeric cell becomes one row of ``raw.tem_report_cells`` (long layout) with its place in
the file (``Raportti!C7`` or ``line 12``): an auditor can go from any value to its cell.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from .common import (
    LINEAGE_COLUMNS_SQL,
    SYMBOLS,
    LoadContext,
    RawFile,
    RawInputError,
    create_file_versions,
)

# Report number -> the measure columns it must have. A breakdown column (TTV15's reason) is
# a dimension, not a measure: its values are read from the data, never fixed in code.
REPORT_COLUMNS: dict[str, dict[str, list[str]]] = {
    "1208": {"measures": ["Kuntakokeilun asiakkaat", "Työnhakijat", "Työttömät työnhakijat",
                          "Pitkäaikaistyöttömät"], "breakdown": []},
    "1356": {"measures": ["Alkaneet työttömyysjaksot", "Virta yli 3 kk työttömyyteen",
                          "Virta yli 6 kk työttömyyteen", "Virta yli 12 kk työttömyyteen"],
             "breakdown": []},
    "4253": {"measures": ["Pitkäaikaistyöttömät", "Palveluissa olevat pitkäaikaistyöttömät",
                          "Pitkäaikaistyöttömien aktivointiaste (%)"], "breakdown": []},
    "TTV15": {"measures": ["Päättyneet jaksot"], "breakdown": ["Päättymissyy"]},
}
TITLE_RE = re.compile(r"Työnvälitystilasto\s*(?:\(|:)?\s*(1208|1356|4253|TTV\s?15)\b", re.I)
EXTRACTED_RE = re.compile(r"Poimittu\s+(\d{1,2})\.(\d{1,2})\.(\d{4})")
AREA_RE = re.compile(r"^(\d{3}) \S.*$")
MONTH_RE = re.compile(r"^(\d{4})M(0[1-9]|1[0-2])$")
HEAD_SCAN_ROWS = 30  # the header must appear within the first rows

CELLS_DDL = f"""
create table if not exists raw.tem_report_cells (
    report VARCHAR NOT NULL,          -- report number: 1208, 1356, 4253, TTV15
    area VARCHAR NOT NULL,            -- as written: '564 Oulu'
    month VARCHAR NOT NULL,           -- as written: '2021M01'
    breakdown VARCHAR,                -- TTV15: Päättymissyy (reason); NULL for other reports
    measure VARCHAR NOT NULL,         -- the column label, e.g. 'Pitkäaikaistyöttömät'
    value DOUBLE,                     -- NULL when the cell holds a statistical symbol
    symbol VARCHAR,                   -- '...', '..', '.', '-' or NULL
    {LINEAGE_COLUMNS_SQL}
)"""
FILES_DDL = """
create table if not exists raw.tem_report_files (
    load_id VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    file VARCHAR NOT NULL,
    file_sha256 VARCHAR NOT NULL,
    report VARCHAR NOT NULL,
    title VARCHAR,
    extracted_on DATE,               -- 'Poimittu' date: which vintage of the figures
    file_format VARCHAR NOT NULL,    -- xlsx or csv
    encoding VARCHAR,
    sheet VARCHAR,
    header_place VARCHAR NOT NULL,
    notes VARCHAR[],                 -- the lines before the header and after the data
    data_rows BIGINT NOT NULL,
    cells BIGINT NOT NULL
)"""


@dataclass
class TemLoadSummary:
    report: str
    file: str
    data_rows: int = 0
    cells: int = 0
    symbols: dict[str, int] = field(default_factory=dict)
    first_month: str | None = None
    last_month: str | None = None
    areas: int = 0


@dataclass
class _Sheet:
    """A report as a grid of (place, text-or-number) rows, whatever the file format."""

    file_format: str
    encoding: str | None
    sheet: str | None
    rows: Iterator[tuple[int, list[object]]]  # (1-based row/line number, cells)

    def place(self, row: int, col: int) -> str:
        if self.file_format == "xlsx":
            return f"{self.sheet}!{get_column_letter(col + 1)}{row}"
        return f"line {row}, field {col + 1}"


def sniff_tem(path: Path) -> str | None:
    """The report number if ``path`` is a TEM report export, else None. Reads the top only."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(64 * 1024)
        if head.startswith(b"PK"):
            lines = (" ".join(_text(c) for c in cells)
                     for _n, cells in _open(path, path.name).rows)
        else:  # CSV: the title is in the first lines; never read a large file whole
            try:
                text = head.decode("utf-8")
            except UnicodeDecodeError as e:
                # A cut multi-byte character at the end is fine; anything else is not UTF-8.
                text = (head[: e.start].decode("utf-8") if e.start > len(head) - 4
                        else head.decode("cp1252", errors="replace"))
            lines = text.splitlines()
        for n, line in enumerate(lines):
            if n >= HEAD_SCAN_ROWS:
                break
            if m := TITLE_RE.search(line):
                return m.group(1).upper().replace(" ", "")
    except (RawInputError, OSError, zipfile.BadZipFile, ValueError, KeyError):
        return None
    return None


def _decode_csv(data: bytes, name: str) -> tuple[str, str]:
    if not data.strip():
        raise RawInputError(name, None, "the file is empty")
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            raise RawInputError(name, f"line {line}", f"not valid UTF-8 ({e.reason})") from e
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise RawInputError(
            name, f"line {line}", "cannot be decoded as UTF-8 or Windows-1252 "
            f"(byte 0x{data[e.start]:02x})") from e


def _open(path: Path, name: str) -> _Sheet:
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(b"PK"):
        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
            raise RawInputError(name, None, f"not a readable Excel workbook ({e})") from e
        ws = wb.worksheets[0]

        def xlsx_rows():
            try:
                for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
                    yield i, list(row)
            finally:
                wb.close()

        return _Sheet("xlsx", None, ws.title, xlsx_rows())
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise RawInputError(name, None, "has an .xlsx name but is not an Excel workbook")
    text, encoding = _decode_csv(path.read_bytes(), name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    return _Sheet("csv", encoding, None, ((i, row) for i, row in enumerate(reader, start=1)))


def _blank(cells: list[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()


def _number(cell: object, fmt: str) -> float | None:
    """A numeric cell's value, or None if the cell is not a number."""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, (int, float)):
        return float(cell)
    t = _text(cell).replace("\u00a0", "").replace(" ", "")
    if fmt == "csv":
        t = t.replace(",", ".")  # decimal comma
    try:
        return float(t)
    except ValueError:
        return None


def read_report(raw: RawFile) -> tuple[dict, pa.Table]:
    """Parse a report file into its file-level facts and an Arrow table of cells."""
    name = raw.rel_path
    sheet = _open(raw.path, name)
    report = title = extracted = None
    notes: list[str] = []
    header: list[str] | None = None
    header_row = 0
    for rownum, cells in sheet.rows:
        texts = [_text(c) for c in cells]
        if "Alue" in texts and "Kuukausi" in texts:
            header, header_row = texts, rownum
            break
        line = " ".join(t for t in texts if t)
        if line:
            notes.append(line)
            if report is None and (m := TITLE_RE.search(line)):
                report, title = m.group(1).upper().replace(" ", ""), line
            if (d := EXTRACTED_RE.search(line)) and extracted is None:
                extracted = date(int(d.group(3)), int(d.group(2)), int(d.group(1)))
        if rownum > HEAD_SCAN_ROWS:
            break
    if report is None:
        raise RawInputError(name, None, "no title naming a TEM report (1208, 1356, 4253 or "
                            "TTV15) before the header row")
    if header is None:
        raise RawInputError(name, None, "no header row with the columns 'Alue' and 'Kuukausi'")

    spec = REPORT_COLUMNS[report]
    col = {label: i for i, label in enumerate(header) if label}
    missing = [c for c in spec["measures"] + spec["breakdown"] if c not in col]
    if missing:
        raise RawInputError(name, sheet.place(header_row, 0),
                            f"report {report} header lacks column(s) {', '.join(missing)}")
    measures = [c for c in spec["measures"]]
    i_area, i_month = col["Alue"], col["Kuukausi"]
    i_break = col[spec["breakdown"][0]] if spec["breakdown"] else None

    out = {k: [] for k in ("area", "month", "breakdown", "measure", "value", "symbol", "place")}
    seen: dict[tuple, tuple[int, list]] = {}
    data_rows = 0
    trailing = False
    for rownum, cells in sheet.rows:
        if _blank(cells):
            trailing = True
            continue
        if trailing:  # footnotes after the first empty row
            notes.append(" ".join(_text(c) for c in cells if _text(c)))
            continue
        cells = list(cells) + [None] * (len(header) - len(cells))
        area, month = _text(cells[i_area]), _text(cells[i_month])
        if not AREA_RE.match(area):
            raise RawInputError(name, sheet.place(rownum, i_area),
                                f"'{area}' is not an area like '564 Oulu'")
        if not MONTH_RE.match(month):
            raise RawInputError(name, sheet.place(rownum, i_month),
                                f"'{month}' is not a month like '2021M01'")
        brk = _text(cells[i_break]) if i_break is not None else None
        if i_break is not None and not brk:
            raise RawInputError(name, sheet.place(rownum, i_break),
                                f"empty '{spec['breakdown'][0]}'")
        values = []
        for m in measures:
            c = cells[col[m]]
            num = _number(c, sheet.file_format)
            sym = None
            if num is None:
                t = _text(c)
                if t in SYMBOLS:
                    sym = t
                else:
                    shown = t if t else "an empty cell"
                    raise RawInputError(name, sheet.place(rownum, col[m]),
                                        f"'{m}' holds {shown!r}, not a number or a statistical "
                                        "symbol (..., .., ., -)")
            values.append((num, sym))
        k = (area, month, brk)
        if k in seen:
            first_row, first_values = seen[k]
            what = "with different values" if first_values != values else "again"
            raise RawInputError(
                name, sheet.place(rownum, i_area),
                f"duplicate row: {area} {month}{' ' + brk if brk else ''} appears {what} "
                f"(first at {sheet.place(first_row, i_area)})")
        seen[k] = (rownum, values)
        data_rows += 1
        for m, (num, sym) in zip(measures, values):
            out["area"].append(area)
            out["month"].append(month)
            out["breakdown"].append(brk)
            out["measure"].append(m)
            out["value"].append(num)
            out["symbol"].append(sym)
            out["place"].append(sheet.place(rownum, col[m]))
    if data_rows == 0:
        raise RawInputError(name, sheet.place(header_row, 0), "no data rows after the header")
    facts = {
        "report": report, "title": title, "extracted_on": extracted,
        "file_format": sheet.file_format, "encoding": sheet.encoding, "sheet": sheet.sheet,
        "header_place": sheet.place(header_row, 0), "notes": notes, "data_rows": data_rows,
    }
    table = pa.table({
        "area": pa.array(out["area"], pa.string()),
        "month": pa.array(out["month"], pa.string()),
        "breakdown": pa.array(out["breakdown"], pa.string()),
        "measure": pa.array(out["measure"], pa.string()),
        "value": pa.array(out["value"], pa.float64()),
        "symbol": pa.array(out["symbol"], pa.string()),
        "place": pa.array(out["place"], pa.string()),
    })
    return facts, table


def create_tem_tables(con) -> None:
    con.execute("create schema if not exists raw")
    con.execute(CELLS_DDL)
    con.execute(FILES_DDL)
    create_file_versions(con)


def load_tem(con, raw: RawFile, ctx: LoadContext) -> TemLoadSummary:
    """Load one report export into ``raw.tem_report_cells`` and ``raw.tem_report_files``.

    The caller owns the transaction: a file loads whole or not at all.
    """
    facts, cells = read_report(raw)
    create_tem_tables(con)
    con.register("tem_cells_in", cells)
    try:
        con.execute(
            """insert into raw.tem_report_cells
               select ?, area, month, breakdown, measure, value, symbol,
                      ?, ?, ?, ?, place
               from tem_cells_in""",
            [facts["report"], ctx.load_id, ctx.loaded_at, raw.rel_path, raw.sha256],
        )
    finally:
        con.unregister("tem_cells_in")
    con.execute(
        """insert into raw.tem_report_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [ctx.load_id, ctx.loaded_at, raw.rel_path, raw.sha256, facts["report"], facts["title"],
         facts["extracted_on"], facts["file_format"], facts["encoding"], facts["sheet"],
         facts["header_place"], facts["notes"], facts["data_rows"], cells.num_rows],
    )
    months = sorted(set(cells.column("month").to_pylist()))
    symbols: dict[str, int] = {}
    for s in cells.column("symbol").to_pylist():
        if s is not None:
            symbols[s] = symbols.get(s, 0) + 1
    return TemLoadSummary(
        report=facts["report"], file=raw.rel_path, data_rows=facts["data_rows"],
        cells=cells.num_rows, symbols=symbols, first_month=months[0], last_month=months[-1],
        areas=len(set(cells.column("area").to_pylist())),
    )
