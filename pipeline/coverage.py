"""Coverage (kattavuus): what a run produced for each figure, and what it lost.

``audit.coverage`` (sql/audit/models/coverage.sql) says, for every indicator, area and month,
whether the published value is present, partial, suppressed, masked or missing, and why.
This module reads it for people: a line per figure (drawn, or not drawn and which raw file
would make it) for the run's summary, the figure assets' metadata and ``verify``; and the
area-months a new run would lose against the published warehouse, which fail the run unless
the user accepts the loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import areas
from .catalogue import catalogue
from .models import sql_literal

GOOD = ("present", "partial")


@dataclass
class FigureCoverage:
    """A figure's months for one area: how many have a value, and why the others do not."""

    figure_id: str
    label: str                   # "Kuvio 8", or the figure id for unnumbered ones
    indicator: str
    months: int = 0              # months in the figure's period
    present: int = 0             # with a whole value
    partial: int = 0             # with a value missing members or masked cells
    sources: list[str] = field(default_factory=list)   # the sources actually used
    gaps: list[tuple[str, str, str]] = field(default_factory=list)  # (first, last, reason)

    @property
    def drawn(self) -> bool:
        return self.present + self.partial > 0

    def line(self) -> str:
        """One line for the run's summary: 'Kuvio 9: not drawn: needs TEM report 4253 …'."""
        if not self.drawn:
            reasons = sorted({r for _, _, r in self.gaps}) or ["no data"]
            return f"{self.label}: not drawn: {'; '.join(reasons)}"
        text = (f"{self.label}: drawn, {self.present + self.partial} of {self.months} months"
                f" ({', '.join(self.sources)})")
        if self.partial:
            text += f", {self.partial} partial"
        for first, last, reason in self.gaps[:3]:
            span = first if first == last else f"{first}–{last}"
            text += f"; {span}: {reason}"
        if len(self.gaps) > 3:
            text += f"; and {len(self.gaps) - 3} more gaps"
        return text


def _figure_period(figure_id: str) -> tuple[int, int] | None:
    from .charts import figures

    spec = figures.spec_of(figure_id)
    if spec.kind == figures.EUROS_YEARLY:
        return None  # every year the data has
    return figures.YEARS[0], figures.YEARS[-1]


def figure_coverage(con, area_code: str = areas.PILOT_AREA,
                    figure_ids: list[str] | None = None) -> list[FigureCoverage]:
    """For each figure (default all, in the report's order), its coverage for the area, from
    ``audit.coverage`` of the warehouse ``con`` is connected to."""
    from .charts import figures

    out = []
    for fid in list(figures.FIGURES) if figure_ids is None else figure_ids:
        spec = figures.spec_of(fid)
        label = f"Kuvio {spec.number}" if spec.number is not None else fid
        period = _figure_period(fid)
        where, params = "indicator = ? and area_code = ?", [spec.indicator, area_code]
        if period:
            where += " and year(month) between ? and ?"
            params += list(period)
        else:  # the years the indicator has anywhere (kuntaosuus: Kela's years)
            where += (" and year(month) in (select distinct year(month) from audit.coverage "
                      "where indicator = ? and status in ('present', 'partial'))")
            params.append(spec.indicator)
        rows = con.execute(
            f"select strftime(month, '%Y-%m'), status, source, reason from audit.coverage "
            f"where {where} order by month", params).fetchall()
        cov = FigureCoverage(fid, label, spec.indicator, months=len(rows))
        if not rows:
            cov.gaps.append(("", "", _no_rows_reason(con, spec.indicator, area_code, period)))
        for month, status, source, reason in rows:
            if status == "present":
                cov.present += 1
            elif status == "partial":
                cov.partial += 1
            if source:
                for s in source.split(", "):
                    if s not in cov.sources:
                        cov.sources.append(s)
            if status not in GOOD:
                reason = _short_reason(reason or status)
                if cov.gaps and cov.gaps[-1][2] == reason and _next(cov.gaps[-1][1]) == month:
                    cov.gaps[-1] = (cov.gaps[-1][0], month, reason)
                else:
                    cov.gaps.append((month, month, reason))
        out.append(cov)
    return out


def _no_rows_reason(con, indicator: str, area_code: str,
                    period: tuple[int, int] | None = None) -> str:
    """Why an area has no row in the figure's years: for each of the indicator's sources, the
    raw file that would give it, or the months it has for the area (outside the figure's
    years), or the other municipalities it has; and whether the area (or each of its
    municipalities) is in no raw file at all."""
    ind = catalogue().indicator(indicator)
    measured = ind.args[0].indicator if ind.is_rate else indicator  # a rate: its first part
    wanted = """(select municipality_code from staging.area_members where area_code = $area
                 union select $area)"""
    rows = con.execute(f"""
        select s.source, src.needs, count(distinct v.area_code),
            strftime(min(v.month), '%Y-%m'), strftime(max(v.month), '%Y-%m'),
            strftime(min(v.month) filter (where v.area_code in {wanted}), '%Y-%m'),
            strftime(max(v.month) filter (where v.area_code in {wanted}), '%Y-%m')
        from marts.indicator_sources as s
        join marts.sources as src using (source_id)
        left join staging.stg_source_values as v
            on v.family = src.family and v.dataset = src.dataset and v.measure = s.measure
            and v.area_code like 'KU%'
        where s.indicator = $indicator and s.role = 'value'
        group by all
        order by min(s.precedence)""", {"area": area_code, "indicator": measured}).fetchall()
    held = []
    for source, needs, n, first, last, own_first, own_last in rows:
        if not n:
            held.append(f"needs {needs}")
        elif own_first:
            span = own_first if own_first == own_last else f"{own_first}–{own_last}"
            outside = f", outside the figure's years {period[0]}–{period[1]}" if period else ""
            held.append(f"{source} has it only for {span}{outside}")
        else:
            held.append(f"{source} has {n} other municipalit{'y' if n == 1 else 'ies'} "
                        f"({first}–{last})")
    anywhere = con.execute(f"select count(*) from staging.stg_source_values "
                           f"where area_code in {wanted}", {"area": area_code}).fetchall()[0][0]
    if anywhere:
        return "; ".join(held)
    who = "is" if area_code.startswith("KU") else "and its municipalities are"
    return f"{area_code} {who} in no raw file; " + "; ".join(held)


def _next(month: str) -> str:
    y, m = int(month[:4]), int(month[5:])
    return f"{y + m // 12}-{m % 12 + 1:02d}"


def _short_reason(reason: str) -> str:
    """A group's reason lists every member ('KU072: …; KU139: …'): keep the distinct
    reasons without the member codes, so a summary line stays readable."""
    parts = [p.split(": ", 1)[1] if p[:2] == "KU" and ": " in p else p
             for p in reason.split("; ")]
    return "; ".join(dict.fromkeys(p for p in parts if p))


def source_labels(con, figure_id: str, area_code: str) -> list[str]:
    """The sources a figure's values for the area actually came from, in catalogue order."""
    cov = figure_coverage(con, area_code, [figure_id])[0]
    order = [s.label for s in catalogue().sources.values()]
    return sorted(cov.sources, key=lambda s: order.index(s) if s in order else len(order))


# --- Lost coverage -------------------------------------------------------------------------

def lost_coverage(con, published: Path) -> tuple[int, list[tuple]]:
    """Area-months that had a value (or more members) in the published warehouse and do not
    now, in the database ``con`` is connected to: (how many, one row per indicator:
    (indicator, area-months lost, areas, first month, last month, a reason))."""
    published = Path(published)
    if not published.exists():
        return 0, []
    con.execute(f"attach {sql_literal(str(published))} as coverage_published (read_only)")
    try:
        has = con.execute(
            "select count(*) from duckdb_tables() where database_name = 'coverage_published' "
            "and schema_name = 'audit' and table_name = 'coverage'").fetchall()[0][0]
        if not has:
            return 0, []
        rows = con.execute("""
            select old.indicator, count(*), count(distinct old.area_code),
                strftime(min(old.month), '%Y-%m'), strftime(max(old.month), '%Y-%m'),
                coalesce(arg_min(new.reason, (old.area_code <> 'pilot_area', old.month)),
                         'no longer in the marts')
            from coverage_published.audit.coverage as old
            left join audit.coverage as new using (indicator, area_code, month)
            where old.status in ('present', 'partial')
                and (new.status is null or new.status not in ('present', 'partial')
                     or new.members_covered < old.members_covered)
            group by old.indicator
            order by old.indicator""").fetchall()
        return sum(r[1] for r in rows), [(*r[:5], _short_reason(r[5])) for r in rows]
    finally:
        con.execute("detach coverage_published")


def lost_coverage_text(lost: int, rows: list[tuple]) -> str:
    """The lost values in a few lines: per indicator, how many, where, when and why."""
    lines = [f"coverage lost: {lost} area-month value(s) that the published warehouse has "
             f"would have no value (or fewer municipalities):"]
    for ind, n, areas_, first, last, why in rows:
        lines.append(f"  {ind}: {n} in {areas_} area(s), {first}–{last}: {why}")
    lines.append("nothing was published; see audit.coverage, or publish anyway with "
                 "python -m pipeline run --accept-coverage-loss")
    return "\n".join(lines)
