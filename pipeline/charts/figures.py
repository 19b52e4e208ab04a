"""The report's figures (kuviot), drawn from the published marts.

Each figure is described once in ``FIGURES`` (number, titles, source line, what it plots and
its kind); ``figure_data`` reads its numbers from ``marts``, ``chart_table`` lays them out as
the chart shows them (categories × series, also what the Excel chart references), and
``render`` draws them in the one style of ``style.py`` with the kind's function in
``draw.py``. A figure can be drawn for the pilot area or for any municipality.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import areas
from ..catalogue import catalogue
from . import draw, style

YEARS = (2021, 2022, 2023, 2024)  # the pilot's years, as in the report
PILOT_PERIOD = "2021-2024"        # ltu_spell_endings' period for the pilot as a whole

# Figure kinds (kuviotyypit): each has one query, one table layout and one drawing function.
MONTHLY = "monthly"                  # months on x, a series per year (Kuvio 1–3, 5, 7–9)
YEARLY = "yearly"                    # a column per year (Kuvio 4, 6)
REASONS_BY_YEAR = "reasons_by_year"  # reasons on x, a series per year (Kuvio 10)
REASONS_TOTAL = "reasons_total"      # a pie of reasons over the whole pilot (Kuvio 11)
EUROS_YEARLY = "euros_yearly"        # a column per year in euros (kuntaosuus)

PERSONS = {"fi": "henkilöä", "en": "persons"}
PERCENT = {"fi": "%", "en": "%"}
EUROS = {"fi": "euroa", "en": "euros"}

# TEM names the reasons (päättymissyyt) in Finnish; English labels for --lang en.
REASONS_EN = {
    "Avoimille työmarkkinoille": "To the open labour market",
    "Muihin palveluihin": "To other services",
    "Muu tai tuntematon syy": "Other or unknown reason",
    "Omaehtoiseen opiskeluun": "To self-motivated studies",
    "Palkkatuettuun työhön": "To subsidised employment",
    "Työvoimakoulutukseen": "To labour market training",
    "Työvoiman ulkopuolelle": "Out of the labour force",
}


@dataclass(frozen=True)
class FigureSpec:
    id: str
    number: int | str | None     # None: a figure the report describes in text only
    indicator: str               # the indicator (or mart column) plotted
    decimals: int                # decimals of the data labels
    title: dict[str, str]        # the caption title, as in the report ({years} = data's)
    chart_title: dict[str, str]  # the title inside the chart
    kind: str = MONTHLY
    unit: dict[str, str] = field(default_factory=lambda: dict(PERSONS))  # the value axis
    # Titles for a municipality where the report's title names the pilot area itself.
    area_title: dict[str, str] | None = None
    area_chart_title: dict[str, str] | None = None

    @property
    def source(self) -> dict[str, str]:
        """The source line of the indicator's preferred source (the catalogue's first); a
        drawn figure names the sources its data actually came from (``source_line``)."""
        src = catalogue().sources[catalogue().indicator(self.indicator).source_ids()[0]]
        return {"fi": src.fi, "en": src.en}


def _inflow(number: int, months: int, yearly: bool) -> FigureSpec:
    """Kuvio 3–7: virta yli k kk:n työttömyyteen (inflow into unemployment over k months)
    relative to the spells that started k months earlier; monthly, or yearly means."""
    fi = (f"Virta yli {months} kk:n työttömyyteen suhteessa vastaavaa kuukautta aikaisemmin "
          "alkaneisiin työttömyyksiin")
    en = (f"Inflow into unemployment of over {months} months relative to unemployment spells "
          f"that started {months} months earlier")
    return FigureSpec(
        id=f"kuvio_{number}", number=number, indicator=f"inflow_{months}m_ratio_pct",
        decimals=1, kind=YEARLY if yearly else MONTHLY, unit=dict(PERCENT),
        title={"fi": fi + (", vuosikeskiarvot" if yearly else ""),
               "en": en + (", annual averages" if yearly else "")},
        chart_title={
            "fi": f"Virta yli {months} kk:n työttömyyteen (%)"
                  + (", vuosikeskiarvot" if yearly else "") + " 2021 - 2024",
            "en": f"Inflow into unemployment of over {months} months (%)"
                  + (", annual averages" if yearly else "") + " 2021 - 2024"},
    )


_FIGURES = [
    FigureSpec(
        id="kuvio_1", number=1, indicator="pilot_clients", decimals=0,
        title={"fi": "Kuntakokeilualueen asiakasmäärät 2021–2024",
               "en": "Clients of the municipal pilot area 2021–2024"},
        chart_title={"fi": "Kuntakokeilualueen asiakasmäärät 2021 - 2024",
                     "en": "Clients of the municipal pilot area 2021 - 2024"},
        area_title={"fi": "Kuntakokeilun asiakasmäärät 2021–2024",
                    "en": "Clients of the municipal pilot 2021–2024"},
        area_chart_title={"fi": "Kuntakokeilun asiakasmäärät 2021 - 2024",
                          "en": "Clients of the municipal pilot 2021 - 2024"},
    ),
    FigureSpec(
        id="kuvio_2", number=2, indicator="unemployed", decimals=0,
        title={"fi": "Työttömät työnhakijat 2021–2024. Työtön työnhakija = työtön tai "
                     "kokoaikaisesti lomautettu",
               "en": "Unemployed jobseekers 2021–2024. Unemployed jobseeker = unemployed or "
                     "fully laid off"},
        chart_title={"fi": "Työttömät työnhakijat 2021 - 2024",
                     "en": "Unemployed jobseekers 2021 - 2024"},
    ),
    _inflow(3, 3, yearly=False),
    _inflow(4, 3, yearly=True),
    _inflow(5, 6, yearly=False),
    _inflow(6, 6, yearly=True),
    _inflow(7, 12, yearly=False),
    FigureSpec(
        id="kuvio_8", number=8, indicator="long_term_unemployed", decimals=0,
        title={"fi": "Pitkäaikaistyöttömät 2021–2024",
               "en": "Long-term unemployed 2021–2024"},
        chart_title={"fi": "Pitkäaikaistyöttömät 2021 - 2024",
                     "en": "Long-term unemployed 2021 - 2024"},
    ),
    FigureSpec(
        id="kuvio_9", number=9, indicator="ltu_activation_rate_pct", decimals=1,
        unit=dict(PERCENT),
        title={"fi": "Pitkäaikaistyöttömien aktivointiaste (palveluissa olevien osuus kaikista "
                     "pitkäaikaistyöttömistä) 2021–2024",
               "en": "Activation rate of the long-term unemployed (share in services of all "
                     "long-term unemployed) 2021–2024"},
        chart_title={"fi": "Pitkäaikaistyöttömien aktivointiaste (%) 2021 - 2024",
                     "en": "Activation rate of the long-term unemployed (%) 2021 - 2024"},
    ),
    FigureSpec(
        id="kuvio_10", number=10, indicator="ltu_spells_ended", decimals=1, kind=REASONS_BY_YEAR,
        unit={"fi": "% päättyneistä jaksoista", "en": "% of spells ended"},
        title={"fi": "Pitkäaikaistyöttömien työttömyysjaksojen päättymissyyt 2021–2024",
               "en": "Reasons why the unemployment spells of the long-term unemployed ended "
                     "2021–2024"},
        chart_title={"fi": "Pitkäaikaistyöttömyysjaksojen päättymissyyt (%) vuosittain "
                           "2021 - 2024",
                     "en": "Reasons long-term unemployment spells ended (%) by year "
                           "2021 - 2024"},
    ),
    FigureSpec(
        id="kuvio_11", number=11, indicator="ltu_spells_ended", decimals=1, kind=REASONS_TOTAL,
        unit={"fi": "% päättyneistä jaksoista", "en": "% of spells ended"},
        title={"fi": "Pitkäaikaistyöttömien työttömyysjaksojen päättymissyyt",
               "en": "Reasons why the unemployment spells of the long-term unemployed ended"},
        chart_title={"fi": "Pitkäaikaistyöttömyysjaksojen päättymissyyt (%) 2021 - 2024 "
                           "yhteensä",
                     "en": "Reasons long-term unemployment spells ended (%) 2021 - 2024 "
                           "in total"},
    ),
    FigureSpec(
        id="kuntaosuus", number=None, indicator="municipal_share_eur", decimals=0,
        kind=EUROS_YEARLY, unit=dict(EUROS),
        title={"fi": "Työmarkkinatuen kuntaosuus {years}",
               "en": "Municipal share of the labour market subsidy {years}"},
        chart_title={"fi": "Työmarkkinatuen kuntaosuus (euroa) {years}",
                     "en": "Municipal share of the labour market subsidy (euros) {years}"},
    ),
]

FIGURES: dict[str, FigureSpec] = {f.id: f for f in _FIGURES}


# --- data ------------------------------------------------------------------------------

_QUERIES = {
    MONTHLY: """
        select year(month) as year, month(month) as month_no, value, source
        from marts.indicators_monthly
        where area_code = $area and indicator = $indicator
          and year(month) between $first and $last and value is not null
        order by month""",
    YEARLY: """
        select year, value, source
        from marts.indicators_yearly
        where area_code = $area and indicator = $indicator
          and year between $first and $last and value is not null
        order by year""",
    REASONS_BY_YEAR: """
        select cast(period as integer) as year, reason, spells, share_pct, masked_cells,
            source
        from marts.ltu_spell_endings
        where area_code = $area and period_type = 'year'
          and cast(period as integer) between $first and $last and share_pct is not null
        order by period, reason""",
    REASONS_TOTAL: """
        select reason, spells, share_pct, masked_cells, source
        from marts.ltu_spell_endings
        where area_code = $area and period_type = 'pilot' and period = $pilot
          and share_pct is not null
        order by reason""",
    EUROS_YEARLY: """
        select year, municipal_share_eur::double as municipal_share_eur, months_covered
        from marts.municipal_share_yearly
        where municipality_code = $area and municipal_share_eur is not null
        order by year""",
}


# The mart each kind reads (the table its query names): what a figure is downstream of.
MART_OF_KIND = {kind: re.search(r"from (marts\.\w+)", sql).group(1)
                for kind, sql in _QUERIES.items()}


def figure_marts(figure_id: str) -> tuple[str, ...]:
    """The marts (``marts.<name>``) a figure's numbers come from."""
    return (MART_OF_KIND[FIGURES[figure_id].kind],)


def figure_data(con, figure_id: str, area_code: str) -> pd.DataFrame:
    """The figure's numbers, exactly the mart's rows: for a monthly figure one row per month
    of the report's years (year, month_no, value); see ``_QUERIES`` for the other kinds."""
    spec = FIGURES[figure_id]
    sql = _QUERIES[spec.kind]
    params = {"area": area_code, "indicator": spec.indicator, "first": YEARS[0],
              "last": YEARS[-1], "pilot": PILOT_PERIOD}
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    return con.execute(sql, used).df()


SYNTHETIC_MARK_TABLE = "raw.tem_report_files"  # where the bundled files say they are synthetic


def is_synthetic(con) -> bool:
    """Whether the warehouse was built from the bundled synthetic files (they say so)."""
    try:
        return bool(con.execute(
            f"select count(*) from {SYNTHETIC_MARK_TABLE} "
            "where array_to_string(notes, ' ') ilike '%synteettinen%'").fetchall()[0][0])
    except Exception:  # noqa: BLE001 - a warehouse without the table is simply not marked
        return False


def area_name(con, area_code: str) -> str | None:
    """The name shown in a municipal figure's title: None for the pilot area (the report's
    titles are about it already); the pilot municipalities' names from ``areas``; for other
    municipalities the name in staging, else the code itself."""
    if area_code == areas.PILOT_AREA:
        return None
    if area_code in areas.PILOT_MUNICIPALITIES:
        return areas.PILOT_MUNICIPALITIES[area_code]
    if area_code in areas.AREA_GROUPS:
        return areas.AREA_GROUPS[area_code][0]
    for table in ("stg_tem_cells", "stg_kela_municipal_share"):
        try:
            rows = con.execute(
                f"select max(municipality_name) from staging.{table} "
                "where municipality_code = ?", [area_code]).fetchall()
        except Exception:  # noqa: BLE001 - a warehouse without that staging table
            continue
        if rows and rows[0][0]:
            return str(rows[0][0])
    return area_code


def area_has_data(con, area_code: str) -> bool:
    """Whether any mart a figure reads has a number for the area."""
    checks = [
        "select count(*) from marts.indicators_monthly "
        "where area_code = ? and value is not null",
        "select count(*) from marts.ltu_spell_endings "
        "where area_code = ? and share_pct is not null",
        "select count(*) from marts.municipal_share_yearly "
        "where municipality_code = ? and municipal_share_eur is not null",
    ]
    for sql in checks:
        try:
            if con.execute(sql, [area_code]).fetchall()[0][0]:
                return True
        except Exception:  # noqa: BLE001 - a mart missing from the warehouse has no data
            continue
    return False


# --- layout ------------------------------------------------------------------------------

def reason_label(reason: str, lang: str) -> str:
    return REASONS_EN.get(reason, reason) if lang == "en" else reason


def _reason_order(data: pd.DataFrame) -> list[str]:
    # Largest reason first, so Kuvio 10 and 11 read in the same order; ties by name.
    totals = data.groupby("reason")["share_pct"].sum()
    return sorted(totals.index, key=lambda r: (-totals[r], r))


def _year_label(year: int, months: int, lang: str) -> str:
    # A year with fewer billing months is not comparable: say so under its column.
    if months >= 12:
        return str(year)
    return f"{year}\n({months} {'kk' if lang == 'fi' else 'mo'})"


def chart_table(spec: FigureSpec, data: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The figure's data as the chart shows it: a row per category (month, year, reason),
    a column per series (a year, or the one value). Missing values are NaN."""
    if spec.kind == MONTHLY:
        table = data.pivot(index="month_no", columns="year", values="value")
        table = table.reindex(index=range(1, 13), columns=[y for y in YEARS if y in table])
        table.index = style.MONTHS[lang]
    elif spec.kind == YEARLY:
        table = data.set_index("year")[["value"]]
        table.index = [str(y) for y in table.index]
        table.columns = [spec.unit[lang]]
    elif spec.kind == REASONS_BY_YEAR:
        table = data.pivot(index="reason", columns="year", values="share_pct")
        table = table.reindex(index=_reason_order(data))
    elif spec.kind == REASONS_TOTAL:
        table = data.set_index("reason")[["share_pct"]].reindex(_reason_order(data))
        table.columns = [spec.unit[lang]]
    elif spec.kind == EUROS_YEARLY:
        table = data.set_index("year")[["municipal_share_eur"]]
        table.index = [_year_label(y, m, lang) for y, m in
                       zip(data["year"], data["months_covered"], strict=True)]
        table.columns = [spec.unit[lang]]
    else:
        raise ValueError(f"unknown figure kind {spec.kind!r}")
    if spec.kind in (REASONS_BY_YEAR, REASONS_TOTAL):
        table.index = [reason_label(r, lang) for r in table.index]
    table.columns = [str(c) for c in table.columns]
    table.index.name = None
    return table.astype(float)


def titles(spec: FigureSpec, data: pd.DataFrame, lang: str,
           area_name_: str | None) -> tuple[str, str]:
    """(caption title, chart title); a municipality's name is added to both."""
    title, chart = spec.title[lang], spec.chart_title[lang]
    if area_name_ and spec.area_title:
        title, chart = spec.area_title[lang], spec.area_chart_title[lang]
    if "{years}" in title + chart:
        years = sorted(data["year"]) if "year" in data and len(data) else []
        span = f"{years[0]}–{years[-1]}" if years else ""
        title, chart = title.format(years=span), chart.format(years=span.replace("–", " - "))
    if area_name_:
        title, chart = f"{title}, {area_name_}", f"{chart} – {area_name_}"
    return title, chart


def notes(spec: FigureSpec, data: pd.DataFrame, lang: str) -> tuple[str, ...]:
    """Caveats the caption must carry: masked cells ('...') left out of the sums."""
    if "masked_cells" in data and int(data["masked_cells"].sum()):
        n = int(data["masked_cells"].sum())
        return ({"fi": f"Huom: {n} salattua solua ('...') puuttuu summista; osuudet ovat "
                       "julkaistuista luvuista.",
                 "en": f"Note: {n} masked cells ('...') are left out of the sums; shares are "
                       "of the published numbers."}[lang],)
    return ()


# --- drawing -----------------------------------------------------------------------------

_DRAW = {
    MONTHLY: draw.monthly,
    YEARLY: draw.yearly,
    REASONS_BY_YEAR: draw.reasons_by_year,
    REASONS_TOTAL: draw.reasons_total,
    EUROS_YEARLY: draw.euros_yearly,
}

def source_line(spec: FigureSpec, data: pd.DataFrame, lang: str) -> str:
    """The Lähde: line: the sources the figure's values actually came from (the data's
    ``source`` column, each a catalogue source), in catalogue order; without that column,
    the indicator's preferred source."""
    cat = catalogue()
    labels = []
    if "source" in data:
        for text in data["source"].dropna():
            labels += [s for s in str(text).split(", ") if s not in labels]
    order = [s.label for s in cat.sources.values()]
    used = [cat.source_of_label(s) for s in sorted(labels, key=lambda s: (
        order.index(s) if s in order else len(order), s))]
    texts = [getattr(s, lang) for s in used if s is not None]
    return "; ".join(texts) if texts else spec.source[lang]


def render(spec: FigureSpec, data: pd.DataFrame, lang: str = "fi", synthetic: bool = False,
           area_name: str | None = None):
    """Draw the figure with its kind's function (``draw.py``) and the report's caption."""
    caption_title, chart_title = titles(spec, data, lang, area_name)
    table = chart_table(spec, data, lang)
    fig, ax, extra = _DRAW[spec.kind](table, spec, lang)
    style.chart_title(ax, chart_title)
    lines = style.caption(fig, spec.number, caption_title, source_line(spec, data, lang),
                          lang, synthetic, notes(spec, data, lang))
    fig.subplots_adjust(bottom=style.bottom_margin(lines, extra))
    return fig


def save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=style.DPI, metadata=_metadata(path))
    return path


def _metadata(path: Path | str) -> dict | None:
    # Fixed metadata so that reruns write identical files (no creation time, no version).
    suffix = Path(path).suffix
    if suffix == ".png":
        return {"Software": None}
    if suffix == ".svg":
        return {"Date": None, "Creator": None}
    if suffix == ".pdf":
        return {"CreationDate": None, "Creator": None, "Producer": None}
    return None


def plt_close(fig) -> None:
    style.plt.close(fig)
