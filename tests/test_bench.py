"""The whole-country benchmark, run tiny: the generator's files parse and hang together, and
``benchmarks.bench`` runs every step and prints its table. No timing is asserted.

The employment areas of ``pipeline.areas`` are checked here too: their members are real
municipalities of the whole-country set, and the pipeline computes every indicator for them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench, country  # noqa: E402
from pipeline import areas  # noqa: E402
from pipeline.raw_layer import FAMILIES, load_family, scan  # noqa: E402

SIZE = {"municipalities": 14, "first_year": 2024, "last_year": 2024}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("country")
    country.generate(out / "raw", **SIZE)
    return out / "raw"


def test_every_file_is_recognised_and_loads(tiny):
    found = scan(tiny)
    assert found.unrecognised == []
    assert {fam: len(files) for fam, files in found.by_family.items()} == {
        "statfin": 2, "tem": 4, "kela": 1}
    con = duckdb.connect()
    for family in FAMILIES:
        loaded = load_family(con, tiny, family, found)
        assert len(loaded.loaded) == len(found.by_family[family])
    cells = con.execute("SELECT cells FROM raw.statfin_files WHERE dataset = '12u4'").fetchone()
    assert cells == (country.px_cells(**SIZE),)


def test_the_numbers_hang_together(tiny):
    con = duckdb.connect()
    for family in FAMILIES:
        load_family(con, tiny, family)
    u4 = "raw.statfin_12u4"
    # Sex and age-group totals are the sums of their parts (where nothing is masked).
    bad = con.execute(f"""
        with c as (select * from {u4} where content_code = 'TYOTTOMATLOPUSSA'),
        parts as (
            select area_code, month, sex, sum(value) filter (where age_group <> 'SSS') as s,
                count(symbol) as masked, max(value) filter (where age_group = 'SSS') as total
            from c group by all)
        select * from parts where masked = 0 and s <> total""").fetchall()
    assert bad == []
    # The country is the sum of the municipalities, a region the sum of its own.
    sums = dict(con.execute(f"""
        select area_code = 'SSS', sum(value) from {u4}
        where sex = 'SSS' and age_group = 'SSS' and content_code = 'PALVELUISSAYHTEENSA'
            and (area_code = 'SSS' or area_code like 'KU%') group by 1""").fetchall())
    assert sums[True] == sums[False] > 0
    # TEM 1208 equals StatFin 12r5; long-term unemployed ≤ unemployed ≤ jobseekers.
    tem = con.execute("""
        pivot (select split_part(area, ' ', 1) as code, month, measure, value
               from raw.tem_report_cells where report = '1208')
        on measure using max(value)""").df()
    r5 = con.execute("""
        pivot (select substr(area_code, 3) as code, month, content_code, value
               from raw.statfin_12r5 where area_code like 'KU%')
        on content_code using max(value)""").df()
    both = tem.merge(r5, on=["code", "month"])
    assert len(both) == SIZE["municipalities"] * 12
    assert (both["Työttömät työnhakijat"] == both["TYOTTOMATLOPUSSA"]).all()
    assert (both["Pitkäaikaistyöttömät"] <= both["Työttömät työnhakijat"]).all()
    assert (both["Työttömät työnhakijat"] <= both["Työnhakijat"]).all()


def test_employment_areas_are_real_municipalities():
    codes = {"KU" + m.code for m in country.all_municipalities()}
    assert len(codes) > 300
    assert set(areas.PILOT_MUNICIPALITIES) < set(areas.AREA_GROUPS["TA_OULU"][1])
    seen: set[str] = set()
    for code, (name, members) in areas.EMPLOYMENT_AREAS.items():
        assert code.startswith("TA_") and code == code.upper() and "työllisyysalue" in name
        assert set(members) <= codes, code
        assert not seen & set(members), f"{code}: a municipality in two employment areas"
        seen |= set(members)
    assert areas.group_code("ta_oulu") == "TA_OULU"
    # Of the 45 areas, those verified so far; memberships that differ from the regions, as
    # the sources say: Uusikaarlepyy with Vaasa, Mänttä-Vilppula with Jämsä, Koski Tl with Salo;
    # and Pieksämäki with Varkaus (Keski-Savo), not with Mikkeli.
    assert 43 <= len(areas.EMPLOYMENT_AREAS) <= 45
    assert "KU893" in areas.AREA_GROUPS["TA_POHJANMAA"][1]
    assert "KU508" in areas.AREA_GROUPS["TA_ETELAINEN_KESKI_SUOMI"][1]
    assert "KU284" in areas.AREA_GROUPS["TA_SALO"][1]
    assert len(areas.AREA_GROUPS["TA_TURKU"][1]) == 23
    assert "KU593" in areas.AREA_GROUPS["TA_KESKI_SAVO"][1]
    assert len(areas.AREA_GROUPS["TA_TAMPERE"][1]) == 16


def kela_selection() -> list:
    from pipeline.definitions import build_defs
    from pipeline.defs.automation import downstream_selection

    keys, _checks = downstream_selection(["kela"], build_defs().resolve_asset_graph())
    assert {k.to_user_string() for k in keys} & {"raw/tem", "raw/statfin"} == set()
    return keys


def test_bench_runs_tiny_and_prints_its_table(tmp_path, capsys):
    """Every step of ``make bench`` at the smallest size: the ingests (ours and pyaxis), a
    full run, an incremental run, exports for a municipality and an employment area."""
    pytest.importorskip("pyaxis")
    code = bench.main(["--municipalities", "12", "--first-year", "2023", "--last-year",
                       "2024", "--work-dir", str(tmp_path), "--repeat", "1", "--keep",
                       "--write", str(tmp_path / "benchmarks.md")])
    printed = capsys.readouterr().out
    assert code == 0, printed
    for label in ("PX ingest, 12u4", "pyaxis 0.4.3", "pyaxis time / pipeline reader time",
                  "full `python -m pipeline run`", "incremental run after one changed file",
                  "incremental run after one changed Kela value", "--area TA_OULU"):
        assert label in printed, label
    assert "FAILED" not in printed
    # The Kela change redoes what is downstream of Kela's raw asset (Kela's indicators are
    # in the shared marts, so the figures too), not TEM's or StatFin's raw loads.
    kela_line = next(ln for ln in printed.splitlines() if "changed Kela value" in ln)
    n = len(kela_selection())
    assert f"({n} of {n} assets)" in kela_line, kela_line
    doc = (tmp_path / "benchmarks.md").read_text(encoding="utf-8")
    assert "## Machine" in doc and "nproc" in doc and "duckdb" in doc
    # Every indicator for every municipality of the set and for TA_OULU, every month.
    con = duckdb.connect(str(tmp_path / "out" / "marts" / "indicators.duckdb"), read_only=True)
    counts = dict(con.execute("""
        select area_code, count(*) from marts.indicators_monthly group by 1""").fetchall())
    munis = ["KU" + m.code for m in country.choose(12)]
    assert set(munis) | {"pilot_area", "TA_OULU"} <= set(counts)
    assert len(set(counts[a] for a in [*munis, "TA_OULU"])) == 1
    missing = con.execute("""
        select area_code, indicator from marts.indicators_monthly
        where area_code = 'TA_OULU' and indicator not like 'pilot_clients'
        group by all having count(value) = 0""").fetchall()
    assert missing == []
    assert any((tmp_path / "out" / "export" / "TA_OULU").glob("*.png"))


def test_kela_years_follow_the_requested_range(tmp_path):
    """Kela's billing years are the requested years within 2019–2024 (the years the sample
    generator's Kela rows are calibrated for); a range outside them writes no Kela file."""
    import csv

    assert country.kela_years(2006, 2025) == tuple(range(2019, 2025))
    assert country.kela_years(2024, 2026) == (2024,)
    assert country.kela_years(2006, 2018) == ()

    def years_in(path: Path) -> set[int]:
        with open(path, encoding="utf-8", newline="") as f:
            return {int(row["vuosi"]) for row in csv.DictReader(f)}

    paths = country.generate(tmp_path / "a", municipalities=3, first_year=2023,
                             last_year=2025)
    assert years_in(paths["kela"]) == {2023, 2024}
    with open(paths["kela"], encoding="utf-8", newline="") as f:
        months = {row["vuosikuukausi"] for row in csv.DictReader(f)
                  if row["aikatyyppi"] == "Kuukausi"}
    assert months == {f"{y}{m:02d}" for y in (2023, 2024) for m in range(1, 13)}
    early = country.generate(tmp_path / "c", municipalities=3, first_year=2017,
                             last_year=2019)
    assert years_in(early["kela"]) == {2019}
    assert scan(tmp_path / "c").by_family["kela"]  # recognised as Kela's file
    none = country.generate(tmp_path / "d", municipalities=3, first_year=2010,
                            last_year=2011)
    assert "kela" not in none
    assert not (tmp_path / "d" / country.FILES["kela"]).exists()
    assert sorted(none) == sorted(set(country.FILES) - {"kela"})
