"""The marts' formulas, precedence and group rule on tiny hand-made source values, against
hand-computed numbers.

The SQL models run exactly as in the pipeline (pipeline.models.run_model) on an in-memory
DuckDB holding ``staging.stg_source_values`` written here and the real catalogue
(pipeline/indicators.yml), so each expectation below is worked out by hand.
"""

from __future__ import annotations

import duckdb
import pytest

from pipeline import catalogue
from pipeline.models import ordered, run_model

A, B, G = "KU001", "KU002", "g"

# (family, dataset, area, month, measure, breakdown, value, symbol)
T1208, T4253, T1356, TTV15 = (("tem", r) for r in ("1208", "4253", "1356", "TTV15"))
R5, U4 = ("statfin", "12r5"), ("statfin", "12u4")


def _rows():
    out = []

    def add(src, area, month, measure, value, symbol=None, breakdown=None):
        out.append((*src, area, month, measure, breakdown, value, symbol))

    # TEM 1208: jobseekers, unemployed, long-term unemployed, pilot clients.
    for area, month, js, un, ltu, pc in [
            (A, "2021-12-01", 300, 200, 50, 100), (A, "2022-01-01", 310, 210, None, 110),
            (A, "2022-02-01", 320, 220, 70, 120), (B, "2021-12-01", 30, 20, 5, None),
            (B, "2022-01-01", 31, 21, 6, None), (B, "2022-02-01", 32, 22, 7, None)]:
        add(T1208, area, month, "Työnhakijat", js)
        add(T1208, area, month, "Työttömät työnhakijat", un)
        add(T1208, area, month, "Pitkäaikaistyöttömät", ltu, None if ltu is not None else "...")
        if pc is not None:
            add(T1208, area, month, "Kuntakokeilun asiakkaat", pc)
    # TEM 4253: long-term unemployed and those in services.
    for area, month, ltu, svc in [(A, "2022-01-01", 90, 10), (A, "2022-02-01", 70, 50),
                                  (B, "2022-01-01", 6, 1), (B, "2022-02-01", 7, 1)]:
        add(T4253, area, month, "Pitkäaikaistyöttömät", ltu)
        add(T4253, area, month, "Palveluissa olevat pitkäaikaistyöttömät", svc)
    # TEM 1356: spells started and inflow over 3 months; B has no row for 2021-12.
    for area, month, started, inflow in [
            (A, "2021-10-01", 100, None), (A, "2021-11-01", 80, None), (A, "2021-12-01", 60, None),
            (A, "2022-01-01", 50, 40), (A, "2022-02-01", 40, 20), (A, "2022-03-01", 30, 30),
            (B, "2021-10-01", 10, None), (B, "2021-11-01", 10, None),
            (B, "2022-01-01", 10, 5), (B, "2022-02-01", 10, 5), (B, "2022-03-01", 10, 5)]:
        add(T1356, area, month, "Alkaneet työttömyysjaksot", started)
        if inflow is not None:
            add(T1356, area, month, "Virta yli 3 kk työttömyyteen", inflow)
    # StatFin 12r5: labour force, unemployed, vacancies; and months 1208 does not have.
    for area, month, lf, un, vac in [(A, "2022-01-01", 1000, 210, 7), (B, "2022-01-01", 100, 21, 0)]:
        add(R5, area, month, "TYOVOIMATK", lf)
        add(R5, area, month, "TYOTTOMATLOPUSSA", un)
        add(R5, area, month, "AVPAIKATLOPUSSA", vac)
    add(R5, A, "2022-03-01", "TYOTTOMATLOPUSSA", 230)       # 1208 has no March
    add(R5, A, "2022-03-01", "PITKAAIKAISTYOTTOMAT", 80)
    add(R5, A, "2022-03-01", "TYOTTOMAT25", 40)
    add(R5, B, "2022-03-01", "TYOTTOMATLOPUSSA", 23)
    add(R5, B, "2022-03-01", "PITKAAIKAISTYOTTOMAT", None, "...")  # suppressed in 12r5
    # StatFin 12u4 (totals): unemployed and in services.
    for month, un, svc in [("2022-01-01", 190, 10), ("2022-02-01", 50, 50)]:
        add(U4, A, month, "TYOTTOMATLOPUSSA", un)
        add(U4, A, month, "PALVELUISSAYHTEENSA", svc)
    # TTV15 by reason; B's first cell masked.
    add(TTV15, A, "2022-01-01", "Päättyneet jaksot", 6, breakdown="Avoimille työmarkkinoille")
    add(TTV15, A, "2022-01-01", "Päättyneet jaksot", 2, breakdown="Muu tai tuntematon syy")
    add(TTV15, B, "2022-01-01", "Päättyneet jaksot", None, "...",
        breakdown="Avoimille työmarkkinoille")
    add(TTV15, B, "2022-01-01", "Päättyneet jaksot", 2, breakdown="Muu tai tuntematon syy")
    return out


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    c.execute("create schema staging")
    c.execute("create table staging.stg_source_values (family varchar, dataset varchar, "
              "area_code varchar, month date, measure varchar, breakdown varchar, "
              "value double, symbol varchar, file varchar, place varchar)")
    c.executemany("insert into staging.stg_source_values values "
                  "(?, ?, ?, ?, ?, ?, ?, ?, 'test', 'here')", _rows())
    c.execute("create table staging.area_members as select * from (values "
              "('g', 'Test group', 'KU001'), ('g', 'Test group', 'KU002')) "
              "t(area_code, area_name, municipality_code)")
    catalogue.write_tables(c)
    for m in ordered(["marts.area_month_counts", "marts.indicators_yearly",
                      "marts.ltu_spell_endings"]):
        if m.schema == "marts":  # staging is written above
            run_model(c, m)
    return c


def row(con, area, indicator, month):
    rows = con.execute("select value, source, members_covered, members_total "
                       "from marts.indicators_monthly where area_code = ? and "
                       "indicator = ? and month = ?::date", [area, indicator, month]).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def monthly(con, area, indicator, month):
    return row(con, area, indicator, month)[0]


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
    assert row(con, G, "inflow_3m_ratio_pct", "2022-01-01") == (
        pytest.approx(100 * 45 / 110), "TEM 1356", 2, 2)
    assert monthly(con, G, "spells_started", "2022-01-01") == 60


def test_missing_month_gives_null_and_the_group_a_partial_value(con):
    assert monthly(con, B, "inflow_3m_ratio_pct", "2022-03-01") is None  # B has no Dec row
    assert monthly(con, A, "inflow_3m_ratio_pct", "2021-12-01") is None  # Sep not in the data
    # The group takes the members with both parts (A only: 30 / 60) and says it covers 1 of 2.
    assert row(con, G, "inflow_3m_ratio_pct", "2022-03-01") == (
        pytest.approx(50.0), "TEM 1356", 1, 2)


def test_precedence_takes_the_next_source_where_the_first_has_no_value(con):
    # A's 1208 long-term unemployed is suppressed in January: 4253 gives it.
    assert row(con, A, "long_term_unemployed", "2022-01-01") == (90, "TEM 4253", 1, 1)
    assert row(con, A, "long_term_unemployed", "2022-02-01") == (70, "TEM 1208", 1, 1)
    # No TEM report has March: StatFin 12r5 gives unemployed and LTU.
    assert row(con, A, "unemployed", "2022-03-01") == (230, "StatFin 12r5", 1, 1)
    assert row(con, A, "long_term_unemployed", "2022-03-01") == (80, "StatFin 12r5", 1, 1)
    # B's March LTU is suppressed in the only source that has March: no value, no source.
    assert row(con, B, "long_term_unemployed", "2022-03-01") == (None, None, 0, 1)


def test_group_takes_the_source_covering_most_members(con):
    # January LTU: 1208 has B only (A suppressed), 4253 has both: 90 + 6 from 4253.
    assert row(con, G, "long_term_unemployed", "2022-01-01") == (96, "TEM 4253", 2, 2)
    # March LTU: 12r5 has A's 80 and B suppressed: a partial sum, 1 of 2 members.
    assert row(con, G, "long_term_unemployed", "2022-03-01") == (80, "StatFin 12r5", 1, 2)
    # Pilot clients in Dec 2021: B has none, so A's 100 alone, 1 of 2.
    assert row(con, G, "pilot_clients", "2021-12-01") == (100, "TEM 1208", 1, 2)


def test_a_rate_takes_both_parts_from_one_source(con):
    # ltu_share_pct = 100 × LTU / unemployed; March from 12r5 for both parts: 80 / 230.
    assert row(con, A, "ltu_share_pct", "2022-03-01") == (
        pytest.approx(100 * 80 / 230), "StatFin 12r5", 1, 1)
    # February from 1208: 70 / 220. January: 1208's LTU is suppressed and 4253 has no
    # unemployed, so no source has both parts.
    assert monthly(con, A, "ltu_share_pct", "2022-02-01") == pytest.approx(100 * 70 / 220)
    assert monthly(con, A, "ltu_share_pct", "2022-01-01") is None


def test_ltu_activation_rate_municipal_and_group(con):
    assert monthly(con, A, "ltu_activation_rate_pct", "2022-01-01") == pytest.approx(10.0)   # 10/(90+10)
    assert monthly(con, G, "ltu_activation_rate_pct", "2022-02-01") == pytest.approx(100 * 51 / 128)


def test_activation_rate_and_unemployment_rate_from_statfin_totals(con):
    assert monthly(con, A, "activation_rate_pct", "2022-01-01") == pytest.approx(5.0)  # 10/200
    assert row(con, A, "unemployment_rate_pct", "2022-01-01") == (
        pytest.approx(21.0), "StatFin 12r5", 1, 1)  # 210 / 1000
    assert monthly(con, G, "unemployment_rate_pct", "2022-01-01") == pytest.approx(100 * 231 / 1100)
    assert monthly(con, G, "vacancies", "2022-01-01") == 7
    assert row(con, A, "unemployed_under_25", "2022-03-01") == (40, "StatFin 12r5", 1, 1)


def test_yearly_rate_is_ratio_of_yearly_means(con):
    # Jan 10/(190+10) = 5 %, Feb 50/(50+50) = 50 %: the mean of rates would be 27.5 %;
    # the yearly means are S = 30, U = 120, so the rate is 30 / 150 = 20 %.
    value, months = yearly(con, A, "activation_rate_pct", 2022)
    assert value == pytest.approx(20.0) and months == 2


def test_yearly_stock_mean_partial_year_and_flow_sum(con):
    assert yearly(con, A, "jobseekers", 2022) == (pytest.approx(315.0), 2)
    # Jan 90 (4253), Feb 70 (1208), Mar 80 (12r5): the mean of the published months.
    assert yearly(con, A, "long_term_unemployed", 2022) == (pytest.approx(80.0), 3)
    assert yearly(con, A, "spells_started", 2022) == (pytest.approx(120.0), 3)


def test_yearly_inflow_ratio_mean_and_pooled(con):
    mean, months = yearly(con, A, "inflow_3m_ratio_pct", 2022)
    assert mean == pytest.approx((40 + 25 + 50) / 3) and months == 3
    pooled, _ = yearly(con, A, "inflow_3m_ratio_pct_pooled", 2022)
    assert pooled == pytest.approx(100 * 90 / 240)  # (40+20+30) / (100+80+60)
    # The group's pooled ratio: Jan and Feb both members (45/110, 25/90), March A only (30/60).
    g_pooled, months = yearly(con, G, "inflow_3m_ratio_pct_pooled", 2022)
    assert g_pooled == pytest.approx(100 * (45 + 25 + 30) / (110 + 90 + 60)) and months == 3


def test_spell_endings_masked_cells_counted_not_summed(con):
    rows = con.execute("select reason, spells, share_pct, masked_cells, source "
                       "from marts.ltu_spell_endings "
                       "where area_code = 'g' and period = '2022-01' order by reason").fetchall()
    assert rows == [("Avoimille työmarkkinoille", 6.0, pytest.approx(60.0), 1, "TEM TTV15"),
                    ("Muu tai tuntematon syy", 4.0, pytest.approx(40.0), 0, "TEM TTV15")]
    year = con.execute("select spells from marts.ltu_spell_endings where area_code = 'KU001' "
                       "and period_type = 'year' and period = '2022' and reason = "
                       "'Avoimille työmarkkinoille'").fetchall()
    assert year == [(6.0,)]


def test_indicator_rows_exist_for_every_month_even_when_null(con):
    n = con.execute("select count(*) from marts.indicators_monthly where area_code = 'KU002' "
                    "and indicator = 'inflow_3m_ratio_pct'").fetchall()[0][0]
    assert n == 6  # the data's months Oct 2021 – Mar 2022; NULL where no lag


def test_area_month_counts_has_a_column_per_count_indicator(con):
    cols = [r[0] for r in con.execute("describe marts.area_month_counts").fetchall()]
    assert {"area_code", "month", "long_term_unemployed", "spells_started"} <= set(cols)
    assert "ltu_share_pct" not in cols  # rates are not counts
    got = con.execute("select long_term_unemployed from marts.area_month_counts "
                      "where area_code = 'g' and month = '2022-01-01'").fetchall()
    assert got == [(96.0,)]
