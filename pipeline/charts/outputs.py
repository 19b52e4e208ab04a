"""Writing the figures' files for one area: ``<figure>.png/.svg/.pdf/.csv``, ``figures.pdf``
(every figure, a page each) and ``figures.xlsx`` (a sheet and a native chart each).

Used by ``python -m pipeline export`` and by the Dagster chart assets, so both write the
same files. Every format is written so that the same data gives the same bytes.
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
    """What a call wrote, and the figures it left out because the area has no data."""

    paths: list[Path] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def area_dir(out: Path, area_code: str) -> Path:
    """The pilot area's files go straight into ``out``; a municipality's into
    ``out/<area_code>/``."""
    return Path(out) if area_code == areas.PILOT_AREA else Path(out) / area_code


def write_csv(data: pd.DataFrame, path: Path) -> Path:
    """The plotted rows as the mart holds them: plain UTF-8, comma separated, a header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return path


def write_figure(fig, spec: figures.FigureSpec, data: pd.DataFrame, out_dir: Path,
                 formats: Iterable[str] = FORMATS) -> list[Path]:
    """One rendered figure's own files: ``<id>.png``, ``.svg``, ``.pdf``, ``.csv``."""
    paths = [figures.save(fig, out_dir / f"{spec.id}.{fmt}")
             for fmt in FIGURE_FORMATS if fmt in formats]
    if "csv" in formats:
        paths.append(write_csv(data, out_dir / f"{spec.id}.csv"))
    return paths


def preview_png(fig, dpi: int = 60) -> str:
    """A small PNG of the figure, base64, for Markdown metadata in the Dagster UI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata=figures._metadata("x.png"))
    return base64.b64encode(buf.getvalue()).decode()


def write_all(con, out: Path, area_code: str = areas.PILOT_AREA,
              figure_ids: Iterable[str] | None = None, formats: Iterable[str] = FORMATS,
              lang: str = "fi", previews: dict[str, str] | None = None,
              books: Iterable[str] | None = None, preview_dpi: int = 60) -> Written:
    """Every figure in ``figure_ids`` (default all, in the report's order) for the area.

    ``formats``: each figure's own files (png, svg, pdf, csv). ``books``: the collections,
    ``pdf`` = figures.pdf, ``xlsx`` = figures.xlsx; by default those among ``formats``. A
    figure the area has no data for is skipped and named in ``skipped``. ``previews``, if
    given, receives a small base64 PNG per figure (at ``preview_dpi``)."""
    ids = [f for f in figures.FIGURES if figure_ids is None or f in set(figure_ids)]
    formats = set(formats)
    books = formats & {"pdf", "xlsx"} if books is None else set(books)
    out_dir = area_dir(out, area_code)
    synthetic = figures.is_synthetic(con)
    name = figures.area_name(con, area_code)
    written = Written()
    entries: list[tuple[figures.FigureSpec, pd.DataFrame]] = []
    for fid in ids:
        data = figures.figure_data(con, fid, area_code)
        if data.empty:
            written.skipped.append(fid)
        else:
            entries.append((figures.FIGURES[fid], data))
    if not entries:
        return written
    out_dir.mkdir(parents=True, exist_ok=True)
    book = None
    if "pdf" in books:
        book = PdfPages(out_dir / BOOK_PDF, metadata=figures._metadata(BOOK_PDF))
    drawn = book is not None or previews is not None or formats & set(FIGURE_FORMATS)
    try:
        for spec, data in entries:
            if not drawn:  # CSV alone needs no drawing
                written.paths += write_figure(None, spec, data, out_dir, formats)
                continue
            fig = figures.render(spec, data, lang, synthetic, name)
            try:
                written.paths += write_figure(fig, spec, data, out_dir, formats)
                if book is not None:
                    book.savefig(fig)
                if previews is not None:
                    previews[spec.id] = preview_png(fig, preview_dpi)
            finally:
                style.plt.close(fig)
    finally:
        if book is not None:
            book.close()
    if book is not None:
        written.paths.append(out_dir / BOOK_PDF)
    if "xlsx" in books:
        written.paths.append(excel.write_workbook(entries, out_dir / BOOK_XLSX, lang,
                                                  synthetic, name))
    return written
