"""The report's figures (kuviot), drawn from the published marts.

Each figure is described once in ``FIGURES`` (number, titles, source line, the indicator it
plots); ``figure_data`` reads its numbers from ``marts``, and ``render`` draws them in the one
style of ``style.py``. A figure can be drawn for the pilot area or for any municipality.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import style

YEARS = (2021, 2022, 2023, 2024)  # the pilot's years, as in the report


@dataclass(frozen=True)
class FigureSpec:
    id: str
    number: int | str
    indicator: str
    decimals: int
    title: dict[str, str]        # the caption title, as in the report
    chart_title: dict[str, str]  # the title inside the chart, as in the report
    source: dict[str, str]


FIGURES: dict[str, FigureSpec] = {
    "kuvio_8": FigureSpec(
        id="kuvio_8", number=8, indicator="long_term_unemployed", decimals=0,
        title={"fi": "Pitkäaikaistyöttömät 2021–2024",
               "en": "Long-term unemployed 2021–2024"},
        chart_title={"fi": "Pitkäaikaistyöttömät 2021 - 2024",
                     "en": "Long-term unemployed 2021 - 2024"},
        source={"fi": "TEM, Työnvälitystilasto (1208)",
                "en": "Ministry of Economic Affairs and Employment, Employment Service "
                      "Statistics (1208)"},
    ),
    "kuvio_9": FigureSpec(
        id="kuvio_9", number=9, indicator="ltu_activation_rate_pct", decimals=1,
        title={"fi": "Pitkäaikaistyöttömien aktivointiaste (palveluissa olevien osuus kaikista "
                     "pitkäaikaistyöttömistä) 2021–2024",
               "en": "Activation rate of the long-term unemployed (share in services of all "
                     "long-term unemployed) 2021–2024"},
        chart_title={"fi": "Pitkäaikaistyöttömien aktivointiaste (%) 2021 - 2024",
                     "en": "Activation rate of the long-term unemployed (%) 2021 - 2024"},
        source={"fi": "TEM, Työnvälitystilasto (4253)",
                "en": "Ministry of Economic Affairs and Employment, Employment Service "
                      "Statistics (4253)"},
    ),
}


def figure_data(con, figure_id: str, area_code: str) -> pd.DataFrame:
    """The figure's numbers: one row per month of the report's years (year, month_no, value)."""
    spec = FIGURES[figure_id]
    return con.execute(
        """select year(month) as year, month(month) as month_no, value
           from marts.indicators_monthly
           where area_code = ? and indicator = ? and year(month) between ? and ?
             and value is not null
           order by month""",
        [area_code, spec.indicator, YEARS[0], YEARS[-1]],
    ).df()


def is_synthetic(con) -> bool:
    """Whether the warehouse was built from the bundled synthetic files (they say so)."""
    try:
        return bool(con.execute(
            "select count(*) from raw.tem_report_files "
            "where array_to_string(notes, ' ') ilike '%synteettinen%'").fetchall()[0][0])
    except Exception:  # noqa: BLE001 - a warehouse without the table is simply not marked
        return False


def render(spec: FigureSpec, data: pd.DataFrame, lang: str = "fi", synthetic: bool = False,
           area_name: str | None = None):
    """Clustered columns: months on the x axis, one series per year, a label on each column."""
    fig, ax = style.new_figure()
    years = [y for y in YEARS if (data["year"] == y).any()]
    width = 0.8 / max(len(years), 1)
    top = float(data["value"].max()) if len(data) else 1.0
    for i, year in enumerate(years):
        d = data[data["year"] == year]
        x = d["month_no"].to_numpy() - 1 - 0.4 + width * (i + 0.5)
        bars = ax.bar(x, d["value"], width=width * 0.92, color=style.year_colour(year),
                      label=str(year))
        labels = [style.number(v, spec.decimals, lang) for v in d["value"]]
        ax.bar_label(bars, labels=labels, rotation=90, padding=2, fontsize=6.5,
                     color=style.TEXT_COLOUR)
    ax.set_xticks(range(12), style.MONTHS[lang])
    ax.set_ylim(0, top * 1.18)
    ax.yaxis.set_major_formatter(lambda v, _pos: style.number(v, 0, lang))
    title = spec.chart_title[lang] + (f" – {area_name}" if area_name else "")
    ax.set_title(title, fontsize=12, color=style.TEXT_COLOUR, pad=12)
    if years:
        ax.legend(ncols=len(years), loc="upper center", bbox_to_anchor=(0.5, -0.07),
                  frameon=False)
    fig.subplots_adjust(left=0.06, right=0.99, top=0.9, bottom=0.25)
    style.caption(fig, spec.number, spec.title[lang], spec.source[lang], lang, synthetic)
    return fig


def save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=style.DPI, metadata=_metadata(path))
    return path


def _metadata(path: Path) -> dict | None:
    # Fixed metadata so that reruns write identical files (no creation time, no version).
    if path.suffix == ".png":
        return {"Software": None}
    if path.suffix == ".svg":
        return {"Date": None, "Creator": None}
    if path.suffix == ".pdf":
        return {"CreationDate": None, "Creator": None, "Producer": None}
    return None


def plt_close(fig) -> None:
    style.plt.close(fig)
