"""The marts' formulas on tiny hand-made staging tables, against hand-computed numbers.

The SQL models run exactly as in the pipeline (pipeline.models.run_model) on an in-memory
DuckDB holding staging tables written here, so each expectation below is worked out by hand.
"""

from __future__ import annotations

import duckdb
import pytest

from pipeline.models import model, run_model

A, B, G = "KU001", "KU002", "g"

STAGING = {
    "stg_tem_1208": ("municipality_code varchar, month date, jobseekers double, "
                     "unemployed double, long_term_unemployed double, pilot_clients double", [
                         (A, "2021-12-01", 300, 200, 50, 100), (A, "2022-01-01", 310, 210, None, 110),
                         (A, "2022-02-01", 320, 220, 70, 120), (B, "2021-12-01", 30, 20, 5, None),
                         (B, "2022-01-01", 31, 21, 6, None), (B, "2022-02-01", 32, 22, 7, None)]),
    "stg_tem_4253": ("municipality_code varchar, month date, long_term_unemployed double, "
                     "ltu_in_services double", [
                         (A, "2022-01-01", 90, 10), (A, "2022-02-01", 50, 50),
                         (B, "2022-01-01", 9, 1), (B, "2022-02-01", 3, 1)]),
    "stg_tem_1356": ("municipality_code varchar, month date, spells_started double, "
                     "inflow_3m double, inflow_6m double, inflow_12m double", [
                         (A, "2021-10-01", 100, None, None, None), (A, "2021-11-01", 80, None, None, None),
                         (A, "2021-12-01", 60, None, None, None), (A, "2022-01-01", 50, 40, None, None),
                         (A, "2022-02-01", 40, 20, None, None), (A, "2022-03-01", 30, 30, None, None),
                         (B, "2021-10-01", 10, None, None, None), (B, "2021-11-01", 10, None, None, None),
                         # B has no row for 2021-12: a missing month
                         (B, "2022-01-01", 10, 5, None, None), (B, "2022-02-01", 10, 5, None, None),
                         (B, "2022-03-01", 10, 5, None, None)]),
    "stg_statfin_12r5": ("area_code varchar, month date, labour_force double, unemployed double, "
                         "vacancies double", [
                             (A, "2022-01-01", 1000, 100, 7), (B, "2022-01-01", 100, 5, 0)]),
    "stg_statfin_12u4": ("area_code varchar, sex varchar, age_group varchar, month date, "
                         "unemployed double, in_services double", [
                             (A, "SSS", "SSS", "2022-01-01", 190, 10),
                             (A, "SSS", "SSS", "2022-02-01", 50, 50),
                             (A, "1", "SSS", "2022-01-01", 1, 1)]),  # a breakdown row: ignored
    "stg_tem_ttv15": ("municipality_code varchar, month date, reason varchar, spells_ended double", [
        (A, "2022-01-01", "Avoimille työmarkkinoille", 6), (A, "2022-01-01", "Muu tai tuntematon syy", 2),
        (B, "2022-01-01", "Avoimille työmarkkinoille", None),  # masked '...'
        (B, "2022-01-01", "Muu tai tuntematon syy", 2)]),
}


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute("create schema staging")
    for name, (cols, rows) in STAGING.items():
        c.execute(f"create table staging.{name} ({cols})")
        if rows:
            ph = ", ".join("?" * len(rows[0]))
            c.executemany(f"insert into staging.{name} values ({ph})", rows)
    c.execute("create table staging.area_members as select * from (values "
              "('g', 'Test group', 'KU001'), ('g', 'Test group', 'KU002')) "
              "t(area_code, area_name, municipality_code)")
    for table in ("marts.area_month_counts", "marts.indicators_monthly",
                  "marts.indicators_yearly", "marts.ltu_spell_endings"):
        run_model(c, model(table))
    return c


def monthly(con, area, indicator, month):
    rows = con.execute("select value from marts.indicators_monthly where area_code = ? and "
                       "indicator = ? and month = ?::date", [area, indicator, month]).fetchall()
    assert len(rows) == 1, rows
    return rows[0][0]


def yearly(con, area, indicator, year):
    rows = con.execute("select value, months_covered from marts.indicators_yearly where "
                       "area_code = ? and indicator = ? and year = ?",
                       [area, indicator, year]).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def test_inflow_ratio_uses_starts_k_months_before_across_the_year_end(con):
    assert monthly(con, A, "inflow_3m_ratio_pct", "2022-01-01") == pytest.approx(40.0)   # 40/100 (Oct)
    assert monthly(con, A, "inflow_3m_ratio_pct", "2022-02-01") == pytest.approx(25.0)   # 20/80 (Nov)
    assert monthly(con, A, "inflow_3m_ratio_pct", "2022-03-01") == pytest.approx(50.0)   # 30/60 (Dec)


def test_group_ratio_from_summed_counts(con):
    # (40 + 5) / (100 + 10), not the mean of 40 % and 50 %
    assert monthly(con, G, "inflow_3m_ratio_pct", "2022-01-01") == pytest.approx(100 * 45 / 110)
    assert monthly(con, G, "spells_started", "2022-01-01") == 60


def test_missing_month_gives_null_not_a_guess(con):
    assert monthly(con, B, "inflow_3m_ratio_pct", "2022-03-01") is None  # B has no Dec row
    assert monthly(con, G, "inflow_3m_ratio_pct", "2022-03-01") is None  # nor does the group
    assert monthly(con, A, "inflow_3m_ratio_pct", "2021-12-01") is None  # Sep not in the data


def test_suppressed_member_value_makes_the_group_value_null(con):
    assert monthly(con, A, "long_term_unemployed", "2022-01-01") is None
    assert monthly(con, G, "long_term_unemployed", "2022-01-01") is None
    assert monthly(con, G, "long_term_unemployed", "2022-02-01") == 77
    assert monthly(con, G, "pilot_clients", "2021-12-01") is None  # B has none ('.')


def test_ltu_activation_rate_municipal_and_group(con):
    assert monthly(con, A, "ltu_activation_rate_pct", "2022-01-01") == pytest.approx(10.0)   # 10/(90+10)
    assert monthly(con, G, "ltu_activation_rate_pct", "2022-02-01") == pytest.approx(100 * 51 / 104)


def test_activation_rate_and_unemployment_rate_from_statfin_totals(con):
    assert monthly(con, A, "activation_rate_pct", "2022-01-01") == pytest.approx(5.0)  # 10/200
    assert monthly(con, A, "unemployment_rate_pct", "2022-01-01") == pytest.approx(10.0)
    assert monthly(con, G, "unemployment_rate_pct", "2022-01-01") == pytest.approx(100 * 105 / 1100)
    assert monthly(con, G, "vacancies", "2022-01-01") == 7


def test_yearly_rate_is_ratio_of_yearly_means(con):
    # Jan 10/(190+10) = 5 %, Feb 50/(50+50) = 50 %: the mean of rates would be 27.5 %;
    # the yearly means are S = 30, U = 120, so the rate is 30 / 150 = 20 %.
    value, months = yearly(con, A, "activation_rate_pct", 2022)
    assert value == pytest.approx(20.0) and months == 2


def test_yearly_stock_mean_partial_year_and_flow_sum(con):
    assert yearly(con, A, "jobseekers", 2022) == (pytest.approx(315.0), 2)
    assert yearly(con, A, "long_term_unemployed", 2022) == (pytest.approx(70.0), 1)
    assert yearly(con, A, "spells_started", 2022) == (pytest.approx(120.0), 3)


def test_yearly_inflow_ratio_mean_and_pooled(con):
    mean, months = yearly(con, A, "inflow_3m_ratio_pct", 2022)
    assert mean == pytest.approx((40 + 25 + 50) / 3) and months == 3
    pooled, _ = yearly(con, A, "inflow_3m_ratio_pct_pooled", 2022)
    assert pooled == pytest.approx(100 * 90 / 240)  # (40+20+30) / (100+80+60)
    # The group's pooled ratio uses only months where both sums exist (Jan, Feb).
    g_pooled, _ = yearly(con, G, "inflow_3m_ratio_pct_pooled", 2022)
    assert g_pooled == pytest.approx(100 * (45 + 25) / (110 + 90))


def test_spell_endings_masked_cells_counted_not_summed(con):
    rows = con.execute("select reason, spells, share_pct, masked_cells from marts.ltu_spell_endings "
                       "where area_code = 'g' and period = '2022-01' order by reason").fetchall()
    assert rows == [("Avoimille työmarkkinoille", 6.0, pytest.approx(60.0), 1),
                    ("Muu tai tuntematon syy", 4.0, pytest.approx(40.0), 0)]
    year = con.execute("select spells from marts.ltu_spell_endings where area_code = 'KU001' "
                       "and period_type = 'year' and period = '2022' and reason = "
                       "'Avoimille työmarkkinoille'").fetchall()
    assert year == [(6.0,)]


def test_indicator_rows_exist_for_every_month_even_when_null(con):
    n = con.execute("select count(*) from marts.indicators_monthly where area_code = 'KU002' "
                    "and indicator = 'inflow_3m_ratio_pct'").fetchall()[0][0]
    assert n == 6  # B has data for Oct 2021–Mar 2022 (Dec from 1208 only); NULL where no lag
