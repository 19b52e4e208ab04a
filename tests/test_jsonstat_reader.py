"""Reading StatFin's PxWeb API responses as raw files (pipeline/readers/jsonstat.py): the real
12r5 2026M06 response in PxWeb's ``json`` format and the real json-stat2 example, from
shared/real/pxweb/, into the same raw tables and views as a PX file."""

from __future__ import annotations

import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from pxweb_mock import REAL_12R5, REAL_JSONSTAT2

from pipeline.areas import PILOT_MUNICIPALITIES
from pipeline.raw_layer import load_family, scan
from pipeline.readers.common import LoadContext, RawFile, RawInputError
from pipeline.readers.jsonstat import load_statfin, px_timestamp, sniff_statfin
from pipeline.warehouse import published_path

PILOT = tuple(PILOT_MUNICIPALITIES)
# From the real response (shared/real/README.md): long-term unemployed / unemployed.
REAL = {"KU564": (7320, 16647), "KU244": (374, 975), "KU494": (129, 397), "KU139": (233, 548),
        "KU425": (70, 353), "KU436": (21, 86), "KU859": (79, 272), "KU072": (20, 42)}


def _load(path: Path, name: str | None = None):
    con = duckdb.connect(":memory:")
    raw = RawFile.of(path)
    if name:
        raw = RawFile(path, name, raw.sha256)
    con.execute("begin transaction")
    summary = load_statfin(con, raw, LoadContext("t", datetime.now(UTC)))
    con.execute("commit")
    return con, summary


def test_the_real_12r5_json_response_loads_into_the_statfin_view():
    con, summary = _load(REAL_12R5)
    assert summary.table_id == "12r5" and summary.rows == 421 * 23 and summary.areas == 421
    assert summary.periods == ("2026M06", "2026M06") and summary.symbols == {"...": 904}
    rows = dict(((a, c), v) for a, c, v in con.execute(
        "select area_code, content_code, value from raw.statfin_12r5 where month = '2026M06' "
        "and content_code in ('PITKAAIKAISTYOTTOMAT', 'TYOTTOMATLOPUSSA')").fetchall())
    for code, (ltu, unemployed) in REAL.items():
        assert (rows[(code, "PITKAAIKAISTYOTTOMAT")], rows[(code, "TYOTTOMATLOPUSSA")]) == \
            (ltu, unemployed)
    assert sum(rows[(c, "PITKAAIKAISTYOTTOMAT")] for c in PILOT) == 8246
    assert sum(rows[(c, "TYOTTOMATLOPUSSA")] for c in PILOT) == 19320
    # The file's metadata: the updated stamp in PX's form (staging compares them), the
    # variables by their texts.
    assert con.execute("select last_updated, stub, heading from raw.statfin_files").fetchall() \
        == [("20260721 05:00", ["Alue", "Kuukausi"], ["Tiedot"])]
    # A suppressed cell is a symbol, not a zero.
    assert con.execute("select value, symbol from raw.statfin_12r5 where area_code = 'KU020' "
                       "and content_code = 'KOKEILULOP'").fetchall() == [(None, "...")]


def test_the_real_json_stat2_example_finds_variables_by_role():
    """11re has dated variable codes (alue_23_20260101): role.geo makes it area_code."""
    con, summary = _load(REAL_JSONSTAT2)
    assert summary.table_id == "11re"
    rows = con.execute("select area_code, vuosi, content_code, value, place, matrix "
                       "from raw.statfin_11re order by cell_index").fetchall()
    assert [(r[0], r[3]) for r in rows] == [("KU049", 325716), ("KU091", 694392),
                                            ("KU092", 252956)]
    assert rows[0][1] == "2025" and rows[0][2] == "vaerak-vaesto"  # years are not months
    assert rows[0][4] == "value 0" and rows[0][5] == "11re"
    cols = dict(con.execute("select variable, column_name from raw.statfin_variables").fetchall())
    assert cols["Alue"] == "area_code" and cols["Sukupuoli"] == "sex"
    assert cols["Ikä"] == "age_group" and cols["Tiedot"] == "content_code"
    assert px_timestamp("2026-04-01T05:00:00Z") == "20260401 05:00"
    assert px_timestamp("2026-07-21T05.00.00Z") == "20260721 05:00"


def test_sniff_recognises_both_formats_and_names_the_table(tmp_path):
    assert sniff_statfin(REAL_12R5) == "12r5"
    assert sniff_statfin(REAL_JSONSTAT2) == "11re"
    other = tmp_path / "other.json"
    other.write_text('{"a": 1}')
    assert sniff_statfin(other) is None
    # A PxWeb json response without a table id in its name: StatFin's, but says why not.
    unnamed = tmp_path / "statfin" / "response.json"
    unnamed.parent.mkdir()
    shutil.copy(REAL_12R5, unnamed)
    assert "table not named" in sniff_statfin(unnamed)
    with pytest.raises(RawInputError, match="does not name its StatFin table"):
        _load(unnamed)


@pytest.mark.parametrize("edit,place,problem", [
    (lambda t: t[:len(t) // 2], "line 1", "not valid JSON"),
    (lambda t: t.replace('"value":[325716', '"value":[1,325716'),
     "value", "has 4 values but the dimensions call for 3"),
    (lambda t: t.replace('"value":[325716', '"value":["many"'), "value[0]", "is not a number"),
    (lambda t: t.replace('"size":[3,', '"size":[2,'), "dimension alue_23_20260101",
     "has 3 categories but size[0] says 2"),
])
def test_a_bad_json_stat2_file_names_the_file_and_place(tmp_path, edit, place, problem):
    text = json.dumps(json.loads(REAL_JSONSTAT2.read_text()), separators=(",", ":"))
    bad = tmp_path / "11re.json"
    bad.write_text(edit(text))
    with pytest.raises(RawInputError) as e:
        _load(bad, "statfin/11re.json")
    assert e.value.file == "statfin/11re.json"
    assert place in (e.value.place or "") and problem in e.value.problem


def test_manifests_and_temporary_files_are_not_read_as_data(tmp_path):
    (tmp_path / "statfin").mkdir()
    shutil.copy(REAL_12R5, tmp_path / "statfin" / "12r5_2026M06.json")
    (tmp_path / "statfin" / "12r5_2026M06.json.manifest.json").write_text('{"sha256": "x"}')
    (tmp_path / "statfin" / ".12r5.json.123.tmp").write_text('{"class": "dataset", "dimens')
    found = scan(tmp_path)
    assert [p.name for p, _ in found.by_family["statfin"]] == ["12r5_2026M06.json"]
    assert found.unrecognised == []
    # The raw-folder sensor does not see them either (a new manifest starts no run).
    from pipeline.defs.automation import fingerprint

    assert list(fingerprint(tmp_path)[0]) == ["statfin/12r5_2026M06.json"]
    con = duckdb.connect(":memory:")
    load_family(con, tmp_path, "statfin", found)
    assert con.execute("select count(*) from raw.statfin_12r5").fetchall() == [(421 * 23,)]


# --- a raw folder holding the saved response, through the whole pipeline ----------------------------


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """A raw folder holding only the real 12r5 response for 2026M06, run and published."""
    from pipeline.runner import run_pipeline

    base = tmp_path_factory.mktemp("real_12r5")
    (base / "raw" / "statfin").mkdir(parents=True)
    shutil.copy(REAL_12R5, base / "raw" / "statfin" / REAL_12R5.name)
    out = io.StringIO()
    from pipeline.definitions import build_defs

    graph = build_defs(str(base / "raw"), str(base / "marts")).resolve_asset_graph()
    keys = [k for k in graph.materializable_asset_keys if k.path[0] != "reports"]
    code = run_pipeline(str(base / "raw"), str(base / "marts"), str(base / "reports"), out=out,
                        selection=keys)
    assert code == 0, out.getvalue()
    con = duckdb.connect(str(published_path(base / "marts")), read_only=True)
    yield con
    con.close()


def test_real_response_staging_gives_the_real_counts(real_run):
    rows = dict(((a,), (ltu, u)) for a, ltu, u in real_run.execute(
        "select area_code, max(value) filter (where content_code = 'PITKAAIKAISTYOTTOMAT'), "
        "max(value) filter (where content_code = 'TYOTTOMATLOPUSSA') "
        "from staging.stg_statfin_cells where dataset = '12r5' and month = '2026-06-01' "
        "group by area_code").fetchall())
    for code, expected in REAL.items():
        assert rows[(code,)] == expected
    assert real_run.execute(
        "select sum(value) from raw.statfin_12r5 where month = '2026M06' and content_code = "
        "'PITKAAIKAISTYOTTOMAT' and area_code in ?", [list(PILOT)]).fetchall() == [(8246,)]
    assert real_run.execute(
        "select sum(value) from raw.statfin_12r5 where month = '2026M06' and content_code = "
        "'TYOTTOMATLOPUSSA' and area_code in ?", [list(PILOT)]).fetchall() == [(19320,)]


def test_real_response_gives_the_published_indicators(real_run):
    got = {(a, i): (v, s) for a, i, v, s in real_run.execute(
        "select area_code, indicator, value, source from marts.indicators_monthly "
        "where month = '2026-06-01' and indicator in ('long_term_unemployed', 'unemployed') "
        "and area_code in ('pilot_area', 'KU564')").fetchall()}
    assert got[("pilot_area", "long_term_unemployed")] == (8246, "StatFin 12r5")
    assert got[("pilot_area", "unemployed")] == (19320, "StatFin 12r5")
    assert got[("KU564", "long_term_unemployed")] == (7320, "StatFin 12r5")
    assert got[("KU564", "unemployed")] == (16647, "StatFin 12r5")
