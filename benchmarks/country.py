"""A seeded whole-country raw data set in the real layouts (SYNTHETIC), for benchmarks.

``python -m benchmarks.country --out DIR [--municipalities N] [--first-year Y] [--last-year Y]``
writes what a user would drop into ``data/raw/`` for the whole of Finland:

- ``statfin/statfin_tyonv_pxt_12r5.px`` — StatFin 12r5, every municipality (``KU005`` …),
  the 19 regions (``MK01`` …) and the whole country (``SSS``), seven contents, by month;
- ``statfin/12u4_aktivointiaste.px`` — StatFin 12u4 by area × sex (3) × age group (12) ×
  month × content (10): 2006M01–2025M12 for the whole country is ≈ 28 M cells, ≈ 80 MB;
- ``tem/1208_tyonhakijat.csv``, ``tem/1356_virrat.csv``, ``tem/4253_aktivointiaste.csv``,
  ``tem/ttv15_paattymissyyt.csv`` — the TEM report exports for every municipality (CSV, as
  the reporting service exports them);
- ``kela/data.csv`` — Kela's municipal share of the labour market subsidy for every
  municipality, billing months of the requested years that fall in 2019–2024.

Kela's years are clamped to 2019–2024 (``KELA_YEARS``, ``kela_years()``), the years the
sample generator's Kela rows are calibrated for (``pipeline.sample.kela``: its YEARS and
benefit levels). They are all under the kuntaosuus rules of 2015–2024 (the municipality pays
50 % of the subsidy after 300 days, 70 % after 1000). 2015–2018 were under the same rules,
but the generator has no benefit levels for them; from 2025 the rules no longer apply (the
2025 funding reform changed what municipalities pay). So ``--first-year 2006 --last-year
2025`` writes Kela rows for 2019–2024, ``--first-year 2024 --last-year 2024`` for 2024 only,
and a range that misses 2019–2024 writes no Kela file (Kela's reader refuses a file without
data rows).

The municipalities are the real ones (Statistics Finland codes and names, grouped by region
as of 2021–2025), so the employment areas of ``pipeline.areas`` find their members. The
numbers are invented but hang together the way the pipeline's checks expect: long-term
unemployed ≤ unemployed ≤ jobseekers; TEM 1208 and StatFin 12r5 agree; 4253's long-term
unemployed are 1208's; the published rates are the rounded ratios of the counts; StatFin's
sex and age-group totals (``SSS``) are the sums of their parts; a region is the sum of its
municipalities and the country the sum of all; inflows into k months' unemployment stay
below the spells started k months before; Kela's monthly total is the sum of its day
classes. Small municipalities' small sex × age cells are confidential (``"..."``), as TEM
masks them.

``municipalities`` and the years make it small enough for the test suite. The same seed
writes the same bytes.

Like ``pipeline.sample`` this imports nothing from the pipeline but the sample generator's
(``pipeline.sample``): ``write_px``, StatFin's contents, sexes and age groups, the TEM report
titles, Kela's row helpers.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.sample import kela as kela_sample
from pipeline.sample import statfin as statfin_sample
from pipeline.sample import tem as tem_sample
from pipeline.sample.px import write_px
from pipeline.sample.statfin import AGES, CONTENTS_12R5, SERVICES, SEXES, TITLE_12R5

DEFAULT_SEED = 20250101
FIRST_YEAR, LAST_YEAR = 2006, 2025
# The years Kela rows can be written for: those the sample generator's Kela rules and
# benefit levels are calibrated for (pipeline.sample.kela: YEARS, CENTS_PER_DAY), 2019–2024,
# all under the 300/500/1000-day kuntaosuus rules (50 %, 50 %, 70 %) that ended with 2024.
KELA_YEARS = kela_sample.YEARS


def kela_years(first_year: int, last_year: int) -> tuple[int, ...]:
    """The billing years of the Kela file for a data set of ``first_year``–``last_year``: the
    requested years that are KELA_YEARS (2019–2024), none if they do not meet."""
    return tuple(y for y in KELA_YEARS if first_year <= y <= last_year)

# Regions (maakunnat) and their municipalities: "code name" pairs, as of 2021–2025.
REGIONS: list[tuple[str, str, str]] = [
    ("MK01", "Uusimaa", "018 Askola, 049 Espoo, 078 Hanko, 091 Helsinki, 092 Vantaa, "
     "106 Hyvinkää, 149 Inkoo, 186 Järvenpää, 224 Karkkila, 235 Kauniainen, 245 Kerava, "
     "257 Kirkkonummi, 407 Lapinjärvi, 434 Loviisa, 444 Lohja, 504 Myrskylä, 505 Mäntsälä, "
     "543 Nurmijärvi, 611 Pornainen, 616 Pukkila, 638 Porvoo, 710 Raasepori, 753 Sipoo, "
     "755 Siuntio, 858 Tuusula, 927 Vihti"),
    ("MK02", "Varsinais-Suomi", "019 Aura, 202 Kaarina, 284 Koski Tl, 304 Kustavi, "
     "322 Kemiönsaari, 400 Laitila, 423 Lieto, 430 Loimaa, 445 Parainen, 480 Marttila, "
     "481 Masku, 503 Mynämäki, 529 Naantali, 538 Nousiainen, 561 Oripää, 577 Paimio, "
     "631 Pyhäranta, 636 Pöytyä, 680 Raisio, 704 Rusko, 734 Salo, 738 Sauvo, 761 Somero, "
     "833 Taivassalo, 853 Turku, 895 Uusikaupunki, 918 Vehmaa"),
    ("MK04", "Satakunta", "050 Eura, 051 Eurajoki, 079 Harjavalta, 102 Huittinen, "
     "181 Jämijärvi, 214 Kankaanpää, 230 Karvia, 271 Kokemäki, 484 Merikarvia, 531 Nakkila, "
     "608 Pomarkku, 609 Pori, 684 Rauma, 747 Siikainen, 783 Säkylä, 886 Ulvila"),
    ("MK05", "Kanta-Häme", "061 Forssa, 082 Hattula, 086 Hausjärvi, 103 Humppila, "
     "109 Hämeenlinna, 165 Janakkala, 169 Jokioinen, 433 Loppi, 694 Riihimäki, 834 Tammela, "
     "981 Ypäjä"),
    ("MK06", "Pirkanmaa", "020 Akaa, 108 Hämeenkyrö, 143 Ikaalinen, 177 Juupajoki, "
     "211 Kangasala, 250 Kihniö, 291 Kuhmoinen, 418 Lempäälä, 508 Mänttä-Vilppula, 536 Nokia, "
     "562 Orivesi, 581 Parkano, 604 Pirkkala, 619 Punkalaidun, 635 Pälkäne, 702 Ruovesi, "
     "790 Sastamala, 837 Tampere, 887 Urjala, 908 Valkeakoski, 922 Vesilahti, 936 Virrat, "
     "980 Ylöjärvi"),
    ("MK07", "Päijät-Häme", "016 Asikkala, 081 Hartola, 098 Hollola, 111 Heinola, "
     "142 Iitti, 316 Kärkölä, 398 Lahti, 560 Orimattila, 576 Padasjoki, 781 Sysmä"),
    ("MK08", "Kymenlaakso", "075 Hamina, 285 Kotka, 286 Kouvola, 489 Miehikkälä, "
     "624 Pyhtää, 935 Virolahti"),
    ("MK09", "Etelä-Karjala", "153 Imatra, 405 Lappeenranta, 416 Lemi, 441 Luumäki, "
     "580 Parikkala, 689 Rautjärvi, 700 Ruokolahti, 739 Savitaipale, 831 Taipalsaari"),
    ("MK10", "Etelä-Savo", "046 Enonkoski, 097 Hirvensalmi, 178 Juva, 213 Kangasniemi, "
     "491 Mikkeli, 507 Mäntyharju, 588 Pertunmaa, 593 Pieksämäki, 623 Puumala, "
     "681 Rantasalmi, 740 Savonlinna, 768 Sulkava"),
    ("MK11", "Pohjois-Savo", "140 Iisalmi, 171 Joroinen, 204 Kaavi, 239 Keitele, "
     "263 Kiuruvesi, 297 Kuopio, 402 Lapinlahti, 420 Leppävirta, 595 Pielavesi, "
     "686 Rautalampi, 687 Rautavaara, 749 Siilinjärvi, 762 Sonkajärvi, 778 Suonenjoki, "
     "844 Tervo, 857 Tuusniemi, 915 Varkaus, 921 Vesanto, 925 Vieremä"),
    ("MK12", "Pohjois-Karjala", "090 Heinävesi, 146 Ilomantsi, 167 Joensuu, 176 Juuka, "
     "260 Kitee, 276 Kontiolahti, 309 Outokumpu, 422 Lieksa, 426 Liperi, 541 Nurmes, "
     "607 Polvijärvi, 707 Rääkkylä, 848 Tohmajärvi"),
    ("MK13", "Keski-Suomi", "077 Hankasalmi, 172 Joutsa, 179 Jyväskylä, 182 Jämsä, "
     "216 Kannonkoski, 226 Karstula, 249 Keuruu, 256 Kinnula, 265 Kivijärvi, 275 Konnevesi, "
     "312 Kyyjärvi, 410 Laukaa, 435 Luhanka, 495 Multia, 500 Muurame, 592 Petäjävesi, "
     "601 Pihtipudas, 729 Saarijärvi, 850 Toivakka, 892 Uurainen, 931 Viitasaari, "
     "992 Äänekoski"),
    ("MK14", "Etelä-Pohjanmaa", "005 Alajärvi, 010 Alavus, 052 Evijärvi, 145 Ilmajoki, "
     "151 Isojoki, 218 Karijoki, 232 Kauhajoki, 233 Kauhava, 300 Kuortane, 301 Kurikka, "
     "403 Lappajärvi, 408 Lapua, 743 Seinäjoki, 759 Soini, 846 Teuva, 934 Vimpeli, "
     "989 Ähtäri"),
    ("MK15", "Pohjanmaa", "152 Isokyrö, 231 Kaskinen, 280 Korsnäs, 287 Kristiinankaupunki, "
     "288 Kruunupyy, 399 Laihia, 440 Luoto, 475 Maalahti, 499 Mustasaari, 545 Närpiö, "
     "598 Pietarsaari, 599 Pedersöre, 893 Uusikaarlepyy, 905 Vaasa, 946 Vöyri"),
    ("MK16", "Keski-Pohjanmaa", "074 Halsua, 217 Kannus, 236 Kaustinen, 272 Kokkola, "
     "421 Lestijärvi, 584 Perho, 849 Toholampi, 924 Veteli"),
    ("MK17", "Pohjois-Pohjanmaa", "009 Alavieska, 069 Haapajärvi, 071 Haapavesi, "
     "072 Hailuoto, 139 Ii, 208 Kalajoki, 244 Kempele, 305 Kuusamo, 317 Kärsämäki, "
     "425 Liminka, 436 Lumijoki, 483 Merijärvi, 494 Muhos, 535 Nivala, 563 Oulainen, "
     "564 Oulu, 615 Pudasjärvi, 625 Pyhäjoki, 626 Pyhäjärvi, 630 Pyhäntä, 678 Raahe, "
     "691 Reisjärvi, 746 Sievi, 748 Siikajoki, 785 Vaala, 791 Siikalatva, 832 Taivalkoski, "
     "859 Tyrnävä, 889 Utajärvi, 977 Ylivieska"),
    ("MK18", "Kainuu", "105 Hyrynsalmi, 205 Kajaani, 290 Kuhmo, 578 Paltamo, 620 Puolanka, "
     "697 Ristijärvi, 765 Sotkamo, 777 Suomussalmi"),
    ("MK19", "Lappi", "047 Enontekiö, 148 Inari, 240 Kemi, 241 Keminmaa, 261 Kittilä, "
     "273 Kolari, 320 Kemijärvi, 498 Muonio, 583 Pelkosenniemi, 614 Posio, 683 Ranua, "
     "698 Rovaniemi, 732 Salla, 742 Savukoski, 751 Simo, 758 Sodankylä, 845 Tervola, "
     "851 Tornio, 854 Pello, 890 Utsjoki, 976 Ylitornio"),
    ("MK21", "Ahvenanmaa", "035 Brändö, 043 Eckerö, 060 Finström, 062 Föglö, 065 Geta, "
     "076 Hammarland, 170 Jomala, 295 Kumlinge, 318 Kökar, 417 Lemland, 438 Lumparland, "
     "478 Maarianhamina, 736 Saltvik, 766 Sottunga, 771 Sund, 941 Vårdö"),
]

# Labour force of the larger municipalities (roughly; the rest are drawn); the pilot
# municipalities as in pipeline.sample.world.
LABOUR_FORCE = {
    "091": 360000, "049": 165000, "837": 130000, "092": 130000, "564": 100560,
    "853": 100000, "179": 72000, "398": 60000, "297": 60000, "609": 40000, "286": 38000,
    "167": 38000, "405": 36000, "905": 35000, "109": 33000, "743": 33000, "698": 32000,
    "638": 26000, "285": 25000, "734": 25000, "491": 24000, "272": 24000, "106": 24000,
    "444": 23000, "186": 23000, "543": 22000, "257": 20000, "858": 20000, "684": 19000,
    "245": 19000, "211": 17000, "202": 17000, "536": 17000, "980": 17000, "205": 16000,
    "244": 9170, "494": 3890, "139": 4310, "425": 4820, "436": 890, "859": 3010, "072": 420,
}
# Regions where unemployment runs higher or lower than the country's.
REGION_FACTOR = {"MK09": 1.15, "MK10": 1.15, "MK11": 1.1, "MK12": 1.3, "MK18": 1.25,
                 "MK19": 1.2, "MK01": 0.85, "MK14": 0.8, "MK15": 0.8, "MK21": 0.45}
# The whole country's registered unemployment rate (%), by year; monthly by interpolation.
NATIONAL_RATE = {2005: 9.0, 2006: 8.5, 2007: 7.5, 2008: 7.0, 2009: 9.5, 2010: 10.0,
                 2011: 9.5, 2012: 10.0, 2013: 11.5, 2014: 12.5, 2015: 13.5, 2016: 13.0,
                 2017: 11.5, 2018: 10.0, 2019: 9.0, 2020: 12.5, 2021: 11.0, 2022: 9.0,
                 2023: 9.5, 2024: 11.5, 2025: 13.0, 2026: 12.5}
LTU_SHARE = {2005: 0.22, 2006: 0.22, 2010: 0.24, 2016: 0.35, 2019: 0.30, 2021: 0.40,
             2023: 0.30, 2025: 0.33, 2026: 0.33}
SEASON = np.array([1.08, 1.06, 1.02, 0.98, 0.95, 1.02, 1.10, 1.00, 0.95, 0.94, 0.96, 1.04])

# StatFin's contents, sexes and age groups are the sample generator's (pipeline.sample.statfin):
# SEXES, AGES, SERVICES (12u4's service contents; PALVELUISSAYHTEENSA is their sum),
# CONTENTS_12R5; the age weights as an array for the numpy splits.
AGE_WEIGHTS = np.array(statfin_sample.AGE_WEIGHTS, dtype=float)
ENDING_REASONS = [("Avoimille työmarkkinoille", 24), ("Palkkatuettuun työhön", 16),
                  ("Työvoimakoulutukseen", 10), ("Muihin palveluihin", 17),
                  ("Omaehtoiseen opiskeluun", 5), ("Työvoiman ulkopuolelle", 14),
                  ("Muu tai tuntematon syy", 14)]
PILOT = ("564", "244", "494", "139", "425", "436", "859", "072")
# Oulun seudun työllisyysalue (the pilot plus Pudasjärvi, Utajärvi, Vaala): first in a
# small set, so that the pilot area and TA_OULU are whole in it.
OULU_AREA = (*PILOT, "615", "889", "785")
PILOT_MONTHS = ((2021, 3), (2024, 12))
SMALL = 1500  # municipalities with a smaller labour force have their small 12u4 cells masked
SYNTHETIC = "Huom: synteettinen vertailuaineisto (benchmark), ei julkaistua tietoa."


@dataclass(frozen=True)
class Municipality:
    code: str  # three digits
    name: str
    region: str  # MK code


def all_municipalities() -> list[Municipality]:
    out = []
    for region, _, members in REGIONS:
        for item in members.split(", "):
            code, name = item.split(" ", 1)
            out.append(Municipality(code, name, region))
    return sorted(out, key=lambda m: m.code)


def choose(n: int | None) -> list[Municipality]:
    """The first ``n`` municipalities in a fixed order: the Oulu employment area first (so a
    small set still holds the pilot area and TA_OULU), then the rest by code."""
    everyone = all_municipalities()
    order = sorted(everyone, key=lambda m: (m.code not in OULU_AREA, m.code))
    picked = order if n is None else order[:n]
    return sorted(picked, key=lambda m: m.code)


def month_list(first_year: int, last_year: int) -> list[tuple[int, int]]:
    return [(y, m) for y in range(first_year, last_year + 1) for m in range(1, 13)]


def _interpolate(anchors: dict[int, float], months: list[tuple[int, int]]) -> np.ndarray:
    years = sorted(anchors)
    x = np.array([y + (m - 1) / 12 for y, m in months])
    return np.interp(x, years, [anchors[y] for y in years])


def round_half_up(x: np.ndarray, digits: int = 1) -> np.ndarray:
    """Rounded half up like a published rate (not to even)."""
    f = 10.0 ** digits
    return np.floor(np.asarray(x) * f + 0.5 + 1e-9) / f


def apportion(total: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split integer totals (N,) by weights (N, k) into integers (N, k) that sum to the
    totals: floors, then the remainders to the largest fractions (ties by position)."""
    total = np.asarray(total, dtype=np.int64)
    w = weights / weights.sum(axis=1, keepdims=True)
    raw = total[:, None] * w
    base = np.floor(raw).astype(np.int64)
    left = total - base.sum(axis=1)
    order = np.argsort(-(raw - base), axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(w.shape[1])[None, :].repeat(len(w), 0), 1)
    return base + (ranks < left[:, None])


class Country:
    """Every count, per municipality (rows, in ``munis`` order) and month (columns)."""

    def __init__(self, munis: list[Municipality], months: list[tuple[int, int]], seed: int):
        self.munis, self.months = munis, months
        rng = np.random.default_rng(seed)
        n, t = len(munis), len(months)
        self.rng = rng
        drawn = np.clip(np.exp(rng.normal(np.log(2500), 0.8, n)), 200, 15000)
        lf0 = np.array([LABOUR_FORCE.get(m.code, d) for m, d in zip(munis, drawn)])
        trend = 1 + 0.002 * (np.arange(t) / 12)[None, :] * rng.normal(0, 1, (n, 1))
        self.labour_force = np.rint(lf0[:, None] * trend).astype(np.int64)
        factor = np.array([REGION_FACTOR.get(m.region, 1.0) for m in munis])
        factor *= np.exp(rng.normal(0, 0.25, n))
        season = SEASON[[mm - 1 for _, mm in months]]
        rate = _interpolate(NATIONAL_RATE, months)[None, :] / 100 * factor[:, None]
        noise = 1 + rng.normal(0, 0.02, (n, t))
        self.unemployed = np.rint(self.labour_force * rate * season * noise).astype(np.int64)
        self.unemployed = np.maximum(self.unemployed, 1)
        self.jobseekers = self.unemployed + np.rint(
            self.unemployed * rng.uniform(0.6, 0.9, (n, 1))).astype(np.int64)
        ltu_share = _interpolate(LTU_SHARE, months)[None, :] * rng.uniform(0.8, 1.15, (n, 1))
        self.ltu = np.minimum(np.rint(self.unemployed * ltu_share).astype(np.int64),
                              self.unemployed)
        self.in_services = np.rint(
            self.unemployed * rng.uniform(0.25, 0.4, (n, 1)) * (1 + rng.normal(0, 0.03, (n, t)))
        ).astype(np.int64).clip(0)
        self.ltu_in_services = np.rint(self.ltu * rng.uniform(0.2, 0.35, (n, 1))).astype(
            np.int64)
        self.vacancies = np.rint(self.labour_force * 0.02 / (rate / 0.1 + 0.5)
                                 * rng.uniform(0.8, 1.2, (n, t))).astype(np.int64)
        self.under25 = np.rint(self.unemployed * 0.12).astype(np.int64)
        self.spells_started = np.rint(self.unemployed * rng.uniform(0.1, 0.14, (n, 1))
                                      * noise).astype(np.int64)
        self.inflow = {}
        for k, share in ((3, 0.45), (6, 0.25), (12, 0.12)):
            before = np.concatenate([self.spells_started[:, :1].repeat(k, 1),
                                     self.spells_started[:, :-k]], axis=1)
            self.inflow[k] = np.floor(before * share * rng.uniform(0.8, 1.0, (n, t))).astype(
                np.int64)
        endings = np.rint(self.ltu * 0.06).astype(np.int64)
        weights = np.array([w for _, w in ENDING_REASONS], dtype=float)
        self.endings = apportion(endings.ravel(), weights * rng.uniform(0.7, 1.3, (n * t, 7))
                                 ).reshape(n, t, 7)

    def pilot_clients(self, i: int, j: int) -> int | None:
        m, ym = self.munis[i], self.months[j]
        if m.code in PILOT and PILOT_MONTHS[0] <= ym <= PILOT_MONTHS[1]:
            return int(self.jobseekers[i, j] * 0.55)
        return None


# --------------------------------------------------------------------------- StatFin PX

def _month_codes(months) -> list[str]:
    return [f"{y}M{m:02d}" for y, m in months]


def _areas(country: Country) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Area codes and names (country, regions, municipalities) and, per area, the 0/1 row
    of the municipalities it sums."""
    regions = [(code, name) for code, name, _ in REGIONS
               if any(m.region == code for m in country.munis)]
    areas = [statfin_sample.COUNTRY, *regions,
             *[("KU" + m.code, m.name) for m in country.munis]]
    member = np.zeros((len(areas), len(country.munis)), dtype=np.int64)
    member[0, :] = 1
    for r, (code, _) in enumerate(regions, start=1):
        member[r] = [m.region == code for m in country.munis]
    for i in range(len(country.munis)):
        member[1 + len(regions) + i, i] = 1
    return areas, member


def write_12r5(path: Path, country: Country) -> int:
    areas, member = _areas(country)
    c = country
    counts = [c.jobseekers, c.unemployed, c.labour_force, None, c.ltu, c.vacancies, c.under25]

    def data() -> Iterator[object]:
        for a in range(len(areas)):
            rows = [None if x is None else member[a] @ x for x in counts]
            rate = round_half_up(100 * rows[1] / rows[2])
            block = np.empty((len(c.months), len(counts)), dtype=object)
            for k, x in enumerate(rows):
                block[:, k] = (rate if x is None else x).tolist()
            yield from block.ravel().tolist()

    months = _month_codes(c.months)
    return write_px(
        path, table_id="statfin_tyonv_pxt_12r5", matrix=f"001_12r5_{c.months[-1][0]}m12",
        title=TITLE_12R5,
        contents="Työttömät työnhakijat",
        variables=[("Alue", [a for a, _ in areas], [n for _, n in areas]),
                   ("Kuukausi", months, months),
                   ("Tiedot", [k for k, _ in CONTENTS_12R5], [lab for _, lab in CONTENTS_12R5])],
        stub_names=["Alue", "Kuukausi"], heading_names=["Tiedot"], data=data(),
        codepage="iso-8859-1", units={"TYOTOSUUS": "%"}, precision={"TYOTOSUUS": 1},
        translations={"en": {"variables": {"Alue": "Region", "Kuukausi": "Month",
                                           "Tiedot": "Information"}}},
        note="... = Tieto on salassapitosäännön alainen. " + SYNTHETIC,
        last_updated=f"{c.months[-1][0] + 1}0120 08:00")


def _leaves(country: Country) -> tuple[np.ndarray, np.ndarray]:
    """Unemployed (N, T, 2, 11) and in services by type (N, T, 7, 2, 11), split by sex and
    age group consistently (the parts sum to the totals)."""
    c, rng = country, country.rng
    n, t = c.unemployed.shape

    def by_sex_age(total: np.ndarray, men: float) -> np.ndarray:
        flat = total.ravel()
        sexes = apportion(flat, np.tile([men, 1 - men], (flat.size, 1)))
        out = np.empty((flat.size, 2, len(AGES)), dtype=np.int64)
        for s in range(2):
            w = AGE_WEIGHTS[None, :] * rng.uniform(0.9, 1.1, (flat.size, len(AGES)))
            out[:, s] = apportion(sexes[:, s], w)
        return out.reshape(*total.shape, 2, len(AGES))

    unemployed = by_sex_age(c.unemployed, 0.56)
    types = apportion(c.in_services.ravel(),
                      np.tile([w for *_, w in SERVICES], (n * t, 1)).astype(float))
    services = by_sex_age(types.reshape(n, t, len(SERVICES)), 0.5)
    return unemployed, services


def write_12u4(path: Path, country: Country) -> int:
    c = country
    areas, member = _areas(c)
    u_leaf, s_leaf = _leaves(c)
    small = c.labour_force[:, 0] < SMALL
    n_muni = len(c.munis)
    first_muni = len(areas) - n_muni
    # As pipeline.sample.statfin.write_12u4 has them (a list local to that function).
    contents = ([("AKTASTE", "Aktivointiaste (%)"),
                 ("TYOTTOMATLOPUSSA", "Työttömät työnhakijat laskentapäivänä (lkm.)"),
                 ("PALVELUISSAYHTEENSA", "Palveluissa yhteensä laskentapäivänä (lkm.)")]
                + [(k, lab) for k, lab, _ in SERVICES])
    t = len(c.months)

    def full(leaf: np.ndarray) -> np.ndarray:
        """(..., 2, 11) leaves → (..., 3, 12) with the SSS sums first."""
        by_age = np.concatenate([leaf.sum(axis=-2, keepdims=True), leaf], axis=-2)
        return np.concatenate([by_age.sum(axis=-1, keepdims=True), by_age], axis=-1)

    def data() -> Iterator[object]:
        for a in range(len(areas)):
            rows = member[a].astype(bool)
            u = full(u_leaf[rows].sum(axis=0))  # (T, 3, 12)
            s_types = full(s_leaf[rows].sum(axis=0))  # (T, 7, 3, 12)
            s = s_types.sum(axis=1)
            cells = np.empty((3, 12, t, len(contents)), dtype=object)
            u_t = u.transpose(1, 2, 0)
            s_t = s.transpose(1, 2, 0)
            both = u_t + s_t
            rate = round_half_up(100 * s_t / np.where(both == 0, 1, both)).astype(object)
            rate[both == 0] = ".."
            cells[..., 0] = rate
            cells[..., 1] = u_t.astype(object)
            cells[..., 2] = s_t.astype(object)
            cells[..., 3:] = s_types.transpose(2, 3, 0, 1).astype(object)
            if a >= first_muni and small[a - first_muni]:
                masked = both < 5
                masked[0, 0, :] = False  # the total is always published
                cells[masked] = "..."
            yield from cells.ravel().tolist()

    months = _month_codes(c.months)
    return write_px(
        path, table_id="12u4", matrix=f"001_12u4_{c.months[-1][0]}m12",
        title="Aktivointiaste ja palveluissa olevat laskentapäivänä (4250) muuttujina Alue, "
              "Sukupuoli, Ikäryhmät, Kuukausi ja Tiedot",
        contents="Aktivointiaste ja palveluissa olevat",
        variables=[("Alue", [a for a, _ in areas], [n for _, n in areas]),
                   ("Sukupuoli", [s for s, _ in SEXES], [n for _, n in SEXES]),
                   ("Ikäryhmät", ["SSS", *AGES], ["Yhteensä", *AGES]),
                   ("timeperiod_m", months, months),
                   ("contentscode", [k for k, _ in contents], [lab for _, lab in contents])],
        stub_names=["Alue", "Sukupuoli", "Ikäryhmät", "timeperiod_m"],
        heading_names=["contentscode"], data=data(), codepage="utf-8",
        units={"AKTASTE": "%"}, precision={"AKTASTE": 1},
        note="... = Tieto on salassapitosäännön alainen. " + SYNTHETIC,
        last_updated=f"{c.months[-1][0] + 1}0120 08:00")


# --------------------------------------------------------------------------- TEM reports

def _rate(num: int, den: int) -> float | str:
    return tem_sample.rate_1dp(num, den)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")  # decimal comma
    return str(value)


def _tem_rows(country: Country, report: str) -> tuple[list[str], Iterator[list[object]]]:
    c = country
    mk = [f"{y}M{m:02d}" for y, m in c.months]
    if report == "1208":
        header = ["Alue", "Kuukausi", "Kuntakokeilun asiakkaat", "Työnhakijat",
                  "Työttömät työnhakijat", "Pitkäaikaistyöttömät"]

        def rows():
            for i, m in enumerate(c.munis):
                area = f"{m.code} {m.name}"
                for j, month in enumerate(mk):
                    clients = c.pilot_clients(i, j)
                    yield [area, month, "." if clients is None else clients,
                           int(c.jobseekers[i, j]), int(c.unemployed[i, j]), int(c.ltu[i, j])]
    elif report == "4253":
        header = ["Alue", "Kuukausi", "Pitkäaikaistyöttömien aktivointiaste (%)",
                  "Palveluissa olevat pitkäaikaistyöttömät", "Pitkäaikaistyöttömät"]

        def rows():
            for i, m in enumerate(c.munis):
                area = f"{m.code} {m.name}"
                for j, month in enumerate(mk):
                    s, ltu = int(c.ltu_in_services[i, j]), int(c.ltu[i, j])
                    yield [area, month, _rate(s, ltu + s), s, ltu]
    elif report == "1356":
        header = ["Alue", "Kuukausi", "Alkaneet työttömyysjaksot",
                  "Virta yli 3 kk työttömyyteen", "Virta yli 6 kk työttömyyteen",
                  "Virta yli 12 kk työttömyyteen"]

        def rows():
            for i, m in enumerate(c.munis):
                area = f"{m.code} {m.name}"
                for j, month in enumerate(mk):
                    yield [area, month, int(c.spells_started[i, j]), int(c.inflow[3][i, j]),
                           int(c.inflow[6][i, j]), int(c.inflow[12][i, j])]
    else:  # TTV15
        header = ["Alue", "Kuukausi", "Päättymissyy", "Päättyneet jaksot"]

        def rows():
            for i, m in enumerate(c.munis):
                area = f"{m.code} {m.name}"
                small = c.labour_force[i, 0] < SMALL
                for j, month in enumerate(mk):
                    for k, (reason, _) in enumerate(ENDING_REASONS):
                        n = int(c.endings[i, j, k])
                        yield [area, month, reason, "..." if small and 0 < n < 3 else n]
    return header, rows()


def write_tem_csv(path: Path, report: str, country: Country, encoding: str) -> None:
    """A TEM report export as CSV: title lines, the header row, data rows, footnotes."""
    header, rows = _tem_rows(country, report)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow([tem_sample.TITLES[report]])
    w.writerow([tem_sample.EXTRACTED])
    w.writerow([SYNTHETIC])
    w.writerow(header)
    for row in rows:
        w.writerow([_cell(v) for v in row])
    w.writerow([])
    for line in tem_sample.FOOTNOTES:
        w.writerow([line])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))


# --------------------------------------------------------------------------- Kela

def write_kela(path: Path, country: Country, seed: int,
               years: tuple[int, ...] = KELA_YEARS) -> Path | None:
    """Kela's kuntaosuus CSV for every municipality, billing months of ``years`` (a subset of
    KELA_YEARS), built with the sample generator's row helpers (day classes, breakdowns, 199
    Tuntematon). Returns the path, or None (nothing written) when ``years`` is empty: Kela's
    reader refuses a file without data rows.

    Every year of KELA_YEARS is drawn (the month weights look at the neighbouring years, as
    the sample generator's do), then the rows of the other years are dropped."""
    unknown = set(years) - set(KELA_YEARS)
    if unknown:
        raise ValueError(f"no Kela rows can be written for {sorted(unknown)}: "
                         f"only for {KELA_YEARS[0]}–{KELA_YEARS[-1]}")
    if not years:
        return None
    rng = random.Random(seed)
    yearly: dict[tuple[str, int], int] = {}
    munis = []
    for i, m in enumerate(country.munis):
        size = int(country.labour_force[i, 0])
        levels = tuple(max(2000, round(size * 220 * rng.uniform(0.85, 1.15)))
                       for _ in KELA_YEARS)
        mix = (rng.randint(28, 34), rng.randint(24, 28), 0)
        mix = (mix[0], mix[1], 100 - mix[0] - mix[1])
        muni = kela_sample.Municipality(m.code, m.name, levels, mix)
        munis.append(muni)
        for year, level in zip(KELA_YEARS, levels):
            yearly[m.code, year] = kela_sample.cents(level)
    moved: dict = {}
    keyed: list = []
    for muni in munis:
        keyed += kela_sample.municipality_rows(rng, muni, yearly, {}, moved)
    keyed += kela_sample.unknown_rows(moved)
    wanted = set(years)
    # The sort key is (aikatyyppi, yyyymm, kunta_nro, order).
    rows = [r for k, r in sorted(keyed, key=lambda kr: kr[0]) if k[1] // 100 in wanted]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(kela_sample.HEADER)
        writer.writerows(rows)
    return path


# --------------------------------------------------------------------------- all of it

FILES = {
    "12r5": "statfin/statfin_tyonv_pxt_12r5.px",
    "12u4": "statfin/12u4_aktivointiaste.px",
    "1208": "tem/1208_tyonhakijat.csv",
    "1356": "tem/1356_virrat.csv",
    "4253": "tem/4253_aktivointiaste.csv",
    "TTV15": "tem/ttv15_paattymissyyt.csv",
    "kela": "kela/data.csv",
}


def generate(out: Path, *, municipalities: int | None = None, first_year: int = FIRST_YEAR,
             last_year: int = LAST_YEAR, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Write the whole-country raw files under ``out``; return them by name (FILES). The
    Kela file holds the years kela_years(first_year, last_year); when that is none (a range
    wholly before 2019 or after 2024), there is no Kela file and no ``kela`` entry."""
    out = Path(out)
    country = Country(choose(municipalities), month_list(first_year, last_year), seed)
    paths = {name: out / rel for name, rel in FILES.items()}
    write_12r5(paths["12r5"], country)
    write_12u4(paths["12u4"], country)
    for report, encoding in (("1208", "utf-8-sig"), ("1356", "utf-8-sig"),
                             ("4253", "cp1252"), ("TTV15", "utf-8-sig")):
        write_tem_csv(paths[report], report, country, encoding)
    if write_kela(paths["kela"], country, seed, kela_years(first_year, last_year)) is None:
        paths.pop("kela").unlink(missing_ok=True)  # none from an earlier run either
    return paths


def px_cells(municipalities: int | None = None, first_year: int = FIRST_YEAR,
             last_year: int = LAST_YEAR) -> int:
    """How many cells the 12u4 file of this size holds."""
    munis = choose(municipalities)
    regions = {m.region for m in munis}
    months = 12 * (last_year - first_year + 1)
    return (1 + len(regions) + len(munis)) * 3 * 12 * months * (3 + len(SERVICES))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.country", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--municipalities", type=int, default=None,
                    help="how many municipalities (default all, about 300)")
    years = f"{KELA_YEARS[0]}–{KELA_YEARS[-1]}"
    ap.add_argument("--first-year", type=int, default=FIRST_YEAR,
                    help=f"first year of every file (default {FIRST_YEAR}); Kela's rows only "
                         f"for the years within {years}")
    ap.add_argument("--last-year", type=int, default=LAST_YEAR,
                    help=f"last year of every file (default {LAST_YEAR}); Kela's rows only for "
                         f"the years within {years} (no Kela file when the range misses them)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args(argv)
    if args.first_year > args.last_year:
        ap.error("--first-year is after --last-year")
    for name, p in generate(args.out, municipalities=args.municipalities,
                            first_year=args.first_year, last_year=args.last_year,
                            seed=args.seed).items():
        print(f"wrote {p} ({p.stat().st_size:,} bytes)  [{name}]")


if __name__ == "__main__":
    main()
