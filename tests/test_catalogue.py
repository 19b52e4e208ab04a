"""The indicator catalogue (pipeline/indicators.yml): checked when read, and the one place an
indicator is defined — a new entry appears in the marts, lineage, coverage, the dictionary
and export without editing any other file."""

from __future__ import annotations

import argparse
import copy
import re
import subprocess

import duckdb
import pytest
import yaml
from conftest import ROOT, copy_of_run

from pipeline import catalogue
from pipeline.export import add_export_parser
from pipeline.models import ordered, run_model

DATA = yaml.safe_load(catalogue.CATALOGUE_YML.read_text(encoding="utf-8"))


def test_the_catalogue_reads_and_derives_rate_sources():
    cat = catalogue.catalogue()
    ltu = cat.indicator("long_term_unemployed")
    assert ltu.source_ids() == ("tem_1208", "tem_4253", "statfin_12r5")
    # A rate's sources: those both its parts have, in the first part's order.
    assert cat.indicator("ltu_share_pct").source_ids() == ("tem_1208", "statfin_12r5")
    assert cat.indicator("activation_rate_pct").source_ids() == ("statfin_12u4",)
    assert cat.indicator("inflow_3m_ratio_pct").args[1] == catalogue.Part("spells_started", 3)
    # fetch asks StatFin for what the catalogue reads from each table, published rates too.
    assert catalogue.statfin_contents("12u4") == ["TYOTTOMATLOPUSSA", "PALVELUISSAYHTEENSA",
                                                  "AKTASTE"]
    assert "TYOTTOMAT25" in catalogue.statfin_contents("12r5")


@pytest.mark.parametrize("change,message", [
    (lambda d: d["indicators"]["jobseekers"]["sources"][0].update(source="tem_9999"),
     "indicator jobseekers source 1: unknown source 'tem_9999'"),
    (lambda d: d["indicators"]["ltu_share_pct"].update(formula="ratio"),
     "formula 'ratio' is not a macro that marts.rate dispatches to"),
    (lambda d: d["indicators"]["ltu_share_pct"].update(args=["long_term_unemployed",
                                                              "in_services"]),
     "its parts share no source"),
    (lambda d: d["indicators"]["vacancies"].update(kind="level"), "kind must be one of"),
    (lambda d: d["indicators"]["unemployed"].update(yearly="mean_of_months"),
     "a stock or flow's yearly rule is mean or sum"),
    (lambda d: d["indicators"]["ltu_share_pct"].update(args=["long_term_unemployed"]),
     "a rate's formula takes exactly two args"),
])
def test_an_inconsistent_entry_is_refused_with_its_name(change, message):
    data = copy.deepcopy(DATA)
    change(data)
    with pytest.raises(catalogue.CatalogueError, match=re.escape(message)):
        catalogue.parse(data)


# --- a new indicator is one entry --------------------------------------------------------

NEW = {"youth_share_pct": {
    "fi": "Alle 25-vuotiaiden osuus työttömistä", "en": "Under-25s among the unemployed",
    "unit": "percent", "kind": "rate", "decimals": 1, "formula": "pct",
    "args": ["unemployed_under_25", "unemployed"]}}


def test_a_new_entry_flows_through_every_model(monkeypatch):
    """Only the catalogue changes: the models (run as the pipeline runs them) compute it,
    lineage finds its cells and coverage covers it. Values by hand: 40 of 230 unemployed."""
    data = copy.deepcopy(DATA)
    data["indicators"].update(NEW)
    monkeypatch.setattr(catalogue, "catalogue", lambda: catalogue.parse(data))
    con = duckdb.connect()
    con.execute("create schema staging")
    con.execute("create table staging.stg_source_values (family varchar, dataset varchar, "
                "area_code varchar, month date, measure varchar, breakdown varchar, "
                "value double, symbol varchar, file varchar, place varchar)")
    con.executemany("insert into staging.stg_source_values values "
                    "('statfin', '12r5', 'KU564', '2024-03-01', ?, null, ?, null, 'f.px', ?)",
                    [("TYOTTOMATLOPUSSA", 230, "PX cell 1"), ("TYOTTOMAT25", 40, "PX cell 2")])
    con.execute("create table staging.area_members as select 'g' as area_code, "
                "'G' as area_name, 'KU564' as municipality_code")
    from pipeline.raw_layer import FAMILIES

    for fam in FAMILIES.values():  # the audit views read the raw tables
        fam.create_tables(con)
    catalogue.write_tables(con)
    for m in ordered():  # every model but the source values written above
        if m.table != "staging.stg_source_values":
            run_model(con, m)
    got = con.execute("select value, source from marts.indicators_monthly where area_code = "
                      "'KU564' and indicator = 'youth_share_pct'").fetchall()
    assert got == [(pytest.approx(100 * 40 / 230), "StatFin 12r5")]
    assert con.execute("select status from audit.coverage where area_code = 'g' and "
                       "indicator = 'youth_share_pct'").fetchall() == [("present",)]
    from pipeline.audit import create_audit_views

    create_audit_views(con)
    cells = con.execute("select measure, value, place from audit.lineage('KU564', "
                        "'youth_share_pct', '2024-03-01') order by place").fetchall()
    assert cells == [("TYOTTOMATLOPUSSA", 230.0, "PX cell 1"), ("TYOTTOMAT25", 40.0, "PX cell 2")]


# --- the two indicators added this way, on the bundled data --------------------------------

@pytest.fixture(scope="module")
def run(bundled_run_once, tmp_path_factory):
    return copy_of_run(bundled_run_once, tmp_path_factory, "catalogue")


@pytest.mark.parametrize("indicator,source", [("ltu_share_pct", "TEM 1208"),
                                              ("unemployed_under_25", "StatFin 12r5")])
def test_added_indicators_are_everywhere(run, tmp_path, indicator, source):
    con = duckdb.connect(str(run / "marts" / "indicators.duckdb"), read_only=True)
    n, sources = con.execute(
        "select count(value), list(distinct source order by source) from "
        "marts.indicators_monthly where area_code = 'pilot_area' and indicator = ?",
        [indicator]).fetchall()[0]
    assert n == 72 and source in sources  # 2019–2024, every month
    assert con.execute("select count(*) from marts.indicator_catalogue where indicator = ?",
                       [indicator]).fetchall() == [(1,)]
    cells = con.execute("select distinct municipality_code from audit.lineage("
                        "'pilot_area', ?, '2023-06-01')", [indicator]).fetchall()
    assert len(cells) == 8
    assert con.execute("select count(*) from audit.coverage where indicator = ? and "
                       "area_code = 'pilot_area' and status = 'present'",
                       [indicator]).fetchall() == [(72,)]
    comment = con.execute("select comment from duckdb_tables() where table_name = "
                          "'indicators_monthly'").fetchall()[0][0]
    assert indicator in comment  # the data dictionary is made of these comments
    con.close()
    ap = argparse.ArgumentParser(prog="python -m pipeline")
    add_export_parser(ap.add_subparsers(dest="command", required=True))
    args = ap.parse_args(["export", "--figure", indicator, "--marts-dir", str(run / "marts"),
                          "--out", str(tmp_path), "--format", "png,csv"])
    assert args.func(args) == 0
    assert (tmp_path / f"{indicator}.png").stat().st_size > 10_000
    rows = (tmp_path / f"{indicator}.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + 48 and rows[0].startswith("year,month_no,value,source")


def test_no_other_file_names_a_raw_measure():
    """The catalogue is the only place outside staging (which reads the raw files' own
    columns) and the generator that names a measure an indicator is read from."""
    measures = {sm.measure for i in catalogue.catalogue().indicators.values()
                for sm in (*i.sources, *i.published)}
    files = subprocess.run(["git", "ls-files", "pipeline"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split()
    offenders = []
    for f in files:
        # The readers, raw_docs.py (the raw columns' comments), the raw tables' checks and
        # staging name the raw files' own columns; the generator writes them.
        if f.startswith(("pipeline/sample/", "pipeline/sql/staging/", "pipeline/readers/",
                         "pipeline/sql/checks/raw_")) \
                or f in ("pipeline/indicators.yml", "pipeline/raw_docs.py") \
                or not f.endswith((".py", ".sql")):
            continue
        text = (ROOT / f).read_text(encoding="utf-8")
        offenders += [(f, m) for m in measures if re.search(rf"['\"]{re.escape(m)}['\"]", text)]
    assert offenders == []

