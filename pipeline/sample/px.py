"""Writes PC-Axis (PX) files the way Statistics Finland's PxWeb writes StatFin tables.

SYNTHETIC DATA goes in; what comes out looks like a StatFin download
(``shared/formats/statfin-px.md``): ``CHARSET="ANSI"`` with ``CODEPAGE`` utf-8 or iso-8859-1,
multilingual keywords (``TITLE[sv]=``, ``VALUES[en]("Region")=``), ``VALUES`` lists wrapped
over lines, ``TIMEVAL``, ``CODES``, per-content ``LAST-UPDATED``/``UNITS``/``PRECISION`` keyed
by the content label, and ``DATA=`` row-major over STUB then HEADING, the last variable
varying fastest, statistical symbols quoted, ending in ``;``.

The data are streamed: values are consumed from an iterable one STUB row at a time and
written through a buffered file, so a 28-million-cell national table never sits in memory
as one string. The file is written under a temporary name and renamed when complete.

Like the rest of ``pipeline.sample`` this module imports nothing from the pipeline.
"""

from __future__ import annotations

import math
import numbers
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from pathlib import Path

# Statistical symbols StatFin writes in DATA (quoted): confidential, not available,
# not applicable, nil.
SYMBOLS = ("...", "..", ".", "-")

# Names StatFin has used for the month and the content variable (before and after June 2026).
MONTH_VARIABLE_NAMES = ("Kuukausi", "timeperiod_m")
CONTENT_VARIABLE_NAMES = ("Tiedot", "contentscode")

# The unit of a content missing from a ``units`` mapping: StatFin's counts are "lkm".
DEFAULT_UNIT = "lkm"

# Lines of keyword lists are wrapped near this width, as PxWeb keeps lines short.
WRAP_WIDTH = 100

Variable = tuple[str, Sequence[str], Sequence[str]]  # (name, codes, labels)


def write_px(
    path: str | os.PathLike,
    *,
    table_id: str,
    matrix: str,
    title: str,
    contents: str,
    variables: Sequence[Variable],
    stub_names: Sequence[str],
    heading_names: Sequence[str],
    data: Iterable[object],
    codepage: str = "utf-8",
    language: str = "fi",
    translations: Mapping[str, Mapping[str, object]] | None = None,
    units: str | Mapping[str, str] = "lkm",
    precision: Mapping[str, int] | None = None,
    source: str = "KEHA-keskus, Työnvälitystilasto",
    month_variable: str | None = None,
    content_variable: str | None = None,
    subject_code: str = "TYONV",
    subject_area: str = "Työnvälitystilasto",
    description: str | None = None,
    note: str | None = "... = Tieto on salassapitosäännön alainen",
    creation_date: str = "20220301 08:00",
    next_update: str | None = None,
    last_updated: str | None = None,
    contact: str | None = None,
    newline: str = "\n",
) -> int:
    """Write one PX file; return the number of DATA cells written.

    ``variables`` are ``(name, codes, labels)`` in the default language; ``stub_names`` and
    ``heading_names`` order them (together they must name each variable once). ``data``
    yields the cells row-major over STUB then HEADING, the last variable varying fastest: a
    number, or a symbol string (``'...'``, ``'..'``, ``'.'``, ``'-'``) written quoted.

    ``units`` is one unit for every content or a mapping content code → unit (contents
    missing from it are counts, ``lkm``); ``precision`` maps content codes to decimals
    (missing: 0). Numbers of a content with a precision are written with that many
    decimals, others as integers when whole.

    ``translations`` maps a language (``'sv'``, ``'en'``) to any of: ``title``,
    ``subject_area``, ``source``, ``contents``, ``variables`` (name → translated name) and
    ``values`` (name → translated labels). Each keyword is followed by its ``KEY[lang]``
    variants, as PxWeb writes them; STUB/HEADING/VALUES/CODES get a variant for every
    language, other keywords when any translation gives them (a language lacking the text
    repeats the default one).

    ``month_variable``/``content_variable`` default to the StatFin names when present
    (``Kuukausi``/``timeperiod_m``, ``Tiedot``/``contentscode``); the month variable gets
    ``TIMEVAL``, the content variable ``CONTVARIABLE`` and the per-content keywords.
    """
    by_name = _check_variables(variables, stub_names, heading_names)
    translations = dict(translations or {})
    precision = dict(precision or {})
    month_variable = _pick(month_variable, MONTH_VARIABLE_NAMES, by_name, "month_variable")
    content_variable = _pick(content_variable, CONTENT_VARIABLE_NAMES, by_name,
                             "content_variable")
    if description is None:
        description = title

    order = [*stub_names, *heading_names]
    head = _header_lines(
        table_id=table_id, matrix=matrix, title=title, contents=contents, by_name=by_name,
        order=order, stub_names=stub_names, heading_names=heading_names, codepage=codepage,
        language=language, translations=translations, units=units, precision=precision,
        source=source, month_variable=month_variable, content_variable=content_variable,
        subject_code=subject_code, subject_area=subject_area, description=description,
        note=note, creation_date=creation_date, next_update=next_update,
        last_updated=last_updated or creation_date, contact=contact,
    )

    row_len = math.prod(len(by_name[n][0]) for n in heading_names)
    n_rows = math.prod(len(by_name[n][0]) for n in stub_names)
    formats = _row_formats(order, by_name, content_variable, precision, stub_names)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding=codepage, newline=newline, buffering=1 << 20) as f:
            for line in head:
                f.write(line)
                f.write("\n")
            f.write("DATA=\n")
            _write_data(f, iter(data), n_rows, row_len, formats)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return n_rows * row_len


def _check_variables(variables, stub_names, heading_names) -> dict[str, tuple[list, list]]:
    """Variables by name as (codes, labels); checks STUB+HEADING name each exactly once."""
    by_name: dict[str, tuple[list, list]] = {}
    for name, codes, labels in variables:
        codes, labels = list(codes), list(labels)
        if len(codes) != len(labels):
            raise ValueError(f"variable {name!r}: {len(codes)} codes but {len(labels)} labels")
        if not codes:
            raise ValueError(f"variable {name!r} has no values")
        if name in by_name:
            raise ValueError(f"variable {name!r} given twice")
        by_name[name] = (codes, labels)
    order = [*stub_names, *heading_names]
    if sorted(order) != sorted(by_name) or len(set(order)) != len(order):
        raise ValueError(f"STUB {list(stub_names)} + HEADING {list(heading_names)} must name "
                         f"each variable {sorted(by_name)} exactly once")
    return by_name


def _pick(given: str | None, defaults: Sequence[str], by_name: Mapping, what: str) -> str | None:
    """The given variable name (checked), else the first StatFin default present, else None."""
    if given is not None:
        if given not in by_name:
            raise ValueError(f"{what} {given!r} is not one of the variables")
        return given
    return next((n for n in defaults if n in by_name), None)


def _q(text: str) -> str:
    """A PX string literal; PX has no escapes, so a double quote cannot be written."""
    text = str(text)
    if '"' in text or "\n" in text or "\r" in text:
        raise ValueError(f"PX strings cannot hold quotes or line breaks: {text!r}")
    return f'"{text}"'


def _params(*names: str) -> str:
    return "(" + ",".join(_q(n) for n in names) + ")"


def _list_lines(key: str, items: Sequence[str]) -> list[str]:
    """``KEY=a,b,…;`` with the list wrapped over lines near WRAP_WIDTH, as PxWeb does."""
    lines, line = [], key + "="
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else ";")
        if len(line) + len(piece) > WRAP_WIDTH and not line.endswith("="):
            lines.append(line)
            line = ""
        line += piece
    lines.append(line)
    return lines


def _kw(key: str, value: str) -> str:
    return f"{key}={value};"


def _timeval_unit(codes: Sequence[str]) -> str:
    """PX time scale of the codes: M1 for 2024M10, Q1 for 2024Q4, A1 for 2024."""
    first = codes[0]
    if re.fullmatch(r"\d{4}M\d{2}", first):
        return "M1"
    if re.fullmatch(r"\d{4}Q\d", first):
        return "Q1"
    if re.fullmatch(r"\d{4}", first):
        return "A1"
    return "M1"


def _header_lines(*, table_id, matrix, title, contents, by_name, order, stub_names,
                  heading_names, codepage, language, translations, units, precision, source,
                  month_variable, content_variable, subject_code, subject_area, description,
                  note, creation_date, next_update, last_updated, contact) -> list[str]:
    """Every header line, in the order PxWeb writes the keywords."""
    langs = [language, *[lang for lang in translations if lang != language]]
    tr = {lang: translations[lang] for lang in langs[1:]}

    def variants(key: str, default: str, tkey: str) -> list[str]:
        """``KEY=default;`` then ``KEY[lang]=…;`` for every language once any translation
        has ``tkey`` (a language without it repeats the default text, so that each
        language has the keyword, as PxWeb writes and as parsers like pyaxis expect)."""
        out = [_kw(key, _q(default))]
        if any(tkey in t for t in tr.values()):
            out += [_kw(f"{key}[{lang}]", _q(t.get(tkey, default))) for lang, t in tr.items()]
        return out

    def var_name(lang: str, name: str) -> str:
        return dict(tr[lang].get("variables", {})).get(name, name)

    max_precision = max([precision.get(c, 0) for c in _content_codes(by_name, content_variable)]
                        or [0])
    lines = [
        _kw("CHARSET", _q("ANSI")),
        _kw("AXIS-VERSION", _q("2013")),
        _kw("CODEPAGE", _q(codepage)),
        _kw("LANGUAGE", _q(language)),
        _kw("LANGUAGES", ",".join(_q(lang) for lang in langs)),
        _kw("CREATION-DATE", _q(creation_date)),
    ]
    if next_update:
        lines.append(_kw("NEXT-UPDATE", _q(next_update)))
    lines += [
        _kw("TABLEID", _q(table_id)),
        _kw("DECIMALS", str(max_precision)),
        _kw("SHOWDECIMALS", str(max_precision)),
        _kw("MATRIX", _q(matrix)),
        _kw("SUBJECT-CODE", _q(subject_code)),
        *variants("SUBJECT-AREA", subject_area, "subject_area"),
        _kw("COPYRIGHT", "YES"),
        _kw("DESCRIPTION", _q(description)),
        *variants("TITLE", title, "title"),
        *variants("CONTENTS", contents, "contents"),
        _kw("UNITS", _q(_unit_of(units, _first_content(by_name, content_variable)))),
    ]
    for key, names in (("STUB", stub_names), ("HEADING", heading_names)):
        if not names:
            continue
        lines += _list_lines(key, [_q(n) for n in names])
        for lang in tr:
            lines += _list_lines(f"{key}[{lang}]", [_q(var_name(lang, n)) for n in names])
    if content_variable:
        lines.append(_kw("CONTVARIABLE", _q(content_variable)))
        for lang in tr:
            lines.append(_kw(f"CONTVARIABLE[{lang}]", _q(var_name(lang, content_variable))))
    for name in order:
        labels = by_name[name][1]
        lines += _list_lines(f"VALUES{_params(name)}", [_q(v) for v in labels])
        for lang, t in tr.items():
            tlabels = list(dict(t.get("values", {})).get(name, labels))
            if len(tlabels) != len(labels):
                raise ValueError(f"translation {lang}: {name!r} has {len(tlabels)} labels, "
                                 f"expected {len(labels)}")
            lines += _list_lines(f"VALUES[{lang}]{_params(var_name(lang, name))}",
                                 [_q(v) for v in tlabels])
    if month_variable:
        codes = by_name[month_variable][0]
        lines += _list_lines(f"TIMEVAL{_params(month_variable)}",
                             [f"TLIST({_timeval_unit(codes)})", *[_q(c) for c in codes]])
    for name in order:
        codes = [_q(c) for c in by_name[name][0]]
        lines += _list_lines(f"CODES{_params(name)}", codes)
        for lang in tr:
            lines += _list_lines(f"CODES[{lang}]{_params(var_name(lang, name))}", codes)
    lines += _content_lines(by_name, content_variable, units, precision, last_updated,
                            contact)
    lines += variants("SOURCE", source, "source")
    if note:
        lines += variants("NOTE", note, "note")
    return lines


def _content_codes(by_name, content_variable) -> list[str]:
    return list(by_name[content_variable][0]) if content_variable else []


def _first_content(by_name, content_variable) -> str | None:
    codes = _content_codes(by_name, content_variable)
    return codes[0] if codes else None


def _unit_of(units: str | Mapping[str, str], code: str | None) -> str:
    """A content's unit: the one unit given, or the mapping's, counts (lkm) by default."""
    if isinstance(units, str):
        return units
    return units.get(code, DEFAULT_UNIT) if code is not None else DEFAULT_UNIT


def _content_lines(by_name, content_variable, units, precision, last_updated,
                   contact) -> list[str]:
    """Per-content PRECISION, LAST-UPDATED, UNITS and CONTACT, keyed by the content label."""
    if not content_variable:
        lines = [_kw("LAST-UPDATED", _q(last_updated))]
        return lines + ([_kw("CONTACT", _q(contact))] if contact else [])
    lines = []
    codes, labels = by_name[content_variable]
    for code, label in zip(codes, labels):
        if precision.get(code, 0) > 0:
            lines.append(_kw(f"PRECISION{_params(content_variable, label)}",
                             str(precision[code])))
        lines.append(_kw(f"LAST-UPDATED{_params(label)}", _q(last_updated)))
        lines.append(_kw(f"UNITS{_params(label)}", _q(_unit_of(units, code))))
        if contact:
            lines.append(_kw(f"CONTACT{_params(label)}", _q(contact)))
    return lines


def _row_formats(order, by_name, content_variable, precision, stub_names):
    """How to format the cells of each DATA line (one STUB row).

    Precision belongs to the content; the content variable sits either in the HEADING (then
    each column has a fixed format) or in the STUB (then each row has one). Returns
    ``("all", formatter)``, ``("columns", [formatter per column])`` or
    ``("rows", row number → formatter)``.
    """
    if not content_variable or not any(precision.values()):
        return ("all", _format_plain)
    codes = by_name[content_variable][0]
    fmts = [_decimal_formatter(precision.get(c, 0)) for c in codes]
    k = order.index(content_variable)
    sizes = [len(by_name[n][0]) for n in order]
    stride = math.prod(sizes[k + 1:])
    n = sizes[k]
    row_len = math.prod(sizes[len(stub_names):])
    if k >= len(stub_names):  # content varies within a row
        return ("columns", [fmts[(c // stride) % n] for c in range(row_len)])
    row_stride = stride // row_len
    return ("rows", lambda r: fmts[(r // row_stride) % n])


def _write_data(f, it, n_rows: int, row_len: int, formats) -> None:
    """Stream DATA one STUB row (one line) at a time; the last value is followed by ';'."""
    kind, fmt = formats
    for r in range(n_rows):
        row = list(islice(it, row_len))
        if len(row) != row_len:
            raise ValueError(f"data ended early: {r * row_len + len(row)} values, "
                             f"expected {n_rows * row_len}")
        if kind == "all":
            text = " ".join(map(fmt, row))
        elif kind == "columns":
            text = " ".join([g(v) for g, v in zip(fmt, row)])
        else:
            text = " ".join(map(fmt(r), row))
        f.write(text)
        f.write(";\n" if r == n_rows - 1 else "\n")
    if next(it, _END) is not _END:
        raise ValueError(f"data has more than the expected {n_rows * row_len} values")


_END = object()


def _format_symbol_or_fail(v: object) -> str:
    if isinstance(v, str):
        if v in SYMBOLS:
            return f'"{v}"'
        raise ValueError(f"{v!r} is not a statistical symbol {SYMBOLS}")
    raise ValueError(f"{v!r} is neither a number nor a statistical symbol")


def _format_plain(v: object) -> str:
    """A number as PxWeb writes it: integers without decimals, others shortest round-trip."""
    if type(v) is int:  # the common case first: counts
        return str(v)
    if isinstance(v, numbers.Real) and not isinstance(v, bool):
        if isinstance(v, numbers.Integral):
            return str(int(v))
        x = float(v)
        if not math.isfinite(x):
            raise ValueError(f"{v!r} is not a finite number")
        return str(int(x)) if x.is_integer() else repr(x)
    return _format_symbol_or_fail(v)


def _decimal_formatter(decimals: int):
    """Formatter writing non-integer numbers with a content's fixed number of decimals."""
    if decimals <= 0:
        return _format_plain

    def fmt(v: object) -> str:
        if isinstance(v, numbers.Real) and not isinstance(v, (bool, numbers.Integral)):
            x = float(v)
            if not math.isfinite(x):
                raise ValueError(f"{v!r} is not a finite number")
            return f"{x:.{decimals}f}"
        return _format_plain(v)

    return fmt
