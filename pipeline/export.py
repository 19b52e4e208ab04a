"""``python -m pipeline export``: the report's figures from the published warehouse.

Reads ``<marts-dir>/indicators.duckdb`` read-only (the pipeline is not rerun) and writes, for
the pilot area (kuntakokeilualue, default), an employment area of 2025 (työllisyysalue,
``--area TA_OULU``) or one municipality (kunta, ``--area KU564``),
each figure as PNG, SVG, PDF and CSV, all of them in ``figures.pdf`` and ``figures.xlsx``.

No export replaces another's files: an area's or a municipality's files go under
``<out>/<area_code>/``, another language's under ``<out>/<lang>/`` (``reports/en/KU564/``),
and a book of only some figures is named for them (``figures_kuvio_8_kuvio_9.xlsx``). The
pilot area's Finnish files are those the Dagster assets write.

A group (the pilot area, an employment area) is drawn only with all its members, or with
their count in the title and caption ("8/11 kuntaa") and two more CSV columns; a figure
the area has no number for is skipped and the reason printed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import areas

LANGS = ("fi", "en")


def split_values(values: list[str] | None) -> list[str]:
    # Accept `--figure a b`, `--figure a --figure b` and `--figure a,b` (same for --format).
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def _area_code(text: str) -> str:
    """'pilot_area', a group code in any case ('ta_oulu'), 'KU564', 'ku564', '564' or
    '564 Oulu' -> the mart's area code."""
    text = text.strip()
    if group := areas.group_code(text):
        return group
    try:
        return areas.municipality_code(text)
    except ValueError:
        return text  # not a code we know: area_has_data says so


def cmd_export(args) -> int:
    from .charts import figures, outputs
    from .warehouse import connect_published

    wanted = split_values(args.figure) or list(figures.FIGURES)
    known = figures.figure_ids()
    unknown = [f for f in wanted if f not in known]
    if unknown:
        print(f"error: unknown figure {', '.join(unknown)}; known: the report's "
              f"{', '.join(figures.FIGURES)}, and any indicator of the catalogue: "
              f"{', '.join(known[len(figures.FIGURES):])}", file=sys.stderr)
        return 2
    formats = split_values(args.format) or list(outputs.FORMATS)
    bad = [f for f in formats if f not in outputs.FORMATS]
    if bad:
        print(f"error: unknown format {', '.join(bad)}; known: {', '.join(outputs.FORMATS)}",
              file=sys.stderr)
        return 2
    area = _area_code(args.area)
    try:
        con = connect_published(args.marts_dir)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        if not figures.area_has_data(con, area):
            print(f"error: no data for area {args.area!r} in the published warehouse "
                  f"({args.marts_dir}); areas are pilot_area, municipality codes such as "
                  f"KU564 and the employment areas {', '.join(areas.EMPLOYMENT_AREAS)}",
                  file=sys.stderr)
            return 2
        written = outputs.write_all(con, args.out, area, wanted, formats, args.lang)
    finally:
        con.close()
    for fid in written.skipped:
        print(f"skipped {fid}: {written.why.get(fid, f'no data for {area}')}", file=sys.stderr)
    for fid, note in written.partial.items():
        print(f"partial {fid}: {note} (said in its title, caption and CSV)", file=sys.stderr)
    if not written.paths:
        print(f"error: none of the figures asked for has data for {area}", file=sys.stderr)
        return 2
    for path in written.paths:
        print(f"wrote {path}")
    return 0


def add_export_parser(subparsers) -> None:
    """Register ``export`` on the CLI's subparsers (called from ``pipeline.__main__``)."""
    from .charts.outputs import FORMATS

    p = subparsers.add_parser(
        "export", help="write the report's figures from the published warehouse",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--figure", action="extend", nargs="+", metavar="ID",
                   help="only this figure (kuvio_1 … kuvio_11, kuntaosuus), or any monthly "
                        "indicator of the catalogue (ltu_share_pct …); repeatable or comma "
                        "separated; default the report's figures")
    p.add_argument("--area", default=areas.PILOT_AREA,
                   help="pilot_area (default), an employment area such as TA_OULU (any "
                        "case), or a municipality code such as KU564")
    p.add_argument("--format", action="extend", nargs="+", metavar="LIST",
                   help=f"comma separated, of {','.join(FORMATS)}; default all")
    p.add_argument("--out", type=Path, default=Path("reports"),
                   help="folder to write into (default reports); another area's files go "
                        "into <out>/<area_code>/, another language's into <out>/<lang>/")
    p.add_argument("--marts-dir", type=Path, default=Path("data/marts"),
                   help="folder of the published indicators.duckdb (default data/marts)")
    p.add_argument("--lang", choices=LANGS, default="fi",
                   help="language of titles and labels (default fi)")
    p.set_defaults(func=cmd_export)
