"""The one chart style: the report's look (Office-style colours, labels, caption lines).

Every figure takes its colours, fonts, month names and number format from here, so a change
of house style is a change in one place.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # headless: no display on servers or in CI

import matplotlib.pyplot as plt  # noqa: E402

# Series colours of the report's charts, one per year (Office palette as in the report).
YEAR_COLOURS = {2021: "#4472C4", 2022: "#ED7D31", 2023: "#A5A5A5", 2024: "#FFC000",
                2025: "#5B9BD5", 2026: "#70AD47"}
TEXT_COLOUR = "#404040"
GRID_COLOUR = "#D9D9D9"
FONT = "DejaVu Sans"
DPI = 200
FIGSIZE = (11.0, 5.6)

MONTHS = {
    "fi": ["tammi", "helmi", "maalis", "huhti", "touko", "kesä", "heinä", "elo", "syys",
           "loka", "marras", "joulu"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}
SOURCE_WORD = {"fi": "Lähde", "en": "Source"}
SYNTHETIC_NOTE = {
    "fi": "Huom: synteettinen esimerkkiaineisto, ei TEM:n julkaisemia lukuja.",
    "en": "Note: synthetic sample data, not figures published by TEM.",
}


def year_colour(year: int) -> str:
    return YEAR_COLOURS.get(year, "#7F7F7F")


def number(value: float, decimals: int, lang: str) -> str:
    """A data label: Finnish uses a decimal comma (9,1), English a point."""
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if lang == "fi" else text


def new_figure():
    plt.rcParams.update({
        "font.family": FONT, "font.size": 9, "axes.edgecolor": GRID_COLOUR,
        "axes.labelcolor": TEXT_COLOUR, "xtick.color": TEXT_COLOUR, "ytick.color": TEXT_COLOUR,
        "svg.fonttype": "none",  # keep text as text in SVG: searchable and editable
    })
    fig, ax = plt.subplots(figsize=FIGSIZE)
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.grid(axis="y", color=GRID_COLOUR, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(axis="both", length=0)
    return fig, ax


def caption(fig, number_: int | str, title: str, source: str, lang: str, synthetic: bool):
    """The report's caption under the chart: 'Kuvio 8 – title – Lähde: source'."""
    word = "Kuvio" if lang == "fi" else "Figure"
    lines = [f"{word} {number_} – {title}", f"{SOURCE_WORD[lang]}: {source}"]
    if synthetic:
        lines.append(SYNTHETIC_NOTE[lang])
    fig.text(0.01, 0.015, "\n".join(lines), ha="left", va="bottom", fontsize=8.5,
             color=TEXT_COLOUR, linespacing=1.5)
