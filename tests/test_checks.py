"""Every data-quality check passes on the bundled data and fails on data that breaks it.

Each check (pipeline/sql/checks/*.sql) is a query returning offending rows. On a copy of a
real published warehouse it returns none; after one targeted corruption it returns some —
so no check is one that cannot fail. A new check needs an entry in CORRUPTIONS.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest
from conftest import copy_of_run

from pipeline.models import all_checks

M = "month = '2022-05-01'"
CORRUPTIONS = {
    "indicators_monthly__unique_keys":
        "insert into marts.indicators_monthly select * from marts.indicators_monthly limit 1",
    "indicators_monthly__every_month":
        f"delete from marts.indicators_monthly where area_code = 'KU564' "
        f"and indicator = 'vacancies' and {M}",
    "indicators_monthly__counts_non_negative":
        f"update marts.indicators_monthly set value = -1 where area_code = 'KU072' "
        f"and indicator = 'jobseekers' and {M}",
    "indicators_monthly__groups_sum_members":
        f"update marts.indicators_monthly set value = value + 1 where area_code = 'pilot_area' "
        f"and indicator = 'unemployed' and {M}",
    "indicators_monthly__ltu_within_unemployed":
        f"update marts.indicators_monthly set value = 999999 where area_code = 'KU072' "
        f"and indicator = 'long_term_unemployed' and {M}",
    "indicator_values_by_source__sources_agree":
        f"update marts.indicator_values_by_source set value = value + 1 "
        f"where area_code = 'KU244' and indicator = 'jobseekers' and source = 'StatFin 12r5' "
        f"and {M}",
    "indicator_values_by_source__published_rates_match":
        f"update marts.indicator_values_by_source set value = value + 0.2 "
        f"where area_code = 'KU244' and indicator = 'ltu_activation_rate_pct' and {M}",
    "stg_kela_municipal_share__total_equals_day_classes":
        f"update staging.stg_kela_municipal_share set kunta_osuus_eur = kunta_osuus_eur + 1 "
        f"where municipality_code = 'KU564' and day_class = 'Yhteensä' and {M}",
    # The raw layer's completeness checks (issue 13): a missing row, a missing month.
    "raw_tem__every_area_has_every_month":
        "delete from raw.tem_report_cells where report = '1208' and area = '244 Kempele' "
        "and month = '2022M05'",
    "raw_kela__every_municipality_has_every_month":
        "delete from raw.kela_municipal_share where kunta_nro = '244' and vuosikuukausi = "
        "202205 and aikatyyppi = 'Kuukausi' and ikaryhma = 'Yhteensä' and sukupuoli = "
        "'Yhteensä' and tyomarkkinatukipaiva_luokka = 'Yhteensä'",
    "raw_statfin__every_month_in_period":
        "delete from raw.statfin_values where column_name = 'month' and code = '2022M05'",
}
CHECKS = {f"{c.model}__{c.name}": c for c in all_checks()}


@pytest.fixture(scope="module")
def warehouse(bundled_run_once, tmp_path_factory):
    return copy_of_run(bundled_run_once, tmp_path_factory, "checks") / "marts" / "indicators.duckdb"


def test_every_check_has_a_corruption():
    assert sorted(CHECKS) == sorted(CORRUPTIONS)


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_check_passes_on_bundled_data_and_fails_on_corrupted(warehouse, tmp_path, name):
    db = tmp_path / "copy.duckdb"
    shutil.copy(warehouse, db)
    con = duckdb.connect(str(db))
    sql = CHECKS[name].sql
    assert con.sql(sql).fetchall() == []
    con.execute(CORRUPTIONS[name])
    offending = con.sql(sql).fetchall()
    assert len(offending) >= 1, name


def test_sources_that_disagree_are_shown_with_their_raw_files_and_places(warehouse, tmp_path):
    """A failed comparison of sources names the raw cell of each side, so it can be traced
    (issue 13: a failed check showed only its key columns)."""
    import openpyxl
    from conftest import BUNDLED_RAW

    db = tmp_path / "copy.duckdb"
    shutil.copy(warehouse, db)
    con = duckdb.connect(str(db))
    con.execute(CORRUPTIONS["indicator_values_by_source__sources_agree"])
    cur = con.execute(CHECKS["indicator_values_by_source__sources_agree"].sql)
    columns = [d[0] for d in cur.description]
    [row] = [dict(zip(columns, r)) for r in cur.fetchall()]
    # Kempele's jobseekers of 2022M05 in report 1208: column D (Työnhakijat) of its row.
    ws = openpyxl.load_workbook(BUNDLED_RAW / "tem" / "TEM_1208_tyonhakijat_2019-2024.xlsx",
                                read_only=True).worksheets[0]
    [n] = [i for i, r in enumerate(ws.iter_rows(values_only=True), start=1)
           if r[:2] == ("244 Kempele", "2022M05")]
    assert ws.cell(4, 4).value is None and ws.cell(5, 4).value == "Työnhakijat"
    assert (row["source"], row["file"], row["place"]) == (
        "TEM 1208", "tem/TEM_1208_tyonhakijat_2019-2024.xlsx", f"Raportti!D{n}")
    assert row["other_source"] == "StatFin 12r5"
    assert row["other_file"] == "statfin/statfin_tyonv_pxt_12r5.px"
    assert row["other_place"].startswith("PX cell ")
