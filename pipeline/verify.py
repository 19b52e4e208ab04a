"""``verify``: the published marts against every figure the final report publishes.

``pipeline/reference/report_figures.csv`` (a copy of shared/reference) lists each published
number with how the report states it (its precision). A figure is reproduced when our value,
rounded as the report rounds it, equals the report's; a lower bound must hold; a range's
ends must be the year's minimum and maximum.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent / "reference" / "report_figures.csv"

# How each precision rounds: the quantum of Decimal.quantize (None: compare unrounded).
PRECISION_QUANTUM = {
    "exact": Decimal("1"), "exact_eur": Decimal("1"), "exact_cent": Decimal("0.01"),
    "round_1_decimal": Decimal("0.1"), "round_100": Decimal("100"),
    "round_1000": Decimal("1000"), "round_100000": Decimal("100000"),
}


@dataclass
class Outcome:
    row: dict
    ours: float | None
    ok: bool
    shown: str  # our value as the report would state it

    def line(self) -> str:
        r = self.row
        mark = "ok  " if self.ok else "FAIL"
        ours = "missing" if self.ours is None else self.shown
        return (f"{mark} {r['figure']:<12} {r['indicator']:<36} {r['area']:<10} "
                f"{r['period']:<11} report {r['value']:>12}  ours {ours:>12}  ({r['precision']})")


def rounded(value: float, precision: str) -> Decimal:
    q = PRECISION_QUANTUM[precision]
    d = Decimal(repr(value))
    if q >= 1:
        return (d / q).quantize(Decimal("1"), rounding=ROUND_HALF_UP) * q
    return d.quantize(q, rounding=ROUND_HALF_UP)


def _month(period: str) -> str:
    return f"{period}-01"


def our_value(con, row: dict) -> float | None:
    """Our number for one reference line, from the published marts."""
    ind, area, period = row["indicator"], row["area"], row["period"]
    q = None
    params: list = []
    if ind in ("long_term_unemployed", "ltu_activation_rate_pct"):
        q = ("select value from marts.indicators_monthly "
             "where area_code = ? and indicator = ? and month = ?::date")
        params = [area, ind, _month(period)]
    elif ind == "pilot_clients_lower_bound":
        q = ("select value from marts.indicators_monthly "
             "where area_code = ? and indicator = 'pilot_clients' and month = ?::date")
        params = [area, _month(period)]
    elif ind in ("open_vacancies_min", "open_vacancies_max"):
        agg = "min" if ind.endswith("min") else "max"
        q = (f"select {agg}(value) from marts.indicators_monthly "
             "where area_code = ? and indicator = 'vacancies' and year(month) = ?")
        params = [area, int(period)]
    elif ind == "municipal_share_eur":
        q = ("select municipal_share_eur from marts.municipal_share_yearly "
             "where municipality_code = ? and year = ?")
        params = [area, int(period)]
    elif ind == "municipal_share_eur_monthly_mean":
        q = ("select municipal_share_monthly_mean_eur from marts.municipal_share_yearly "
             "where municipality_code = ? and year = ?")
        params = [area, int(period)]
    elif ind == "municipal_share_eur_change":
        first, last = (int(p) for p in period.split(".."))
        q = ("select max(municipal_share_eur) filter (where year = ?) "
             "     - max(municipal_share_eur) filter (where year = ?) "
             "from marts.municipal_share_yearly where municipality_code = ?")
        params = [last, first, area]
    if q is None:
        return None
    try:
        rows = con.execute(q, params).fetchall()
    except Exception:  # noqa: BLE001 - a mart not built yet means the figure is not reproduced
        return None
    if not rows or rows[0][0] is None:
        return None
    return float(rows[0][0])


def check(con, row: dict) -> Outcome:
    ours = our_value(con, row)
    precision = row["precision"]
    if ours is None:
        return Outcome(row, None, False, "")
    if precision == "lower_bound":
        return Outcome(row, ours, ours >= float(row["value"]), as_stated(ours))
    shown = rounded(ours, precision)
    ok = shown == Decimal(row["value"])
    # Printed with the precision's own decimals: 8.0 for round_1_decimal, as the report has it.
    return Outcome(row, ours, ok, format(shown, "f"))


def as_stated(value: float) -> str:
    """A number without a stated precision: whole numbers without '.0' or an exponent."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def read_reference(path: Path = REFERENCE) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def known_figures() -> list[str]:
    """The figure ids ``verify`` checks: the reference's (kuvio_8, section_2_5 …, in file
    order), then the report's other figures, checked for having values at all."""
    from .charts.figures import FIGURES

    return list(dict.fromkeys([*(r["figure"] for r in read_reference()), *FIGURES]))


def verify(con, figures: list[str] | None = None) -> list[Outcome]:
    rows = [r for r in read_reference() if not figures or r["figure"] in figures]
    return [check(con, r) for r in rows]


def figure_values(con, figures: list[str] | None = None) -> list[tuple[str, bool, str]]:
    """For each figure asked (default: every figure the reference has numbers for) that the
    pipeline draws: (figure id, whether it has values for the pilot area, the coverage line
    saying how many months or why none). A figure with no values fails ``verify``, also when
    the report publishes no number of it to compare with."""
    from .charts.figures import FIGURES
    from .coverage import figure_coverage

    wanted = figures or sorted({r["figure"] for r in read_reference()})
    ids = [f for f in wanted if f in FIGURES]
    try:
        return [(c.figure_id, c.drawn, c.line()) for c in figure_coverage(con, figure_ids=ids)]
    except Exception as e:  # noqa: BLE001 - a warehouse without audit.coverage: say so
        return [(f, False, f"{f}: coverage not readable ({str(e).splitlines()[0]})")
                for f in ids]
