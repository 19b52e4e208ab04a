"""A synthetic month-by-month world of the eight pilot municipalities, 2019–2024.

SYNTHETIC DATA. Nothing here is TEM's, Statistics Finland's or Kela's: the numbers are drawn
from a seeded random generator and calibrated so that the pilot area's published figures (the
final report's Kuvio 8 and 9 data labels, ``pipeline/reference/report_figures.csv``) come out
of the pipeline, and so that the rest looks like the region (sizes, seasons, the ELY centre's
bulletins in ``context_figures.csv``).

This module is the generator's own: it imports nothing from the pipeline, so the pipeline has
to earn its numbers by reading the files the generator writes.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"

# (code, name, population 2021, labour force, base unemployment rate %, LTU propensity)
MUNICIPALITIES: list[tuple[str, str, int, int, float, float]] = [
    ("564", "Oulu", 209551, 100560, 12.0, 1.00),
    ("244", "Kempele", 19116, 9170, 7.6, 0.85),
    ("494", "Muhos", 8909, 3890, 10.0, 1.00),
    ("139", "Ii", 9912, 4310, 11.0, 1.00),
    ("425", "Liminka", 10218, 4820, 6.4, 0.80),
    ("436", "Lumijoki", 2018, 890, 8.0, 0.80),
    ("859", "Tyrnävä", 6603, 3010, 7.8, 0.90),
    ("072", "Hailuoto", 950, 420, 9.0, 0.70),
]

# Unemployment-rate anchors (%), from the ELY centre's bulletins (context_figures.csv), plus
# a plausible path outside them; interpolated month by month.
RATE_ANCHORS: dict[str, dict[str, float]] = {
    "564": {"2019-01": 12.4, "2019-06": 12.9, "2020-01": 12.6, "2020-05": 16.8, "2020-12": 14.4,
            "2021-06": 13.9, "2021-12": 11.6, "2022-06": 11.9, "2022-10": 10.9, "2023-02": 12.1,
            "2023-06": 13.2, "2023-08": 12.1, "2023-11": 12.3, "2024-06": 14.6, "2024-12": 14.3},
    "425": {"2019-01": 5.9, "2020-05": 8.4, "2021-06": 7.0, "2022-06": 6.0, "2023-02": 6.1,
            "2023-06": 7.4, "2023-08": 5.5, "2024-06": 7.8, "2024-12": 7.2},
}
ANCHORED_MONTHS = {"564": {"2022-10", "2023-02", "2023-06", "2023-08", "2023-11"},
                   "425": {"2023-02", "2023-06", "2023-08"}}

# Reasons a long-term unemployment spell ended (TTV15), with base shares.
ENDING_REASONS: list[tuple[str, float]] = [
    ("Avoimille työmarkkinoille", 0.24),
    ("Palkkatuettuun työhön", 0.16),
    ("Työvoimakoulutukseen", 0.10),
    ("Muihin palveluihin", 0.17),
    ("Omaehtoiseen opiskeluun", 0.05),
    ("Työvoiman ulkopuolelle", 0.14),
    ("Muu tai tuntematon syy", 0.14),
]

FIRST_MONTH = (2019, 1)
LAST_MONTH = (2024, 12)
PILOT_START = (2021, 3)  # clients moved to the pilot municipalities on 13–14 March 2021


def months(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    out, (y, m) = [], first
    while (y, m) <= last:
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def key(ym: tuple[int, int]) -> str:
    return f"{ym[0]}-{ym[1]:02d}"


def round_half_up(x: float, digits: int = 0) -> float:
    q = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP))


def apportion(total: int, weights: list[float]) -> list[int]:
    """Split an integer total by weights so the parts sum exactly (largest remainder)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    parts = [math.floor(r) for r in raw]
    rest = total - sum(parts)
    order = sorted(range(len(raw)), key=lambda i: (raw[i] - parts[i], -i), reverse=True)
    for i in order[:rest]:
        parts[i] += 1
    return parts


def interpolate(anchors: dict[str, float], ym: tuple[int, int]) -> float:
    pts = sorted((int(k[:4]) * 12 + int(k[5:]) - 1, v) for k, v in anchors.items())
    t = ym[0] * 12 + ym[1] - 1
    if t <= pts[0][0]:
        return pts[0][1]
    for (t0, v0), (t1, v1) in zip(pts, pts[1:]):
        if t0 <= t <= t1:
            return v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return pts[-1][1]


def read_targets() -> tuple[dict[str, int], dict[str, float]]:
    """Kuvio 8 (long-term unemployed) and Kuvio 9 (LTU activation rate) of the pilot area."""
    ltu, rate = {}, {}
    with open(REFERENCE_DIR / "report_figures.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["area"] != "pilot_area":
                continue
            if row["indicator"] == "long_term_unemployed":
                ltu[row["period"]] = int(row["value"])
            elif row["indicator"] == "ltu_activation_rate_pct":
                rate[row["period"]] = float(row["value"])
    return ltu, rate


@dataclass
class MunicipalMonth:
    """One municipality's numbers at the end of one month (synthetic)."""

    jobseekers: int = 0
    unemployed: int = 0
    long_term_unemployed: int = 0
    pilot_clients: int | None = None  # None before the pilot began: '.' in TEM 1208
    ltu_in_services: int = 0
    in_services: int = 0
    labour_force: int = 0
    vacancies: int = 0
    spells_started: int = 0
    inflow: dict[int, int] = field(default_factory=dict)  # k -> spells passing k months
    endings: dict[str, int] = field(default_factory=dict)  # TTV15 reason -> spells ended


class World:
    """All municipalities × months, built deterministically from a seed."""

    def __init__(self, seed: int = 20210301):
        self.rng = random.Random(seed)
        self.months = months(FIRST_MONTH, LAST_MONTH)
        # A year of history before the files start, so inflows in 2019 have their starts.
        self.history = months((2018, 1), (2018, 12))
        self.codes = [m[0] for m in MUNICIPALITIES]
        self.names = {m[0]: m[1] for m in MUNICIPALITIES}
        self.data: dict[tuple[str, tuple[int, int]], MunicipalMonth] = {}
        self._build()

    def at(self, code: str, ym: tuple[int, int]) -> MunicipalMonth:
        return self.data[(code, ym)]

    # -- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        ltu_target, rate_target = read_targets()
        rng = self.rng
        drift = {c: 1.0 for c in self.codes}
        for ym in self.history + self.months:
            season = 1 + 0.06 * math.cos((ym[1] - 7) / 12 * 2 * math.pi)  # summer peak
            area_ltu = self._area_ltu(ym, ltu_target)
            for c in self.codes:
                drift[c] *= 1 + rng.gauss(0, 0.004)
            for code, _name, _pop, lf, base_rate, _propensity in MUNICIPALITIES:
                mm = MunicipalMonth(labour_force=lf)
                if code in RATE_ANCHORS:
                    rate = interpolate(RATE_ANCHORS[code], ym)
                    if key(ym) not in ANCHORED_MONTHS[code]:
                        rate *= 1 + rng.gauss(0, 0.01)
                else:
                    rate = base_rate * season * (1.18 if ym[0] == 2020 and ym[1] >= 4 else 1.0)
                    rate *= (1 + 0.06 * (ym[0] - 2022) / 2) * (1 + rng.gauss(0, 0.02))
                mm.unemployed = round(rate / 100 * lf)
                self.data[(code, ym)] = mm
            weights = [self.at(c, ym).unemployed * p * drift[c] * (1 + rng.gauss(0, 0.01))
                       for c, *_rest, p in MUNICIPALITIES]
            for c, part in zip(self.codes, apportion(area_ltu, weights)):
                mm = self.at(c, ym)
                mm.long_term_unemployed = part
                if part > 0.6 * mm.unemployed:  # LTU ≤ unemployed, with room to spare
                    mm.unemployed = math.ceil(part / 0.6)
            self._services(ym, rate_target)
            for c in self.codes:
                self._rest_of_month(c, ym, season)
        self._tyrnava_vacancies_2024()

    def _tyrnava_vacancies_2024(self) -> None:
        """Section 2.1: Tyrnävä's open vacancies ranged 0–21 during 2024 (monthly)."""
        year = [ym for ym in self.months if ym[0] == 2024]
        raw = [self.at("859", ym).vacancies for ym in year]
        lo, hi = min(raw), max(raw)
        for ym, v in zip(year, raw):
            self.at("859", ym).vacancies = round(21 * (v - lo) / (hi - lo))

    def _area_ltu(self, ym: tuple[int, int], target: dict[str, int]) -> int:
        k = key(ym)
        if k in target:
            return target[k]
        path = {"2018-01": 3310, "2019-01": 3420, "2020-03": 3590, "2020-12": 3790,
                "2021-01": 3828, "2024-10": 5709, "2024-12": 5840}
        return round(interpolate(path, ym) * (1 + self.rng.gauss(0, 0.006)))

    def _services(self, ym: tuple[int, int], rate_target: dict[str, float]) -> None:
        """LTU in services (palveluissa olevat pitkäaikaistyöttömät) so the area's rate
        100 × S / (L + S), rounded to one decimal, equals the report's Kuvio 9 label."""
        rng = self.rng
        area_l = sum(self.at(c, ym).long_term_unemployed for c in self.codes)
        r = rate_target.get(key(ym))
        if r is None:
            r = round_half_up(10.2 + 1.2 * math.sin(ym[1] / 12 * 2 * math.pi)
                              + rng.gauss(0, 0.5), 1)
        s = round(r * area_l / (100 - r))
        while round_half_up(100 * s / (area_l + s), 1) < r:
            s += 1
        while round_half_up(100 * s / (area_l + s), 1) > r:
            s -= 1
        weights = [self.at(c, ym).long_term_unemployed * (1 + rng.gauss(0, 0.08)) + 0.1
                   for c in self.codes]
        for c, part in zip(self.codes, apportion(s, weights)):
            self.at(c, ym).ltu_in_services = part

    def _rest_of_month(self, code: str, ym: tuple[int, int], season: float) -> None:
        rng = self.rng
        mm = self.at(code, ym)
        mm.jobseekers = round(mm.unemployed * (1.72 + 0.08 * rng.random()))
        if ym >= PILOT_START:
            t = (ym[0] - 2021) * 12 + ym[1] - 3  # months since the pilot began
            share = 0.62 + 0.26 * t / 45 + rng.gauss(0, 0.005)
            mm.pilot_clients = min(mm.jobseekers, round(mm.jobseekers * share))
        mm.in_services = round(mm.unemployed * (0.27 + 0.05 * rng.random()))
        weak = 1.0 if ym[0] < 2023 else 0.55  # vacancies fell in 2023–2024
        vac_base = mm.labour_force * 0.012 * weak * (1.4 if ym[1] in (3, 4, 5) else 1.0)
        mm.vacancies = max(0, round(vac_base * (0.6 + 0.8 * rng.random())))
        mm.spells_started = max(1, round(mm.unemployed * 0.16 * season
                                         * (1 + rng.gauss(0, 0.05))))
        idx = (self.history + self.months).index(ym)
        everything = self.history + self.months
        for k, p in ((3, 0.41), (6, 0.26), (12, 0.125)):
            if idx - k < 0:
                continue
            earlier = self.at(code, everything[idx - k]).spells_started
            q = p * (1 - 0.02 * (ym[0] - 2021)) * (1 + rng.gauss(0, 0.06))
            mm.inflow[k] = min(earlier, max(0, round(earlier * q)))
        ended = max(0, round(mm.long_term_unemployed * 0.075 * (1 + rng.gauss(0, 0.1))))
        shares = [s * (1 + 0.3 * rng.gauss(0, 0.5)) for _, s in ENDING_REASONS]
        shares = [max(0.005, s) for s in shares]
        for (reason, _), n in zip(ENDING_REASONS, apportion(ended, shares)):
            mm.endings[reason] = n
