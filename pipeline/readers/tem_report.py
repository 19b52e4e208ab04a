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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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

    # The data rows (until the first empty row; footnotes after it), kept as they are: the
    # checks and the conversion below work column by column (a whole-country TTV15 export
    # has half a million rows).
    rows: list[list] = []
    rownums: list[int] = []
    trailing = False
    text_only = sheet.file_format == "csv"  # CSV cells are all strings
    for rownum, cells in sheet.rows:
        if (not "".join(cells).strip()) if text_only else _blank(cells):
            trailing = True
            continue
        if trailing:  # footnotes after the first empty row
            notes.append(" ".join(_text(c) for c in cells if _text(c)))
            continue
        rows.append(cells)
        rownums.append(rownum)
    data_rows = len(rows)
    if data_rows == 0:
        raise RawInputError(name, sheet.place(header_row, 0), "no data rows after the header")
    table = _cells_table(name, sheet, rows, rownums, measures, i_area, i_month, i_break,
                         spec["breakdown"][0] if spec["breakdown"] else None,
                         {m: col[m] for m in measures})
    facts = {
        "report": report, "title": title, "extracted_on": extracted,
        "file_format": sheet.file_format, "encoding": sheet.encoding, "sheet": sheet.sheet,
        "header_place": sheet.place(header_row, 0), "notes": notes, "data_rows": data_rows,
    }
    return facts, table


# A number as the reader accepts it once spaces (thousands) are removed and, in CSV, the
# decimal comma is a point.
_NUMBER_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _cell_text(cell: object) -> str | None:
    """A workbook measure cell as text for the column-wise checks (numbers exactly, via
    repr, so that the text parses back to the same float)."""
    if cell is None or isinstance(cell, str):
        return cell
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        return repr(float(cell))
    return str(cell)


def _first(mask) -> int | None:
    """Index of the first true value of a boolean Arrow array (nulls count as false)."""
    hits = np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))
    return int(hits[0]) if len(hits) else None


def _cells_table(name: str, sheet: _Sheet, rows: list[list], rownums: list[int],
                 measures: list[str], i_area: int, i_month: int, i_break: int | None,
                 break_label: str | None, i_measure: dict[str, int]) -> pa.Table:
    """The data rows as the long table of cells (row by row, measures in order), after the
    same checks a row-by-row read makes, reporting the first problem in the file's order."""
    def column(i: int, measure: bool = False) -> pa.Array:
        values = [r[i] if i < len(r) else None for r in rows]
        if sheet.file_format != "csv":  # workbook cells may be numbers
            values = [_cell_text(v) if measure else (None if v is None else str(v))
                      for v in values]
        return pc.utf8_trim_whitespace(pa.array(values, pa.string()))

    area, month = column(i_area), column(i_month)
    brk = column(i_break) if i_break is not None else None
    problems: list[tuple[int, int, int, str]] = []  # (row index, order, column, message)

    def check(bad, order: int, col: int, message) -> None:
        if (i := _first(bad)) is not None:
            problems.append((i, order, col, message(i)))

    check(pc.invert(pc.match_substring_regex(pc.fill_null(area, ""), AREA_RE.pattern)), 0,
          i_area, lambda i: f"'{area[i].as_py() or ''}' is not an area like '564 Oulu'")
    check(pc.invert(pc.match_substring_regex(pc.fill_null(month, ""), MONTH_RE.pattern)), 1,
          i_month, lambda i: f"'{month[i].as_py() or ''}' is not a month like '2021M01'")
    if brk is not None:
        check(pc.equal(pc.utf8_length(pc.fill_null(brk, "")), 0), 2, i_break,
              lambda i: f"empty '{break_label}'")
    parsed: dict[str, tuple[pa.Array, pa.Array]] = {}
    for order, m in enumerate(measures, start=3):
        text = pc.fill_null(column(i_measure[m], measure=True), "")
        digits = pc.replace_substring(pc.replace_substring(text, "\u00a0", ""), " ", "")
        if sheet.file_format == "csv":
            digits = pc.replace_substring(digits, ",", ".")  # decimal comma
        is_number = pc.match_substring_regex(digits, _NUMBER_RE)
        value = pc.cast(pc.if_else(is_number, digits, pa.scalar(None, pa.string())),
                        pa.float64())
        is_symbol = pc.and_(pc.invert(is_number), pc.is_in(text, pa.array(list(SYMBOLS))))
        symbol = pc.if_else(is_symbol, text, pa.scalar(None, pa.string()))
        parsed[m] = (value, symbol)

        def holds(i: int, m: str = m, text: pa.Array = text) -> str:
            shown = text[i].as_py() or "an empty cell"
            return (f"'{m}' holds {shown!r}, not a number or a statistical symbol "
                    "(..., .., ., -)")

        check(pc.invert(pc.or_(is_number, is_symbol)), order, i_measure[m], holds)

    keys = zip(area.to_pylist(), month.to_pylist(),
               brk.to_pylist() if brk is not None else [None] * len(rows))
    seen: dict[tuple, int] = {}
    for i, k in enumerate(keys):
        if k in seen:
            first = seen[k]

            def values_of(r: int) -> list:
                return [(parsed[m][0][r].as_py(), parsed[m][1][r].as_py()) for m in measures]

            what = "with different values" if values_of(first) != values_of(i) else "again"
            a, mo, b = k
            problems.append((i, 99, i_area,
                             f"duplicate row: {a} {mo}{' ' + b if b else ''} appears {what} "
                             f"(first at {sheet.place(rownums[first], i_area)})"))
            break
        seen[k] = i
    if problems:
        i, _order, col, message = min(problems)
        raise RawInputError(name, sheet.place(rownums[i], col), message)

    # Long layout, row by row and the measures in order within a row.
    n, k = len(rows), len(measures)
    rownum_text = pa.array([str(r) for r in rownums], pa.string())

    def places(col: int) -> pa.Array:
        if sheet.file_format == "xlsx":
            return pc.binary_join_element_wise(
                f"{sheet.sheet}!{get_column_letter(col + 1)}", rownum_text, "")
        return pc.binary_join_element_wise("line ", rownum_text, f", field {col + 1}", "")

    order = np.arange(n * k).reshape(k, n).T.ravel()

    def long(parts: list[pa.Array]) -> pa.Array:
        return pa.concat_arrays([p.combine_chunks() if isinstance(p, pa.ChunkedArray) else p
                                 for p in parts]).take(pa.array(order))

    breakdown = brk if brk is not None else pa.nulls(n, pa.string())
    return pa.table({
        "area": long([area] * k),
        "month": long([month] * k),
        "breakdown": long([breakdown] * k),
        "measure": long([pa.array([m] * n, pa.string()) for m in measures]),
        "value": long([parsed[m][0] for m in measures]),
        "symbol": long([parsed[m][1] for m in measures]),
        "place": long([places(i_measure[m]) for m in measures]),
    })


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
