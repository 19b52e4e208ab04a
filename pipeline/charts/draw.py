"""One drawing function per figure kind (kuviotyyppi), all in the look of ``style.py``.

Each takes the figure's chart table (a row per category, a column per series, from
``figures.chart_table``), its spec and the language, draws the chart without title and
caption, and returns ``(fig, ax, extra)``: ``extra`` is the room the kind needs under its
axes (tick labels, legend) above the caption, as a fraction of the figure's height.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd

from . import style

MONTHLY_LABEL_SIZE = 6.5  # 48 rotated labels fit at this size across 11 inches


def _year_colours(names) -> list[str]:
    return [style.year_colour(int(n)) if str(n).isdigit() else style.OTHER_COLOUR
            for n in names]


def _value_axis(ax, table: pd.DataFrame, lang: str, headroom: float, decimals: int = 0) -> None:
    top = float(np.nanmax(table.to_numpy())) if table.notna().any().any() else 1.0
    ax.set_ylim(0, top * headroom if top > 0 else 1.0)
    ax.yaxis.set_major_formatter(lambda v, _pos: style.number(v, decimals, lang))


def _clustered(ax, table: pd.DataFrame, colours: list[str], decimals: int, lang: str,
               label_size: float, rotation: int) -> None:
    """Clustered columns: a group per category (row), a column per series (column)."""
    n = max(len(table.columns), 1)
    width = 0.8 / n
    for i, (name, colour) in enumerate(zip(table.columns, colours, strict=True)):
        values = table[name].to_numpy(dtype=float)
        x = np.arange(len(table)) - 0.4 + width * (i + 0.5)
        bars = ax.bar(x, np.nan_to_num(values), width=width * 0.92, color=colour,
                      label=str(name))
        labels = ["" if math.isnan(v) else style.number(v, decimals, lang) for v in values]
        ax.bar_label(bars, labels=labels, rotation=rotation, padding=2, fontsize=label_size,
                     color=style.TEXT_COLOUR)


def _legend_below(ax, n: int, offset: float) -> None:
    ax.legend(ncols=max(n, 1), loc="upper center", bbox_to_anchor=(0.5, offset),
              frameon=False)


def monthly(table: pd.DataFrame, spec, lang: str):
    """Months on the x axis, a series per year, a rotated label on each column (Kuvio 8)."""
    fig, ax = style.new_figure()
    _clustered(ax, table, _year_colours(table.columns), spec.decimals, lang,
               MONTHLY_LABEL_SIZE, 90)
    ax.set_xticks(range(len(table)), table.index)
    _value_axis(ax, table, lang, 1.18)
    style.unit_label(ax, spec.unit[lang])
    _legend_below(ax, len(table.columns), -0.07)
    fig.subplots_adjust(left=0.07, right=0.99, top=0.9)
    return fig, ax, 0.11


def yearly(table: pd.DataFrame, spec, lang: str):
    """A column per year, coloured as that year's series in the monthly figures (Kuvio 4)."""
    fig, ax = style.new_figure()
    values = table.iloc[:, 0].to_numpy(dtype=float)
    bars = ax.bar(range(len(table)), np.nan_to_num(values), width=0.45,
                  color=_year_colours(table.index))
    ax.bar_label(bars, labels=["" if math.isnan(v) else style.number(v, spec.decimals, lang)
                               for v in values],
                 padding=3, fontsize=10, color=style.TEXT_COLOUR)
    ax.set_xticks(range(len(table)), table.index, fontsize=10)
    _value_axis(ax, table, lang, 1.12)
    style.unit_label(ax, spec.unit[lang])
    fig.subplots_adjust(left=0.07, right=0.99, top=0.9)
    return fig, ax, 0.06


def reasons_by_year(table: pd.DataFrame, spec, lang: str):
    """Reasons on the x axis (largest first), a series per year, a label on each column."""
    fig, ax = style.new_figure()
    _clustered(ax, table, _year_colours(table.columns), spec.decimals, lang, 7, 90)
    # Whole words per line: a reason split mid-word reads badly.
    ax.set_xticks(range(len(table)),
                  [textwrap.fill(str(r), 16, break_long_words=False) for r in table.index],
                  fontsize=8.5)
    _value_axis(ax, table, lang, 1.2)
    style.unit_label(ax, spec.unit[lang])
    _legend_below(ax, len(table.columns), -0.17)
    fig.subplots_adjust(left=0.07, right=0.99, top=0.9)
    return fig, ax, 0.18


def reasons_total(table: pd.DataFrame, spec, lang: str):
    """A pie of the reasons' shares, largest first clockwise from the top, and a legend."""
    fig, ax = style.new_figure(grid=False)
    ax.spines[:].set_visible(False)
    values = table.iloc[:, 0].to_numpy(dtype=float)
    colours = [style.category_colour(i) for i in range(len(table))]
    wedges, _texts = ax.pie(
        values, colors=colours, startangle=90, counterclock=False,
        labels=[style.percent(v, spec.decimals, lang) for v in values], labeldistance=1.12,
        wedgeprops={"linewidth": 1, "edgecolor": "white"},
        textprops={"fontsize": 9.5, "color": style.TEXT_COLOUR},
    )
    ax.set_aspect("equal")
    # In figure coordinates: an equal-aspect axes shrinks to the pie's square, so a legend
    # placed in axes coordinates would sit on the pie.
    fig.legend(wedges, list(table.index), loc="center left", bbox_to_anchor=(0.7, 0.55),
               frameon=False, fontsize=9.5, labelcolor=style.TEXT_COLOUR)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.88)
    return fig, ax, 0.03


def euros_yearly(table: pd.DataFrame, spec, lang: str):
    """A column per year in euros (25 141 000 on labels and axis)."""
    fig, ax = style.new_figure()
    values = table.iloc[:, 0].to_numpy(dtype=float)
    bars = ax.bar(range(len(table)), np.nan_to_num(values), width=0.5,
                  color=style.category_colour(0))
    ax.bar_label(bars, labels=["" if math.isnan(v) else
                               style.number(v, spec.decimals, lang)
                               for v in values],
                 padding=3, fontsize=10, color=style.TEXT_COLOUR)
    ax.set_xticks(range(len(table)), table.index, fontsize=10)
    _value_axis(ax, table, lang, 1.12)
    style.unit_label(ax, spec.unit[lang])
    fig.subplots_adjust(left=0.1, right=0.99, top=0.9)
    return fig, ax, 0.06



SERIES_LABEL_SIZE = 6.5  # 46–48 rotated labels fit at this size across 11 inches


def series(table: pd.DataFrame, spec, lang: str):
    """One chronological series, a column per month from the first month with data to the
    last (Kuvio 8 and 9 as the report draws them): the years under the axis, each centred
    under its months with a faint line between years, and a rotated label on each column.
    ``table`` is indexed by (year, month number); a month without a value stays empty."""
    fig, ax = style.new_figure()
    values = table.iloc[:, 0].to_numpy(dtype=float)
    years = table.index.get_level_values(0).to_numpy()
    bars = ax.bar(np.arange(len(table)), np.nan_to_num(values), width=0.75,
                  color=style.category_colour(0))
    ax.bar_label(bars, labels=["" if math.isnan(v) else style.number(v, spec.decimals, lang)
                               for v in values],
                 rotation=90, padding=2, fontsize=SERIES_LABEL_SIZE, color=style.TEXT_COLOUR)
    ax.set_xlim(-0.6, len(table) - 0.4)
    firsts = [i for i in range(len(years)) if i == 0 or years[i] != years[i - 1]]
    ends = [*firsts[1:], len(years)]
    ax.set_xticks([(a + b - 1) / 2 for a, b in zip(firsts, ends)],
                  [str(years[i]) for i in firsts], fontsize=10)
    for i in firsts[1:]:
        ax.axvline(i - 0.5, color=style.GRID_COLOUR, linewidth=0.8, zorder=0)
    _value_axis(ax, table, lang, 1.18)
    style.unit_label(ax, spec.unit[lang])
    fig.subplots_adjust(left=0.07, right=0.99, top=0.9)
    return fig, ax, 0.06
