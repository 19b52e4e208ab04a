"""``python -m pipeline fetch``: StatFin's PxWeb API and Kela's CKAN dataset, offline, against
a real HTTP server on 127.0.0.1 (tests/pxweb_mock.py) serving table 12r5 built from the
real 2026M06 response in shared/real/pxweb/.

Each fault is recovered or refused with a clear message, and the raw folder never holds a
half-written file: after every test no temporary file is left and any previous file is
byte-for-byte what it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import threading
import time
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import BUNDLED_RAW
from dagster import DagsterInstance, DagsterRunStatus, build_sensor_context
from dagster._core.storage.dagster_run import DagsterRun
from pxweb_mock import REAL_12R5, FakeClock, Fault, PxWebMock, table_12r5, table_12u4

from pipeline.__main__ import main
from pipeline.areas import PILOT_MUNICIPALITIES
from pipeline.catalogue import statfin_contents
from pipeline.fetch import check_since, fetch, parse_areas
from pipeline.fetch.http import Http, parse_retry_after
from pipeline.fetch.statfin import fetch_statfin, split
from pipeline.raw_layer import scan
from pipeline.warehouse import published_path

T12R5 = "/PxWeb/api/v1/fi/StatFin/tyonv/12r5.px"
T12U4 = "/PxWeb/api/v1/fi/StatFin/tyonv/12u4.px"
PILOT = list(PILOT_MUNICIPALITIES)
# Read from the real response (shared/real/README.md lists them too).
OULU = {"PITKAAIKAISTYOTTOMAT": 7320, "TYOTTOMATLOPUSSA": 16647, "TYOVOIMATK": 109367,
        "AVPAIKATLOPUSSA": 726}


def _tables() -> dict:
    t = table_12r5()
    return {"tyonv/12r5.px": t, "tyonv/12u4.px": table_12u4(t.variables[0].values)}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _no_temp_files(raw: Path) -> None:
    leftovers = [p.name for p in raw.rglob(".*") if p.is_file()]
    assert leftovers == [], leftovers


def _cli(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["fetch", *map(str, args)])
    return code, out.getvalue(), err.getvalue()


def _fetch(raw: Path, mock: PxWebMock, clock: FakeClock, *, max_wait: float = 600.0,
           timeout=(15.0, 120.0), **kw):
    http = Http(clock.clock(), max_wait=max_wait, timeout=timeout)
    kw.setdefault("since", "2026M01")
    return fetch(raw, ("statfin",), statfin=mock.url, http=http, **kw)


def _cells(path: Path, where: str = "") -> dict:
    """(area, month, content) -> value of a saved StatFin file, read by the raw layer."""
    from pipeline.raw_layer import load_family

    con = duckdb.connect(":memory:")
    try:
        load_family(con, path.parent.parent, "statfin")
        table = f"raw.statfin_{path.stem}"
        rows = con.execute(f"select area_code, month, content_code, value, symbol from {table} "
                           f"where file = ? {where}", [f"statfin/{path.name}"]).fetchall()
    finally:
        con.close()
    return {(a, m, c): (v if s is None else s) for a, m, c, v, s in rows}


# --- metadata → query → saved file → run -------------------------------------------------------


def test_fetch_then_run_publishes_the_real_numbers_with_lineage_to_the_saved_file(tmp_path):
    raw, marts = tmp_path / "raw", tmp_path / "marts"
    with PxWebMock(_tables()) as mock:
        code, out, err = _cli("--source", "statfin", "--raw-dir", raw, "--statfin-url", mock.url,
                              "--since", "2026M01", "--areas", "all")
        assert code == 0, err
        requests = list(mock.requests)
    assert "statfin 12r5: saved: statfin/12r5.json" in out
    assert "statfin 12u4: saved: statfin/12u4.json" in out
    # Metadata first, then the query, for each table; the limits before anything.
    assert [(m, p) for m, p, _ in requests] == [
        ("GET", "/PxWeb/api/v1/fi/"), ("GET", T12R5), ("POST", T12R5), ("GET", T12U4),
        ("POST", T12U4)]
    query = requests[2][2]
    assert query["response"] == {"format": "json-stat2"}
    asked = {q["code"]: q["selection"]["values"] for q in query["query"]}
    assert asked["contentscode"] == [c for c in table_12r5().variables[2].values
                                     if c in statfin_contents("12r5")]
    assert len(asked["Alue"]) == 421 and asked["timeperiod_m"] == ["2026M06"]
    # 12u4: sex and age group at their totals.
    asked_12u4 = {q["code"]: q["selection"]["values"] for q in requests[4][2]["query"]}
    assert asked_12u4["Sukupuoli"] == ["SSS"] and asked_12u4["Ikäryhmät"] == ["SSS"]
    assert set(asked_12u4["contentscode"]) == set(statfin_contents("12u4"))

    saved = raw / "statfin" / "12r5.json"
    manifest = json.loads((raw / "statfin" / "12r5.json.manifest.json").read_text())
    assert manifest["sha256"] == _sha(saved) and manifest["bytes"] == saved.stat().st_size
    assert manifest["url"].endswith("/StatFin/tyonv/12r5.px")
    assert manifest["queries"] == [query] and manifest["updated"] == "2026-07-21T05:00:00Z"
    assert manifest["limits"] == {"maxValues": 120000, "maxCalls": 40, "timeWindow": 60.0}
    datetime.fromisoformat(manifest["fetched_at"])
    assert scan(raw).unrecognised == []  # manifests are not data
    _no_temp_files(raw)

    from pipeline.definitions import build_defs
    from pipeline.runner import run_pipeline

    graph = build_defs(str(raw), str(marts)).resolve_asset_graph()
    log = io.StringIO()
    assert run_pipeline(str(raw), str(marts), str(tmp_path / "reports"), out=log,
                        selection=[k for k in graph.materializable_asset_keys
                                   if k.path[0] not in ("reports", "fetch")]) == 0, log.getvalue()
    con = duckdb.connect(str(published_path(marts)), read_only=True)
    try:
        stg = con.execute(
            "select max(value) filter (where content_code = 'PITKAAIKAISTYOTTOMAT'), "
            "max(value) filter (where content_code = 'TYOTTOMATLOPUSSA'), "
            "max(value) filter (where content_code = 'TYOVOIMATK'), "
            "max(value) filter (where content_code = 'AVPAIKATLOPUSSA') "
            "from staging.stg_statfin_cells where dataset = '12r5' and area_code = 'KU564' "
            "and month = '2026-06-01'").fetchall()
        rate = con.execute("select value, source from marts.indicators_monthly where area_code "
                           "= 'KU564' and month = '2026-06-01' and indicator = "
                           "'unemployment_rate_pct'").fetchall()
        raw_rows = con.execute("select file, place from raw.statfin_12r5 where area_code = "
                               "'KU564' and content_code = 'TYOTTOMATLOPUSSA'").fetchall()
        files = con.execute("select file, file_sha256, last_updated from raw.statfin_files "
                            "order by file").fetchall()
        lineage = con.execute("select measure, value, file, place from audit.lineage("
                              "'KU564', 'unemployment_rate_pct', '2026-06-01') "
                              "order by measure").fetchall()
    finally:
        con.close()
    assert stg == [(7320, 16647, 109367, 726)]
    # työttömyysaste = 100 × työttömät / työvoima, by hand: 100 × 16647 / 109367.
    assert rate[0][1] == "StatFin 12r5" and abs(rate[0][0] - 100 * 16647 / 109367) < 1e-9
    # Lineage: the cell is in the saved response, at its place in the json-stat2 values.
    [(file, place)] = raw_rows
    assert file == "statfin/12r5.json" and place.startswith("value ")
    doc = json.loads(saved.read_text())
    assert doc["value"][int(place.split()[1])] == 16647
    assert ("statfin/12r5.json", _sha(saved), "20260721 05:00") in files
    # The published rate's lineage ends in the saved response's cells.
    assert [(m, v, f) for m, v, f, _ in lineage] == [
        ("TYOTTOMATLOPUSSA", 16647, "statfin/12r5.json"),
        ("TYOVOIMATK", 109367, "statfin/12r5.json")]
    assert [doc["value"][int(p.split()[1])] for *_, p in lineage] == [16647, 109367]


# --- splitting and pacing ------------------------------------------------------------------------


def test_a_query_larger_than_max_values_is_split_and_paced_and_saves_the_same_file(tmp_path):
    whole = tmp_path / "whole"
    with PxWebMock(_tables()) as mock:
        assert _fetch(whole, mock, FakeClock()).ok
    with PxWebMock(_tables(), config={"maxValues": 1000, "maxCalls": 2,
                                      "timeWindow": 10}) as mock:
        clock = FakeClock()
        report = _fetch(tmp_path / "split", mock, clock)
        posts = [body for m, p, body in mock.requests if m == "POST" and p == T12R5]
    assert report.ok, report.errors
    # 421 areas × 1 month × 7 contents = 2947 cells: three queries of ≤ 1000 (by area).
    sizes = [len(b["query"][0]["selection"]["values"]) * 7 for b in posts]
    assert sizes == [994, 994, 959] and max(sizes) <= 1000
    assert (tmp_path / "split" / "statfin" / "12r5.json").read_bytes() == \
        (whole / "statfin" / "12r5.json").read_bytes()
    # 2 calls per 10 s: config, metadata | 3 queries, 12u4 metadata | 12u4's 2 queries.
    assert report.calls == 8 and clock.sleeps == [10.0, 10.0, 10.0]


def test_split_keeps_every_part_under_the_limit_and_covers_the_query_once():
    sel = {"t": [f"2020M{m:02d}" for m in range(1, 13)], "a": [f"KU{i:03d}" for i in range(30)],
           "c": list("ABCDEFG")}
    for limit in (10_000, 500, 100, 7, 5, 1):
        parts = split(sel, ["t", "a", "c"], limit)
        assert all(len(p["t"]) * len(p["a"]) * len(p["c"]) <= limit for p in parts)
        cells = [(t, a, c) for p in parts for t in p["t"] for a in p["a"] for c in p["c"]]
        assert len(cells) == len(set(cells)) == 12 * 30 * 7


# --- faults: recovered -----------------------------------------------------------------------------


def test_429_with_retry_after_is_waited_out(tmp_path):
    with PxWebMock(_tables()) as mock:
        mock.fail("POST", T12R5, Fault(status=429, headers={"Retry-After": "7"}))
        clock = FakeClock()
        report = _fetch(tmp_path, mock, clock)
        assert mock.count("POST", T12R5) == 2
    assert report.ok, report.errors
    assert clock.sleeps == [7.0]  # the server's Retry-After, not our backoff
    assert (tmp_path / "statfin" / "12r5.json").exists()
    # A Retry-After beyond the time allowed: given up at once, saying so.
    with PxWebMock(_tables()) as mock:
        mock.fail("POST", T12R5, Fault(status=429, headers={"Retry-After": "3600"}))
        clock = FakeClock()
        report = _fetch(tmp_path / "again", mock, clock, max_wait=600)
    [error] = [e for e in report.errors if "12r5" in e]
    assert "HTTP 429" in error and "asking to wait 3600 s more" in error and clock.sleeps == []
    now = datetime(2026, 7, 28, 3, 0, tzinfo=UTC)
    assert parse_retry_after("Tue, 28 Jul 2026 03:00:30 GMT", now) == 30.0
    assert parse_retry_after("120", now) == 120.0 and parse_retry_after("soon", now) is None


def test_each_retry_is_said_in_one_line_while_it_waits(tmp_path):
    """Minutes of backoff are not silence: the CLI notes each retry on stderr (the Dagster
    asset logs it)."""
    with PxWebMock(_tables()) as mock:
        mock.fail("POST", T12R5, Fault(status=429, headers={"Retry-After": "0"}))
        code, out, err = _cli("--source", "statfin", "--raw-dir", tmp_path, "--statfin-url",
                              mock.url, "--since", "2026M01")
    assert code == 0, err
    assert err == ("note: table 12r5 query 1/1: HTTP 429 Too Many Requests; retrying in 0 s "
                   "(Retry-After)\n")
    notes: list[str] = []
    with PxWebMock(_tables()) as mock:
        mock.fail("POST", T12R5, Fault(status=500), Fault(truncate=True), Fault(reset=True))
        http = Http(FakeClock().clock(), notify=notes.append)
        assert fetch(tmp_path / "again", ("statfin",), statfin=mock.url, http=http,
                     since="2026M01").ok
    assert notes[0] == "table 12r5 query 1/1: HTTP 500 Internal Server Error; retrying in 1 s"
    assert notes[1].startswith("table 12r5 query 1/1: HTTP 200 but the body was cut off (")
    assert " bytes arrived); retrying in 2 s" in notes[1]
    assert notes[2].startswith("table 12r5 query 1/1: connection error (")
    assert notes[2].endswith("; retrying in 4 s") and len(notes) == 3


def test_500_then_success_and_503_backoff(tmp_path):
    with PxWebMock(_tables()) as mock:
        mock.fail("GET", T12R5, Fault(status=500), Fault(status=503), Fault(status=502))
        clock = FakeClock()
        report = _fetch(tmp_path, mock, clock)
    assert report.ok, report.errors
    assert clock.sleeps == [1.0, 2.0, 4.0]  # exponential backoff
    assert _cells(tmp_path / "statfin" / "12r5.json")[("KU564", "2026M06",
                                                        "PITKAAIKAISTYOTTOMAT")] == 7320


@pytest.mark.parametrize("fault", [Fault(truncate=True), Fault(reset=True),
                                   Fault(body=b'{"version":"2.0","class":"dat')],
                         ids=["truncated-body", "reset-connection", "200-not-json"])
def test_a_cut_off_or_reset_response_is_retried(tmp_path, fault):
    with PxWebMock(_tables()) as mock:
        mock.fail("POST", T12R5, fault)
        report = _fetch(tmp_path, mock, FakeClock())
        assert mock.count("POST", T12R5) == 2
    assert report.ok, report.errors
    got = _cells(tmp_path / "statfin" / "12r5.json")
    assert {k: got[("KU564", "2026M06", k)] for k in OULU} == OULU
    _no_temp_files(tmp_path)


def test_a_read_timeout_is_retried(tmp_path):
    with PxWebMock(_tables()) as mock:
        mock.fail("POST", T12R5, Fault(hang=threading.Event()))  # never answers
        report = _fetch(tmp_path, mock, FakeClock(), timeout=(5.0, 0.5))
    assert report.ok, report.errors


# --- faults: refused, the previous file stays --------------------------------------------------------


@pytest.fixture
def fetched(tmp_path):
    """A raw folder with a good 12r5.json already fetched; its bytes."""
    raw = tmp_path / "raw"
    with PxWebMock(_tables()) as mock:
        assert _fetch(raw, mock, FakeClock()).ok
    target = raw / "statfin" / "12r5.json"
    return raw, target, target.read_bytes(), target.stat().st_mtime_ns


def _unchanged(fetched) -> None:
    raw, target, data, mtime = fetched
    assert target.read_bytes() == data and target.stat().st_mtime_ns == mtime
    _no_temp_files(raw)


def test_giving_up_names_the_table_and_the_last_status(fetched):
    with PxWebMock(_tables()) as mock:
        mock.fail("POST", T12R5, *[Fault(status=503)] * 50)
        clock = FakeClock()
        report = _fetch(fetched[0], mock, clock, max_wait=60)
    [error] = [e for e in report.errors if "12r5" in e]
    assert "table 12r5" in error and "gave up" in error and "HTTP 503" in error
    assert sum(clock.sleeps) <= 60  # bounded
    _unchanged(fetched)
    assert any(s.name == "12u4" for s in report.saved)  # the other table still came


def test_a_400_for_the_old_long_table_id_says_so(tmp_path):
    with PxWebMock(_tables()) as mock:
        saved, errors = fetch_statfin(tmp_path, Http(FakeClock().clock()), statfin_url=mock.url,
                                      since="2026M01",
                                      tables={"12r5": "tyonv/statfin_tyonv_pxt_12r5.px"})
    assert saved == []
    [error] = errors
    assert "HTTP 400" in error and "statfin_tyonv_pxt_12r5" in error
    assert "long table id" in error and "'12r5'" in error
    assert not (tmp_path / "statfin" / "12r5.json").exists()


def test_a_400_on_the_query_points_at_a_renamed_variable_code(fetched):
    with PxWebMock(_tables()) as mock:
        mock.fail("POST", T12R5, Fault(status=400, body=b"Bad Request: no variable 'Alue'"))
        report = _fetch(fetched[0], mock, FakeClock())
    [error] = [e for e in report.errors if "12r5" in e]
    assert "HTTP 400" in error and "renamed" in error and "Alue, timeperiod_m, contentscode" in error
    assert "no variable 'Alue'" in error
    _unchanged(fetched)


def test_a_variable_code_renamed_between_two_fetches_is_found_by_role(fetched):
    raw, target, before, _ = fetched
    tables = _tables()
    # June 2026 style: dated codes for the area and the month.
    tables["tyonv/12r5.px"].rename("Alue", "alue_23_20260101")
    tables["tyonv/12r5.px"].rename("timeperiod_m", "kuukausi_m_20260601")
    with PxWebMock(tables) as mock:
        report = _fetch(raw, mock, FakeClock())
        [query] = [b for m, p, b in mock.requests if m == "POST" and p == T12R5]
    assert report.ok, report.errors
    assert [q["code"] for q in query["query"]] == ["alue_23_20260101", "kuukausi_m_20260601",
                                                   "contentscode"]
    assert target.read_bytes() != before  # other codes in the document: a new version
    doc = json.loads(target.read_text())
    assert doc["role"]["geo"] == ["alue_23_20260101"]
    got = _cells(target)
    assert {k: got[("KU564", "2026M06", k)] for k in OULU} == OULU


@pytest.mark.parametrize("case", ["content-missing", "area-missing", "cells-missing",
                                  "no-numbers", "empty-body"])
def test_a_response_failing_validation_is_refused_and_the_previous_file_stays(fetched, case):
    tables = _tables()
    t = tables["tyonv/12r5.px"]
    areas = "all"
    faults = []
    if case == "content-missing":
        i = t.variables[2].values.index("PITKAAIKAISTYOTTOMAT")
        del t.variables[2].values[i], t.variables[2].texts[i]
        expect = "PITKAAIKAISTYOTTOMAT"
    elif case == "area-missing":
        areas = ["KU564", "KU999"]
        expect = "no area KU999"
    elif case == "cells-missing":
        # An answer with fewer areas than asked.
        status, doc = table_12r5().answer({"query": [
            {"code": "Alue", "selection": {"values": ["SSS", "KU564"]}},
            {"code": "timeperiod_m", "selection": {"values": ["2026M06"]}},
            {"code": "contentscode", "selection": {"values": statfin_contents("12r5")}}]})
        faults = [Fault(body=json.dumps(doc).encode())]
        expect = "not in any response"
    elif case == "no-numbers":
        for key in [k for k in t.cells if k[2] == "AVPAIKATLOPUSSA"]:
            t.cells[key] = "..."
        expect = "no number at all for AVPAIKATLOPUSSA"
    else:
        faults = [Fault(body=b"{}")]
        expect = "not a usable json-stat2 answer"
    with PxWebMock(tables) as mock:
        if faults:
            mock.fail("POST", T12R5, *faults)
        report = _fetch(fetched[0], mock, FakeClock(), areas=areas)
    [error] = [e for e in report.errors if "12r5" in e]
    assert expect in error and error.startswith("statfin table 12r5")
    _unchanged(fetched)


def test_a_narrower_fetch_does_not_replace_a_wider_file(fetched):
    """Every area fetched before; then a quick ``--areas pilot``: refused, naming what the
    file in place has that the response lacks, and the file stays (``run`` would refuse the
    narrower file as shorter, with the wider one already gone)."""
    with PxWebMock(_tables()) as mock:
        report = _fetch(fetched[0], mock, FakeClock(), areas=PILOT)
    errors = [e for e in report.errors if "12r5" in e]
    assert errors == [
        "statfin table 12r5: the response lacks 413 of its areas (ELY01, ELY02, ELY03, ELY04, "
        "ELY05 …) that the file in place statfin/12r5.json has; kept that file. Fetch with the "
        "--areas and --since used before (its manifest lists them), or delete "
        "statfin/12r5.json to take the narrower file"]
    _unchanged(fetched)
    # A wider fetch replaces a narrower file.
    raw = fetched[0] / "narrow"
    with PxWebMock(_tables()) as mock:
        assert _fetch(raw, mock, FakeClock(), areas=PILOT).ok
        report = _fetch(raw, mock, FakeClock())
    assert report.ok, report.errors
    assert {s.status for s in report.saved} == {"replaced"}


def test_an_unchanged_response_writes_nothing(fetched):
    raw, target, data, mtime = fetched
    manifest = raw / "statfin" / "12r5.json.manifest.json"
    before = manifest.read_bytes()
    with PxWebMock(_tables()) as mock:
        report = _fetch(raw, mock, FakeClock())
    [s] = [s for s in report.saved if s.name == "12r5"]
    assert s.status == "unchanged" and report.ok
    _unchanged(fetched)
    assert manifest.read_bytes() == before


def test_a_manifest_lost_or_stale_is_written_again_and_the_file_is_left_alone(fetched):
    """Killed between the file's rename and the manifest's: the manifest describes the
    previous bytes (or is missing). The next fetch, with the same response, leaves the file
    as it is and writes the manifest that describes it."""
    raw, target, data, mtime = fetched
    manifest = raw / "statfin" / "12r5.json.manifest.json"
    for damage in ("stale", "missing"):
        if damage == "stale":
            doc = json.loads(manifest.read_text())
            manifest.write_text(json.dumps({**doc, "sha256": "0" * 64}))
        else:
            manifest.unlink()
        with PxWebMock(_tables()) as mock:
            report = _fetch(raw, mock, FakeClock())
        [s] = [s for s in report.saved if s.name == "12r5"]
        assert s.status == "unchanged" and report.ok
        assert json.loads(manifest.read_text())["sha256"] == _sha(target)
        _unchanged(fetched)


# --- a host that cannot be reached -------------------------------------------------------------------


def test_an_unreachable_host_is_one_line_and_nonzero(tmp_path):
    code, out, err = _cli("--source", "statfin", "--raw-dir", tmp_path,
                          "--statfin-url", "https://pxdata.invalid/PxWeb/api/v1/fi/StatFin")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "cannot reach pxdata.invalid" in err
    assert "does not resolve" in err
    # Nothing listening on a port: the same, at once.
    with PxWebMock({}) as mock:
        port_url = mock.url
    code, _out, err = _cli("--source", "kela", "--raw-dir", tmp_path, "--kela-url",
                           port_url.replace("/PxWeb/api/v1/fi/StatFin", "/ckan"))
    assert code == 2 and err.count("\n") == 1 and "cannot reach 127.0.0.1" in err
    assert list(tmp_path.iterdir()) == []


def test_cli_options_are_checked(tmp_path, monkeypatch):
    assert _cli("--areas", "Oulu")[0] == 2
    assert _cli("--since", "2019-01")[0] == 2
    assert parse_areas("pilot") == PILOT
    assert parse_areas("KU564, 244") == ["KU564", "KU244"]
    assert parse_areas("ta_oulu")[:2] == ["KU564", "KU072"] and parse_areas("ALL") == "all"
    # The URL comes from the environment when no option is given.
    with PxWebMock(_tables()) as mock:
        monkeypatch.setenv("PIPELINE_STATFIN_URL", mock.url)
        code, out, err = _cli("--source", "statfin", "--raw-dir", tmp_path, "--areas", "pilot",
                              "--since", "2026M06")
        posted = [b for m, p, b in mock.requests if m == "POST" and p == T12R5]
    assert code == 0, err
    assert posted[0]["query"][0]["selection"]["values"] == [
        a for a in table_12r5().variables[0].values if a in PILOT]
    assert "8 areas × 1 month × 7 contents" in out


def test_no_network_is_one_line_for_both_hosts(tmp_path):
    """The default command on a machine without network: one line naming both hosts."""
    code, out, err = _cli("--raw-dir", tmp_path,
                          "--statfin-url", "https://pxdata.invalid/PxWeb/api/v1/fi/StatFin",
                          "--kela-url", "https://avoindata.invalid/data/api/3/action")
    assert code == 2 and out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("error: cannot reach pxdata.invalid (statfin) or avoindata.invalid "
                          "(kela): the name does not resolve")
    assert list(tmp_path.iterdir()) == []


def test_careless_options_are_refused_before_any_request(tmp_path):
    with PxWebMock(_tables()) as mock:
        def cli(*args):
            return _cli("--source", "statfin", "--raw-dir", tmp_path / "raw",
                        "--statfin-url", mock.url, *args)

        # A month after this one: no table has it, so no request is sent.
        code, _out, err = cli("--since", "9999M12")
        assert code == 2 and "9999M12 is in the future" in err
        code, _out, err = cli("--areas", "all,KU564")
        assert code == 2 and "all cannot be combined" in err
        assert mock.requests == []
        # pilot among other codes, and a month written in lower case, are understood.
        code, out, err = cli("--areas", "pilot,ku423", "--since", "2026m06")
        assert code == 0, err
        assert "9 areas × 1 month × 7 contents" in out
    assert check_since("2026m06") == "2026M06"
    assert check_since("2026M06", today=date(2026, 6, 1)) == "2026M06"
    with pytest.raises(ValueError, match="2026M07 is in the future"):
        check_since("2026M07", today=date(2026, 6, 30))
    assert parse_areas("KU564,pilot") == ["KU564", *[c for c in PILOT if c != "KU564"]]


def test_help_shows_each_option_with_its_default(capsys):
    with pytest.raises(SystemExit):
        main(["fetch", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for expected in ("--source {statfin,kela,all}", "(default all: both)",
                     "(default data/raw)", "(default 2019M01)", "pilot, all (default)",
                     "$PIPELINE_STATFIN_URL or https://pxdata.stat.fi/PxWeb/api/v1/fi/StatFin",
                     "$PIPELINE_KELA_URL or https://www.avoindata.fi/data/api/3/action"):
        assert expected in text, expected


def test_a_web_page_instead_of_json_is_refused_at_once(tmp_path):
    """A URL that answers with an HTML page (the portal's web site, a maintenance page) is
    not retried for ten minutes: the same URL gives the same page."""
    page = (b"<!DOCTYPE html><html><head><title>Avoindata.fi</title></head>"
            b"<body>Huoltokatko</body></html>")
    html = {"Content-Type": "text/html; charset=utf-8"}
    with PxWebMock(_tables(), kela_file=KELA) as mock:
        mock.fail("GET", "/PxWeb/api/v1/fi/", Fault(body=page, headers=html))
        mock.fail("GET", "/ckan/package_show", Fault(body=page, headers=html))
        clock = FakeClock()
        report = fetch(tmp_path, ("statfin", "kela"), statfin=mock.url, kela=mock.kela_url,
                       http=Http(clock.clock()), since="2026M01")
        assert mock.count("GET", "/PxWeb/api/v1/fi/") == 1
        assert mock.count("GET", "/ckan/package_show") == 1
    assert clock.sleeps == []
    statfin, kela = report.errors
    assert statfin.startswith("statfin: StatFin API limits:") and "?config answered HTTP 200 " \
        "with a web page (text/html, " in statfin and "'Avoindata.fi'" in statfin
    assert "is --statfin-url a PxWeb database URL" in statfin
    assert kela.startswith("kela: Kela dataset") and "with a web page" in kela
    assert "is --kela-url a CKAN API base" in kela
    assert list(tmp_path.iterdir()) == []


def test_a_statfin_url_that_is_not_the_database_says_which_option_to_check(tmp_path):
    with PxWebMock(_tables()) as mock:
        for url in (mock.base, mock.base + "/PxWeb/api/v1/fi",
                    mock.url + "/tyonv"):
            code, out, err = _cli("--source", "statfin", "--raw-dir", tmp_path,
                                  "--statfin-url", url)
            assert code == 1 and out == "" and err.count("\n") == 1, (url, err)
            assert "(is --statfin-url a PxWeb database URL such as " \
                "https://pxdata.stat.fi/PxWeb/api/v1/fi/StatFin?)" in err, (url, err)
        assert ("GET", "/") in [(m, p) for m, p, _ in mock.requests]  # not 'http://?config'
    assert list(tmp_path.iterdir()) == []


def test_a_raw_folder_that_cannot_be_written_fails_before_any_request(tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("not a folder")
    with PxWebMock(_tables(), kela_file=KELA) as mock:
        code, out, err = _cli("--raw-dir", tmp_path / "afile" / "raw", "--statfin-url",
                              mock.url, "--kela-url", mock.kela_url)
        assert code == 2 and out == ""
        assert err == (f"error: cannot write to {tmp_path / 'afile' / 'raw' / 'statfin'}: "
                       f"{tmp_path / 'afile'} is a file, not a folder\n")
        # The same through fetch() (what the Dagster asset calls): an error per source.
        report = fetch(tmp_path / "afile", ("statfin", "kela"), statfin=mock.url,
                       kela=mock.kela_url, http=Http(FakeClock().clock()), since="2026M01")
        assert mock.requests == []
    assert [e.split(":")[0] for e in report.errors] == ["statfin", "kela"]
    assert all("is a file, not a folder" in e for e in report.errors)
    # No permission (as for a user other than root on a read-only folder).
    import pipeline.fetch as fetch_module

    monkeypatch.setattr(fetch_module.os, "access", lambda path, mode: False)
    code, _out, err = _cli("--raw-dir", tmp_path / "raw", "--source", "kela")
    assert code == 2 and "no permission to write in" in err


def test_a_write_failing_part_way_is_an_error_not_a_traceback(fetched, monkeypatch):
    """The disk fills up while the new file is written: the previous file stays, no
    temporary file is left, and the report says why."""
    import errno

    from pipeline.fetch import files

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    tables = _tables()
    tables["tyonv/12r5.px"].updated = "2026-08-21T05:00:00Z"  # a new version to write
    monkeypatch.setattr(files.os, "fsync", full)
    with PxWebMock(tables) as mock:
        report = _fetch(fetched[0], mock, FakeClock())
    [error] = report.errors
    assert error.startswith("statfin: cannot write in ") and "No space left on device" in error
    assert "the previous file stays" in error
    _unchanged(fetched)


# --- Kela --------------------------------------------------------------------------------------------


KELA = (BUNDLED_RAW / "kela" / "data.csv").read_bytes()


def _kela(raw: Path, mock: PxWebMock, clock: FakeClock | None = None, **kw):
    http = Http((clock or FakeClock()).clock())
    return fetch(raw, ("kela",), kela=mock.kela_url, http=http, **kw)


def test_kela_downloads_only_when_last_modified_or_hash_changed(tmp_path):
    raw = tmp_path / "raw"
    target = raw / "kela" / "data.csv"
    with PxWebMock({}, kela_file=KELA) as mock:
        report = _kela(raw, mock, areas=PILOT)
        assert report.ok, report.errors and report.saved[0].status == "saved"
        assert target.read_bytes() == KELA
        manifest = json.loads((raw / "kela" / "data.csv.manifest.json").read_text())
        assert manifest["sha256"] == _sha(target)
        assert manifest["resource"]["last_modified"] == "2026-07-01T06:00:00"
        assert manifest["query"] == {"id": "kuntien-rahoittama-tyomarkkinatuki",
                                     "resource": "data.csv"}
        mtime = target.stat().st_mtime_ns

        # The same stamp: package_show only, no download.
        report = _kela(raw, mock)
        assert report.saved[0].status == "unchanged"
        assert mock.count("GET", "/files/data.csv") == 1

        # A new stamp, the same bytes: downloaded, nothing replaced.
        mock.kela_stamp = {"last_modified": "2026-08-01T06:00:00", "hash": ""}
        report = _kela(raw, mock)
        assert report.saved[0].status == "unchanged"
        assert mock.count("GET", "/files/data.csv") == 2
        assert target.stat().st_mtime_ns == mtime

        # New content (one value changed), cut off once on the way: retried, then replaced.
        lines = KELA.decode().splitlines()
        lines[1] = lines[1].rsplit(",", 1)[0] + ",1234.56"
        mock.kela_file = ("\n".join(lines) + "\n").encode()
        mock.kela_stamp = {"last_modified": "2026-09-01T06:00:00", "hash": ""}
        mock.fail("GET", "/files/data.csv", Fault(truncate=True))
        report = _kela(raw, mock)
        assert report.ok, report.errors
        assert report.saved[0].status == "replaced"
        assert target.read_bytes() == mock.kela_file
    _no_temp_files(raw)


@pytest.mark.parametrize("bad,expect", [
    (b"", "empty"),
    (b"<html>Service unavailable</html>\n", "not Kela's municipal-share CSV"),
    (KELA[:len(KELA) // 2].rsplit(b"\n", 1)[0] + b"\nKuukausi,1,2019", "would not load"),
])
def test_kela_refuses_a_bad_download_and_keeps_the_file(tmp_path, bad, expect):
    raw = tmp_path / "raw"
    target = raw / "kela" / "data.csv"
    with PxWebMock({}, kela_file=KELA) as mock:
        assert _kela(raw, mock).ok
        before, mtime = target.read_bytes(), target.stat().st_mtime_ns
        mock.kela_file = bad
        mock.kela_stamp = {"last_modified": "2026-08-01T06:00:00", "hash": ""}
        report = _kela(raw, mock)
    [error] = report.errors
    assert error.startswith("kela: data.csv") and expect in error
    assert target.read_bytes() == before and target.stat().st_mtime_ns == mtime
    _no_temp_files(raw)


def test_kela_a_download_ending_earlier_than_a_file_put_by_hand_is_refused(tmp_path):
    """The file in place came by hand (no manifest), or its manifest was written when the
    download had the same bytes: its months are still known, so a new download that ends
    earlier is refused and the file stays."""
    raw = tmp_path / "raw"
    target = raw / "kela" / "data.csv"
    target.parent.mkdir(parents=True)
    target.write_bytes(KELA)  # put there by hand: 2019M01–2024M12
    shorter = b"".join(line for line in KELA.splitlines(keepends=True)
                       if b",2024," not in line)
    with PxWebMock({}, kela_file=KELA) as mock:
        report = _kela(raw, mock)  # the portal has the same bytes: nothing replaced
        assert report.saved[0].status == "unchanged", report.errors
        manifest = json.loads((raw / "kela" / "data.csv.manifest.json").read_text())
        assert (manifest["first_month"], manifest["last_month"]) == (201901, 202412)
        (raw / "kela" / "data.csv.manifest.json").unlink()  # as if never fetched
        mtime = target.stat().st_mtime_ns
        mock.kela_file = shorter
        mock.kela_stamp = {"last_modified": "2026-08-01T06:00:00", "hash": ""}
        report = _kela(raw, mock)
    [error] = report.errors
    assert "it ends at 2023M12, earlier than the file in place (2024M12)" in error
    assert target.read_bytes() == KELA and target.stat().st_mtime_ns == mtime
    _no_temp_files(raw)


def test_a_fetch_killed_mid_download_leaves_the_previous_file_and_no_data_half_written(tmp_path):
    """Killed (SIGKILL) while half the new file has arrived: the file in place is the old
    one, the partial download is a dot file the raw layer ignores, and the next fetch
    removes it and completes."""
    raw = tmp_path / "raw"
    target = raw / "kela" / "data.csv"
    with PxWebMock({}, kela_file=KELA) as mock:
        assert _kela(raw, mock).ok
        before = target.read_bytes()
        lines = KELA.decode().splitlines()
        lines[1] = lines[1].rsplit(",", 1)[0] + ",1234.56"
        mock.kela_file = ("\n".join(lines) + "\n").encode()
        mock.kela_stamp = {"last_modified": "2026-08-01T06:00:00", "hash": ""}
        mock.fail("GET", "/files/data.csv", Fault(stall=threading.Event()))
        proc = subprocess.Popen([sys.executable, "-m", "pipeline", "fetch", "--source", "kela",
                                 "--raw-dir", str(raw), "--kela-url", mock.kela_url],
                                cwd=Path(__file__).resolve().parent.parent,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert mock.half_sent.wait(120), "the download never started"
            # The marker: the download's temporary file exists (the client opened it).
            tmp = raw / "kela" / f".data.csv.{proc.pid}.tmp"
            for _ in range(6000):
                if tmp.exists() or proc.poll() is not None:
                    break
                time.sleep(0.01)
            partial = [p for p in (raw / "kela").iterdir() if p.name.startswith(".")]
            proc.kill()
            proc.wait(60)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert target.read_bytes() == before
        assert [p.name for p in partial] == [f".data.csv.{proc.pid}.tmp"]
        assert [p.name for p, _ in scan(raw).by_family["kela"]] == ["data.csv"]
        assert scan(raw).unrecognised == []
        report = _kela(raw, mock)
    assert report.ok, report.errors
    assert target.read_bytes() == mock.kela_file
    _no_temp_files(raw)


# --- the schedule: fetch, then refresh ---------------------------------------------------------------


def _job_run(raw: Path, marts: Path, reports: Path):
    from pipeline.definitions import build_defs
    from pipeline.defs.automation import FETCH_JOB

    defs = build_defs(str(raw), str(marts), str(reports))
    job = defs.resolve_job_def(FETCH_JOB)
    instance = DagsterInstance.get()
    keys = [k for k in job.asset_layer.executable_asset_keys if k.path[0] != "reports"]
    return instance, job.execute_in_process(instance=instance, raise_on_error=False,
                                            asset_selection=keys)


def test_the_monthly_job_fetches_then_refreshes_and_the_sensor_then_has_nothing_to_do(
        tmp_path, monkeypatch):
    from pipeline.defs.automation import raw_folder_sensor
    from pipeline.defs.resources import PipelinePaths

    raw, marts = tmp_path / "raw", tmp_path / "marts"
    (raw / "tem").mkdir(parents=True)
    paths = PipelinePaths(raw_dir=str(raw), marts_dir=str(marts))
    with DagsterInstance.ephemeral() as inst:
        before = raw_folder_sensor(build_sensor_context(instance=inst, resources={"paths": paths}))
    with PxWebMock(_tables(), kela_file=KELA) as mock:
        monkeypatch.setenv("PIPELINE_STATFIN_URL", mock.url)
        monkeypatch.setenv("PIPELINE_KELA_URL", mock.kela_url)
        instance, result = _job_run(raw, marts, tmp_path / "reports")
    assert result.success
    mats = {m.asset_key.to_user_string(): m
            for m in (ev.event_specific_data.materialization
                      for ev in result.get_asset_materialization_events())}
    assert {"fetch/statfin", "fetch/kela", "raw/statfin", "raw/kela",
            "published/indicators_warehouse"} <= set(mats)
    listed = mats["fetch/statfin"].metadata["downloaded"].value
    assert "statfin/12r5.json" in listed and "statfin/12u4.json" in listed
    con = duckdb.connect(str(published_path(marts)), read_only=True)
    try:
        assert con.execute("select value from staging.stg_statfin_cells where dataset = '12r5' "
                           "and area_code = 'KU564' and month = '2026-06-01' "
                           "and content_code = 'TYOTTOMATLOPUSSA'").fetchall() == [(16647,)]
    finally:
        con.close()
    # The sensor sees the fetched files (settled: written a minute ago), and that the
    # published warehouse has them: no run.
    for f in raw.rglob("*"):
        if f.is_file():
            os.utime(f, (f.stat().st_mtime - 60, f.stat().st_mtime - 60))
    from dagster import build_sensor_context as ctx

    from pipeline.definitions import build_defs

    defs = build_defs(str(raw), str(marts))
    with DagsterInstance.ephemeral() as inst:
        tick = raw_folder_sensor(ctx(instance=inst, cursor=before.cursor, definitions=defs,
                                     resources={"paths": paths}))
        assert not tick.run_requests
        assert "already built from these files" in tick.skip_reason.skip_message
        # While a monthly run is in progress the sensor waits, keeping its cursor.
        from pipeline.defs.automation import FETCH_JOB

        inst.add_run(DagsterRun(job_name=FETCH_JOB, run_id="f" * 36,
                                status=DagsterRunStatus.STARTED))
        waiting = raw_folder_sensor(ctx(instance=inst, cursor=before.cursor, definitions=defs,
                                        resources={"paths": paths}))
        assert not waiting.run_requests and waiting.cursor == before.cursor
        assert "in progress" in waiting.skip_reason.skip_message


def test_a_failed_fetch_is_a_failed_step_and_publishes_nothing(tmp_path, monkeypatch):
    raw, marts = tmp_path / "raw", tmp_path / "marts"
    (raw / "statfin").mkdir(parents=True)
    (raw / "statfin" / "12r5_2026M06.json").write_bytes(REAL_12R5.read_bytes())
    before = _sha(raw / "statfin" / "12r5_2026M06.json")
    monkeypatch.setenv("PIPELINE_STATFIN_URL", "https://pxdata.invalid/PxWeb/api/v1/fi/StatFin")
    monkeypatch.setenv("PIPELINE_KELA_URL", "https://avoindata.invalid/data/api/3/action")
    _instance, result = _job_run(raw, marts, tmp_path / "reports")
    assert not result.success
    failures = {e.step_key: e.event_specific_data.error.message
                for e in result.all_events if e.event_type_value == "STEP_FAILURE"}
    assert set(failures) == {"fetch__statfin", "fetch__kela"}
    assert "cannot reach pxdata.invalid" in failures["fetch__statfin"]
    done = {ev.event_specific_data.materialization.asset_key.to_user_string()
            for ev in result.get_asset_materialization_events()}
    assert "raw/statfin" not in done and "published/indicators_warehouse" not in done
    assert not published_path(marts).exists()
    assert _sha(raw / "statfin" / "12r5_2026M06.json") == before
    assert sorted(p.name for p in (raw / "statfin").iterdir()) == ["12r5_2026M06.json"]
