"""Writes synthetic StatFin PX files: tables 12r5 and 12u4 (SYNTHETIC DATA).

Areas: the eight pilot municipalities, the Pohjois-Pohjanmaa region (MK17) and the whole
country (SSS). Municipal counts are the world's (so 12r5 agrees with TEM 1208, 12u4's
unemployed with 1208's); the region is the pilot area plus a rest of the region sized to the
ELY centre's bulletins (context_figures.csv); the country is a multiple of the region.
12r5 is written as an older file (iso-8859-1, ``Kuukausi``/``Tiedot``, long TABLEID), 12u4
as a current one (utf-8, ``timeperiod_m``/``contentscode``, short TABLEID), so both naming
generations are bundled.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from .px import write_px
from .world import REFERENCE_DIR, World, apportion, interpolate, key, round_half_up

REGION = ("MK17", "Pohjois-Pohjanmaa")
COUNTRY = ("SSS", "KOKO MAA")
SEXES = [("SSS", "Yhteensä"), ("1", "Miehet"), ("2", "Naiset")]
AGES = ["15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59",
        "60-64", "65-"]
AGE_WEIGHTS = [3, 9, 11, 11, 11, 10, 10, 10, 11, 12, 2]
SERVICES = [  # 12u4 service contents; PALVELUISSAYHTEENSA is their sum
    ("TVKOULUTUSLOP", "Työvoimakoulutuksessa laskentapäivänä (lkm.)", 22),
    ("VALMENNUSLOP", "Valmennuksessa laskentapäivänä (lkm.)", 15),
    ("TYOLLISTETTYLOP", "Työllistettynä laskentapäivänä (lkm.)", 20),
    ("KOKEILULOP", "Työkokeilussa laskentapäivänä (lkm.)", 8),
    ("VUORVAPLOP", "Vuorottelijana laskentapäivänä (lkm.)", 1),
    ("KUNTTYOLOP", "Kuntouttavassa työtoiminnassa laskentapäivänä (lkm.)", 14),
    ("OMAEHTLOP", "Omaehtoisessa opiskelussa laskentapäivänä (lkm.)", 20),
]
CONTENTS_12R5 = [
    ("HAKIJALOPUSSA", "Työnhakijoita laskentapäivänä (lkm.)"),
    ("TYOTTOMATLOPUSSA", "Työttömät työnhakijat laskentapäivänä (lkm.)"),
    ("TYOVOIMATK", "TK:n Työssäkäyntitilaston työvoima (lkm.)"),
    ("TYOTOSUUS", "Työttömien työnhakijoiden %-osuus työvoimasta (%)"),
    ("PITKAAIKAISTYOTTOMAT", "Pitkäaikaistyöttömät (lkm.)"),
    ("AVPAIKATLOPUSSA", "Avoimet työpaikat kuukauden laskentapäivänä (lkm.)"),
    # StatFin's own code and label for the under-25s (real 12r5 files carry it).
    ("TYOTTOMAT25", "Alle 25-v. työttömät työnhakijat (lkm.)"),
]
SYNTHETIC = "Huom: synteettinen esimerkkiaineisto, ei Tilastokeskuksen julkaisemaa tietoa."


# StatFin's title of table 12r5, as its PX files state it (the benchmark set uses it too).
TITLE_12R5 = ("Työttömät työnhakijat eri ryhmissä, palveluissa olevat ja avoimet työpaikat "
              "kuukauden lopussa muuttujina Alue, Kuukausi ja Tiedot")

def _context_anchors() -> dict[str, dict[str, float]]:
    """MK17 figures of the ELY bulletins: {indicator: {month: value}}."""
    out: dict[str, dict[str, float]] = {}
    with open(REFERENCE_DIR / "context_figures.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["area"] == "MK17":
                out.setdefault(row["indicator"], {})[row["period"]] = float(row["value"])
    return out


class Areas:
    """Per area and month: the 12r5 counts, and 12u4's unemployed and in-services."""

    def __init__(self, world: World, seed: int):
        self.world = world
        self.rng = random.Random(seed + 12)
        self.rows: dict[tuple[str, tuple[int, int]], dict[str, int]] = {}
        for code in world.codes:
            for ym in world.months:
                m = world.at(code, ym)
                self.rows[("KU" + code, ym)] = {
                    "jobseekers": m.jobseekers, "unemployed": m.unemployed,
                    "labour_force": m.labour_force, "ltu": m.long_term_unemployed,
                    "vacancies": m.vacancies, "in_services": m.in_services,
                    "under25": round(m.unemployed * 0.12)}
        self._region()
        self._country()

    def _sum_pilot(self, ym, field: str) -> int:
        return sum(self.rows[("KU" + c, ym)][field] for c in self.world.codes)

    def _region(self) -> None:
        anchors = _context_anchors()
        ratios = {}
        for field, ind in (("unemployed", "unemployed"), ("ltu", "long_term_unemployed")):
            ratios[field] = {}
            for month, value in anchors.get(ind, {}).items():
                ym = (int(month[:4]), int(month[5:]))
                ratios[field][month] = value / self._sum_pilot(ym, field)
        for ym in self.world.months:
            r_u = interpolate(ratios["unemployed"], ym)
            r_l = interpolate(ratios["ltu"], ym)
            exact = {k for k in ratios["unemployed"]}
            noise = 1.0 if key(ym) in exact else 1 + self.rng.gauss(0, 0.004)
            u = round(self._sum_pilot(ym, "unemployed") * r_u * noise)
            ltu = round(self._sum_pilot(ym, "ltu") * r_l
                        * (1.0 if key(ym) in ratios["ltu"] else 1 + self.rng.gauss(0, 0.004)))
            lf = round(self._sum_pilot(ym, "labour_force") * 1.62)
            self.rows[(REGION[0], ym)] = {
                "jobseekers": round(u * 1.78), "unemployed": u, "labour_force": lf, "ltu": ltu,
                "vacancies": round(self._sum_pilot(ym, "vacancies") * 1.7),
                "in_services": round(self._sum_pilot(ym, "in_services") * r_u),
                "under25": round(u * 0.12)}

    def _country(self) -> None:
        for ym in self.world.months:
            reg = self.rows[(REGION[0], ym)]
            self.rows[(COUNTRY[0], ym)] = {k: round(v * 13.6) for k, v in reg.items()}

    def codes(self) -> list[tuple[str, str]]:
        return [COUNTRY, REGION] + [("KU" + c, self.world.names[c]) for c in self.world.codes]


def _month_codes(world: World) -> list[str]:
    return [f"{y}M{m:02d}" for y, m in world.months]


def write_12r5(path: Path, world: World, seed: int) -> int:
    areas = Areas(world, seed)
    codes = areas.codes()

    def data():
        for code, _ in codes:
            for ym in world.months:
                r = areas.rows[(code, ym)]
                rate = round_half_up(100 * r["unemployed"] / r["labour_force"], 1)
                yield from (r["jobseekers"], r["unemployed"], r["labour_force"], rate, r["ltu"],
                            r["vacancies"], r["under25"])

    months = _month_codes(world)
    return write_px(
        path, table_id="statfin_tyonv_pxt_12r5", matrix="001_12r5_2024m12",
        title=TITLE_12R5,
        contents="Työttömät työnhakijat",
        variables=[("Alue", [c for c, _ in codes], [n for _, n in codes]),
                   ("Kuukausi", months, months),
                   ("Tiedot", [c for c, _ in CONTENTS_12R5], [lab for _, lab in CONTENTS_12R5])],
        stub_names=["Alue", "Kuukausi"], heading_names=["Tiedot"], data=data(),
        codepage="iso-8859-1",
        translations={"en": {"title": "Unemployed jobseekers in groups, service participants "
                                      "and vacancies at the end of the month",
                             "variables": {"Alue": "Region", "Kuukausi": "Month",
                                           "Tiedot": "Information"}},
                      "sv": {"variables": {"Alue": "Område", "Kuukausi": "Månad",
                                           "Tiedot": "Uppgifter"}}},
        units={"TYOTOSUUS": "%"}, precision={"TYOTOSUUS": 1},
        note="... = Tieto on salassapitosäännön alainen. " + SYNTHETIC,
        last_updated="20250120 08:00",
    )


def _split_by_sex_age(total: int, rng: random.Random, sex_share: float) -> dict:
    """(sex, age) -> count, consistent: SSS rows are sums of the parts."""
    men, women = apportion(total, [sex_share, 1 - sex_share])
    out = {}
    for sex, n in (("1", men), ("2", women)):
        weights = [w * (1 + rng.gauss(0, 0.05)) for w in AGE_WEIGHTS]
        for age, part in zip(AGES, apportion(n, weights)):
            out[(sex, age)] = part
    for age in AGES:
        out[("SSS", age)] = out[("1", age)] + out[("2", age)]
    for sex in ("SSS", "1", "2"):
        out[(sex, "SSS")] = sum(out[(sex, a)] for a in AGES)
    return out


def write_12u4(path: Path, world: World, seed: int) -> int:
    areas = Areas(world, seed)
    rng = random.Random(seed + 124)
    codes = areas.codes()
    contents = ([("AKTASTE", "Aktivointiaste (%)"),
                 ("TYOTTOMATLOPUSSA", "Työttömät työnhakijat laskentapäivänä (lkm.)"),
                 ("PALVELUISSAYHTEENSA", "Palveluissa yhteensä laskentapäivänä (lkm.)")]
                + [(c, lab) for c, lab, _ in SERVICES])
    sexes = [s for s, _ in SEXES]
    ages = ["SSS", *AGES]
    months = _month_codes(world)
    small = {"KU072", "KU436"}  # TEM masks small breakdown cells of the smallest places

    def data():
        for code, _ in codes:
            per_month = []
            for ym in world.months:
                r = areas.rows[(code, ym)]
                u = _split_by_sex_age(r["unemployed"], rng, 0.56)
                parts = apportion(r["in_services"], [w for *_x, w in SERVICES])
                services = [_split_by_sex_age(p, rng, 0.5) for p in parts]
                per_month.append((u, services))
            for sex in sexes:
                for age in ages:
                    for u, services in per_month:
                        uu = u[(sex, age)]
                        parts = [s[(sex, age)] for s in services]
                        ss = sum(parts)
                        total_cell = sex == "SSS" and age == "SSS"
                        if code in small and not total_cell and uu + ss < 5:
                            yield from ["..."] * (3 + len(parts))
                            continue
                        rate = round_half_up(100 * ss / (uu + ss), 1) if uu + ss else ".."
                        yield from (rate, uu, ss, *parts)

    return write_px(
        path, table_id="12u4", matrix="001_12u4_2024m12",
        title="Aktivointiaste ja palveluissa olevat laskentapäivänä (4250) muuttujina Alue, "
              "Sukupuoli, Ikäryhmät, Kuukausi ja Tiedot",
        contents="Aktivointiaste ja palveluissa olevat",
        variables=[("Alue", [c for c, _ in codes], [n for _, n in codes]),
                   ("Sukupuoli", sexes, [n for _, n in SEXES]),
                   ("Ikäryhmät", ages, ["Yhteensä", *AGES]),
                   ("timeperiod_m", months, months),
                   ("contentscode", [c for c, _ in contents], [lab for _, lab in contents])],
        stub_names=["Alue", "Sukupuoli", "Ikäryhmät", "timeperiod_m"],
        heading_names=["contentscode"], data=data(), codepage="utf-8",
        translations={"en": {"title": "Activation rate and persons in services on the count "
                                      "day (4250)",
                             "variables": {"Alue": "Region", "Sukupuoli": "Sex",
                                           "Ikäryhmät": "Age groups", "timeperiod_m": "Month",
                                           "contentscode": "Information"}}},
        units={"AKTASTE": "%"}, precision={"AKTASTE": 1},
        note="... = Tieto on salassapitosäännön alainen. " + SYNTHETIC,
        last_updated="20250120 08:00",
    )
