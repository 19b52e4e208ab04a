"""StatFin PC-Axis (PX) reader: one PX file into DuckDB's ``raw`` schema.

The layout is in ``shared/formats/statfin-px.md``. The header (keywords up to ``DATA=``) is
small and parsed in Python. The DATA section can hold tens of millions of cells (12u4: 28 M,
115 MB), so it is never turned into one Python object per cell: it is read in large byte
chunks, tokenised with numpy (whitespace splits tokens), converted with Arrow and inserted
set-based, while a worker thread tokenises the next chunk.

Storage is narrow: a cell is stored as numbers only, and each cell's variable codes are
computed from its position when read: with the last variable varying fastest, variable k's
value index is ``(cell_index // stride_k) % n_k``. (Storing a VARCHAR column per variable
and cell made a 28 M-cell file take ~20 s to load; the narrow layout takes a few seconds.)

Tables written (created if missing; the caller owns the transaction):

``raw.statfin_files``
    one row per loaded file (each version of a file is a row): identity, header facts,
    counts, its ``file_key`` and ``dataset`` (the short table id, ``12r5``).
``raw.statfin_variables``
    per file and variable: ``position`` (STUB then HEADING), ``n_values`` and ``stride``.
``raw.statfin_values``
    each variable's codes and default-language labels with their 0-based ``position``.
``raw.statfin_cells``
    one row per DATA cell holding a number: ``cell_key`` BIGINT (``file_key`` × 10¹² +
    ``cell_index``, the 0-based position in DATA) and ``value`` DOUBLE.
``raw.statfin_symbols``
    one row per DATA cell holding a statistical symbol: ``cell_key``, ``symbol``. Each cell
    is in exactly one of the two tables.

The first three hold a ``file`` column (rows keyed by file, deleted by file); cells and
symbols hang off the ``file_key`` in their ``cell_key`` and are removed with their
file's ``raw.statfin_files`` row
(``_sweep_orphans``).

Views (re)created with each load, one per table id (``raw.statfin_12r5``,
``raw.statfin_12u4``, …): one row per cell of every loaded file of that table, with a
VARCHAR column per variable holding its CODE (``area_code``, ``sex``, ``age_group``,
``month``, ``content_code``, or a slug of the name), ``value``, ``symbol``, ``cell_index``,
``table_id`` and ``matrix`` as written in the file, the lineage columns (``load_id``,
``loaded_at``, ``file``, ``file_sha256``) and ``place`` ('PX cell <cell_index>').
"""

from __future__ import annotations

import codecs
import math
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .common import (
    SYMBOLS,
    LoadContext,
    RawFile,
    RawInputError,
    create_file_versions,
    sql_literal,
)

# --------------------------------------------------------------------------- header parsing

# A keyword with an optional language suffix and parameters: VALUES[en]("Region")=
_KEYWORD_RE = re.compile(
    r'\s*+([A-Za-z][A-Za-z0-9_-]*+)\s*+(?:\[\s*+([^\]\s]*+)\s*+\])?\s*+'
    r'(?:\(((?:\s*+"[^"\n]*+"\s*+,?+)*+)\s*+\))?\s*+='
)
# A keyword's value up to its ';'. Quoted strings may hold ';' but not a line break (PX
# splits long strings into several quoted pieces). Possessive: no backtracking.
_VALUE_BODY = r'(?:"[^"\n]*+"|[^";]++)*+'
_VALUE_RE = re.compile(_VALUE_BODY + ";")
_VALUE_PREFIX_RE = re.compile(_VALUE_BODY)
_PARAM_RE = re.compile(r'"([^"]*)"')
_ITEM_RE = re.compile(r'"([^"]*)"|([^",\s]+)|(,)')

# Header bytes read first while looking for DATA= (the read grows ×4 until the header is
# whole: a header may be any size, e.g. a NOTE of megabytes).
_HEADER_READ = 1 << 20
_SNIFF_BYTES = 256 << 10


@dataclass(frozen=True)
class _Keyword:
    """One header statement: KEYWORD[lang](params)=items;"""

    name: str
    lang: str | None
    params: tuple[str, ...]
    items: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class PxVariable:
    """A STUB or HEADING variable: its codes, default-language labels and target column."""

    name: str
    codes: tuple[str, ...]
    labels: tuple[str, ...]
    column: str


@dataclass
class PxHeader:
    """What the header says; ``data_offset`` is the byte where DATA's values start."""

    keywords: list[_Keyword]
    codepage: str
    language: str | None
    tableid: str | None
    table_id: str
    matrix: str | None
    title: str | None
    stub: list[str]
    heading: list[str]
    variables: list[PxVariable]
    contvariable: str | None
    month_variable: str | None
    area_variable: str | None
    last_updated: str | None
    data_offset: int

    @property
    def cells(self) -> int:
        """How many DATA values the variables call for."""
        return math.prod(len(v.codes) for v in self.variables)


def _note(header: PxHeader) -> str | None:
    """The header's NOTE (default language, no variable parameters), as one text."""
    items = [i for k in header.keywords if k.name == "NOTE" and not k.params
             and k.lang in (None, header.language) for i in k.items]
    return " ".join(items) or None


@dataclass(frozen=True)
class PxLoadSummary:
    """What one ``load_px`` call wrote."""

    file: str
    table_id: str  # short id, e.g. '12r5'
    target_table: str  # e.g. 'raw.statfin_12r5'
    matrix: str | None
    rows: int
    symbols: dict[str, int] = field(default_factory=dict)
    periods: tuple[str, str] | None = None  # first and last month code
    areas: int = 0  # number of area codes (0 without an area variable)


class _NeedMoreBytes(Exception):
    """The header runs past the bytes read so far."""


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


class _LineCounter:
    """Line numbers of ascending positions in a text, counted incrementally (a header
    with thousands of keywords would make counting from the start each time quadratic)."""

    def __init__(self, text: str):
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        if pos < self.pos:
            return _line_of(self.text, pos)
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def _parse_items(value: str) -> tuple[str, ...]:
    """A value's items: quoted strings (adjacent ones concatenated, as PX splits long
    strings over lines) and bare words such as ``YES``, ``1`` or ``TLIST(M1)``."""
    items: list[str] = []
    pieces: list[str] | None = None  # the quoted pieces of the current string
    for m in _ITEM_RE.finditer(value):
        text, bare, _comma = m.groups()
        if text is not None:
            if pieces is None:
                pieces = [text]
            else:
                pieces.append(text)
            continue
        if pieces is not None:  # joined once: a NOTE of many thousand pieces stays linear
            items.append("".join(pieces))
            pieces = None
        if bare is not None:
            items.append(bare)
    if pieces is not None:
        items.append("".join(pieces))
    return tuple(items)


def _parse_statements(text: str, at_eof: bool) -> tuple[list[_Keyword], int | None]:
    """Header statements up to DATA=, and where DATA's values start (None: no DATA).

    Raises _NeedMoreBytes when the text ends inside the header and more may follow, and
    ValueError(line, problem) when the header is malformed.
    """
    statements: list[_Keyword] = []
    pos, n = 0, len(text)
    lines = _LineCounter(text)
    while True:
        m = _KEYWORD_RE.match(text, pos)
        if m is None:
            if text[pos:].strip() == "":
                if at_eof:
                    return statements, None
                raise _NeedMoreBytes
            if not at_eof and "=" not in text[pos:]:
                raise _NeedMoreBytes
            line = _line_of(text, pos + len(text[pos:]) - len(text[pos:].lstrip()))
            snippet = text[pos:].strip()[:40]
            raise ValueError(line, f"cannot read a header keyword at {snippet!r}")
        name = m.group(1).upper()
        if name == "DATA":
            return statements, m.end()
        v = _VALUE_RE.match(text, m.end())
        if v is None:
            stop = _VALUE_PREFIX_RE.match(text, m.end()).end()
            if stop < n and not at_eof and "\n" not in text[stop:]:
                # A string cut by the end of the bytes read so far (a header longer than a
                # read, e.g. a long NOTE): it may close in the next bytes.
                raise _NeedMoreBytes
            if stop < n:  # stopped at a quote that is not closed on its line
                raise ValueError(_line_of(text, stop),
                                 f"keyword {name}: a string is not closed on its line")
            if not at_eof:
                raise _NeedMoreBytes
            raise ValueError(_line_of(text, m.start(1)), f"keyword {name} does not end with ';'")
        params = tuple(_PARAM_RE.findall(m.group(3) or ""))
        lang = m.group(2) or None
        statements.append(_Keyword(name, lang, params, _parse_items(v.group()[:-1]),
                                   lines.at(m.start(1))))
        pos = v.end()
        if pos >= n and not at_eof:
            raise _NeedMoreBytes


def _read_header_bytes(f) -> tuple[bytes, list[_Keyword], int | None, bool]:
    """Read from the file start until the header (through DATA=) is complete.

    Returns the bytes read, statements parsed over a latin-1 view (byte offsets = char
    offsets; the structure is ASCII in every codepage used), DATA's byte offset and
    whether the whole file was read.
    """
    buf = b""
    size = _HEADER_READ
    while True:
        more = f.read(size - len(buf))
        buf += more
        at_eof = len(more) == 0 or len(buf) < size
        start = 3 if buf.startswith(codecs.BOM_UTF8) else 0
        try:
            statements, data_at = _parse_statements(buf[start:].decode("latin-1"), at_eof)
        except _NeedMoreBytes:
            if at_eof:  # cannot happen: at the end _parse_statements decides
                raise ValueError(None, "the header does not end") from None
            size *= 4
            continue
        return buf, statements, None if data_at is None else data_at + start, at_eof


def _normalise_codepage(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ValueError(None, f"unknown CODEPAGE {name!r}") from None


def _decode(buf: bytes, codec: str, codepage: str) -> str:
    """The header text; names the line of the first byte the codepage cannot decode."""
    start = 3 if buf.startswith(codecs.BOM_UTF8) else 0
    try:
        return buf[start:].decode(codec)
    except UnicodeDecodeError as e:
        line = buf.count(b"\n", 0, start + e.start) + 1
        bad = buf[start + e.start:start + e.end]
        raise ValueError(line, f"bytes {bad!r} cannot be decoded as CODEPAGE {codepage!r}") \
            from None


class _Keywords:
    """Lookup of default-language keyword values."""

    def __init__(self, statements: list[_Keyword], language: str | None):
        self.language = language
        self.by_key: dict[tuple[str, str | None, tuple[str, ...]], _Keyword] = {}
        for s in statements:
            # A suffix naming the default language is the default (seen in some files).
            lang = None if s.lang == language else s.lang
            self.by_key.setdefault((s.name, lang, s.params), s)

    def get(self, name: str, *params: str) -> tuple[str, ...] | None:
        s = self.by_key.get((name, None, tuple(params)))
        return None if s is None else s.items

    def first(self, name: str, *params: str) -> str | None:
        items = self.get(name, *params)
        return items[0] if items else None

    def all_default(self, name: str) -> list[_Keyword]:
        return [s for (n, lang, _), s in self.by_key.items() if n == name and lang is None]


def short_table_id(tableid: str | None, matrix: str | None = None) -> str:
    """``statfin_tyonv_pxt_12r5`` and ``12r5`` → ``12r5``; without TABLEID, from MATRIX
    (``001_12r5_2024m12`` → ``12r5``)."""
    if tableid:
        return _id_part(tableid.strip().split("_")[-1])
    if matrix:
        for part in matrix.lower().split("_"):
            if re.fullmatch(r"\d+[a-z][0-9a-z]*", part) and not re.fullmatch(
                    r"\d{4}[mq]\d+", part):
                return part
        return _id_part(matrix)
    raise ValueError(None, "no TABLEID or MATRIX keyword to name the table by")


def _id_part(text: str) -> str:
    """A table id as an identifier part: lowercase ASCII letters, digits and '_'."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    part = re.sub(r"[^a-z0-9]+", "_", folded.lower()).strip("_")
    if not part:
        raise ValueError(None, f"table id {text!r} has no letters or digits")
    return part


def _slug(name: str) -> str:
    """ASCII-folded lowercase identifier: 'Ikäryhmät (vuotta)' → 'ikaryhmat_vuotta'."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", folded.lower()).strip("_")
    if not slug or slug[0].isdigit():
        slug = "var_" + slug
    return slug


_AREA_NAMES = {"alue", "område", "region", "area"}
_MONTH_NAMES = {"kuukausi", "timeperiod_m", "månad", "month"}
_CONTENT_NAMES = {"tiedot", "contentscode", "uppgifter", "information"}
_SEX_NAMES = {"sukupuoli", "kön", "sex"}
_AGE_NAMES = {"ikäryhmät", "ikäryhmä", "åldersgrupp", "age group"}
# Columns every statfin table has; a variable may not take these names.
_FIXED_COLUMNS = {"value", "symbol", "cell_index", "table_id", "matrix", "load_id",
                  "loaded_at", "file", "file_sha256", "place"}


def _column_names(names: list[str], month: str | None, content: str | None) -> list[str]:
    """Target column per variable: area_code, sex, age_group, month, content_code, or a
    slug. A taken name falls back to the slug, then to the slug with a number."""
    taken = set(_FIXED_COLUMNS)
    out = []
    for name in names:
        low = name.strip().lower()
        if name == month:
            wanted = "month"
        elif name == content:
            wanted = "content_code"
        elif low in _AREA_NAMES:
            wanted = "area_code"
        elif low in _SEX_NAMES:
            wanted = "sex"
        elif low in _AGE_NAMES:
            wanted = "age_group"
        else:
            wanted = _slug(name)
        for candidate in (wanted, _slug(name), *(f"{_slug(name)}_{i}" for i in range(2, 99))):
            if candidate not in taken:
                break
        taken.add(candidate)
        out.append(candidate)
    return out


def _build_header(statements: list[_Keyword], data_offset: int | None,
                  codepage: str) -> PxHeader:
    """Interpret the decoded statements; raises ValueError(line, problem)."""
    language = None
    for s in statements:
        if s.name == "LANGUAGE" and s.lang is None and s.items:
            language = s.items[0]
            break
    kw = _Keywords(statements, language)
    if data_offset is None:
        raise ValueError(None, "no DATA keyword: the file has a header but no data")
    stub = list(kw.get("STUB") or ())
    heading = list(kw.get("HEADING") or ())
    if not stub and not heading:
        raise ValueError(None, "no STUB or HEADING keyword: the file names no variables")
    names = stub + heading
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(None, f"variable(s) {sorted(dupes)} appear twice in STUB/HEADING")
    if any(n == "KEYS" for (n, _, _) in kw.by_key):
        raise ValueError(None, "KEYS (sparse DATA) is not supported; StatFin files are dense")

    contvariable = kw.first("CONTVARIABLE")
    content = contvariable if contvariable in names else next(
        (n for n in names if n.lower() in _CONTENT_NAMES), None)
    month = next((n for n in names if kw.get("TIMEVAL", n) is not None), None) or next(
        (n for n in names if n.lower() in _MONTH_NAMES), None)
    columns = _column_names(names, month, content)

    variables = []
    for name, column in zip(names, columns):
        labels = kw.get("VALUES", name)
        if labels is None:
            raise ValueError(None, f'no VALUES("{name}") for variable {name!r}')
        if not labels:
            raise ValueError(None, f'VALUES("{name}") is empty')
        codes = kw.get("CODES", name)
        if codes is None:
            codes = labels  # PX allows a variable without CODES: its labels are its codes
        elif len(codes) != len(labels):
            raise ValueError(kw.by_key[("CODES", None, (name,))].line,
                             f'CODES("{name}") has {len(codes)} codes but VALUES("{name}") '
                             f"has {len(labels)} values")
        if len(set(codes)) != len(codes):
            raise ValueError(None, f'CODES("{name}") repeats a code')
        variables.append(PxVariable(name, tuple(codes), tuple(labels), column))

    tableid = kw.first("TABLEID")
    matrix = kw.first("MATRIX")
    updates = [s.items[0] for s in kw.all_default("LAST-UPDATED") if s.items]
    return PxHeader(
        keywords=statements, codepage=codepage, language=language, tableid=tableid,
        table_id=short_table_id(tableid, matrix), matrix=matrix, title=kw.first("TITLE"),
        stub=stub, heading=heading, variables=variables, contvariable=content,
        month_variable=month,
        area_variable=next((v.name for v in variables if v.column == "area_code"), None),
        last_updated=max(updates) if updates else None, data_offset=data_offset,
    )


def read_px_header(path: Path, rel_path: str | None = None) -> PxHeader:
    """Parse a PX file's header; raises RawInputError naming the file and line."""
    rel = rel_path or Path(path).name
    try:
        with open(path, "rb") as f:
            buf, statements, data_at, _ = _read_header_bytes(f)
            if not buf.strip():
                raise ValueError(None, "the file is empty")
            codepage, codec = _codepage_of(statements)
            end = data_at if data_at is not None else len(buf)
            text = _decode(buf[:end], codec, codepage)
            statements, _ = _parse_statements(text, at_eof=True)
            return _build_header(statements, data_at, codepage)
    except ValueError as e:
        if isinstance(e, RawInputError):
            raise
        line, problem = e.args if len(e.args) == 2 else (None, str(e))
        raise RawInputError(file=rel, place=f"line {line}" if line else "header",
                            problem=problem) from None


def _codepage_of(statements: list[_Keyword]) -> tuple[str, str]:
    """(CODEPAGE as written, Python codec name); PX's default is iso-8859-1."""
    for s in statements:
        if s.name == "CODEPAGE" and s.lang is None and s.items:
            return s.items[0], _normalise_codepage(s.items[0])
    return "iso-8859-1", "iso8859-1"


def sniff_px(path) -> dict | None:
    """Cheap check whether ``path`` is a PX file, reading only its first bytes.

    Returns ``{'table_id': '12r5', 'tableid': 'statfin_tyonv_pxt_12r5', 'matrix': …,
    'codepage': …, 'language': …, 'title': …, 'stub': […], 'heading': […],
    'contvariable': …}`` (keys absent from the header are None), or None.
    """
    try:
        with open(path, "rb") as f:
            head = f.read(_SNIFF_BYTES)
    except OSError:
        return None
    start = 3 if head.startswith(codecs.BOM_UTF8) else 0
    if not re.match(rb"\s*[A-Za-z][A-Za-z0-9_-]*\s*(\[[^\]]*\])?\s*(\([^)]*\))?\s*=",
                    head[start:]):
        return None
    statements = _sniff_statements(head[start:].decode("latin-1"))
    names = {s.name for s in statements}
    if not names & _PX_NAMES and len(head) == _SNIFF_BYTES \
            and _cut_inside_a_statement(head[start:].decode("latin-1"), statements):
        # A long first statement (a NOTE of megabytes before TABLEID, legal PX) runs past
        # the head: read the whole header, as the loader will.
        try:
            with open(path, "rb") as f:
                head, statements, _data_at, _eof = _read_header_bytes(f)
        except (OSError, ValueError):
            return None
        start = 3 if head.startswith(codecs.BOM_UTF8) else 0
        names = {s.name for s in statements}
    if not names & _PX_NAMES:
        return None
    try:
        codepage, codec = _codepage_of(statements)
    except ValueError:
        codepage, codec = None, "iso8859-1"
    statements = _sniff_statements(head[start:].decode(codec, errors="replace"))
    language = next((s.items[0] for s in statements
                     if s.name == "LANGUAGE" and s.lang is None and s.items), None)
    kw = _Keywords(statements, language)
    tableid, matrix = kw.first("TABLEID"), kw.first("MATRIX")
    try:
        table_id = short_table_id(tableid, matrix)
    except ValueError:
        table_id = None
    return {
        "table_id": table_id, "tableid": tableid, "matrix": matrix, "codepage": codepage,
        "language": language, "title": kw.first("TITLE"),
        "stub": list(kw.get("STUB") or ()), "heading": list(kw.get("HEADING") or ()),
        "contvariable": kw.first("CONTVARIABLE"),
    }


# Keywords that make a file PX (one of them within the header).
_PX_NAMES = {"MATRIX", "TABLEID", "STUB", "HEADING", "AXIS-VERSION"}


def _cut_inside_a_statement(text: str, statements: list[_Keyword]) -> bool:
    """Whether the sniffed ``statements`` end because ``text`` (a file's head) ends inside
    the next one, rather than at text that is not PX: its value runs to the end of the
    text, or stops at a quoted string with no line break after it (a string cut short)."""
    pos = 0
    for _ in statements:  # skip the statements already parsed
        pos = _VALUE_RE.match(text, _KEYWORD_RE.match(text, pos).end()).end()
    m = _KEYWORD_RE.match(text, pos)
    if m is None or m.group(1).upper() == "DATA":
        return False
    end = _VALUE_PREFIX_RE.match(text, m.end()).end()
    return end == len(text) or (text[end] == '"' and "\n" not in text[end:])


def _sniff_statements(text: str) -> list[_Keyword]:
    """Statements in a header prefix; stops quietly at DATA, a cut or malformed text."""
    out: list[_Keyword] = []
    pos = 0
    while True:
        m = _KEYWORD_RE.match(text, pos)
        if m is None or m.group(1).upper() == "DATA":
            return out
        v = _VALUE_RE.match(text, m.end())
        if v is None:
            return out
        out.append(_Keyword(m.group(1).upper(), m.group(2) or None,
                            tuple(_PARAM_RE.findall(m.group(3) or "")),
                            _parse_items(v.group()[:-1]), 0))
        pos = v.end()


# --------------------------------------------------------------------------- DATA section

# DATA bytes: anything up to 0x20 (blank, tab, line breaks, other controls) separates
# tokens; quotes wrap symbols; a token may hold only _NUMBER_BYTES (and quotes at its edges).
_QUOTE = 0x22
_WHITE = bytes(range(0x21))
_DROP = _WHITE + b'"'
_NUMBER_BYTES = b"0123456789.-+eE"
_LEGAL = _DROP + _NUMBER_BYTES
_ILLEGAL = np.ones(256, dtype=bool)  # for locating an illegal byte once one is known
_ILLEGAL[list(_LEGAL)] = False
_SYMBOL_SET = pa.array(list(SYMBOLS), pa.string())
_SYMBOL_LIST = list(SYMBOLS)  # symbol code k (1-based) is _SYMBOL_LIST[k - 1]

# DATA is handled in chunks of about this many bytes (≈ 2 M cells): big enough for
# vectorised work to dominate, small enough to keep memory flat.
_CHUNK_BYTES = 8 << 20


@dataclass
class _Chunk:
    """One tokenised piece of DATA as Arrow arrays."""

    base: int  # cell index of the first token
    n: int
    cells: pa.Table | None  # cell_key, value of the number cells (None: counted only)
    symbols: pa.Table | None  # cell_key, symbol of the symbol cells (None: there are none)
    counts: dict[str, int]  # symbol -> how many


def _data_span(f, data_offset: int, size: int) -> int:
    """Byte offset of DATA's closing ';' (the last non-blank byte of the file)."""
    end = size
    while end > data_offset:
        start = max(data_offset, end - 65536)
        f.seek(start)
        tail = f.read(end - start).rstrip(b" \t\r\n\x00\x1a")
        if tail:
            if not tail.endswith(b";"):
                raise ValueError("DATA does not end with ';' (is the file truncated?)")
            return start + len(tail) - 1
        end = start
    raise ValueError("DATA does not end with ';' (is the file truncated?)")


def _iter_data_chunks(f, begin: int, end: int):
    """Yield DATA's bytes [begin, end) in pieces of about _CHUNK_BYTES, each cut after a
    blank so that no token straddles two pieces."""
    pos = begin
    f.seek(pos)
    carry = b""
    while pos < end:
        piece = f.read(min(_CHUNK_BYTES, end - pos))
        pos += len(piece)
        buf = carry + piece
        if pos < end:
            # Cut after the last whitespace so no token straddles two chunks.
            cut = max(buf.rfind(b" "), buf.rfind(b"\n"), buf.rfind(b"\r"), buf.rfind(b"\t"))
            if cut < 0:
                carry = buf
                continue
            carry, buf = buf[cut + 1:], buf[:cut + 1]
        else:
            carry = b""
        yield buf
    if carry:
        yield carry


class _BadToken(Exception):
    def __init__(self, index: int, text: str):
        self.index, self.text = index, text


def _tokenise(buf: bytes, base: int, build: bool, key_base: int = 0) -> _Chunk:
    """Split a DATA chunk into tokens and convert them, all vectorised.

    Tokens are runs of bytes above 0x20. Each must be a statistical symbol (quoted or
    not) or parse as a number; the first that is neither raises _BadToken with its cell
    index. With ``build`` False the tokens are only counted. Cells are keyed
    ``key_base + cell index`` (see ``cell_key``).

    The common layout (PxWeb: tokens separated by one blank or line break) takes a short
    path: token i starts at byte ``starts[i]`` and, once the blanks are dropped, at
    ``starts[i] - starts[0] - i``, so no token ends or lengths are computed. Quotes stay
    in the token text; only the rare tokens starting with a quote, '.' or '-' are
    examined for symbols. Anything else (runs of blanks, CRLF, a quoted number, a quote
    inside a token) takes the general path.
    """
    a = np.frombuffer(buf, dtype=np.uint8)
    solid = np.zeros(a.size + 2, dtype=np.bool_)
    np.greater(a, 0x20, out=solid[1:-1])
    starts = np.flatnonzero(solid[1:] > solid[:-1])
    n = int(starts.size)
    if not build or n == 0:
        return _Chunk(base, n, None, None, {})
    chars = buf.translate(None, _WHITE)
    if chars.translate(None, _NUMBER_BYTES + b'"'):
        p = int(np.argmax(_ILLEGAL[a]))
        raise _BadToken(base + _token_index(starts, p), _token_at(buf, p))
    end = len(buf.rstrip(_WHITE))  # just after the last token
    gaps = (end - int(starts[0])) - len(chars)  # blank bytes between tokens
    if gaps != n - 1:
        return _tokenise_general(buf, a, solid, starts, base, key_base)
    offsets = np.empty(n + 1, dtype=np.int32)
    np.subtract(starts, np.arange(int(starts[0]), int(starts[0]) + n, dtype=np.int64),
                out=offsets[:-1], casting="unsafe")
    offsets[-1] = len(chars)
    symbols = _find_symbols(a, starts, offsets)
    if symbols is None:  # a quoted token that is not a symbol: let the general path judge
        return _tokenise_general(buf, a, solid, starts, base, key_base)
    return _convert(chars, offsets, symbols, base, n, key_base)


def _find_symbols(a: np.ndarray, starts: np.ndarray, offsets: np.ndarray):
    """(token indexes, symbol codes 1..4) of the symbol tokens, or None when a quoted token
    is not a symbol. Only tokens starting with '"', '.' or '-' are looked at."""
    first = a[starts]
    cand = np.flatnonzero((first == _QUOTE) | (first == 0x2E) | (first == 0x2D))
    if cand.size == 0:
        return cand, np.zeros(0, dtype=np.uint8)
    pos = starts[cand]
    length = (offsets[cand + 1] - offsets[cand]).astype(np.int64)
    quoted = first[cand] == _QUOTE
    inner = np.where(quoted, length - 2, length)  # length without the quotes
    shift = quoted.astype(np.int64)
    closed = ~quoted | (a[np.minimum(pos + length - 1, a.size - 1)] == _QUOTE) & (length >= 2)
    b0 = np.where(inner > 0, a[np.minimum(pos + shift, a.size - 1)], 0)
    b1 = np.where(inner > 1, a[np.minimum(pos + shift + 1, a.size - 1)], 0)
    b2 = np.where(inner > 2, a[np.minimum(pos + shift + 2, a.size - 1)], 0)
    dot = 0x2E
    code = np.zeros(cand.size, dtype=np.uint8)
    code[(inner == 3) & (b0 == dot) & (b1 == dot) & (b2 == dot)] = 1  # ...
    code[(inner == 2) & (b0 == dot) & (b1 == dot)] = 2  # ..
    code[(inner == 1) & (b0 == dot)] = 3  # .
    code[(inner == 1) & (b0 == 0x2D)] = 4  # -
    code[~closed] = 0
    if np.any(quoted & (code == 0)):
        return None
    hit = code > 0
    return cand[hit], code[hit]


def _tokenise_general(buf: bytes, a: np.ndarray, solid: np.ndarray, starts: np.ndarray,
                      base: int, key_base: int) -> _Chunk:
    """Any layout: token ends and lengths computed, quotes checked and dropped."""
    ends = np.flatnonzero(solid[:-1] > solid[1:])
    n = int(starts.size)
    lengths = ends - starts
    quotes = np.flatnonzero(a == _QUOTE)
    if quotes.size:
        _check_quotes(buf, a, quotes, starts, base)
        quoted, count = np.unique(np.searchsorted(starts, quotes, side="right") - 1,
                                  return_counts=True)
        lengths[quoted] -= count
    chars = buf.translate(None, _DROP)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    tokens = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))
    is_symbol = pc.is_in(tokens, value_set=_SYMBOL_SET)
    index = np.flatnonzero(np.asarray(is_symbol.to_numpy(zero_copy_only=False)))
    codes = np.zeros(index.size, dtype=np.uint8)
    if index.size:
        texts = pc.take(tokens, pa.array(index))
        codes = (np.asarray(pc.index_in(texts, value_set=_SYMBOL_SET)) + 1).astype(np.uint8)
    return _convert(chars, offsets, (index, codes), base, n, key_base)


def _token_index(starts: np.ndarray, p: int) -> int:
    """Index (within the chunk) of the token holding byte p."""
    return int(np.searchsorted(starts, p, side="right")) - 1


def _check_quotes(buf: bytes, a: np.ndarray, quotes: np.ndarray, starts: np.ndarray,
                  base: int) -> None:
    """A quote must sit at a token's edge (\"...\"), next to a blank or another quote."""
    def loose(neighbour: np.ndarray) -> np.ndarray:
        return (neighbour <= 0x20) | (neighbour == _QUOTE)

    before = np.where(quotes > 0, a[np.maximum(quotes - 1, 0)], 0x20)
    after = np.where(quotes < a.size - 1, a[np.minimum(quotes + 1, a.size - 1)], 0x20)
    inner = ~loose(before) & ~loose(after)
    if inner.any():
        p = int(quotes[np.argmax(inner)])
        raise _BadToken(base + _token_index(starts, p), _token_at(buf, p))


def _token_at(buf: bytes, p: int) -> str:
    """The whitespace-delimited token around byte p, for error messages."""
    start = p
    while start > 0 and buf[start - 1] > 0x20:
        start -= 1
    end = p
    while end < len(buf) and buf[end] > 0x20:
        end += 1
    return buf[start:end][:40].decode("utf-8", errors="backslashreplace")


def _convert(chars: bytes, offsets: np.ndarray, symbols: tuple[np.ndarray, np.ndarray],
             base: int, n: int, key_base: int) -> _Chunk:
    """Tokens (``chars`` cut at ``offsets``) → Arrow tables of cells and of symbols.

    The symbol tokens are masked out (NULL) before the cast, so only numbers are parsed."""
    index, codes = symbols
    counts: dict[str, int] = {}
    validity, nulls = None, 0
    if index.size:
        valid = np.ones(n, dtype=np.bool_)
        valid[index] = False
        validity, nulls = pa.py_buffer(np.packbits(valid, bitorder="little")), int(index.size)
        for code, count in zip(*np.unique(codes, return_counts=True)):
            counts[_SYMBOL_LIST[int(code) - 1]] = int(count)
    numbers = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars),
                                          validity, nulls)
    try:
        values = pc.cast(numbers, pa.float64())
    except pa.ArrowInvalid:
        i = _first_unparsable(numbers)
        raise _BadToken(base + i, numbers[i].as_py()) from None
    first = key_base + base
    keys = np.arange(first, first + n, dtype=np.int64)
    symbol_table = None
    if not index.size:
        cells = pa.table({"cell_key": keys, "value": values})
    else:  # a symbol cell is stored in the symbols table only
        cells = pa.table({"cell_key": keys[valid], "value": values.drop_null()})
        symbol_table = pa.table({
            "cell_key": index.astype(np.int64) + first,
            "symbol": pc.take(_SYMBOL_SET, pa.array(codes.astype(np.int32) - 1))})
    return _Chunk(base, n, cells, symbol_table, counts)


def _first_unparsable(numbers: pa.StringArray) -> int:
    """Index of the first token Arrow cannot cast to a number (only after a failed cast)."""
    ok = pc.match_substring_regex(
        numbers, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$").fill_null(True)
    i = pc.index(ok, False).as_py()
    if i >= 0:
        return i
    for i, text in enumerate(numbers.to_pylist()):  # the pattern and Arrow disagree: slow
        if text is not None:
            try:
                pc.cast(pa.array([text]), pa.float64())
            except pa.ArrowInvalid:
                return i
    raise AssertionError("a failed cast without an unparsable token")


# --------------------------------------------------------------------------- DuckDB side

def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_lit = sql_literal  # readers/common.py


# The narrow storage: a number cell is (cell_key, value), a symbol cell (cell_key, symbol)
# in a table of its own. Storing a VARCHAR per cell row is what made the wide layout slow
# (a 28 M-cell file took ~20 s); two numeric columns take a couple of seconds.
# A cell's key: its file's file_key × CELL_KEY_FACTOR + its 0-based position in DATA. One
# BIGINT column instead of two (the constant file_key column alone cost a fifth of the
# insert time); readable in decimal: 3000000012345 is file 3, PX cell 12345.
CELL_KEY_FACTOR = 10 ** 12

_TABLES = {
    "statfin_files": """
        load_id VARCHAR NOT NULL,
        loaded_at TIMESTAMP NOT NULL,
        file VARCHAR NOT NULL,
        file_sha256 VARCHAR NOT NULL,
        table_id VARCHAR,
        matrix VARCHAR,
        codepage VARCHAR,
        language VARCHAR,
        title VARCHAR,
        stub VARCHAR[],
        heading VARCHAR[],
        cells BIGINT,
        symbols BIGINT,
        first_month VARCHAR,
        last_month VARCHAR,
        last_updated VARCHAR,
        file_key INTEGER NOT NULL,
        dataset VARCHAR NOT NULL,
        notes VARCHAR""",
    "statfin_variables": """
        load_id VARCHAR NOT NULL,
        file VARCHAR NOT NULL,
        file_sha256 VARCHAR NOT NULL,
        file_key INTEGER NOT NULL,
        table_id VARCHAR,
        variable VARCHAR NOT NULL,
        column_name VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        n_values INTEGER NOT NULL,
        stride BIGINT NOT NULL""",
    "statfin_values": """
        file VARCHAR NOT NULL,
        file_sha256 VARCHAR NOT NULL,
        load_id VARCHAR NOT NULL,
        table_id VARCHAR,
        variable VARCHAR NOT NULL,
        column_name VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        code VARCHAR NOT NULL,
        label VARCHAR,
        file_key INTEGER NOT NULL""",
    "statfin_cells": """
        cell_key BIGINT NOT NULL,
        value DOUBLE NOT NULL""",
    "statfin_symbols": """
        cell_key BIGINT NOT NULL,
        symbol VARCHAR NOT NULL""",
}

_TABLE_DOCS = {
    "statfin_files": (
        "One row per loaded StatFin PX file (each version of a file is a row): its identity, "
        "header facts and counts. file_key is the key its cells are stored under.",
        {"file_key": "Tiedoston avain — the key of this loaded file in raw.statfin_cells, "
                     "raw.statfin_symbols, raw.statfin_variables and raw.statfin_values.",
         "dataset": "Taulu — the short table id ('12r5', '12u4'); the file's cells are in "
                    "the view raw.statfin_<dataset>.",
         "notes": "Huomautukset — the file's NOTE text (the bundled synthetic files say so "
                  "there); NULL when it has none.",
         "table_id": "TABLEID as written in the file.",
         "cells": "DATA cells in the file.", "symbols": "DATA cells holding a symbol."}),
    "statfin_variables": (
        "One row per loaded StatFin PX file and variable (STUB then HEADING): where the "
        "variable sits in the cell index. The value position of variable k in cell i is "
        "(i // stride) % n_values; the code at that position is in raw.statfin_values.",
        {"position": "Order of the variable in STUB then HEADING (0-based).",
         "n_values": "Number of values (codes) of the variable.",
         "stride": "Product of the value counts of the variables after it: how many cells "
                   "one step of this variable spans.",
         "column_name": "The column holding the variable's code in raw.statfin_<dataset>."}),
    "statfin_values": (
        "One row per loaded StatFin PX file, variable and value: its code and "
        "default-language label, and its 0-based position in the cell index arithmetic.",
        {}),
    "statfin_cells": (
        "Every DATA cell holding a number, of every loaded StatFin PX file, narrow: its key "
        "(the file's file_key × 10^12 + the cell's 0-based position in DATA) and the number. "
        "The cells holding a statistical symbol are in raw.statfin_symbols instead: each "
        "cell is in exactly one of the two. The variables' codes follow from the position "
        "(raw.statfin_variables); the views raw.statfin_12r5, raw.statfin_12u4 … show "
        "them, with file and place.",
        {"cell_key": "Solun avain — file_key × 10^12 + cell_index: cell_key // 10^12 is "
                     "raw.statfin_files.file_key, cell_key % 10^12 the 0-based position in "
                     "the file's DATA (place 'PX cell N').",
         "value": "Arvo — the number."}),
    "statfin_symbols": (
        "The StatFin DATA cells that hold a statistical symbol instead of a number "
        "('...' confidential, '..' not available, '.' not applicable, '-' nil).",
        {"cell_key": "Solun avain — as in raw.statfin_cells (file_key × 10^12 + cell_index).",
         "symbol": "Symboli — the symbol as written (without quotes)."}),
}

_VIEW_DOC = (
    "One row per DATA cell of the StatFin table {dataset} (every loaded file and version), "
    "with each variable's code computed from the cell's position: variable k's value index "
    "is (cell_index // stride_k) % n_k (raw.statfin_variables). A view over "
    "raw.statfin_cells and raw.statfin_symbols (a cell is in one of them) and "
    "raw.statfin_files.")
_VIEW_COLUMN_DOCS = {
    "area_code": "Alue — KU564 municipality, MK17 region, SSS whole country.",
    "sex": "Sukupuoli — SSS all, 1 men, 2 women.",
    "age_group": "Ikäryhmät — SSS all, or an age group such as 15-19.",
    "month": "Kuukausi — month as written (2024M11).",
    "content_code": "Tiedot — the content code (TYOTTOMATLOPUSSA …).",
    "value": "Arvo — the number; NULL where the file has a statistical symbol.",
    "symbol": "Symboli — the statistical symbol, or NULL.",
    "cell_index": "Solu — 0-based position in the file's DATA.",
    "table_id": "TABLEID as written in the file.",
    "matrix": "MATRIX as written in the file.",
    "load_id": "The load that read the file.",
    "loaded_at": "When (UTC).",
    "file": "The file, relative to the raw folder.",
    "file_sha256": "SHA-256 of the file.",
    "place": "Where in the file: 'PX cell <cell_index>' (a JSON response: 'value <index>').",
}

# Dimension columns of the StatFin tables the marts read, so their views exist (empty)
# even before a file of that table has been loaded.
KNOWN_TABLE_COLUMNS = {
    "statfin_12r5": ["area_code", "month", "content_code"],
    "statfin_12u4": ["area_code", "sex", "age_group", "month", "content_code"],
}


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the schema and the storage tables if missing (replacing the wide layout of
    earlier versions, whose files then load again)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    _drop_wide_layout(con)
    for name, columns in _TABLES.items():
        if not _exists(con, name):
            con.execute(f"CREATE TABLE raw.{name} ({columns})")
            description, docs = _TABLE_DOCS[name]
            con.execute(f"COMMENT ON TABLE raw.{name} IS {_lit(description)}")
            for column, text in docs.items():
                con.execute(f"COMMENT ON COLUMN raw.{name}.{column} IS {_lit(text)}")
    # A warehouse from before the NOTE was kept: add the column (its files keep NULL).
    if "notes" not in {r[0] for r in con.execute("DESCRIBE raw.statfin_files").fetchall()}:
        con.execute("ALTER TABLE raw.statfin_files ADD COLUMN notes VARCHAR")
        con.execute("COMMENT ON COLUMN raw.statfin_files.notes IS "
                    + _lit(_TABLE_DOCS["statfin_files"][1]["notes"]))


def _exists(con, name: str, kind: str = "tables") -> bool:
    return bool(con.execute(
        f"SELECT count(*) FROM duckdb_{kind}() WHERE database_name = current_database() "
        f"AND schema_name = 'raw' AND {kind[:-1]}_name = ?", [name]).fetchall()[0][0])


def _drop_wide_layout(con) -> None:
    """Earlier versions stored raw.statfin_<id> as wide tables and had no file_key: drop
    those tables and the file lists, so that every PX file is loaded again."""
    wide = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'raw' AND table_name LIKE 'statfin\\_%' ESCAPE '\\'").fetchall()
        if r[0] not in _TABLES]
    old_files = _exists(con, "statfin_files") and not con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'raw' AND table_name = 'statfin_files' "
        "AND column_name = 'file_key'").fetchall()[0][0]
    if wide or old_files:
        for name in wide + ["statfin_files", "statfin_values"]:
            con.execute(f"DROP TABLE IF EXISTS raw.{_q(name)}")


def _sweep_orphans(con) -> None:
    """Delete the cells of files no longer in raw.statfin_files (a file removed from the raw
    folder is deleted from the tables keyed by ``file``; its cells go here). The counts in
    raw.statfin_files say whether there are any, without reading the cells."""
    listed = con.execute("SELECT coalesce(sum(cells - symbols), 0), coalesce(sum(symbols), 0) "
                         "FROM raw.statfin_files").fetchall()[0]
    stored = con.execute("SELECT (SELECT count(*) FROM raw.statfin_cells), "
                         "(SELECT count(*) FROM raw.statfin_symbols)").fetchall()[0]
    if tuple(listed) == tuple(stored):
        return
    for table in ("statfin_cells", "statfin_symbols"):
        con.execute(f"DELETE FROM raw.{table} WHERE cell_key // {CELL_KEY_FACTOR} NOT IN "
                    "(SELECT file_key FROM raw.statfin_files)")


def _view_sql(con, dataset: str, known: bool) -> tuple[str, list[str]]:
    """CREATE VIEW raw.statfin_<dataset>: each variable's code from the cell index.

    Per file, column c is ``[codes…][(cell_index // stride) % n + 1]`` with the file's
    codes as a literal list: the lists are constants, so the codes cost a list lookup per
    row (joining raw.statfin_values per variable would cost a hash join per variable).
    Columns: those the view had, the known ones (with ``known``), then new variables in
    file order.
    """
    view = f"statfin_{dataset}"
    columns: list[str] = []
    if _exists(con, view, "views"):
        columns = [r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'raw' AND table_name = ? ORDER BY column_index",
            [view]).fetchall() if r[0] not in _FIXED_COLUMNS]
    for c in KNOWN_TABLE_COLUMNS.get(view, []) if known else ():
        if c not in columns:
            columns.append(c)
    layout = con.execute("""
        SELECT v.file_key, v.column_name, v.stride, v.n_values,
            list(x.code ORDER BY x.position) AS codes
        FROM raw.statfin_variables AS v
        JOIN raw.statfin_files AS f USING (file_key)
        JOIN raw.statfin_values AS x
            ON x.file_key = v.file_key AND x.variable = v.variable
        WHERE f.dataset = ?
        GROUP BY ALL
        ORDER BY v.file_key, any_value(v.position)""", [dataset]).fetchall()
    branches: dict[str, list[str]] = {}
    for file_key, column, stride, n, codes in layout:
        if column not in columns:
            columns.append(column)
        pos = "c.cell_index" if stride == 1 else f"c.cell_index // {stride}"
        pos = "0" if n == 1 else f"({pos}) % {n}"
        codes_sql = "[" + ", ".join(_lit(code) for code in codes) + "]"
        branches.setdefault(column, []).append(f"WHEN {file_key} THEN {codes_sql}[{pos} + 1]")
    exprs = []
    for column in columns:
        whens = branches.get(column)
        expr = (f"CASE c.file_key {' '.join(whens)} END" if whens
                else "CAST(NULL AS VARCHAR)")
        exprs.append(f"    {expr} AS {_q(column)}")
    exprs += [f"    {item}" for item in (
        "c.value", "c.symbol", "c.cell_index", "f.table_id", "f.matrix", "f.load_id",
        "f.loaded_at", "f.file", "f.file_sha256",
        # A PxWeb JSON response's cell is its position in the cube (readers/jsonstat.py).
        "CASE WHEN f.file ILIKE '%.json' THEN 'value ' ELSE 'PX cell ' END"
        " || CAST(c.cell_index AS VARCHAR) AS place")]
    sql = (
        f"CREATE OR REPLACE VIEW raw.{view} AS\nSELECT\n" + ",\n".join(exprs) + "\n"
        f"FROM (\n    SELECT cell_key // {CELL_KEY_FACTOR} AS file_key,\n"
        f"        cell_key % {CELL_KEY_FACTOR} AS cell_index, value, symbol\n"
        "    FROM (\n"
        "        SELECT cell_key, value, CAST(NULL AS VARCHAR) AS symbol "
        "FROM raw.statfin_cells\n"
        "        UNION ALL\n"
        "        SELECT cell_key, CAST(NULL AS DOUBLE), symbol FROM raw.statfin_symbols\n"
        "    )\n) AS c\n"
        f"JOIN raw.statfin_files AS f ON f.file_key = c.file_key AND f.dataset = {_lit(dataset)}")
    return sql, columns


def refresh_view(con, dataset: str, known: bool = False) -> None:
    """(Re)create the view raw.statfin_<dataset> over every loaded file of that table;
    with ``known``, with at least the columns the marts read (KNOWN_TABLE_COLUMNS)."""
    sql, columns = _view_sql(con, dataset, known)
    con.execute(sql)
    view = f"raw.statfin_{dataset}"
    con.execute(f"COMMENT ON VIEW {view} IS {_lit(_VIEW_DOC.format(dataset=dataset))}")
    for column in [*columns, *sorted(_FIXED_COLUMNS)]:
        text = _VIEW_COLUMN_DOCS.get(column) or (
            f"The code of variable '{column}' (see raw.statfin_variables).")
        con.execute(f"COMMENT ON COLUMN {view}.{_q(column)} IS {_lit(text)}")


def _naive_utc(ts):
    """TIMESTAMP columns hold naive UTC; an aware datetime would go through the local zone."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts


def _cell_codes(header: PxHeader, index: int) -> str:
    """'Alue=KU564, Kuukausi=2024M11, Tiedot=TYOTOSUUS' for a cell index."""
    parts, rest = [], index
    for v in reversed(header.variables):
        parts.append(f"{v.name}={v.codes[rest % len(v.codes)]}")
        rest //= len(v.codes)
    return ", ".join(reversed(parts))


def load_px(con: duckdb.DuckDBPyConnection, raw: RawFile, ctx: LoadContext) -> PxLoadSummary:
    """Load one PX file: its cells into ``raw.statfin_cells`` (and ``raw.statfin_symbols``),
    its layout into ``raw.statfin_variables`` and ``raw.statfin_values``, a row into
    ``raw.statfin_files``, and (re)create the view ``raw.statfin_<id>``. Runs inside the
    caller's transaction and does not commit.

    Raises RawInputError (file, place, problem) for an empty file, a malformed header,
    missing STUB/HEADING/VALUES/DATA, CODES and VALUES of different lengths, bytes the
    CODEPAGE cannot decode, a DATA value that is neither a number nor a symbol, or a DATA
    count that differs from the product of the variables' value counts. Rows already
    inserted for this file are removed before raising, where the transaction allows.
    """
    rel = raw.rel_path
    header = read_px_header(raw.path, rel)
    _ensure_tables(con)
    create_file_versions(con)
    _sweep_orphans(con)
    if not _exists(con, f"statfin_{header.table_id}", "views"):
        refresh_view(con, header.table_id)  # so the table exists even if this load fails
    file_key = con.execute(
        "SELECT coalesce(max(file_key), 0) + 1 FROM raw.statfin_files").fetchall()[0][0]
    loaded_at = _naive_utc(ctx.loaded_at)
    try:
        total, symbols = _load_data(con, raw, header, file_key)
    except BaseException:
        _forget_rows(con, file_key)
        raise

    months = sorted(next((v.codes for v in header.variables
                          if v.name == header.month_variable), ()))
    periods = (months[0], months[-1]) if months else None
    con.execute(
        "INSERT INTO raw.statfin_files (load_id, loaded_at, file, file_sha256, table_id, "
        "matrix, codepage, language, title, stub, heading, cells, symbols, first_month, "
        "last_month, last_updated, file_key, dataset, notes) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [ctx.load_id, loaded_at, rel, raw.sha256, header.tableid, header.matrix,
         header.codepage, header.language, header.title, header.stub, header.heading,
         total, sum(symbols.values()), periods[0] if periods else None,
         periods[1] if periods else None, header.last_updated, file_key, header.table_id,
         _note(header)])
    _insert_layout(con, raw, ctx, header, file_key)
    refresh_view(con, header.table_id)
    area = next((v for v in header.variables if v.column == "area_code"), None)
    return PxLoadSummary(
        file=rel, table_id=header.table_id, target_table=f"raw.statfin_{header.table_id}",
        matrix=header.matrix, rows=total, symbols=dict(sorted(symbols.items())),
        periods=periods, areas=len(area.codes) if area else 0)


_INSERT_CELLS = "INSERT INTO raw.statfin_cells (cell_key, value) SELECT * FROM px_chunk"
_INSERT_SYMBOLS = "INSERT INTO raw.statfin_symbols (cell_key, symbol) SELECT * FROM px_symbols"


def _load_data(con, raw: RawFile, header: PxHeader,
               file_key: int) -> tuple[int, dict[str, int]]:
    """Tokenise DATA chunk by chunk and insert each; returns (cells, symbol counts).

    A single worker thread tokenises the chunks in order (so each knows its first cell
    index from the previous one) while the calling thread inserts the one before: numpy,
    Arrow and DuckDB release the GIL, so both cores work. At most two chunks are in flight.
    """
    rel = raw.rel_path
    expected = header.cells
    symbols: dict[str, int] = {}
    next_base = [0]  # cell index of the next chunk's first token; touched by the worker only

    def tokenise(buf: bytes) -> _Chunk:
        base = next_base[0]
        # Past the expected count nothing is inserted: only count, for the message.
        chunk = _tokenise(buf, base, build=base < expected,
                          key_base=file_key * CELL_KEY_FACTOR)
        next_base[0] = base + chunk.n
        return chunk

    def insert(result) -> None:
        try:
            chunk: _Chunk = result()
        except _BadToken as e:
            codes = (_cell_codes(header, e.index) if e.index < expected
                     else "beyond the last cell")
            raise RawInputError(
                file=rel, place=f"PX cell {e.index}",
                problem=f"DATA value {e.text!r} is neither a number nor a statistical "
                        f"symbol {list(SYMBOLS)} ({codes})") from None
        if chunk.cells is None or chunk.base + chunk.n > expected:
            return
        for name, table, sql in (("px_chunk", chunk.cells, _INSERT_CELLS),
                                 ("px_symbols", chunk.symbols, _INSERT_SYMBOLS)):
            if table is None:
                continue
            con.register(name, table)
            try:
                con.execute(sql)
            finally:
                con.unregister(name)
        for s, c in chunk.counts.items():
            symbols[s] = symbols.get(s, 0) + c

    with open(raw.path, "rb") as f:
        size = f.seek(0, 2)
        try:
            end = _data_span(f, header.data_offset, size)
        except ValueError as e:
            raise RawInputError(file=rel, place="DATA", problem=str(e)) from None
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = None
            for buf in _iter_data_chunks(f, header.data_offset, end):
                submitted = pool.submit(tokenise, buf)
                if pending is not None:
                    insert(pending.result)
                pending = submitted
            if pending is not None:
                insert(pending.result)
    total = next_base[0]
    if total != expected:
        sizes = " × ".join(f"{len(v.codes)} ({v.name})" for v in header.variables)
        raise RawInputError(
            file=rel, place="DATA",
            problem=f"DATA has {total} values but the variables call for {sizes} = "
                    f"{expected}")
    return total, symbols


def _forget_rows(con, file_key: int) -> None:
    """Best effort: remove this file's cells after a failure, so a caller that commits
    anyway keeps no partial file. An aborted transaction refuses; fine."""
    try:
        for table in ("statfin_cells", "statfin_symbols"):
            con.execute(f"DELETE FROM raw.{table} WHERE cell_key BETWEEN ? AND ?",
                        [file_key * CELL_KEY_FACTOR, (file_key + 1) * CELL_KEY_FACTOR - 1])
    except duckdb.Error:
        pass


def _insert_layout(con, raw: RawFile, ctx: LoadContext, header: PxHeader,
                   file_key: int) -> None:
    """The variables (position, size, stride) into raw.statfin_variables and each one's
    codes and labels into raw.statfin_values (set-based inserts)."""
    sizes = [len(v.codes) for v in header.variables]
    lineage = [raw.rel_path, raw.sha256, ctx.load_id, header.tableid, file_key]
    variables = pa.table({
        "variable": [v.name for v in header.variables],
        "column_name": [v.column for v in header.variables],
        "position": pa.array(range(len(sizes)), pa.int32()),
        "n_values": pa.array(sizes, pa.int32()),
        "stride": pa.array([math.prod(sizes[k + 1:]) for k in range(len(sizes))], pa.int64()),
    })
    rows = [(v.name, v.column, i, code, label)
            for v in header.variables for i, (code, label) in enumerate(zip(v.codes, v.labels))]
    values = pa.table({
        "variable": [r[0] for r in rows], "column_name": [r[1] for r in rows],
        "position": pa.array([r[2] for r in rows], pa.int32()),
        "code": [r[3] for r in rows], "label": [r[4] for r in rows]})
    con.register("px_variables", variables)
    con.register("px_values", values)
    try:
        con.execute(
            "INSERT INTO raw.statfin_variables (file, file_sha256, load_id, table_id, "
            "file_key, variable, column_name, position, n_values, stride) "
            "SELECT ?, ?, ?, ?, ?, variable, column_name, position, n_values, stride "
            "FROM px_variables", lineage)
        con.execute(
            "INSERT INTO raw.statfin_values (file, file_sha256, load_id, table_id, file_key, "
            "variable, column_name, position, code, label) SELECT ?, ?, ?, ?, ?, variable, "
            "column_name, position, code, label FROM px_values", lineage)
    finally:
        con.unregister("px_variables")
        con.unregister("px_values")


def create_statfin_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The storage tables and the views of the known tables (12r5, 12u4), so models can
    read them before any file is loaded; removes the cells of files no longer listed."""
    _ensure_tables(con)
    create_file_versions(con)
    _sweep_orphans(con)
    datasets = {r[0] for r in con.execute(
        "SELECT DISTINCT dataset FROM raw.statfin_files").fetchall()}
    for view in KNOWN_TABLE_COLUMNS:
        datasets.add(view.removeprefix("statfin_"))
    for dataset in sorted(datasets):
        refresh_view(con, dataset, known=True)
