"""StatFin PC-Axis (PX) reader: one PX file into DuckDB's ``raw`` schema.

The layout is in ``shared/formats/statfin-px.md``. The header (keywords up to ``DATA=``) is
small and parsed in Python. The DATA section can hold tens of millions of cells (12u4: 28 M,
115 MB), so it is never turned into one Python object per cell: it is read in large byte
chunks, tokenised with numpy (whitespace splits tokens, quotes are dropped), handed to
DuckDB as Arrow arrays (cell index, value, symbol) and inserted set-based. Each cell's
variable codes are computed in SQL from its position alone: with the last variable varying
fastest, variable k's value index is ``(cell_index // stride_k) % n_k``.

Tables written (created if missing; the caller owns the transaction):

``raw.statfin_<short id>`` (``raw.statfin_12r5``, ``raw.statfin_12u4``)
    one row per DATA cell: a VARCHAR column per variable holding its CODE (``area_code``,
    ``sex``, ``age_group``, ``month``, ``content_code``, or a slug of the name), ``value``
    DOUBLE (NULL for a symbol), ``symbol`` VARCHAR, ``cell_index`` BIGINT (0-based position
    in DATA), ``table_id`` and ``matrix`` as written in the file, and the lineage columns.
    ``place`` ('PX cell <cell_index>') is a virtual generated column: it is derived from
    ``cell_index``, and storing 28 million distinct strings would triple the load time.
``raw.statfin_values``
    each variable's codes and default-language labels, with the 0-based ``position`` used
    in the cell index arithmetic.
``raw.statfin_files``
    one row per loaded file: its identity, header facts and counts.
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

from .common import SYMBOLS, LoadContext, RawFile, RawInputError

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

# Header bytes read at a time while looking for DATA=, and the most a header may take.
_HEADER_READ = 1 << 20
_HEADER_MAX = 64 << 20
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
    after_string = False
    for m in _ITEM_RE.finditer(value):
        text, bare, comma = m.groups()
        if text is not None:
            if after_string:
                items[-1] += text
            else:
                items.append(text)
            after_string = True
        elif bare is not None:
            items.append(bare)
            after_string = False
        elif comma:
            after_string = False
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


def _read_header_bytes(f, limit: int) -> tuple[bytes, list[_Keyword], int | None, bool]:
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
            if len(buf) >= limit:
                raise ValueError(None, f"no DATA keyword in the first {limit >> 20} MB") \
                    from None
            size = min(size * 4, limit)
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
            buf, statements, data_at, _ = _read_header_bytes(f, _HEADER_MAX)
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
    if not names & {"MATRIX", "TABLEID", "STUB", "HEADING", "AXIS-VERSION"}:
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
# tokens; quotes wrap symbols and are dropped; a token may hold only _NUMBER_BYTES.
_QUOTE = 0x22
_DROP = bytes(range(0x21)) + b'"'
_NUMBER_BYTES = b"0123456789.-+eE"
_LEGAL = _DROP + _NUMBER_BYTES
_ILLEGAL = np.ones(256, dtype=bool)  # for locating an illegal byte once one is known
_ILLEGAL[list(_LEGAL)] = False
_SYMBOL_SET = pa.array(list(SYMBOLS), pa.string())

# DATA is handled in chunks of about this many bytes (≈ 4 M cells): big enough for
# vectorised work to dominate, small enough to keep memory flat.
_CHUNK_BYTES = 16 << 20


@dataclass
class _Chunk:
    """One tokenised piece of DATA as Arrow arrays."""

    base: int  # cell index of the first token
    batch: pa.RecordBatch | None  # cell_index, value, symbol (None: counted only)
    n: int
    symbols: dict[str, int]


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


def _tokenise(buf: bytes, base: int, build: bool) -> _Chunk:
    """Split a DATA chunk into tokens and convert them, all vectorised.

    Tokens are runs of bytes above 0x20; quotes around symbols are dropped. Each token must
    be a statistical symbol or parse as a number; the first that is neither raises
    _BadToken with its cell index. With ``build`` False the tokens are only counted.
    """
    a = np.frombuffer(buf, dtype=np.uint8)
    # +1 where a token starts, -1 just after it ends: starts and ends alternate.
    solid = np.zeros(a.size + 2, dtype=np.int8)
    np.greater(a, 0x20, out=solid[1:-1].view(np.bool_))
    edges = np.flatnonzero(np.diff(solid))
    starts, ends = edges[0::2], edges[1::2]
    n = int(starts.size)
    if not build:
        return _Chunk(base, None, n, {})
    if buf.translate(None, _LEGAL):
        p = int(np.argmax(_ILLEGAL[a]))
        raise _BadToken(base + _token_index(starts, p), _token_at(buf, p))
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
    return _convert(tokens, base, n)


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


def _convert(tokens: pa.StringArray, base: int, n: int) -> _Chunk:
    """Tokens → (cell_index, value, symbol) Arrow batch and symbol counts."""
    is_symbol = pc.is_in(tokens, value_set=_SYMBOL_SET)
    symbols: dict[str, int] = {}
    if pc.any(is_symbol).as_py():
        numbers = pc.if_else(is_symbol, pa.scalar(None, pa.string()), tokens)
        symbol = pc.if_else(is_symbol, tokens, pa.scalar(None, pa.string()))
        for row in pc.value_counts(symbol.drop_null()).to_pylist():
            symbols[row["values"]] = row["counts"]
    else:
        numbers = tokens
        symbol = pa.nulls(n, pa.string())
    try:
        values = pc.cast(numbers, pa.float64())
    except pa.ArrowInvalid:
        i = _first_unparsable(numbers)
        raise _BadToken(base + i, numbers[i].as_py()) from None
    index = pa.array(np.arange(base, base + n, dtype=np.int64))
    batch = pa.RecordBatch.from_arrays([index, values, symbol],
                                       names=["cell_index", "value", "symbol"])
    return _Chunk(base, batch, n, symbols)


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


def _ensure_tables(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> None:
    """Create the schema and tables if missing; add variable columns a table lacks."""
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    var_cols = ",\n".join(f"    {_q(c)} VARCHAR" for c in columns)
    con.execute(f"""
        CREATE TABLE IF NOT EXISTS raw.{table} (
        {var_cols},
            value DOUBLE,
            symbol VARCHAR,
            cell_index BIGINT NOT NULL,
            table_id VARCHAR,
            matrix VARCHAR,
            load_id VARCHAR NOT NULL,
            loaded_at TIMESTAMP NOT NULL,
            file VARCHAR NOT NULL,
            file_sha256 VARCHAR NOT NULL,
            place VARCHAR GENERATED ALWAYS AS ('PX cell ' || CAST(cell_index AS VARCHAR))
                VIRTUAL
        )""")
    existing = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'raw' AND table_name = ?", [table]).fetchall()}
    for c in columns:
        if c not in existing:
            con.execute(f"ALTER TABLE raw.{table} ADD COLUMN {_q(c)} VARCHAR")
    con.execute("""
        CREATE TABLE IF NOT EXISTS raw.statfin_values (
            file VARCHAR NOT NULL,
            file_sha256 VARCHAR NOT NULL,
            load_id VARCHAR NOT NULL,
            table_id VARCHAR,
            variable VARCHAR NOT NULL,
            column_name VARCHAR NOT NULL,
            position INTEGER NOT NULL,
            code VARCHAR NOT NULL,
            label VARCHAR
        )""")
    con.execute("""
        CREATE TABLE IF NOT EXISTS raw.statfin_files (
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
            last_updated VARCHAR
        )""")


def _insert_sql(table: str, header: PxHeader) -> str:
    """INSERT … SELECT computing each variable's code from the cell index.

    Parameters: $1..$k the code lists (one per variable), then table_id, matrix, load_id,
    loaded_at, file, file_sha256. The chunk is scanned as ``px_chunk``.
    """
    sizes = [len(v.codes) for v in header.variables]
    exprs = []
    for k in range(len(sizes)):
        stride = math.prod(sizes[k + 1:])
        exprs.append(f"${k + 1}[(cell_index // {stride}) % {sizes[k]} + 1]")
    p = len(header.variables)
    cols = [_q(v.column) for v in header.variables]
    return (
        f"INSERT INTO raw.{table} ({', '.join(cols)}, value, symbol, cell_index, table_id, "
        f"matrix, load_id, loaded_at, file, file_sha256)\n"
        f"SELECT {', '.join(exprs)}, value, symbol, cell_index, ${p + 1}, ${p + 2}, ${p + 3}, "
        f"${p + 4}::TIMESTAMP, ${p + 5}, ${p + 6} FROM px_chunk"
    )


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
    """Load one PX file into ``raw.statfin_<id>``, ``raw.statfin_values`` and
    ``raw.statfin_files``. Runs inside the caller's transaction and does not commit.

    Raises RawInputError (file, place, problem) for an empty file, a malformed header,
    missing STUB/HEADING/VALUES/DATA, CODES and VALUES of different lengths, bytes the
    CODEPAGE cannot decode, a DATA value that is neither a number nor a symbol, or a DATA
    count that differs from the product of the variables' value counts. Rows already
    inserted for this file are removed before raising, where the transaction allows.
    """
    rel = raw.rel_path
    header = read_px_header(raw.path, rel)
    table = f"statfin_{header.table_id}"
    _ensure_tables(con, table, [v.column for v in header.variables])
    loaded_at = _naive_utc(ctx.loaded_at)
    expected = header.cells

    sql = _insert_sql(table, header)
    params = [list(v.codes) for v in header.variables] + [
        header.tableid, header.matrix, ctx.load_id, loaded_at, rel, raw.sha256]
    try:
        total, symbols = _load_data(con, raw, header, sql, params, expected)
    except BaseException:
        _forget_rows(con, table, ctx, raw)
        raise

    _insert_values(con, raw, ctx, header)
    months = sorted(next((v.codes for v in header.variables
                          if v.name == header.month_variable), ()))
    periods = (months[0], months[-1]) if months else None
    con.execute(
        "INSERT INTO raw.statfin_files (load_id, loaded_at, file, file_sha256, table_id, "
        "matrix, codepage, language, title, stub, heading, cells, symbols, first_month, "
        "last_month, last_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [ctx.load_id, loaded_at, rel, raw.sha256, header.tableid, header.matrix,
         header.codepage, header.language, header.title, header.stub, header.heading,
         total, sum(symbols.values()), periods[0] if periods else None,
         periods[1] if periods else None, header.last_updated])
    area = next((v for v in header.variables if v.column == "area_code"), None)
    return PxLoadSummary(
        file=rel, table_id=header.table_id, target_table=f"raw.{table}",
        matrix=header.matrix, rows=total, symbols=dict(sorted(symbols.items())),
        periods=periods, areas=len(area.codes) if area else 0)


def _load_data(con, raw: RawFile, header: PxHeader, sql: str, params: list,
               expected: int) -> tuple[int, dict[str, int]]:
    """Tokenise DATA chunk by chunk and insert each; returns (cells, symbol counts).

    A single worker thread tokenises the chunks in order (so each knows its first cell
    index from the previous one) while the calling thread inserts the one before: numpy,
    Arrow and DuckDB release the GIL, so both cores work. At most two chunks are in flight.
    """
    rel = raw.rel_path
    symbols: dict[str, int] = {}
    next_base = [0]  # cell index of the next chunk's first token; touched by the worker only

    def tokenise(buf: bytes) -> _Chunk:
        base = next_base[0]
        # Past the expected count nothing is inserted: only count, for the message.
        chunk = _tokenise(buf, base, build=base < expected)
        next_base[0] = base + chunk.n
        return chunk

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
                    _insert_chunk(con, pending.result, sql, params, header, rel, expected,
                                  symbols)
                pending = submitted
            if pending is not None:
                _insert_chunk(con, pending.result, sql, params, header, rel, expected,
                              symbols)
    total = next_base[0]
    if total != expected:
        sizes = " × ".join(f"{len(v.codes)} ({v.name})" for v in header.variables)
        raise RawInputError(
            file=rel, place="DATA",
            problem=f"DATA has {total} values but the variables call for {sizes} = "
                    f"{expected}")
    return total, symbols


def _insert_chunk(con, result, sql, params, header, rel, expected, symbols) -> None:
    """Insert one tokenised chunk (waiting for it); chunks past the expected count are
    only counted (the count mismatch is reported after the last chunk)."""
    try:
        chunk: _Chunk = result()
    except _BadToken as e:
        codes = _cell_codes(header, e.index) if e.index < expected else "beyond the last cell"
        raise RawInputError(
            file=rel, place=f"PX cell {e.index}",
            problem=f"DATA value {e.text!r} is neither a number nor a statistical symbol "
                    f"{list(SYMBOLS)} ({codes})") from None
    if chunk.batch is None or chunk.base + chunk.n > expected:
        return
    con.register("px_chunk", pa.Table.from_batches([chunk.batch]))
    try:
        con.execute(sql, params)
    finally:
        con.unregister("px_chunk")
    for s, c in chunk.symbols.items():
        symbols[s] = symbols.get(s, 0) + c


def _forget_rows(con, table: str, ctx: LoadContext, raw: RawFile) -> None:
    """Best effort: remove this load's rows of this file after a failure, so a caller
    that commits anyway keeps no partial table. An aborted transaction refuses; fine."""
    try:
        con.execute(f"DELETE FROM raw.{table} WHERE load_id = ? AND file = ?",
                    [ctx.load_id, raw.rel_path])
    except duckdb.Error:
        pass


def _insert_values(con, raw: RawFile, ctx: LoadContext, header: PxHeader) -> None:
    """Each variable's codes and labels into raw.statfin_values (one set-based insert)."""
    rows = [(v.name, v.column, i, code, label)
            for v in header.variables for i, (code, label) in enumerate(zip(v.codes, v.labels))]
    values = pa.table({
        "variable": [r[0] for r in rows], "column_name": [r[1] for r in rows],
        "position": pa.array([r[2] for r in rows], pa.int32()),
        "code": [r[3] for r in rows], "label": [r[4] for r in rows]})
    con.register("px_values", values)
    try:
        con.execute(
            "INSERT INTO raw.statfin_values (file, file_sha256, load_id, table_id, variable, "
            "column_name, position, code, label) SELECT ?, ?, ?, ?, variable, column_name, "
            "position, code, label FROM px_values",
            [raw.rel_path, raw.sha256, ctx.load_id, header.tableid])
    finally:
        con.unregister("px_values")


# Dimension columns of the StatFin tables the marts read, so the tables exist (empty) even
# before a file of that table has been loaded.
KNOWN_TABLE_COLUMNS = {
    "statfin_12r5": ["area_code", "month", "content_code"],
    "statfin_12u4": ["area_code", "sex", "age_group", "month", "content_code"],
}


def create_statfin_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table, columns in KNOWN_TABLE_COLUMNS.items():
        _ensure_tables(con, table, columns)
