"""Reader for TEM Työnvälitystilasto report exports (1208, 1356, 4253, TTV15), XLSX or CSV.

The layout (shared/formats/tem-report.md): title lines naming the report number, metadata
lines (``Poimittu 15.01.2025``), a header row holding ``Alue`` and ``Kuukausi``, data rows
until the first empty row, footnotes. Everything is found by its label, so extra lines and
reordered columns work; a column label the report does not have is refused (a renamed or
new column must not be dropped quietly).

CSV comes as TEM exports it (``;``, Windows-1252 or UTF-8 with a byte-order mark) or as
Excel saves it as "Unicode text" (UTF-16 with a byte-order mark, TAB-separated).

Each numeric cell becomes one row of ``raw.tem_report_cells`` (long layout) with its place in
the file (``Raportti!C7`` or ``line 12, field 3``): an auditor can go from any value to its
cell. The data rows are read, checked and inserted in batches, so a large file never sits
in memory as Python objects; a workbook whose parts inflate past ``XLSX_MAX_INFLATED`` is
refused from its zip directory, before anything is inflated.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import duckdb
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

# Report number -> the measure columns it must have: the known list of its column labels
# (with Alue and Kuukausi); any other label in the header row is refused. A breakdown column
# (TTV15's reason, Päättymissyy) is a dimension whose values are read from the data, never
# fixed in code: TEM's list of reasons is open-ended (shared/formats/tem-report.md: "Real
# exports may carry others"), so there is no known list to check them against.
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
KEY_COLUMNS = ("Alue", "Kuukausi")
TITLE_RE = re.compile(r"Työnvälitystilasto\s*(?:\(|:)?\s*(1208|1356|4253|TTV\s?15)\b", re.I)
EXTRACTED_RE = re.compile(r"Poimittu\s+(\d{1,2})\.(\d{1,2})\.(\d{4})")
AREA_RE = re.compile(r"^(\d{3}) \S.*$")
MONTH_RE = re.compile(r"^(\d{4})M(0[1-9]|1[0-2])$")
HEAD_SCAN_ROWS = 30  # the header must appear within the first rows
HEAD_BYTES = 64 * 1024  # what the sniff reads of a CSV, and where its encoding is decided
BATCH_ROWS = 50_000  # data rows checked and inserted at a time
MAX_NOTES = 100  # footnote lines kept in raw.tem_report_files.notes

# A workbook's parts (sheets, shared strings …) together may inflate to at most this many
# bytes. Read from the zip directory before anything is inflated: a small file that inflates
# to gigabytes (a damaged or hostile workbook) is refused at once. A whole-country TTV15
# export (300 municipalities × 20 years × 7 reasons) inflates to about 100 MB; larger
# reports can be exported as CSV, which has no such limit.
XLSX_MAX_INFLATED = 200 * 1000 * 1000

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


# --------------------------------------------------------------------------- recognising


def sniff_tem(path: Path) -> str | None:
    """The report number if ``path`` is a TEM report export, else None. Reads the top only
    (a workbook: its zip directory and first rows). Never raises."""
    try:
        return inspect_tem(path, Path(path).name)
    except (RawInputError, OSError, ValueError):
        return None


def inspect_tem(path: Path, name: str) -> str | None:
    """Like :func:`sniff_tem`, for the raw layer: None for a file that is not a TEM export,
    but a RawInputError (naming the file and the part) for a workbook that cannot be read —
    over the size limit, a part missing or damaged — rather than passing it over."""
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    if head.startswith(b"PK"):
        if not zipfile.is_zipfile(path):
            return None  # some other file that starts with PK; _broken() looks at .xlsx names
        rows = _open(path, name).rows
        try:
            return _title_report(" ".join(_text(c) for c in cells) for _n, cells in rows)
        finally:
            rows.close()  # the workbook is closed with its rows
    # CSV: the title is in the first lines; never read a large file whole
    encoding = _csv_encoding(head, name, strict=False)
    return _title_report(_decode_head(head, encoding).splitlines())


def _title_report(lines) -> str | None:
    """The report number in a title among the first lines."""
    for n, line in enumerate(lines):
        if n >= HEAD_SCAN_ROWS:
            break
        if m := TITLE_RE.search(line):
            return m.group(1).upper().replace(" ", "")
    return None


# --------------------------------------------------------------------------- workbooks

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def check_workbook(path: Path, name: str) -> str:
    """Refuse a workbook before parsing it: parts inflating past ``XLSX_MAX_INFLATED`` (from
    the zip directory, nothing inflated), no ``xl/workbook.xml``, or a first sheet whose part
    is missing. Returns the first sheet's part (``xl/worksheets/sheet1.xml``)."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            if total > XLSX_MAX_INFLATED:
                big = max(infos, key=lambda i: i.file_size)
                raise RawInputError(
                    name, None, f"{big.filename} inflates to {_mb(big.file_size)} (all parts "
                    f"{_mb(total)}), over the limit of {_mb(XLSX_MAX_INFLATED)} for a "
                    "workbook: refused before reading it (a damaged file? a large report "
                    "can be exported as CSV)")
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names:
                raise RawInputError(name, None, "is a zip file but not an Excel workbook "
                                    "(no xl/workbook.xml)")
            part = _first_sheet_part(z, name)
            if part not in names:
                raise RawInputError(name, None, f"{part} is missing (the workbook's first "
                                    "sheet, which holds the report)")
            return part
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error) as e:
        raise RawInputError(name, None, f"not a readable Excel workbook ({e})") from e


def _first_sheet_part(z: zipfile.ZipFile, name: str) -> str:
    """The part of the workbook's first sheet, from xl/workbook.xml and its relationships."""
    def parse(part: str):
        try:
            return ElementTree.fromstring(z.read(part))
        except KeyError:
            raise RawInputError(name, None, f"{part} is missing") from None
        except (ElementTree.ParseError, zlib.error, EOFError, zipfile.BadZipFile) as e:
            raise RawInputError(name, None, _part_problem(part, e)) from None

    sheet = parse("xl/workbook.xml").find(f"{_MAIN_NS}sheets/{_MAIN_NS}sheet")
    if sheet is None:
        raise RawInputError(name, None, "xl/workbook.xml lists no sheet")
    rid = sheet.get(f"{_REL_NS}id")
    for rel in parse("xl/_rels/workbook.xml.rels").iter(f"{_PKG_NS}Relationship"):
        if rel.get("Id") == rid:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    raise RawInputError(name, None, f"xl/_rels/workbook.xml.rels does not say where the first "
                        f"sheet ({sheet.get('name')}) is")


def _part_problem(part: str, error: BaseException) -> str:
    """What is wrong with a workbook part that failed to parse or inflate."""
    text = str(error)
    if isinstance(error, SyntaxError) and re.match(r"(no element found|unclosed token)", text):
        return f"{part} is truncated (its XML ends before it is complete: {text})"
    if isinstance(error, SyntaxError):
        return f"{part} is not well-formed XML ({text})"
    return f"{part} is truncated or damaged ({text or type(error).__name__})"


def _broken_part(path: Path) -> str | None:
    """The first XML part of a workbook that does not parse (only looked for after openpyxl
    failed to open it, to name the part). Sizes were checked by check_workbook."""
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if not info.filename.endswith((".xml", ".rels")):
                continue
            try:
                with z.open(info) as f:
                    for _ in ElementTree.iterparse(f):
                        pass
            except (ElementTree.ParseError, zlib.error, EOFError, zipfile.BadZipFile) as e:
                return _part_problem(info.filename, e)
    return None


_XLSX_ERRORS = (zipfile.BadZipFile, KeyError, OSError, ValueError, IndexError, EOFError,
                zlib.error, SyntaxError)


def _open_xlsx(path: Path, name: str) -> _Sheet:
    part = check_workbook(path, name)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
        ws = wb.worksheets[0]
    except _XLSX_ERRORS as e:
        problem = _broken_part(path) or f"not a readable Excel workbook ({e})"
        raise RawInputError(name, None, problem) from e

    def xlsx_rows():
        try:
            for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
                yield i, list(row)
        except _XLSX_ERRORS as e:
            raise RawInputError(name, None, _part_problem(part, e)) from e
        finally:
            wb.close()

    return _Sheet("xlsx", None, ws.title, xlsx_rows())


# --------------------------------------------------------------------------- CSV

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def _csv_encoding(head: bytes, name: str, strict: bool = True) -> str:
    """The encoding of a CSV export, decided from its first bytes: a byte-order mark
    (UTF-8, or UTF-16 as Excel's "Unicode text" writes), else UTF-8 if the head is UTF-8,
    else Windows-1252 (the head holds the title and header, which have ä and ö)."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        if e.start > len(head) - 4:  # a multi-byte character cut by the end of the head
            return "utf-8"
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError as e:
        if not strict:  # recognise it all the same: the load names the line
            return "cp1252"
        line = head[: e.start].count(b"\n") + 1
        raise RawInputError(
            name, f"line {line}", "cannot be decoded as UTF-8 or Windows-1252 "
            f"(byte 0x{head[e.start]:02x})") from None


def _decode_head(head: bytes, encoding: str) -> str:
    """The first bytes as text (a character cut by the end of the head is dropped)."""
    return head.decode(encoding, errors="ignore")


def _delimiter(head_text: str) -> str:
    """';' as TEM exports; TAB as Excel's "Unicode text": whichever the header row uses."""
    for line in head_text.splitlines():
        if "Alue" in line and "Kuukausi" in line:
            return "\t" if line.count("\t") > line.count(";") else ";"
    return ";"


def _decode_error_line(path: Path, encoding: str) -> tuple[int, str]:
    """(line, byte) of the first byte ``encoding`` cannot decode (after an error, only)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    lines = 1
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            try:
                lines += decoder.decode(chunk).count("\n")
            except UnicodeDecodeError as e:
                good = chunk[: max(e.start, 0)].decode(encoding, errors="ignore")
                bad = chunk[max(e.start, 0):max(e.start, 0) + 1]
                return lines + good.count("\n"), f"0x{bad.hex() or '??'}"
        return lines, "at the end: the file ends inside a character"


_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "utf-16": "UTF-16",
                   "cp1252": "Windows-1252"}


def _open_csv(path: Path, name: str) -> _Sheet:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        raise RawInputError(name, None, "has an .xlsx name but is not an Excel workbook")
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    encoding = _csv_encoding(head, name) if head.strip() else None
    text_head = _decode_head(head, encoding) if encoding else ""
    if not text_head.strip():
        raise RawInputError(name, None, "the file is empty")
    delimiter = _delimiter(text_head)

    def csv_rows():
        # Streamed: a line at a time through the decoder and the CSV parser.
        with open(path, "rb") as binary, \
                io.TextIOWrapper(binary, encoding=encoding, newline="") as text:
            reader = csv.reader(text, delimiter=delimiter)
            n = 0
            try:
                for n, row in enumerate(reader, start=1):  # noqa: B007
                    yield n, row
            except UnicodeDecodeError:
                line, byte = _decode_error_line(path, encoding)
                what = _ENCODING_NAMES.get(encoding, encoding)
                problem = (f"cannot be decoded as UTF-8 or Windows-1252 (byte {byte})"
                           if encoding == "cp1252" else
                           f"not valid {what} (byte {byte}), although the lines before it "
                           "are: save the whole file in one encoding")
                raise RawInputError(name, f"line {line}", problem) from None
            except csv.Error as e:
                raise RawInputError(name, f"line {n + 1}", f"malformed CSV ({e})") from None
        if not _ends_with_line_break(path, head):
            # A CSV writer ends every line; a last line without its line break was most
            # likely cut short while being copied, possibly inside a number (45 read as 4).
            raise RawInputError(name, f"line {n}", "the file ends inside this line, with no "
                                "line break after it: a copy cut short? Copy the whole "
                                "export again")

    return _Sheet("csv", encoding, None, csv_rows())


def _ends_with_line_break(path: Path, head: bytes) -> bool:
    """Whether the file's last bytes are a line break ('\n', in UTF-16 as two bytes)."""
    ending = {codecs.BOM_UTF16_LE: b"\n\x00", codecs.BOM_UTF16_BE: b"\x00\n"}.get(head[:2], b"\n")
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(size - len(ending), 0))
        return f.read() == ending


def _open(path: Path, name: str) -> _Sheet:
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(b"PK"):
        return _open_xlsx(path, name)
    return _open_csv(path, name)


def _blank(cells: list[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()


# --------------------------------------------------------------------------- reading a report


class _Report:
    """One report file: its header parsed on creation, its data rows checked and converted
    in batches by :meth:`batches`, its file-level facts by :meth:`facts` after that.

    Duplicate rows are found across batches in a temporary DuckDB table of the rows' keys
    (``con``: the load's connection), so no Python object per row outlives its batch.
    """

    def __init__(self, raw: RawFile, con):
        self.name = name = raw.rel_path
        self.raw, self.con = raw, con
        self.keys_table = f"tem_keys_{uuid.uuid4().hex[:12]}"
        self.sheet = sheet = _open(raw.path, name)
        self.report = title = extracted = None
        self.notes: list[str] = []
        self.extra_notes = 0
        header: list[str] | None = None
        self.header_row = 0
        for rownum, cells in sheet.rows:
            texts = [_text(c) for c in cells]
            if "Alue" in texts and "Kuukausi" in texts:
                header, self.header_row = texts, rownum
                break
            line = " ".join(t for t in texts if t)
            if line:
                self.notes.append(line)
                if self.report is None and (m := TITLE_RE.search(line)):
                    self.report, title = m.group(1).upper().replace(" ", ""), line
                if (d := EXTRACTED_RE.search(line)) and extracted is None:
                    extracted = date(int(d.group(3)), int(d.group(2)), int(d.group(1)))
            if rownum > HEAD_SCAN_ROWS:
                break
        if self.report is None:
            raise RawInputError(name, None, "no title naming a TEM report (1208, 1356, 4253 "
                                "or TTV15) before the header row")
        if header is None:
            raise RawInputError(name, None, "no header row with the columns 'Alue' and "
                                "'Kuukausi'")
        self.title, self.extracted = title, extracted
        spec = REPORT_COLUMNS[self.report]
        known = [*KEY_COLUMNS, *spec["measures"], *spec["breakdown"]]
        col: dict[str, int] = {}
        for i, label in enumerate(header):
            if not label:
                continue
            if label not in known:
                raise RawInputError(
                    name, sheet.place(self.header_row, i),
                    f"unknown column {label!r} in report {self.report} (its columns: "
                    f"{', '.join(known)}): a renamed or new column is not read silently")
            if label in col:
                raise RawInputError(name, sheet.place(self.header_row, i),
                                    f"column {label!r} appears twice in the header "
                                    f"(first at {sheet.place(self.header_row, col[label])})")
            col[label] = i
        missing = [c for c in spec["measures"] + spec["breakdown"] if c not in col]
        if missing:
            raise RawInputError(name, sheet.place(self.header_row, 0),
                                f"report {self.report} header lacks column(s) "
                                f"{', '.join(missing)}")
        self.measures = list(spec["measures"])
        self.i_area, self.i_month = col["Alue"], col["Kuukausi"]
        self.i_break = col[spec["breakdown"][0]] if spec["breakdown"] else None
        self.break_label = spec["breakdown"][0] if spec["breakdown"] else None
        self.i_measure = {m: col[m] for m in self.measures}
        self.data_rows = 0

    def facts(self) -> dict:
        notes = self.notes + ([f"… and {self.extra_notes} more footnote lines"]
                              if self.extra_notes else [])
        return {
            "report": self.report, "title": self.title, "extracted_on": self.extracted,
            "file_format": self.sheet.file_format, "encoding": self.sheet.encoding,
            "sheet": self.sheet.sheet, "header_place": self.sheet.place(self.header_row, 0),
            "notes": notes, "data_rows": self.data_rows,
        }

    def batches(self) -> Iterator[pa.Table]:
        """The data rows (until the first empty row; footnotes after it) as tables of cells,
        a batch at a time, each checked before it is yielded; the first problem in the
        file's order raises. Then the duplicate rows across the whole file."""
        sheet, name = self.sheet, self.name
        # Hashes of each row's key and values: 32 bytes a row, whatever the labels' length.
        self.con.execute(f"create or replace temp table {self.keys_table} (i BIGINT, "
                         "rownum BIGINT, k UBIGINT, v UBIGINT)")
        try:
            rows: list[list] = []
            rownums: list[int] = []
            trailing_at = None  # the row number of the first empty row after the data
            text_only = sheet.file_format == "csv"  # CSV cells are all strings
            for rownum, cells in sheet.rows:
                if (not "".join(cells).strip()) if text_only else _blank(cells):
                    if trailing_at is None:
                        trailing_at = rownum
                    continue
                if trailing_at is not None:  # footnotes after the first empty row
                    self._footnote(rownum, cells, trailing_at)
                    continue
                rows.append(cells)
                rownums.append(rownum)
                if len(rows) == BATCH_ROWS:
                    yield self._batch(rows, rownums)
                    rows, rownums = [], []
            if rows:
                yield self._batch(rows, rownums)
            if self.data_rows == 0:
                raise RawInputError(name, sheet.place(self.header_row, 0),
                                    "no data rows after the header")
            self._raise_duplicate()
        finally:
            try:
                self.con.execute(f"drop table if exists {self.keys_table}")
            except duckdb.Error:  # an aborted transaction: the rollback drops it
                pass

    def _footnote(self, rownum: int, cells: list, empty_at: int) -> None:
        """A line after the data: a footnote, unless it is a data row (an empty line inside
        the data would otherwise drop every row after it)."""
        texts = [_text(c) for c in cells]

        def at(i: int) -> str:
            return texts[i] if i < len(texts) else ""

        if AREA_RE.match(at(self.i_area)) and MONTH_RE.match(at(self.i_month)):
            raise RawInputError(
                self.name, self.sheet.place(rownum, self.i_area),
                f"a data row ({at(self.i_area)} {at(self.i_month)}) after the empty row at "
                f"{self.sheet.place(empty_at, 0).split(',')[0]}: the data rows must not be "
                "interrupted by empty rows (only footnotes may follow them)")
        if len(self.notes) < MAX_NOTES:
            self.notes.append(" ".join(t for t in texts if t))
        else:
            self.extra_notes += 1

    def _batch(self, rows: list[list], rownums: list[int]) -> pa.Table:
        first_index = self.data_rows
        self.data_rows += len(rows)
        table, keys, problem = _cells_table(
            self.sheet, rows, rownums, self.measures, self.i_area, self.i_month,
            self.i_break, self.break_label, self.i_measure, first_index)
        self.con.register("tem_keys_in", keys)
        try:
            self.con.execute(f"insert into {self.keys_table} select i, rownum, "
                             "hash(area, month, breakdown), hash(vals) from tem_keys_in")
        finally:
            self.con.unregister("tem_keys_in")
        if problem is not None:
            index, place, message = problem
            # A duplicate of an earlier row that comes before this problem is reported first.
            self._raise_duplicate(before=index)
            raise RawInputError(self.name, place, message)
        return table

    def _raise_duplicate(self, before: int | None = None) -> None:
        """Raise for the first row (in the file's order, before data row ``before``) that
        repeats an earlier row's area, month (and breakdown)."""
        candidates = self.con.execute(f"""
            select rownum, first_rownum, v = first_v
            from (
                select *, first_value(rownum) over w as first_rownum,
                    first_value(v) over w as first_v, row_number() over w as nth
                from {self.keys_table}
                window w as (partition by k order by i)
            )
            where nth > 1 and ($before is null or i < $before)
            order by i limit 10""", {"before": before}).fetchall()
        if not candidates:
            return
        # Only the hashes were kept: read the rows' labels again (an error path) and
        # compare them, so that a hash collision is not taken for a duplicate.
        texts = self._row_texts({r for c in candidates for r in c[:2]})
        for rownum, first, same in candidates:
            if texts.get(rownum) != texts.get(first):
                continue
            a, mo, b = texts[rownum]
            what = "again" if same else "with different values"
            raise RawInputError(
                self.name, self.sheet.place(rownum, self.i_area),
                f"duplicate row: {a} {mo}{' ' + b if b else ''} appears {what} "
                f"(first at {self.sheet.place(first, self.i_area)})")

    def _row_texts(self, rownums: set[int]) -> dict[int, tuple[str, str, str]]:
        """(area, month, breakdown) of the given rows, read from the file again."""
        out: dict[int, tuple[str, str, str]] = {}
        rows = _open(self.raw.path, self.name).rows
        try:
            for rownum, cells in rows:
                if rownum in rownums:
                    texts = [_text(c) for c in cells]
                    out[rownum] = tuple(texts[i] if i is not None and i < len(texts) else ""
                                        for i in (self.i_area, self.i_month, self.i_break))
                    if len(out) == len(rownums):
                        break
        finally:
            rows.close()
        return out


def read_report(raw: RawFile) -> tuple[dict, pa.Table]:
    """Parse a report file into its file-level facts and an Arrow table of cells (for
    inspection and tests; :func:`load_tem` inserts batch by batch instead)."""
    con = duckdb.connect()
    try:
        report = _Report(raw, con)
        tables = list(report.batches())
        return report.facts(), pa.concat_tables(tables)
    finally:
        con.close()


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


def _cells_table(sheet: _Sheet, rows: list[list], rownums: list[int], measures: list[str],
                 i_area: int, i_month: int, i_break: int | None, break_label: str | None,
                 i_measure: dict[str, int], first_index: int
                 ) -> tuple[pa.Table, pa.Table, tuple[int, str, str] | None]:
    """A batch of data rows as the long table of cells (row by row, measures in order), the
    rows' keys (for the duplicate check across batches), and the batch's first problem in the
    file's order as (data row index, place, message), or None."""
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

        def negative(i: int, m: str = m, value: pa.Array = value) -> str:
            return f"'{m}' holds {value[i].as_py():g}: a count or rate cannot be negative"

        def fraction(i: int, m: str = m, text: pa.Array = text, value: pa.Array = value) -> str:
            if sheet.file_format == "csv":  # as written: '1,159'
                return (f"'{m}' holds {text[i].as_py()!r}: a count is a whole number (a "
                        "thousands separator?)")
            return f"'{m}' holds {value[i].as_py():g}: a count is a whole number"

        check(pc.invert(pc.or_(is_number, is_symbol)), order, i_measure[m], holds)
        check(pc.less(value, 0), order, i_measure[m], negative)
        if not m.endswith("(%)"):
            # Persons and spells are whole: '1,159' (a thousands separator in an export made
            # with another locale) would otherwise be 1.159 persons, passing every check.
            check(pc.not_equal(value, pc.floor(value)), order, i_measure[m], fraction)

    problem = None
    if problems:
        i, _order, col, message = min(problems)
        problem = (first_index + i, sheet.place(rownums[i], col), message)

    # The rows' keys and values, for duplicates across the whole file.
    def shown(m: str) -> pa.Array:
        value, symbol = parsed[m]
        return pc.fill_null(pc.coalesce(pc.cast(value, pa.string()), symbol), "")

    n, k = len(rows), len(measures)
    keys = pa.table({
        "i": pa.array(np.arange(first_index, first_index + n, dtype=np.int64)),
        "rownum": pa.array(rownums, pa.int64()),
        "area": area, "month": month,
        "breakdown": brk if brk is not None else pa.nulls(n, pa.string()),
        "vals": pc.binary_join_element_wise(*[shown(m) for m in measures], "|"),
    })
    if problem is not None:
        return pa.table({}), keys, problem

    # Long layout, row by row and the measures in order within a row.
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
    table = pa.table({
        "area": long([area] * k),
        "month": long([month] * k),
        "breakdown": long([breakdown] * k),
        "measure": long([pa.array([m] * n, pa.string()) for m in measures]),
        "value": long([parsed[m][0] for m in measures]),
        "symbol": long([parsed[m][1] for m in measures]),
        "place": long([places(i_measure[m]) for m in measures]),
    })
    return table, keys, None


def create_tem_tables(con) -> None:
    con.execute("create schema if not exists raw")
    con.execute(CELLS_DDL)
    con.execute(FILES_DDL)
    create_file_versions(con)


def load_tem(con, raw: RawFile, ctx: LoadContext) -> TemLoadSummary:
    """Load one report export into ``raw.tem_report_cells`` and ``raw.tem_report_files``,
    a batch of rows at a time.

    The caller owns the transaction: a file loads whole or not at all (after a refusal the
    rows inserted so far are also deleted, where the transaction allows).
    """
    report = _Report(raw, con)
    create_tem_tables(con)
    cells, symbols, areas = 0, {}, set()
    first_month = last_month = None
    try:
        for batch in report.batches():
            con.register("tem_cells_in", batch)
            try:
                con.execute(
                    """insert into raw.tem_report_cells
                       select ?, area, month, breakdown, measure, value, symbol,
                              ?, ?, ?, ?, place
                       from tem_cells_in""",
                    [report.report, ctx.load_id, ctx.loaded_at, raw.rel_path, raw.sha256],
                )
            finally:
                con.unregister("tem_cells_in")
            cells += batch.num_rows
            span = pc.min_max(batch.column("month"))
            lo, hi = span["min"].as_py(), span["max"].as_py()
            first_month = lo if first_month is None else min(first_month, lo)
            last_month = hi if last_month is None else max(last_month, hi)
            areas.update(pc.unique(batch.column("area")).to_pylist())
            for item in pc.value_counts(batch.column("symbol").drop_null()).to_pylist():
                symbols[item["values"]] = symbols.get(item["values"], 0) + item["counts"]
    except BaseException:
        _forget(con, raw, ctx)
        raise
    facts = report.facts()
    con.execute(
        """insert into raw.tem_report_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [ctx.load_id, ctx.loaded_at, raw.rel_path, raw.sha256, facts["report"], facts["title"],
         facts["extracted_on"], facts["file_format"], facts["encoding"], facts["sheet"],
         facts["header_place"], facts["notes"], facts["data_rows"], cells],
    )
    return TemLoadSummary(
        report=facts["report"], file=raw.rel_path, data_rows=facts["data_rows"],
        cells=cells, symbols=dict(sorted(symbols.items())), first_month=first_month,
        last_month=last_month, areas=len(areas),
    )


def _forget(con, raw: RawFile, ctx: LoadContext) -> None:
    """Best effort: remove the rows this load inserted before a refusal, so a caller that
    commits anyway keeps no partial file. An aborted transaction refuses; fine."""
    try:
        con.execute("delete from raw.tem_report_cells where load_id = ? and file = ? "
                    "and file_sha256 = ?", [ctx.load_id, raw.rel_path, raw.sha256])
    except duckdb.Error:
        pass
