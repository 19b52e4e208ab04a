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
from functools import cache
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

# Layouts of a monthly figure (kuukausikuvio): months on x with a series per year, or one
# chronological series with the years under the axis, as the report draws Kuvio 8 and 9.
BY_YEAR = "by_year"
CHRONOLOGICAL = "chronological"

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
    layout: str = BY_YEAR         # a MONTHLY figure's layout (BY_YEAR or CHRONOLOGICAL)

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
        layout=CHRONOLOGICAL,
        title={"fi": "Pitkäaikaistyöttömät 2021–2024",
               "en": "Long-term unemployed 2021–2024"},
        chart_title={"fi": "Pitkäaikaistyöttömät 2021 - 2024",
                     "en": "Long-term unemployed 2021 - 2024"},
    ),
    FigureSpec(
        id="kuvio_9", number=9, indicator="ltu_activation_rate_pct", decimals=1,
        unit=dict(PERCENT), layout=CHRONOLOGICAL,
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


UNITS = {"persons": PERSONS, "percent": PERCENT, "euros": EUROS}


@cache
def indicator_figure(indicator_id: str) -> FigureSpec:
    """A figure of any catalogue indicator published by month (``export --figure
    ltu_share_pct``): its months by year for the report's years, titled and unitised from
    the catalogue, so a new indicator can be drawn without editing this file."""
    ind = catalogue().indicator(indicator_id)
    if not ind.monthly or ind.by:
        raise KeyError(f"{indicator_id} is not published by month in "
                       "marts.indicators_monthly")
    unit = UNITS[ind.unit]
    sign = {"fi": " (%)", "en": " (%)"} if ind.unit == "percent" else {"fi": "", "en": ""}
    return FigureSpec(
        id=ind.id, number=None, indicator=ind.id, decimals=ind.decimals,
        title={"fi": f"{ind.fi} {{years}}", "en": f"{ind.en} {{years}}"},
        chart_title={lang: f"{getattr(ind, lang)}{sign[lang]} {{years}}" for lang in ("fi", "en")},
        unit=dict(unit))


def figure_ids() -> list[str]:
    """Every figure that can be drawn: the report's kuviot, then each catalogue indicator
    published by month that is not one of them."""
    extra = [i.id for i in catalogue().indicators.values()
             if i.monthly and not i.by and i.id not in FIGURES]
    return [*FIGURES, *extra]


def spec_of(figure_id: str) -> FigureSpec:
    """A report figure's spec, or a catalogue indicator's figure."""
    if figure_id in FIGURES:
        return FIGURES[figure_id]
    return indicator_figure(figure_id)


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
    return (MART_OF_KIND[spec_of(figure_id).kind],)


def figure_data(con, figure_id: str, area_code: str) -> pd.DataFrame:
    """The figure's numbers, exactly the mart's rows: for a monthly figure one row per month
    of the report's years (year, month_no, value); see ``_QUERIES`` for the other kinds."""
    spec = spec_of(figure_id)
    sql = _QUERIES[spec.kind]
    params = {"area": area_code, "indicator": spec.indicator, "first": YEARS[0],
              "last": YEARS[-1], "pilot": PILOT_PERIOD}
    used = {k: v for k, v in params.items() if f"${k}" in sql}
    return con.execute(sql, used).df()


# Where the bundled files say they are synthetic: TEM reports' notes and PX files' NOTE.
SYNTHETIC_MARK_TABLES = ("raw.tem_report_files", "raw.statfin_files")
_SYNTHETIC_SQL = {
    "raw.tem_report_files": "select count(*) from raw.tem_report_files "
                            "where array_to_string(notes, ' ') ilike '%synteettinen%'",
    "raw.statfin_files": "select count(*) from raw.statfin_files "
                         "where notes ilike '%synteettinen%'",
}


def is_synthetic(con) -> bool:
    """Whether the warehouse was built from the bundled synthetic files (they say so)."""
    for table in SYNTHETIC_MARK_TABLES:
        try:
            if con.execute(_SYNTHETIC_SQL[table]).fetchall()[0][0]:
                return True
        except Exception:  # noqa: BLE001 - a warehouse without the table (or column) is
            continue       # simply not marked by it
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


# Members of a group (alue) with data in the figure's mart, per figure kind: the same rows
# the figure reads, for each member municipality instead of the group. A member whose TTV15
# cells are all masked ('...') or zero is in the sums (its masked cells are noted apart).
_MEMBERS = "select municipality_code from staging.area_members where area_code = $area"
_COVERAGE_SQL = {
    MONTHLY: f"""
        select distinct area_code from marts.indicators_monthly
        where area_code in ({_MEMBERS}) and indicator = $indicator
          and year(month) between $first and $last and value is not null""",
    YEARLY: f"""
        select distinct area_code from marts.indicators_yearly
        where area_code in ({_MEMBERS}) and indicator = $indicator
          and year between $first and $last and value is not null""",
    REASONS_BY_YEAR: f"""
        select distinct area_code from marts.ltu_spell_endings
        where area_code in ({_MEMBERS}) and period_type = 'year'
          and cast(period as integer) between $first and $last""",
    REASONS_TOTAL: f"""
        select distinct area_code from marts.ltu_spell_endings
        where area_code in ({_MEMBERS}) and period_type = 'pilot' and period = $pilot""",
    EUROS_YEARLY: f"""
        select distinct municipality_code from marts.municipal_share_yearly
        where municipality_code in ({_MEMBERS}) and municipal_share_eur is not null""",
}


def group_members(con, area_code: str) -> list[str]:
    """The member municipalities of a group (``staging.area_members``); [] for a
    municipality or an unknown code."""
    try:
        rows = con.execute("select municipality_code from staging.area_members "
                           "where area_code = ? order by municipality_code",
                           [area_code]).fetchall()
    except Exception:  # noqa: BLE001 - a warehouse without the table has no groups
        return []
    return [r[0] for r in rows]


def members_with_data(con, area_code: str, figure_id: str) -> list[str]:
    """The group's members that have a number in the figure's mart for its period."""
    spec = spec_of(figure_id)
    sql = _COVERAGE_SQL[spec.kind]
    params = {"area": area_code, "indicator": spec.indicator, "first": YEARS[0],
              "last": YEARS[-1], "pilot": PILOT_PERIOD}
    try:
        rows = con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql}).fetchall()
    except Exception:  # noqa: BLE001 - a mart missing from the warehouse covers no one
        return []
    return sorted(r[0] for r in rows)


def group_coverage(con, area_code: str, figure_id: str) -> tuple[int, int] | None:
    """(members with data in the figure's mart, members in ``staging.area_members``) for a
    group such as TA_OULU, e.g. (8, 11); None for a municipality."""
    members = group_members(con, area_code)
    if not members:
        return None
    return len(set(members_with_data(con, area_code, figure_id)) & set(members)), len(members)


def is_partial(coverage: tuple[int, int] | None) -> bool:
    return coverage is not None and coverage[0] < coverage[1]


def coverage_text(coverage: tuple[int, int], lang: str) -> str:
    """'8/11 kuntaa' / '8 of 11 municipalities'."""
    have, of = coverage
    return f"{have}/{of} kuntaa" if lang == "fi" else f"{have} of {of} municipalities"


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


def _series_table(spec: FigureSpec, data: pd.DataFrame) -> pd.DataFrame:
    """Every month from the figure's first month with a number to its last, in time order,
    indexed by (year, month number); a month without a number inside that span is NaN."""
    months = data["year"].astype(int) * 12 + data["month_no"].astype(int) - 1
    span = range(int(months.min()), int(months.max()) + 1) if len(months) else range(0)
    index = pd.MultiIndex.from_tuples([(m // 12, m % 12 + 1) for m in span])
    values = pd.Series(data["value"].to_numpy(dtype=float), index=months.to_numpy())
    return pd.DataFrame({spec.unit["fi"]: values.reindex(list(span)).to_numpy()}, index=index)


def chart_table(spec: FigureSpec, data: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The figure's data as the chart shows it: a row per category (month, year, reason),
    a column per series (a year, or the one value). Missing values are NaN. A chronological
    figure's rows are indexed by (year, month number)."""
    if spec.kind == MONTHLY and spec.layout == CHRONOLOGICAL:
        table = _series_table(spec, data)
        table.columns = [spec.unit[lang]]
        return table.astype(float)
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


def titles(spec: FigureSpec, data: pd.DataFrame, lang: str, area_name_: str | None,
           coverage: tuple[int, int] | None = None) -> tuple[str, str]:
    """(caption title, chart title); a municipality's or a group's name is added to both,
    and for a group drawn without all its members how many it covers ('8/11 kuntaa')."""
    title, chart = spec.title[lang], spec.chart_title[lang]
    if area_name_ and spec.area_title:
        title, chart = spec.area_title[lang], spec.area_chart_title[lang]
    if "{years}" in title + chart:
        years = sorted(data["year"]) if "year" in data and len(data) else []
        span = f"{years[0]}–{years[-1]}" if years else ""
        title, chart = title.format(years=span), chart.format(years=span.replace("–", " - "))
    if area_name_ and is_partial(coverage):
        area_name_ = f"{area_name_} ({coverage_text(coverage, lang)})"
    if area_name_:
        title, chart = f"{title}, {area_name_}", f"{chart} – {area_name_}"
    return title, chart


@dataclass(frozen=True)
class GapReason:
    """Why a figure has no number for some months: applies to a run of missing months that
    lies within ``first``..``last`` (YYYY-MM), for the listed indicators (None: any)."""

    first: str
    last: str
    indicators: tuple[str, ...] | None
    text: dict[str, str]

    def covers(self, indicator: str, first: tuple[int, int], last: tuple[int, int]) -> bool:
        lo, hi = (tuple(int(p) for p in m.split("-")) for m in (self.first, self.last))
        return ((self.indicators is None or indicator in self.indicators)
                and lo <= first and last <= hi)


# What the final report says about its empty months (quoted from it).
GAP_REASONS = (
    GapReason("2021-01", "2021-02", ("pilot_clients",), {
        "fi": "kuntakokeilu käynnistyi 1.3.2021, joten sillä ei vielä ollut asiakkaita",
        "en": "the pilot started on 1 March 2021, so it had no clients yet"}),
    GapReason("2024-09", "2024-12", None, {
        "fi": "loppuraportin mukaan ”osaa tilastointiin tarvittavista tiedoista ei "
              "järjestelmämuutosten takia ollut enää saatavilla syksystä 2024 alkaen”",
        "en": "the final report says that part of the data needed for the statistics was no "
              "longer available from autumn 2024 on, because of system changes"}),
)
NO_NUMBER = {"fi": "lähdeaineistossa ei ole niille lukua",
             "en": "the source data hold no number for them"}
MISSING_WORD = {"fi": ("puuttuu", "puuttuvat"), "en": ("is missing", "are missing")}
MONTH_NAMES_FULL = {
    "fi": [m + "kuu" for m in style.MONTHS["fi"]],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"],
}


def _runs(months: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs (first, last) of month numbers (year * 12 + month - 1)."""
    runs: list[tuple[int, int]] = []
    for m in sorted(months):
        if runs and m == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], m)
        else:
            runs.append((m, m))
    return runs


def _month_span(first: int, last: int, lang: str) -> str:
    """'tammi–helmikuu 2021', 'marraskuu 2024', 'January–February 2021' …"""
    names, short = MONTH_NAMES_FULL[lang], style.MONTHS[lang] if lang == "fi" else None
    (y1, m1), (y2, m2) = divmod(first, 12), divmod(last, 12)
    if first == last:
        return f"{names[m1]} {y1}"
    if y1 == y2:
        head = short[m1] if short else names[m1]
        return f"{head}–{names[m2]} {y1}"
    return f"{names[m1]} {y1} – {names[m2]} {y2}"


def gap_notes(spec: FigureSpec, data: pd.DataFrame, lang: str) -> tuple[str, ...]:
    """A note for every run of the report's months (``YEARS``) the figure has no number
    for, found from the data, with the reason from ``GAP_REASONS`` (or that the source
    has none)."""
    if spec.kind != MONTHLY or data.empty:
        return ()
    have = set((data["year"].astype(int) * 12 + data["month_no"].astype(int) - 1).tolist())
    wanted = range(YEARS[0] * 12, (YEARS[-1] + 1) * 12)
    notes_ = []
    for first, last in _runs([m for m in wanted if m not in have]):
        ends = (divmod(first, 12), divmod(last, 12))
        (y1, m1), (y2, m2) = ends
        reason = next((r.text[lang] for r in GAP_REASONS
                       if r.covers(spec.indicator, (y1, m1 + 1), (y2, m2 + 1))),
                      NO_NUMBER[lang])
        span = _month_span(first, last, lang)
        word = MISSING_WORD[lang][0 if first == last else 1]
        notes_.append(f"{span[0].upper()}{span[1:]} {word}: {reason}.")
    return tuple(notes_)


def coverage_note(coverage: tuple[int, int] | None, missing: list[str],
                  lang: str) -> tuple[str, ...]:
    """For a group drawn without all its members: which have no number, and that the
    figure is the sum of the others."""
    if not is_partial(coverage):
        return ()
    have, of = coverage
    names = ", ".join(missing)
    if lang == "fi":
        return (f"Huom: luvut ovat {have} kunnan summa alueen {of} kunnasta; "
                f"ilman lukuja: {names}.",)
    return (f"Note: the numbers are the sum of {have} of the area's {of} municipalities; "
            f"no numbers for {names}.",)


def source_notes(spec: FigureSpec, data: pd.DataFrame, lang: str) -> tuple[str, ...]:
    """For a monthly figure whose months come from more than one source (the catalogue's
    precedence: TEM 1208, then StatFin 12r5 where 1208 has no number): which months come
    from each source after the first."""
    if spec.kind != MONTHLY or "source" not in data or data["source"].nunique() < 2:
        return ()
    cat = catalogue()
    order = [s.label for s in cat.sources.values()]
    labels = sorted(data["source"].dropna().unique(),
                    key=lambda s: order.index(s) if s in order else len(order))
    out = []
    for label in labels[1:]:
        rows = data[data["source"] == label]
        months = (rows["year"].astype(int) * 12 + rows["month_no"].astype(int) - 1).tolist()
        spans = ", ".join(_month_span(a, b, lang) for a, b in _runs(sorted(months)))
        out.append({"fi": f"Huom: {spans}: {label} ({labels[0]}:ssa ei lukua).",
                    "en": f"Note: {spans}: {label} ({labels[0]} has no number)."}[lang])
    return tuple(out)


def notes(spec: FigureSpec, data: pd.DataFrame, lang: str,
          coverage: tuple[int, int] | None = None,
          missing_members: list[str] | None = None) -> tuple[str, ...]:
    """Caveats the caption must carry: empty months and why, months from a later source, a
    group's missing members, masked cells ('...') left out of the sums."""
    out = [*gap_notes(spec, data, lang), *source_notes(spec, data, lang),
           *coverage_note(coverage, missing_members or [], lang)]
    if "masked_cells" in data and int(data["masked_cells"].sum()):
        n = int(data["masked_cells"].sum())
        out.append({"fi": f"Huom: {n} salattua solua ('...') puuttuu summista; osuudet ovat "
                          "julkaistuista luvuista.",
                    "en": f"Note: {n} masked cells ('...') are left out of the sums; shares "
                          "are of the published numbers."}[lang])
    return tuple(out)


# --- drawing -----------------------------------------------------------------------------

_DRAW = {
    CHRONOLOGICAL: draw.series,
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
           area_name: str | None = None, coverage: tuple[int, int] | None = None,
           missing_members: list[str] | None = None):
    """Draw the figure with its kind's function (``draw.py``) and the report's caption."""
    caption_title, chart_title = titles(spec, data, lang, area_name, coverage)
    table = chart_table(spec, data, lang)
    kind = CHRONOLOGICAL if spec.kind == MONTHLY and spec.layout == CHRONOLOGICAL else spec.kind
    fig, ax, extra = _DRAW[kind](table, spec, lang)
    style.chart_title(ax, chart_title)
    lines = style.caption(fig, spec.number, caption_title, source_line(spec, data, lang),
                          lang, synthetic, notes(spec, data, lang, coverage, missing_members))
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
