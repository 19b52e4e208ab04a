"""The one chart style: the report's look (Office-style colours, labels, caption lines).

Every figure takes its colours, fonts, month names and number format from here, so a change
of house style is a change in one place. The Excel charts (``excel.py``) take their colours
and words from here too.
"""

from __future__ import annotations

import textwrap
from decimal import ROUND_HALF_UP, Decimal

import matplotlib

matplotlib.use("Agg")  # headless: no display on servers or in CI

import matplotlib.pyplot as plt  # noqa: E402

# Series colours of the report's charts, one per year (Office palette as in the report).
YEAR_COLOURS = {2021: "#4472C4", 2022: "#ED7D31", 2023: "#A5A5A5", 2024: "#FFC000",
                2025: "#5B9BD5", 2026: "#70AD47"}
# Colours for categories that are not years (reasons in a pie), in the Office order.
PALETTE = ["#4472C4", "#ED7D31", "#A5A5A5", "#FFC000", "#5B9BD5", "#70AD47", "#264478",
           "#9E480E", "#636363", "#997300"]
OTHER_COLOUR = "#7F7F7F"
TEXT_COLOUR = "#404040"
GRID_COLOUR = "#D9D9D9"
FONT = "DejaVu Sans"
DPI = 200
FIGSIZE = (11.0, 5.6)
CAPTION_WIDTH = 150  # characters per caption line before it wraps (fits 11 in at 8.5 pt)

MONTHS = {
    "fi": ["tammi", "helmi", "maalis", "huhti", "touko", "kesä", "heinä", "elo", "syys",
           "loka", "marras", "joulu"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}
FIGURE_WORD = {"fi": "Kuvio", "en": "Figure"}
SOURCE_WORD = {"fi": "Lähde", "en": "Source"}
SYNTHETIC_NOTE = {
    "fi": "Huom: synteettinen esimerkkiaineisto, ei TEM:n, Tilastokeskuksen tai Kelan "
          "julkaisemia lukuja.",
    "en": "Note: synthetic sample data, not figures published by TEM, Statistics Finland "
          "or Kela.",
}

RC = {
    "font.family": FONT, "font.size": 9, "axes.edgecolor": GRID_COLOUR,
    "axes.labelcolor": TEXT_COLOUR, "xtick.color": TEXT_COLOUR, "ytick.color": TEXT_COLOUR,
    "svg.fonttype": "none",  # keep text as text in SVG: searchable and editable
    "svg.hashsalt": "kuntakokeilu",  # fixed element ids: reruns write identical SVG
}


def year_colour(year: int) -> str:
    return YEAR_COLOURS.get(year, OTHER_COLOUR)


def category_colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


# One number format per language for every label, tick and caption: Finnish groups thousands
# with a narrow no-break space (3 828, 24 041 065) and has a decimal comma (9,1); English a
# comma and a point. The space cannot break a number across lines.
THOUSANDS = {"fi": "\u202f", "en": ","}
DECIMAL_MARK = {"fi": ",", "en": "."}
PERCENT_SIGN = {"fi": "\u00a0%", "en": "%"}  # '24,2 %' in Finnish, '24.2%' in English


def rounded(value: float, decimals: int) -> Decimal:
    """``value`` at ``decimals`` decimals, half up as the report (and ``verify``) rounds:
    8.05 -> 8.1, not the binary float's 8.0."""
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals),
                                                rounding=ROUND_HALF_UP)


def number(value: float, decimals: int, lang: str) -> str:
    """A data label or axis tick in the language's one format."""
    text = format(rounded(value, decimals), f",.{decimals}f")
    return text.translate(str.maketrans({",": THOUSANDS[lang], ".": DECIMAL_MARK[lang]}))


def percent(value: float, decimals: int, lang: str) -> str:
    """'24,2 %' in Finnish, '24.2%' in English."""
    return number(value, decimals, lang) + PERCENT_SIGN[lang]


def new_figure(grid: bool = True):
    plt.rcParams.update(RC)
    fig, ax = plt.subplots(figsize=FIGSIZE)
    ax.spines[["top", "right", "left"]].set_visible(False)
    if grid:
        ax.grid(axis="y", color=GRID_COLOUR, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(axis="both", length=0)
    return fig, ax


def chart_title(ax, text: str) -> None:
    ax.set_title(text, fontsize=12, color=TEXT_COLOUR, pad=12)


def unit_label(ax, text: str) -> None:
    ax.set_ylabel(text, fontsize=8.5, color=TEXT_COLOUR)


def caption_lines(number_: int | str | None, title: str, source: str, lang: str,
                  synthetic: bool, notes: tuple[str, ...] = ()) -> list[str]:
    """The caption's lines: 'Kuvio 8 – title', 'Lähde: source', then any notes."""
    head = f"{FIGURE_WORD[lang]} {number_} – {title}" if number_ is not None else title
    lines = [f"{SOURCE_WORD[lang]}: {source}", *notes]
    if synthetic:
        lines.append(SYNTHETIC_NOTE[lang])
    return [head, *lines]


def caption(fig, number_: int | str | None, title: str, source: str, lang: str,
            synthetic: bool, notes: tuple[str, ...] = ()) -> int:
    """The report's caption under the chart; long titles wrap instead of running off.
    Returns the number of lines written, for ``bottom_margin``."""
    lines = caption_lines(number_, title, source, lang, synthetic, notes)
    wrapped = [part for line in lines for part in textwrap.wrap(line, CAPTION_WIDTH)]
    fig.text(0.01, 0.015, "\n".join(wrapped), ha="left", va="bottom", fontsize=8.5,
             color=TEXT_COLOUR, linespacing=1.5)
    return len(wrapped)


def bottom_margin(caption_lines_: int, extra: float = 0.0) -> float:
    """Room under the axes for the caption (≈ 0.032 of the height per line at 8.5 pt × 1.5)
    plus ``extra`` for what sits between (tick labels, a legend)."""
    return 0.03 + 0.032 * caption_lines_ + extra
