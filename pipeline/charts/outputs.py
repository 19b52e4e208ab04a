"""Writing the figures' files for one area: ``<figure>.png/.svg/.pdf/.csv``, ``figures.pdf``
(every figure, a page each) and ``figures.xlsx`` (a sheet and a native chart each).

Used by ``python -m pipeline export`` and by the Dagster chart assets, so both write the
same files. Every format is written so that the same data gives the same bytes.

Where files go, so that no export replaces another's: the pilot area in Finnish straight
into the output folder (what the Dagster assets write), another language under ``<lang>/``,
another area under ``<area_code>/`` (``en/KU564/``). A book of only some figures is named
for them (``figures_kuvio_8_kuvio_9.xlsx``), never ``figures.xlsx``.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from .. import areas
from . import excel, figures, style

FORMATS = ("png", "svg", "pdf", "xlsx", "csv")
FIGURE_FORMATS = ("png", "svg", "pdf")  # one file per figure, drawn by matplotlib
BOOK_PDF = "figures.pdf"
BOOK_XLSX = "figures.xlsx"


@dataclass
class Written:
    """What a call wrote, the figures it left out because the area has no data (``why``:
    the reason for each), and the groups' figures drawn without all members (``partial``:
    figure id -> the note)."""

    paths: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    why: dict[str, str] = field(default_factory=dict)
    partial: dict[str, str] = field(default_factory=dict)


def area_dir(out: Path, area_code: str, lang: str = "fi") -> Path:
    """The pilot area's Finnish files go straight into ``out`` (the Dagster assets' set);
    another language into ``out/<lang>/``, another area into ``.../<area_code>/``."""
    base = Path(out) if lang == "fi" else Path(out) / lang
    return base if area_code == areas.PILOT_AREA else base / area_code


def book_stem(figure_ids: list[str] | None) -> str:
    """``figures`` for every figure; for some, a name that says which
    (``figures_kuvio_8_kuvio_9``), so a partial book never replaces the whole one."""
    if figure_ids is None or set(figure_ids) >= set(figures.FIGURES):
        return "figures"
    return "figures_" + "_".join(f for f in figures.FIGURES if f in set(figure_ids))


# OWASP's CSV injection rule: a text cell that starts with one of these is a formula to
# Excel and LibreOffice; a leading apostrophe makes it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Columns that count persons (or spells of persons): whole numbers in the CSV.
COUNT_COLUMNS = {"spells", "masked_cells", "months_covered", "year", "month_no"}
COVERAGE_COLUMNS = ("municipalities_with_data", "municipalities_in_area")


def csv_text(value: str) -> str:
    """A text cell that a spreadsheet cannot read as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _csv_cell(value, decimals: int | None) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, str):
        return csv_text(value)
    if decimals is None or isinstance(value, bool):
        return str(value)
    return format(style.rounded(value, decimals), "f")


def csv_decimals(spec: figures.FigureSpec | None, column: str, values: pd.Series) -> int | None:
    """Decimals a CSV column is written with: the figure's plotted value at the report's
    precision (spec.decimals: persons 0, rates 1), counts as whole numbers; None: as is."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    if spec is not None and column in {"value", "share_pct", spec.indicator}:
        return spec.decimals
    if column in COUNT_COLUMNS or pd.api.types.is_integer_dtype(values):
        return 0
    return None


def write_csv(data: pd.DataFrame, path: Path, spec: figures.FigureSpec | None = None,
              coverage: tuple[int, int] | None = None) -> Path:
    """The plotted rows: plain UTF-8, comma separated, a header; numbers at the precision
    the report states them (the warehouse and Parquet keep full precision); text that could
    be a formula escaped. A group drawn without all its members carries two more columns,
    ``municipalities_with_data`` and ``municipalities_in_area``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(data.columns)
    decimals = [csv_decimals(spec, c, data[c]) for c in columns]
    extra = [str(n) for n in coverage] if figures.is_partial(coverage) else []
    lines = [[csv_text(str(c)) for c in columns] + (list(COVERAGE_COLUMNS) if extra else [])]
    lines += [[_csv_cell(v, d) for v, d in zip(row, decimals)] + extra
              for row in data.itertuples(index=False, name=None)]
    text = "".join(",".join(_quoted(f) for f in line) + "\n" for line in lines)
    path.write_bytes(text.encode("utf-8"))
    return path


def _quoted(field_: str) -> str:
    # RFC 4180 quoting, also for a lone CR: Python's csv writer leaves "\r" unquoted when
    # lines end in "\n", and a reader then splits the row there.
    if any(ch in field_ for ch in ',"\r\n'):
        return '"' + field_.replace('"', '""') + '"'
    return field_


def write_figure(fig, spec: figures.FigureSpec, data: pd.DataFrame, out_dir: Path,
                 formats: Iterable[str] = FORMATS,
                 coverage: tuple[int, int] | None = None) -> list[Path]:
    """One rendered figure's own files: ``<id>.png``, ``.svg``, ``.pdf``, ``.csv``."""
    paths = [figures.save(fig, out_dir / f"{spec.id}.{fmt}")
             for fmt in FIGURE_FORMATS if fmt in formats]
    if "csv" in formats:
        paths.append(write_csv(data, out_dir / f"{spec.id}.csv", spec, coverage))
    return paths


def preview_png(fig, dpi: int = 60) -> str:
    """A small PNG of the figure, base64, for Markdown metadata in the Dagster UI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata=figures._metadata("x.png"))
    return base64.b64encode(buf.getvalue()).decode()


def skip_reason(con, area_code: str, figure_id: str) -> str:
    """Why the area has no number for the figure: what audit.coverage says (which source
    or raw file would give it); for a warehouse without it, which members lack data."""
    from ..coverage import figure_coverage

    try:
        cov = figure_coverage(con, area_code, [figure_id])[0]
        if not cov.drawn:
            return cov.line().split(": not drawn: ", 1)[-1]
    except Exception:  # noqa: BLE001 - an older warehouse without audit.coverage
        pass
    mart = figures.figure_marts(figure_id)[0]
    members = figures.group_members(con, area_code)
    if not members:
        return f"no data for {area_code} in {mart}"
    have = set(figures.members_with_data(con, area_code, figure_id))
    missing = [m for m in members if m not in have]
    if not missing:
        return f"no data for {area_code} in {mart}"
    return (f"no value for {area_code} in {mart}: {len(have & set(members))} of its "
            f"{len(members)} municipalities have data there (none for {', '.join(missing)})")


@dataclass
class Entry:
    """One figure to write: its spec, data and (for a group) coverage."""

    spec: figures.FigureSpec
    data: pd.DataFrame
    coverage: tuple[int, int] | None = None
    missing: list[str] = field(default_factory=list)


def write_all(con, out: Path, area_code: str = areas.PILOT_AREA,
              figure_ids: Iterable[str] | None = None, formats: Iterable[str] = FORMATS,
              lang: str = "fi", previews: dict[str, str] | None = None,
              books: Iterable[str] | None = None, preview_dpi: int = 60) -> Written:
    """Every figure in ``figure_ids`` (default all, in the report's order) for the area.

    ``formats``: each figure's own files (png, svg, pdf, csv). ``books``: the collections,
    ``pdf`` = figures.pdf, ``xlsx`` = figures.xlsx (named for their figures when not all,
    see ``book_stem``); by default those among ``formats``. A figure the area has no data
    for is skipped and named in ``skipped`` with the reason in ``why``. A group's figure
    drawn without all its members says so in its title, caption and CSV (``partial``).
    ``previews``, if given, receives a small base64 PNG per figure (at ``preview_dpi``)."""
    wanted = None if figure_ids is None else list(figure_ids)
    ids = list(figures.FIGURES) if wanted is None else [
        f for f in figures.figure_ids() if f in set(wanted)]
    formats = set(formats)
    books = formats & {"pdf", "xlsx"} if books is None else set(books)
    stem = book_stem(wanted)
    out_dir = area_dir(out, area_code, lang)
    synthetic = figures.is_synthetic(con)
    name = figures.area_name(con, area_code)
    written = Written()
    entries: list[Entry] = []
    for fid in ids:
        data = figures.figure_data(con, fid, area_code)
        if data.empty:
            written.skipped.append(fid)
            written.why[fid] = skip_reason(con, area_code, fid)
            continue
        entry = Entry(figures.spec_of(fid), data, figures.group_coverage(con, area_code, fid))
        if figures.is_partial(entry.coverage):
            have = set(figures.members_with_data(con, area_code, fid))
            entry.missing = [m for m in figures.group_members(con, area_code) if m not in have]
            written.partial[fid] = figures.coverage_note(entry.coverage, entry.missing, "en")[0]
        entries.append(entry)
    if not entries:
        return written
    out_dir.mkdir(parents=True, exist_ok=True)
    book = None
    book_pdf = out_dir / f"{stem}.pdf"
    if "pdf" in books:
        book = PdfPages(book_pdf, metadata=figures._metadata(book_pdf))
    drawn = book is not None or previews is not None or formats & set(FIGURE_FORMATS)
    try:
        for e in entries:
            if not drawn:  # CSV alone needs no drawing
                written.paths += write_figure(None, e.spec, e.data, out_dir, formats, e.coverage)
                continue
            fig = figures.render(e.spec, e.data, lang, synthetic, name, e.coverage, e.missing)
            try:
                written.paths += write_figure(fig, e.spec, e.data, out_dir, formats, e.coverage)
                if book is not None:
                    book.savefig(fig)
                if previews is not None:
                    previews[e.spec.id] = preview_png(fig, preview_dpi)
            finally:
                style.plt.close(fig)
    finally:
        if book is not None:
            book.close()
    if book is not None:
        written.paths.append(book_pdf)
    if "xlsx" in books:
        written.paths.append(excel.write_workbook(entries, out_dir / f"{stem}.xlsx", lang,
                                                  synthetic, name))
    return written
