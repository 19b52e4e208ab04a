"""Reader for Kela's open data on the municipal share of the labour market subsidy.

Kela publishes *Kunnan osarahoittaman työmarkkinatuen saajat ja maksetut etuudet
kunnittain* (työmarkkinatuen kuntaosuus = the municipal share of the labour market
subsidy) as one UTF-8 CSV file with a header line (layout: shared/formats/kela-kuntaosuus.md).
This module recognises such a file by its header and loads it, unchanged but typed, into
``raw.kela_municipal_share``: one row per line of the file, with the line number and the
lineage columns of :mod:`pipeline.readers.common`.

The file is parsed by DuckDB's ``read_csv`` (all columns as text), then checked and cast in
SQL, so a whole-country file loads in seconds and every problem is reported with its line.
The caller owns the transaction: nothing here begins, commits or rolls back.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.areas import municipality_code
from pipeline.readers.common import (
    LINEAGE_COLUMNS_SQL,
    SYMBOLS,
    LoadContext,
    RawFile,
    RawInputError,
    create_file_versions,
    duckdb_file_path,
    sql_literal,
)

TABLE = "raw.kela_municipal_share"

# The file's columns in Kela's order, with the SQL type each is stored as.
# kunta_nro stays text so '072' (Hailuoto) keeps its leading zero.
COLUMNS: dict[str, str] = {
    "aikatyyppi": "VARCHAR",
    "kuukausi_nro": "INTEGER",
    "vuosikuukausi": "INTEGER",
    "vuosi": "INTEGER",
    "kunta_nro": "VARCHAR",
    "kunta_nimi": "VARCHAR",
    "ikaryhma": "VARCHAR",
    "sukupuoli": "VARCHAR",
    "tyomarkkinatukipaiva_luokka": "VARCHAR",
    "saaja_lkm": "BIGINT",
    "korvattu_paiva_lkm": "BIGINT",
    "maksettu_eur": "DECIMAL(18,2)",
    "kunta_osuus_eur": "DECIMAL(18,2)",
}

# Aikatyyppi (kind of period): the month, the year (end-of-year state), year to date.
AIKATYYPIT = ("Kuukausi", "Vuosi", "Vuosikertymä")

# The known values of the categorical columns (shared/formats/kela-kuntaosuus.md). A value
# not listed is refused with its line: an unknown class would otherwise fall out of every
# sum that names the classes, without a word.
KNOWN_VALUES: dict[str, tuple[str, ...]] = {
    "aikatyyppi": AIKATYYPIT,
    # Ikäryhmä (age group): five-year groups 20-24 … 60-64 between 17-19 and 65-67.
    "ikaryhma": ("17-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54",
                 "55-59", "60-64", "65-67", "Tieto puuttuu", "Yhteensä"),
    # Sukupuoli (sex): men, women, unknown, all.
    "sukupuoli": ("Mies", "Nainen", "Tuntematon", "Yhteensä"),
    # Työmarkkinatukipäivä-luokka (days of subsidy received): the 50 % classes, the 70 %
    # class, all.
    "tyomarkkinatukipaiva_luokka": ("300-499", "500-999", "1000 tai yli", "Yhteensä"),
}
# Documented other spellings, stored as the known value they stand for: Kela's own dataset
# description writes the top day class as "1000" where its file has "1000 tai yli"
# (shared/formats/kela-kuntaosuus.md: "accept both").
ALIASES: dict[str, dict[str, str]] = {
    "tyomarkkinatukipaiva_luokka": {"1000": "1000 tai yli"},
}
# Measures that count persons and so cannot be negative (days and euros can: refunds).
NON_NEGATIVE = ("saaja_lkm",)

# Text columns that identify a row and so must not be empty.
REQUIRED_TEXT = ("aikatyyppi", "kunta_nro", "ikaryhma", "sukupuoli", "tyomarkkinatukipaiva_luokka")
# Integer columns that date a row: required, never a symbol.
PERIOD_INTS = ("kuukausi_nro", "vuosikuukausi", "vuosi")
# Measures (saajat = recipients, korvatut päivät = compensated days, maksettu = paid,
# kuntaosuus = municipal share): may be empty (missing) or a statistical symbol.
MEASURES = ("saaja_lkm", "korvattu_paiva_lkm", "maksettu_eur", "kunta_osuus_eur")

# What a number looks like in the file: the lengths keep casts from overflowing.
NUMBER_PATTERNS: dict[str, str] = {
    "kuukausi_nro": r"\d{1,9}",
    "vuosikuukausi": r"\d{1,9}",
    "vuosi": r"\d{1,9}",
    "saaja_lkm": r"-?\d{1,18}",
    "korvattu_paiva_lkm": r"-?\d{1,18}",
    "maksettu_eur": r"-?\d{1,16}(\.\d{1,2})?",
    "kunta_osuus_eur": r"-?\d{1,16}(\.\d{1,2})?",
}

# A row's identity: one value per period, municipality and breakdown. kunta_nro is compared
# padded so '72' and '072' are the same municipality.
KEY_SQL = (
    "aikatyyppi",
    "vuosikuukausi",
    "lpad(kunta_nro, 3, '0')",
    "ikaryhma",
    "sukupuoli",
    "tyomarkkinatukipaiva_luokka",
)

UNKNOWN_MUNICIPALITY = "199"  # Tuntematon: unknown, or a breakdown group under 4 persons

# A header is Kela's when it names most of these columns (a missing one is then an error
# in load_kela, not a file of another family).
_SNIFF_MIN_COLUMNS = 7
_STAGE = "kela_load_text"  # temp table holding the file as text while it is checked
_CHUNK = 1 << 20


@dataclass(frozen=True)
class KelaLoadSummary:
    """What one Kela file brought: rows, the periods and municipalities covered, gaps."""

    file: str
    rows: int
    rows_by_aikatyyppi: dict[str, int]
    first_month: int | None  # vuosikuukausi YYYYMM of the earliest row
    last_month: int | None
    months: int  # distinct billing months (laskutuskuukausi) with Kuukausi rows
    years: tuple[int, ...]
    municipalities: tuple[str, ...]  # KU codes, without 199 Tuntematon
    unknown_municipality_rows: int  # rows of 199 Tuntematon (unknown or under 4 persons)
    missing_cells: int  # empty measure cells
    symbol_cells: dict[str, int] = field(default_factory=dict)  # symbol -> measure cells


def sniff_kela(path: Path) -> bool:
    """True when the file's first line is the header of Kela's kuntaosuus CSV."""
    try:
        names = _header_names(Path(path))
    except (OSError, csv.Error):
        return False
    return names is not None and len(set(names) & set(COLUMNS)) >= _SNIFF_MIN_COLUMNS


def load_kela(con, raw: RawFile, ctx: LoadContext) -> KelaLoadSummary:
    """Load one Kela file into ``raw.kela_municipal_share``, replacing rows of the same file.

    Raises RawInputError (file, line, problem) for a missing header column, an empty or
    non-UTF-8 file, text where a number belongs, a bad vuosikuukausi, an unknown
    category value (aikatyyppi, ikaryhma, sukupuoli, day class), a negative saaja_lkm
    or a duplicate row. All checks run before anything is written.
    """
    names = _check_header(raw)
    physical_lines = _check_utf8(raw)
    try:
        _stage_text(con, raw, names, physical_lines)
        _apply_aliases(con)
        _check_rows(con, raw)
        _check_duplicates(con, raw)
        create_kela_tables(con)
        _insert(con, raw, ctx)
        return _summarise(con, raw)
    finally:
        _drop_stage(con)


# --- the header ------------------------------------------------------------------------


def _header_names(path: Path) -> list[str] | None:
    """The first line's column names, lowercased; None for an empty file."""
    with open(path, "rb") as f:
        first = f.readline(_CHUNK)
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Saved as "Unicode text": recognised, so that the load can say what is wrong.
        with open(path, "rb") as f:
            text = f.read(_CHUNK).decode("utf-16", errors="ignore")
        first = text.split("\n", 1)[0].encode("utf-8")
    if not first.strip():
        return None
    text = first.decode("utf-8-sig", errors="replace")
    # Excel in a Finnish locale saves a CSV with ';': recognised, so that the load refuses it
    # saying why, instead of the file being passed over as "not recognised".
    delimiter = ";" if ";" in text and "," not in text else ","
    row = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    return [name.strip().lower() for name in row]


def _semicolon_separated(path: Path) -> bool:
    with open(path, "rb") as f:
        first = f.readline(_CHUNK).decode("utf-8-sig", errors="replace")
    return ";" in first and "," not in first


def _check_header(raw: RawFile) -> list[str]:
    """Column names for read_csv, in file order; unknown extra columns get neutral names."""
    if raw.path.stat().st_size == 0:
        raise RawInputError(raw.rel_path, None, "empty file (no header line)")
    names = _header_names(raw.path)
    if names is None:
        raise RawInputError(raw.rel_path, "line 1", "empty header line")
    if _semicolon_separated(raw.path):
        # Not read as it is: a file re-saved by Excel has also lost the leading zeros of
        # kunta_nro (072 -> 72) and may have turned decimal points into commas.
        raise RawInputError(
            raw.rel_path, "line 1",
            "separated by ';', as Excel saves a CSV in a Finnish locale; Kela's file is "
            "comma-separated: put the original download (or `python -m pipeline fetch "
            "--source kela`) in its place")
    seen: set[str] = set()
    for name in names:
        if name in COLUMNS and name in seen:
            raise RawInputError(
                raw.rel_path, "line 1", f"column {name!r} appears twice in the header"
            )
        seen.add(name)
    missing = [c for c in COLUMNS if c not in seen]
    if missing:
        raise RawInputError(
            raw.rel_path, "line 1", f"missing column(s) in header: {', '.join(missing)}"
        )
    # Extra columns are read but not stored; naming them neutrally keeps SQL quoting trivial.
    return [n if n in COLUMNS else f"extra_{i}" for i, n in enumerate(names, start=1)]


# --- bytes: encoding and line numbers -----------------------------------------------------


def _check_utf8(raw: RawFile) -> int:
    """Check the file is UTF-8; return its number of physical lines.

    Done in Python, in chunks, so the error can name the line of the first bad byte.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = 0
    last = b""
    with open(raw.path, "rb") as f:
        if f.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise RawInputError(raw.rel_path, None, "the file is UTF-16 text (as Excel's "
                                "\"Unicode text\" saves it); Kela's file is UTF-8: save it "
                                "as CSV UTF-8")
        f.seek(0)
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as e:
                line = newlines + chunk.count(b"\n", 0, max(e.start, 0)) + 1
                raise RawInputError(
                    raw.rel_path,
                    f"line {line}",
                    f"not UTF-8 text (byte 0x{chunk[max(e.start, 0)]:02x}); save the file as UTF-8",
                ) from None
            newlines += chunk.count(b"\n")
            last = chunk
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise RawInputError(
                raw.rel_path, f"line {newlines + 1}", "not UTF-8 text (file ends mid-character)"
            ) from None
    if last and not last.endswith(b"\n"):
        # Kela's file ends with a line break; one that does not was most likely cut short
        # while being copied, possibly inside a number (223580.21 read as 2235).
        raise RawInputError(
            raw.rel_path, f"line {newlines + 1}",
            "the file ends inside this line, with no line break after it: a copy cut short? "
            "Copy the whole download again (Kela's file ends with a line break)")
    return newlines


def _record_lines(raw: RawFile) -> list[int]:
    """Start line of every data record, for files with blank lines or quoted line breaks.

    The common case (one record per line) never comes here: see _stage_text.
    """
    lines: list[int] = []
    with open(raw.path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader, None)  # header
        while True:
            start = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                return lines
            if row:  # a blank line is [] and DuckDB skips it too
                lines.append(start)


# --- DuckDB: text stage, checks, typed insert ------------------------------------------------


def _stage_text(con, raw: RawFile, names: list[str], physical_lines: int) -> None:
    """Read the file as text into a temp table with each row's line number."""
    columns = ", ".join(f"'{n}': 'VARCHAR'" for n in names)
    select = ", ".join(f"nullif(trim({c}), '') as {c}" for c in COLUMNS)
    try:
        con.execute(
            f"""
            create or replace temp table {_STAGE} as
            select ordinality as record, {select}
            from read_csv($path, columns = {{{columns}}}, header = true, auto_detect = false,
                          delim = ',', quote = '"', escape = '"', encoding = 'utf-8',
                          strict_mode = true) with ordinality
            """,
            {"path": duckdb_file_path(raw.path)},  # a literal path, not a glob
        )
    except Exception as e:  # duckdb raises its own error classes; keep its message
        raise _csv_error(raw, e) from None
    # "with ordinality" numbers the records 1, 2, ... in the file's order.
    con.execute(f"alter table {_STAGE} add column line bigint")
    rows = con.execute(f"select count(*) from {_STAGE}").fetchall()[0][0]
    if rows == 0:
        raise RawInputError(raw.rel_path, None, "no data rows after the header line")
    if rows + 1 == physical_lines:
        # One record per line: line = record + 1 (line 1 is the header).
        con.execute(f"update {_STAGE} set line = record + 1")
        return
    lines = _record_lines(raw)
    if len(lines) != rows:
        raise RawInputError(
            raw.rel_path, None, f"could not match {rows} CSV records to the file's lines"
        )
    con.execute(
        f"""
        update {_STAGE} set line = m.line
        from (select unnest(range(1, {rows} + 1)) as record, unnest($lines::bigint[]) as line) as m
        where {_STAGE}.record = m.record
        """,
        {"lines": lines},
    )


def _csv_error(raw: RawFile, error: Exception) -> RawInputError:
    """DuckDB's CSV parse error as a RawInputError naming the line."""
    text = str(error)
    line = re.search(r"Line: (\d+)", text)
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    if "Expected Number of Columns" in text:
        detail = re.search(r"Expected Number of Columns: \d+ Found: \d+", text)
        first = f"wrong number of fields ({detail.group(0)})" if detail else first
    return RawInputError(
        raw.rel_path, f"line {line.group(1)}" if line else None, f"malformed CSV: {first}"
    )


def _check_rows(con, raw: RawFile) -> None:
    """Raise for the first line (in file order) that breaks a rule of the layout."""
    checks: list[str] = []
    for c in REQUIRED_TEXT + PERIOD_INTS:
        checks.append(
            f"select line, 'missing value in column {c}' as problem from {_STAGE} where {c} is null"
        )
    for c in PERIOD_INTS:
        checks.append(_number_check(c, allow_symbol=False))
    for c in MEASURES:
        checks.append(_number_check(c, allow_symbol=True))
    checks.append(
        f"""select line, 'kunta_nro ' || kunta_nro || ' is not a municipality number (1-3 digits)'
        from {_STAGE} where not regexp_full_match(kunta_nro, '\\d{{1,3}}')"""
    )
    for column, values in KNOWN_VALUES.items():
        known = ", ".join(_lit(v) for v in values)
        shown = ", ".join(values)
        if aliases := ALIASES.get(column):
            shown += "; also written " + ", ".join(f"{a} for {v}" for a, v in aliases.items())
        checks.append(
            f"""select line, 'unknown {column} ''' || {column} || ''' (expected '
                || {_lit(shown)} || ')'
            from {_STAGE} where {column} not in ({known})"""
        )
    for column in NON_NEGATIVE:
        checks.append(
            f"""select line, 'negative {column} ' || {column}
                || ': a count of persons cannot be negative'
            from {_STAGE}
            where regexp_full_match({column}, '{NUMBER_PATTERNS[column]}')
                and try_cast({column} as bigint) < 0"""
        )
    checks.append(_period_check())
    union = "\nunion all\n".join(f"select * from ({q})" for q in checks)
    bad = con.execute(f"select line, problem from ({union}) order by line limit 1").fetchall()
    if bad:
        line, problem = bad[0]
        raise RawInputError(raw.rel_path, f"line {line}", problem)


_lit = sql_literal  # for the known values, constants of this module


def _apply_aliases(con) -> None:
    """Store a documented other spelling as the value it stands for (``ALIASES``); the
    row's line still points at the cell as written."""
    for column, aliases in ALIASES.items():
        for alias, value in aliases.items():
            con.execute(f"update {_STAGE} set {column} = $value where {column} = $alias",
                        {"value": value, "alias": alias})


def _number_check(column: str, *, allow_symbol: bool) -> str:
    """SQL selecting lines whose ``column`` holds text that is not a number."""
    pattern = NUMBER_PATTERNS[column]
    symbols = ", ".join(sql_literal(s) for s in SYMBOLS)
    symbol_ok = f"and {column} not in ({symbols})" if allow_symbol else ""
    return f"""select line, 'text where a number belongs: {column} = ''' || {column} || ''''
        from {_STAGE}
        where {column} is not null and not regexp_full_match({column}, '{pattern}') {symbol_ok}"""


def _period_check() -> str:
    """SQL selecting lines whose vuosikuukausi is not YYYYMM or disagrees with the other dates."""
    ok = "regexp_full_match({c}, '\\d{{1,9}}')"
    all_ok = " and ".join(ok.format(c=c) for c in PERIOD_INTS)
    return f"""
        select line,
            case
                when not regexp_full_match(vuosikuukausi, '\\d{{6}}')
                    then 'bad vuosikuukausi ' || vuosikuukausi || ': expected YYYYMM'
                when cast(vuosikuukausi as integer) % 100 not between 1 and 12
                    then 'bad vuosikuukausi ' || vuosikuukausi || ': month must be 1-12'
                else 'bad vuosikuukausi ' || vuosikuukausi || ': disagrees with vuosi '
                    || vuosi || ' / kuukausi_nro ' || kuukausi_nro
            end
        from {_STAGE}
        where {all_ok}
            and (not regexp_full_match(vuosikuukausi, '\\d{{6}}')
                or cast(vuosikuukausi as integer) % 100 not between 1 and 12
                or cast(vuosikuukausi as integer) // 100 <> cast(vuosi as integer)
                or cast(vuosikuukausi as integer) % 100 <> cast(kuukausi_nro as integer))
    """


def _check_duplicates(con, raw: RawFile) -> None:
    """Raise for the first line that repeats an earlier row's key (same period and breakdown)."""
    key = ", ".join(KEY_SQL)
    # Compare whole rows with kunta_nro padded, as the key does.
    values = " || '|' || ".join(
        "lpad(kunta_nro, 3, '0')" if c == "kunta_nro" else f"coalesce({c}, '')" for c in COLUMNS
    )
    found = con.execute(
        f"""
        with keyed as (
            select line, {values} as whole_row,
                first_value(line) over w as first_line,
                first_value({values}) over w as first_row,
                row_number() over w as nth
            from {_STAGE}
            window w as (partition by {key} order by line)
        )
        select line, first_line, whole_row = first_row
        from keyed where nth > 1 order by line limit 1
        """
    ).fetchall()
    if not found:
        return
    line, first_line, same = found[0]
    key_text = con.execute(
        f"select concat_ws(' / ', {key}) from {_STAGE} where line = $line", {"line": line}
    ).fetchall()[0][0]
    if same:
        problem = f"duplicate row: line {line} repeats line {first_line} exactly ({key_text})"
    else:
        problem = (
            f"conflicting duplicate: line {line} and line {first_line} have the same key "
            f"({key_text}) but different values"
        )
    raise RawInputError(raw.rel_path, f"line {line}", problem)


def create_kela_tables(con) -> None:
    """Create schema ``raw`` and ``raw.kela_municipal_share`` when missing.

    load_kela calls it inside the caller's transaction; the pipeline also calls it up front so
    the models can read the table when no Kela file is present.
    """
    required = set(REQUIRED_TEXT + PERIOD_INTS)
    typed = ",\n    ".join(
        f"{c} {t}{' NOT NULL' if c in required else ''}" for c, t in COLUMNS.items()
    )
    symbols = ",\n    ".join(f"{c}_symbol VARCHAR" for c in MEASURES)
    con.execute("create schema if not exists raw")
    con.execute(
        f"""
        create table if not exists {TABLE} (
            {typed},
            {symbols},
            line BIGINT NOT NULL,
            {LINEAGE_COLUMNS_SQL}
        )
        """
    )
    create_file_versions(con)


def _insert(con, raw: RawFile, ctx: LoadContext) -> None:
    """Replace this file's rows with the checked, typed rows of the stage."""
    symbols = ", ".join(sql_literal(s) for s in SYMBOLS)
    casts = [
        c if t == "VARCHAR" else f"cast(case when {c} in ({symbols}) then null else {c} end as {t})"
        for c, t in COLUMNS.items()
    ]
    symbol_cols = [f"case when {c} in ({symbols}) then {c} end" for c in MEASURES]
    target = (
        list(COLUMNS)
        + [f"{c}_symbol" for c in MEASURES]
        + [
            "line",
            "load_id",
            "loaded_at",
            "file",
            "file_sha256",
            "place",
        ]
    )
    # A reload of the same content replaces its rows, so running twice is harmless; another
    # version of the file (other content) stays as an earlier vintage.
    con.execute(f"delete from {TABLE} where file = $file and file_sha256 = $sha",
                {"file": raw.rel_path, "sha": raw.sha256})
    con.execute(
        f"""
        insert into {TABLE} ({", ".join(target)})
        select {", ".join(casts + symbol_cols)}, line,
            $load_id, $loaded_at, $file, $sha, 'line ' || line
        from {_STAGE}
        order by line
        """,
        {
            "load_id": ctx.load_id,
            "loaded_at": ctx.loaded_at,
            "file": raw.rel_path,
            "sha": raw.sha256,
        },
    )


def _summarise(con, raw: RawFile) -> KelaLoadSummary:
    """Count what was loaded from this file."""
    where = {"file": raw.rel_path}
    missing_sql = " + ".join(
        f"count(*) filter (where {c} is null and {c}_symbol is null)" for c in MEASURES
    )
    ((rows, first, last, months, unknown, missing),) = con.execute(
        f"""
        select count(*), min(vuosikuukausi), max(vuosikuukausi),
            count(distinct vuosikuukausi) filter (where aikatyyppi = 'Kuukausi'),
            count(*) filter (where lpad(kunta_nro, 3, '0') = '{UNKNOWN_MUNICIPALITY}'),
            {missing_sql}
        from {TABLE} where file = $file
        """,
        where,
    ).fetchall()
    by_type = dict(
        con.execute(
            f"select aikatyyppi, count(*) from {TABLE} where file = $file group by all order by 1",
            where,
        ).fetchall()
    )
    years = tuple(
        y
        for (y,) in con.execute(
            f"select distinct vuosi from {TABLE} where file = $file order by 1", where
        ).fetchall()
    )
    numbers = con.execute(
        f"""select distinct lpad(kunta_nro, 3, '0') from {TABLE}
        where file = $file and lpad(kunta_nro, 3, '0') <> '{UNKNOWN_MUNICIPALITY}' order by 1""",
        where,
    ).fetchall()
    symbol_union = " union all ".join(
        f"select {c}_symbol as s from {TABLE} where file = $file and {c}_symbol is not null"
        for c in MEASURES
    )
    symbols = dict(
        con.execute(
            f"select s, count(*) from ({symbol_union}) group by s order by s", where
        ).fetchall()
    )
    return KelaLoadSummary(
        file=raw.rel_path,
        rows=rows,
        rows_by_aikatyyppi=by_type,
        first_month=first,
        last_month=last,
        months=months,
        years=years,
        municipalities=tuple(municipality_code(n) for (n,) in numbers),
        unknown_municipality_rows=unknown,
        missing_cells=missing,
        symbol_cells=symbols,
    )


# The name raw_layer.py imported before the function was public.
_ensure_table = create_kela_tables


def _drop_stage(con) -> None:
    """Drop the temp table; after a DuckDB error the transaction is aborted and drops fail."""
    try:
        con.execute(f"drop table if exists {_STAGE}")
    except Exception:  # the caller's rollback removes the temp table anyway
        pass
