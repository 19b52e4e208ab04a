"""``python -m pipeline verify``: figure ids as ``export`` takes them, an unknown id is an
error, and every number is printed at the precision the report states it."""

from __future__ import annotations

import duckdb
import pytest

from pipeline.__main__ import main
from pipeline.verify import check, known_figures


@pytest.fixture(scope="module")
def marts(bundled_run_once):
    return str(bundled_run_once[0] / "marts")


def test_an_unknown_figure_is_an_error_listing_the_known_ones(tmp_path, capsys):
    assert main(["verify", "--marts-dir", str(tmp_path), "--figure", "kuvio_99"]) == 2
    err = capsys.readouterr().err
    assert "unknown figure kuvio_99" in err
    assert "known: kuvio_8, kuvio_9, section_2_5, section_1, section_2_1, kuvio_1" in err
    assert known_figures()[:5] == ["kuvio_8", "kuvio_9", "section_2_5", "section_1",
                                   "section_2_1"]
    assert set(known_figures()) >= {f"kuvio_{n}" for n in range(1, 12)} | {"kuntaosuus"}


@pytest.mark.parametrize("argv, n, drawn", [
    (["--figure", "kuvio_8", "kuvio_9"], 92, 2),
    (["--figure", "kuvio_8", "--figure", "kuvio_9"], 92, 2),
    (["--figure", "kuvio_8,section_1"], 47, 1),
    (["--figure", "section_2_5", "section_2_1,section_1"], 19, 0),
    (["--figure", "kuvio_5"], 0, 1),  # no published number: checked for having values
])
def test_several_figures_as_in_export(marts, capsys, argv, n, drawn):
    assert main(["verify", "--marts-dir", marts, *argv]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == (f"{n} of {n} published figures reproduced" if n else
                       "the report publishes no numbers for kuvio_5: checked only that it "
                       "has values")
    # a line per number, a line per kuvio saying it is drawn (audit.coverage), the total
    assert len(out) == n + drawn + 1
    assert sum(ln.startswith("ok   Kuvio ") and ": drawn, " in ln for ln in out) == drawn


def test_values_are_printed_at_the_reports_precision(marts, capsys):
    assert main(["verify", "--marts-dir", marts, "--figure", "kuvio_9"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if " 2021-05 " in ln)
    assert line.split("report")[1].split() == ["8.0", "ours", "8.0", "(round_1_decimal)"]


def hand_made(value: float, indicator: str = "ltu_activation_rate_pct"):
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.indicators_monthly as select 'pilot_area' as area_code, "
                "date '2021-05-01' as month, ? as indicator, ?::double as value",
                [indicator, value])
    con.execute("create table marts.municipal_share_yearly as select 'KU494' as "
                "municipality_code, 2021 as year, ?::double as municipal_share_eur, "
                "?::double as municipal_share_monthly_mean_eur", [value, value])
    return con


@pytest.mark.parametrize("row, value, shown", [
    ({"indicator": "ltu_activation_rate_pct", "area": "pilot_area", "period": "2021-05",
      "value": "8.0", "precision": "round_1_decimal"}, 7.96, "8.0"),
    ({"indicator": "long_term_unemployed", "area": "pilot_area", "period": "2021-05",
      "value": "4297", "precision": "exact"}, 4297.0, "4297"),
    ({"indicator": "municipal_share_eur", "area": "KU494", "period": "2021",
      "value": "735121.05", "precision": "exact_cent"}, 735121.049, "735121.05"),
    ({"indicator": "municipal_share_eur", "area": "KU494", "period": "2021",
      "value": "25141000", "precision": "round_1000"}, 25140500.0, "25141000"),
    ({"indicator": "municipal_share_eur_monthly_mean", "area": "KU494", "period": "2021",
      "value": "61300", "precision": "round_100"}, 61250.0, "61300"),
    ({"indicator": "pilot_clients_lower_bound", "area": "pilot_area", "period": "2021-05",
      "value": "13769", "precision": "lower_bound"}, 17641.0, "17641"),
])
def test_each_precision_prints_as_the_report_states_it(row, value, shown):
    indicator = "pilot_clients" if row["indicator"].startswith("pilot_clients") else \
        row["indicator"]
    con = hand_made(value, indicator)
    outcome = check(con, {"figure": "x", **row})
    assert outcome.ok and outcome.shown == shown
    assert f"ours {shown:>12}" in outcome.line()
