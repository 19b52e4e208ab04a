"""Synthetic Kela CSV: the municipal share of the labour market subsidy in the pilot area.

Writes a file in the layout of Kela's open data *Kunnan osarahoittaman työmarkkinatuen
saajat ja maksetut etuudet kunnittain* (työmarkkinatuen kuntaosuus = municipal share of the
labour market subsidy; shared/formats/kela-kuntaosuus.md) for the eight municipalities of the
Oulu-region employment pilot, billing months (laskutuskuukausi) 201901..202412.

The numbers are made up by a seeded generator, calibrated so that the yearly sums equal the
figures published in section 2.5 of the pilot's final report at the precision the report
states them. Everything is kept in integer cents, so every sum is exact.

What the file holds, per municipality and billing month (aikatyyppi ``Kuukausi``):

* one row per day class (työmarkkinatukipäivä-luokka = days of subsidy received so far):
  ``300-499`` and ``500-999`` (the municipality pays 50 % of the paid subsidy) and
  ``1000 tai yli`` (70 %); kunta_osuus_eur = maksettu_eur x rate, rounded half up to the cent;
* the ``Yhteensä`` total row (day class, age group and sex all ``Yhteensä``) = the sum of the
  day classes, to the cent;
* breakdown rows by sex (sukupuoli) and age group (ikäryhmä), summing to the total;
* breakdown rows under 4 recipients are moved into ``199 Tuntematon`` rows (summed over the
  municipalities by breakdown), so summing breakdown rows does not give the total;
* a few refund (takaisinperintä) day-class rows with negative days and euros.

Plus ``Vuosikertymä`` (year to date) and ``Vuosi`` (the year) rows for the totals and day
classes, whose saaja_lkm is empty: a year's persons are not the sum of its months.

Sizes follow real benefit levels: the average paid day is close to the basic daily
työmarkkinatuki of the year (32.40 EUR in 2019 ... 37.21 EUR in 2024), and a recipient has about
19-20 compensated days a month. Oulu's ~2 M EUR monthly share then means ~4 500-5 500 recipients.

This module imports nothing from the pipeline (the pipeline has to earn its numbers).
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

HEADER = (
    "aikatyyppi",
    "kuukausi_nro",
    "vuosikuukausi",
    "vuosi",
    "kunta_nro",
    "kunta_nimi",
    "ikaryhma",
    "sukupuoli",
    "tyomarkkinatukipaiva_luokka",
    "saaja_lkm",
    "korvattu_paiva_lkm",
    "maksettu_eur",
    "kunta_osuus_eur",
)

YEARS = tuple(range(2019, 2025))
TOTAL = "Yhteensä"
UNKNOWN = ("199", "Tuntematon")
MIN_RECIPIENTS = 4  # Kela moves breakdown rows under this into 199 Tuntematon

# Day classes (työmarkkinatukipäivä-luokka) and the municipality's rate in each (until 2024).
DAY_CLASSES: tuple[tuple[str, Decimal], ...] = (
    ("300-499", Decimal("0.5")),
    ("500-999", Decimal("0.5")),
    ("1000 tai yli", Decimal("0.7")),
)

SEXES = (("Mies", 60), ("Nainen", 40))  # weights: most long-term recipients are men
AGE_GROUPS = (  # ikäryhmä and weight: 300+ subsidy days take time, so the old dominate
    ("17-19", 1),
    ("20-24", 30),
    ("25-29", 70),
    ("30-34", 90),
    ("35-39", 100),
    ("40-44", 100),
    ("45-49", 105),
    ("50-54", 120),
    ("55-59", 160),
    ("60-64", 200),
    ("65-67", 24),
)

# Average paid euros per compensated day: the basic daily työmarkkinatuki of the year
# (child increases and adjustments roughly cancel), in cents.
CENTS_PER_DAY = {2019: 3240, 2020: 3366, 2021: 3378, 2022: 3470, 2023: 3721, 2024: 3721}

# Billing-month seasonality: more subsidy days in the summer and winter breaks of services.
SEASON = (1.03, 0.99, 1.00, 0.98, 0.97, 1.00, 1.04, 1.06, 1.00, 0.98, 0.97, 0.98)

# Oulu 2024: "alkuvuoden nousun jälkeen laskuun" (a rise early in the year, then a fall).
OULU_2024_SHAPE = (0.97, 0.99, 1.01, 1.03, 1.04, 1.04, 1.03, 1.01, 0.99, 0.97, 0.95, 0.94)


@dataclass(frozen=True)
class Municipality:
    """A pilot municipality: Kela's number, name, yearly share levels and day-class mix."""

    number: str  # kunta_nro, three digits
    name: str
    levels_eur: tuple[int, ...]  # rough kuntaosuus per year 2019..2024, EUR (uncalibrated years)
    class_mix: tuple[int, int, int]  # share of the kuntaosuus in 300-499 / 500-999 / 1000+ (%)


MUNICIPALITIES: tuple[Municipality, ...] = (
    Municipality("072", "Hailuoto", (24_000, 29_000, 31_000, 27_000, 25_000, 23_000), (30, 25, 45)),
    Municipality("139", "Ii", (455_000, 505_000, 530_000, 430_000, 480_000, 518_628), (30, 26, 44)),
    Municipality(
        "244",
        "Kempele",
        (880_000, 1_020_000, 1_060_000, 985_000, 1_045_000, 1_090_000),
        (32, 26, 42),
    ),
    Municipality(
        "425", "Liminka", (345_000, 420_000, 438_000, 392_000, 371_000, 356_000), (33, 27, 40)
    ),
    Municipality("436", "Lumijoki", (64_000, 79_000, 86_000, 66_000, 58_000, 52_000), (30, 25, 45)),
    Municipality(
        "494", "Muhos", (610_000, 700_000, 735_121, 668_000, 602_000, 536_811), (29, 26, 45)
    ),
    Municipality(
        "564",
        "Oulu",
        (21_700_000, 24_017_000, 25_141_000, 22_980_000, 24_604_000, 23_808_000),
        (29, 26, 45),
    ),
    Municipality(
        "859", "Tyrnävä", (262_000, 281_000, 290_818, 246_869, 243_957, 223_580), (31, 26, 43)
    ),
)


@dataclass(frozen=True)
class Figures:
    """A row's measures: saajat (recipients), korvatut päivät (days), euros in cents."""

    recipients: int | None
    days: int
    paid: int
    share: int

    def __add__(self, other: Figures) -> Figures:
        recipients = None
        if self.recipients is not None and other.recipients is not None:
            recipients = self.recipients + other.recipients
        return Figures(
            recipients, self.days + other.days, self.paid + other.paid, self.share + other.share
        )


ZERO = Figures(0, 0, 0, 0)


# --- calibration -------------------------------------------------------------------------------


def cents(euros: str | int) -> int:
    """'735121.05' or 24017000 -> integer cents."""
    return int(Decimal(str(euros)) * 100)


def yearly_shares(rng: random.Random) -> dict[tuple[str, int], int]:
    """Kuntaosuus per (kunta_nro, year) in cents, calibrated to the final report's section 2.5.

    Each calibrated figure is drawn inside the range that the report's precision allows, with a
    margin from the rounding boundary so no rounding rule can tip it.
    """
    shares: dict[tuple[str, int], int] = {}
    for muni in MUNICIPALITIES:
        for year, level in zip(YEARS, muni.levels_eur):
            shares[muni.number, year] = round(cents(level) * rng.uniform(0.97, 1.03))

    # Oulu 2020-2024: "noin 24 017 000 euroa" etc., rounded to the thousand.
    for year, euros in zip(YEARS[1:], muni_levels("564")[1:]):
        shares["564", year] = cents(euros) + rng.randint(-40_000, 40_000)
    # Muhos 2021 and 2024, to the cent: "735 121,05 euroa", "536 811,14 euroa".
    shares["494", 2021] = cents("735121.05")
    shares["494", 2024] = cents("536811.14")
    # Tyrnävä 2021-2024, to the euro: "290 818 euroa" ...
    for year, euros in ((2021, 290_818), (2022, 246_869), (2023, 243_957), (2024, 223_580)):
        shares["859", year] = cents(euros) + rng.randint(-40, 40)
    # Ii: 518 628 euros in 2024, "vain 11 000 euroa vähemmän" than 2021 (to the thousand),
    # and 2022 "noin 100 000 euroa" below 2021 (to the hundred thousand).
    shares["139", 2024] = cents("518628.00")
    shares["139", 2021] = shares["139", 2024] + cents(11_000) + rng.randint(-40_000, 40_000)
    shares["139", 2022] = shares["139", 2021] - cents(100_000) + rng.randint(-3_000_000, 3_000_000)
    return shares


def muni_levels(number: str) -> tuple[int, ...]:
    """The yearly levels of one municipality by its kunta_nro."""
    return next(m.levels_eur for m in MUNICIPALITIES if m.number == number)


# --- splitting exact cents -------------------------------------------------------------------


def split(total: int, weights: list[int]) -> list[int]:
    """Split an integer total by integer weights (largest remainder): the parts sum to total."""
    denominator = sum(weights)
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    parts = [magnitude * w // denominator for w in weights]
    remainders = [magnitude * w % denominator for w in weights]
    # Leftover units go to the largest remainders; ties by position keep it deterministic.
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[: magnitude - sum(parts)]:
        parts[i] += 1
    return [sign * p for p in parts]


def paid_for_share(share: int, rate: Decimal) -> int:
    """Maksettu (paid, cents) whose rate x paid rounds half up to exactly this kuntaosuus."""
    paid = int((Decimal(share) / rate).to_integral_value(ROUND_HALF_UP))
    for candidate in (paid, paid - 1, paid + 1, paid - 2, paid + 2):
        if share_of(candidate, rate) == share:
            return candidate
    raise AssertionError(f"no paid amount gives share {share} at rate {rate}")


def share_of(paid: int, rate: Decimal) -> int:
    """Kuntaosuus in cents: rate x paid, rounded half up (away from zero) to the cent."""
    return int((Decimal(paid) * rate).to_integral_value(ROUND_HALF_UP))


# --- one municipality ----------------------------------------------------------------------------


def monthly_weights(rng: random.Random, muni: Municipality, year: int, yearly: dict) -> list[int]:
    """Weights of the 12 billing months: season, a trend toward the next year, some noise."""
    i = YEARS.index(year)
    current = yearly[muni.number, year]
    previous = yearly[muni.number, YEARS[i - 1]] if i > 0 else current
    following = yearly[muni.number, YEARS[i + 1]] if i + 1 < len(YEARS) else current
    slope = max(-0.2, min(0.2, (following - previous) / (2 * current)))
    shape = OULU_2024_SHAPE if (muni.number, year) == ("564", 2024) else (1.0,) * 12
    weights = []
    for m in range(12):
        trend = 1 + slope * (m - 5.5) / 11
        weights.append(round(1_000_000 * SEASON[m] * shape[m] * trend * rng.uniform(0.985, 1.015)))
    return weights


def class_figures(
    rng: random.Random, muni: Municipality, year: int, share: int, refund: int | None
) -> list[Figures]:
    """The three day-class rows of a month whose kuntaosuus is ``share`` cents.

    ``refund`` is the index of a day class whose recoveries exceed its payments this month.
    """
    weights = [max(1, w * 100 + rng.randint(-150, 150)) for w in muni.class_mix]
    refund_cents = 0
    if refund is not None:
        refund_cents = -rng.randint(6_000, max(6_001, min(90_000, share // 20)))
        weights[refund] = 0
    shares = split(share - refund_cents, weights)
    if refund is not None:
        shares[refund] = refund_cents
    # Days per recipient in the month, shared by the classes so the series stays smooth.
    days_per_recipient = 19.4 * rng.uniform(0.99, 1.01)
    rows = []
    for (_, rate), class_share, is_refund in zip(
        DAY_CLASSES, shares, (i == refund for i in range(3))
    ):
        paid = paid_for_share(class_share, rate)
        days = round(paid / (CENTS_PER_DAY[year] * rng.uniform(0.995, 1.005)))
        if is_refund:
            # Refunds concern a few persons; small municipalities' ones go to 199.
            recipients = rng.randint(1, 2) if muni.levels_eur[0] < 100_000 else rng.randint(4, 6)
        else:
            recipients = max(1, round(days / days_per_recipient))
        rows.append(Figures(recipients, days, paid, class_share))
    return rows


def breakdown(
    total: Figures, groups: tuple[tuple[str, int], ...], rng: random.Random
) -> list[Figures]:
    """Split a month's total into groups (sex or age): recipients by weight, the rest pro rata."""
    weights = [max(0, round(w * rng.uniform(0.9, 1.1))) for _, w in groups]
    recipients = split(total.recipients, weights)
    return [
        Figures(r, d, p, s)
        for r, d, p, s in zip(
            recipients,
            split(total.days, recipients),
            split(total.paid, recipients),
            split(total.share, recipients),
        )
    ]


def pick_refunds(rng: random.Random) -> dict[tuple[str, int, int], int]:
    """A few (kunta_nro, year, month) -> day-class index where refunds exceed payments."""
    refunds = {}
    for number in ("436", "072", "425", "859", "425"):
        refunds[number, rng.choice(YEARS), rng.randint(1, 12)] = rng.randrange(3)
    return refunds


# --- rows of the file ----------------------------------------------------------------------------


def money(c: int | None) -> str:
    """Cents as Kela writes euros: '-1410.53'; None as the empty string."""
    if c is None:
        return ""
    sign = "-" if c < 0 else ""
    return f"{sign}{abs(c) // 100}.{abs(c) % 100:02d}"


def row(
    kind: str,
    year: int,
    month: int,
    number: str,
    name: str,
    age: str,
    sex: str,
    day_class: str,
    f: Figures,
) -> tuple[str, ...]:
    """One CSV row in Kela's column order."""
    return (
        kind,
        str(month),
        f"{year}{month:02d}",
        str(year),
        number,
        name,
        age,
        sex,
        day_class,
        "" if f.recipients is None else str(f.recipients),
        str(f.days),
        money(f.paid),
        money(f.share),
    )


Keyed = tuple[tuple[int, int, str, int], tuple[str, ...]]  # (sort key, CSV row)
KINDS = {"Kuukausi": 0, "Vuosikertymä": 1, "Vuosi": 2}  # file order of the aikatyypit


def keyed_row(kind: str, ym: int, number: str, name: str, order: int, key, f: Figures) -> Keyed:
    """A CSV row with the key that sorts the file: aikatyyppi, month, municipality, breakdown."""
    return (KINDS[kind], ym, number, order), row(kind, ym // 100, ym % 100, number, name, *key, f)


def month_breakdowns(rng: random.Random, classes: list[Figures], total: Figures) -> list:
    """(ikäryhmä, sukupuoli, day class) -> figures for every breakdown row of a month."""
    return (
        [((TOTAL, TOTAL, name), f) for (name, _), f in zip(DAY_CLASSES, classes)]
        + [((TOTAL, sex, TOTAL), f) for (sex, _), f in zip(SEXES, breakdown(total, SEXES, rng))]
        + [
            ((age, TOTAL, TOTAL), f)
            for (age, _), f in zip(AGE_GROUPS, breakdown(total, AGE_GROUPS, rng))
        ]
    )


def municipality_rows(
    rng: random.Random, muni: Municipality, yearly: dict, refunds: dict, moved: dict
) -> list[Keyed]:
    """All rows of one municipality; breakdown rows under 4 recipients go into ``moved``."""
    out: list[Keyed] = []
    this = (muni.number, muni.name)
    for year in YEARS:
        monthly = split(yearly[muni.number, year], monthly_weights(rng, muni, year, yearly))
        cumulative = [ZERO] * 4
        for month, share in enumerate(monthly, start=1):
            ym = year * 100 + month
            classes = class_figures(rng, muni, year, share, refunds.get((muni.number, year, month)))
            total = sum(classes, ZERO)
            out.append(keyed_row("Kuukausi", ym, *this, 3, (TOTAL, TOTAL, TOTAL), total))
            for order, (key, f) in enumerate(month_breakdowns(rng, classes, total)):
                if f.recipients == 0:
                    continue  # nobody in the group: Kela prints no row
                if f.recipients < MIN_RECIPIENTS:
                    moved[ym, key] = moved.get((ym, key), ZERO) + f
                    continue
                out.append(keyed_row("Kuukausi", ym, *this, order + (order >= 3), key, f))
            # Year to date and, in December, the year: day classes and total, persons unknown.
            cumulative = [
                c + Figures(None, f.days, f.paid, f.share)
                for c, f in zip(cumulative, classes + [total])
            ]
            names = [n for n, _ in DAY_CLASSES] + [TOTAL]
            for order, (day_class, f) in enumerate(zip(names, cumulative)):
                key = (TOTAL, TOTAL, day_class)
                out.append(keyed_row("Vuosikertymä", ym, *this, order, key, f))
                if month == 12:
                    out.append(keyed_row("Vuosi", ym, *this, order, key, f))
    return out


def unknown_rows(moved: dict) -> list[Keyed]:
    """199 Tuntematon rows: the moved small breakdown rows summed by month and breakdown."""
    order = {
        key: i
        for i, key in enumerate(
            [(TOTAL, TOTAL, n) for n, _ in DAY_CLASSES]
            + [(TOTAL, s, TOTAL) for s, _ in SEXES]
            + [(a, TOTAL, TOTAL) for a, _ in AGE_GROUPS]
        )
    }
    return [
        keyed_row("Kuukausi", ym, *UNKNOWN, order[key], key, f) for (ym, key), f in moved.items()
    ]


def check_calibration(rows: list[tuple[str, ...]], yearly: dict) -> None:
    """Self-check: each year's monthly totals sum to the calibrated figure and the Vuosi row."""
    sums: dict[tuple[str, int], int] = {}
    vuosi: dict[tuple[str, int], int] = {}
    for r in rows:
        if r[6:9] != (TOTAL, TOTAL, TOTAL) or r[4] == UNKNOWN[0]:
            continue
        key = (r[4], int(r[3]))
        if r[0] == "Kuukausi":
            sums[key] = sums.get(key, 0) + cents(r[12])
        elif r[0] == "Vuosi":
            vuosi[key] = cents(r[12])
    if not sums == yearly == vuosi:
        raise RuntimeError("kela sample: the yearly sums drifted from the calibration")


def generate_kela(out_path: Path, seed: int) -> None:
    """Write the synthetic Kela kuntaosuus CSV; the same seed gives the same bytes."""
    rng = random.Random(seed)
    yearly = yearly_shares(rng)
    refunds = pick_refunds(rng)
    moved: dict = {}
    keyed: list[Keyed] = []
    for muni in MUNICIPALITIES:
        keyed += municipality_rows(rng, muni, yearly, refunds, moved)
    keyed += unknown_rows(moved)
    rows = [r for _, r in sorted(keyed, key=lambda kr: kr[0])]
    check_calibration(rows, yearly)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with open(out_path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
