"""audit.revisions compares cells only for the sources loaded from several file versions.

A small whole-country set (``benchmarks.country``) is loaded once, then again with new
versions of some files: TEM 1208 and Kela under the same name, TEM 1356 under a second name,
StatFin 12r5 with a later LAST-UPDATED. The view must list exactly what the plain window
over every cell of every vintage lists (the view as it was before it skipped single-version
sources, kept here as the reference), and its window must see the cells of the sources with
several versions only: none at all while every file has one version.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import country  # noqa: E402
from pipeline.raw_layer import FAMILIES, load_family  # noqa: E402

REVISIONS_SQL = ROOT / "pipeline" / "sql" / "audit" / "revisions.sql"
MACROS_SQL = ROOT / "pipeline" / "sql" / "macros.sql"
COLUMNS = ("source, area_code, month, measure, old_value, new_value, old_symbol, new_symbol, "
           "old_file, old_place, new_file, new_place, old_vintage_date, new_vintage_date, "
           "old_loaded_at, new_loaded_at")

# The view before it skipped single-version sources: every cell of every vintage through
# the window. The oracle the fast view must agree with.
REFERENCE_SQL = """
create or replace view audit.revisions_reference as
with
tem as (
    select 'TEM ' || c.report as source, 'KU' || split_part(c.area, ' ', 1) as area_code,
        cast(strptime(c.month, '%YM%m') as date) as month,
        c.measure || coalesce(' / ' || c.breakdown, '') as measure,
        c.value, c.symbol, c.file, c.place, f.extracted_on as vintage_date, c.loaded_at
    from raw.tem_report_cells as c
    join raw.tem_report_files as f using (load_id, file, file_sha256)
),
statfin as (
    select 'StatFin ' || c.dataset as source, c.area_code,
        cast(strptime(c.month, '%YM%m') as date) as month,
        c.content_code || coalesce(' / ' || nullif(c.sex, 'SSS'), '')
            || coalesce(' / ' || nullif(c.age_group, 'SSS'), '') as measure,
        c.value, c.symbol, c.file, c.place,
        cast(try_strptime(f.last_updated, '%Y%m%d %H:%M') as date) as vintage_date,
        c.loaded_at
    from (
        select '12r5' as dataset, * from raw.statfin_12r5
        union all by name
        select '12u4' as dataset, * from raw.statfin_12u4
    ) as c
    join raw.statfin_files as f using (load_id, file, file_sha256)
),
kela as (
    select 'Kela' as source, 'KU' || lpad(kunta_nro, 3, '0') as area_code,
        make_date(vuosi, kuukausi_nro, 1) as month,
        'kunta_osuus_eur / ' || aikatyyppi || ' / ' || tyomarkkinatukipaiva_luokka || ' / '
            || ikaryhma || ' / ' || sukupuoli as measure,
        cast(kunta_osuus_eur as double) as value, kunta_osuus_eur_symbol as symbol,
        file, place, cast(null as date) as vintage_date, loaded_at
    from raw.kela_municipal_share
),
cells as (select * from tem union all select * from statfin union all select * from kela),
ordered as (
    select *,
        lag(value) over w as old_value, lag(symbol) over w as old_symbol,
        lag(file) over w as old_file, lag(place) over w as old_place,
        lag(vintage_date) over w as old_vintage_date, lag(loaded_at) over w as old_loaded_at,
        row_number() over w as vintage_no
    from cells
    window w as (partition by source, area_code, month, measure
                 order by vintage_date nulls first, loaded_at, file)
)
select source, area_code, month, measure, old_value, value as new_value, old_symbol,
    symbol as new_symbol, old_file, old_place, file as new_file, place as new_place,
    old_vintage_date, vintage_date as new_vintage_date, old_loaded_at, loaded_at as new_loaded_at
from ordered
where vintage_no > 1 and (old_value is distinct from value or old_symbol is distinct from symbol)
"""


def _replace_once(path: Path, old: bytes, new: bytes, count: int = 1) -> None:
    data = path.read_bytes()
    assert data.count(old) >= count, (path, old)
    path.write_bytes(data.replace(old, new, count))


def _rows(con, relation: str) -> list[tuple]:
    rows = con.execute(f"select {COLUMNS} from {relation}").fetchall()
    return sorted(rows, key=lambda r: tuple((x is None, str(x)) for x in r))


def _window_rows(con, tmp_path: Path) -> int:
    """Rows the WINDOW operators of ``select count(*) from audit.revisions`` received."""
    out = tmp_path / "profile.json"
    con.execute("pragma enable_profiling = 'json'")
    con.execute(f"set profiling_output = '{out}'")
    try:
        con.execute("select count(*) from audit.revisions").fetchall()
    finally:
        con.execute("pragma disable_profiling")
    profile = json.loads(out.read_text())

    def walk(node) -> list[int]:
        found = [node["intermediate_rows"]] if node.get("name") == "WINDOW" else []
        for child in node.get("children", []):
            found += walk(child)
        return found

    windows = [n for top in profile["operator"] for n in walk(top)]
    assert windows, "no WINDOW operator in the profile of audit.revisions"
    return sum(windows)


@pytest.fixture(scope="module")
def vintages(tmp_path_factory):
    """(connection, raw dir, window rows and revisions while every file had one version)."""
    raw = tmp_path_factory.mktemp("revisions") / "raw"
    paths = country.generate(raw, municipalities=12, first_year=2024, last_year=2024)
    con = duckdb.connect()
    for family in FAMILIES:
        load_family(con, raw, family)
    con.execute("create schema if not exists audit")
    con.execute("create schema if not exists marts")
    con.execute(MACROS_SQL.read_text(encoding="utf-8"))  # marts.municipality_code
    con.execute(REVISIONS_SQL.read_text(encoding="utf-8"))
    con.execute(REFERENCE_SQL)
    profile_dir = tmp_path_factory.mktemp("profile")
    single = (_window_rows(con, profile_dir), _rows(con, "audit.revisions"),
              _rows(con, "audit.revisions_reference"))

    # New downloads. TEM 1208, same name, a later extraction: a symbol became a number and a
    # count changed in one row.
    tem_1208 = paths["1208"]
    row = next(line for line in tem_1208.read_bytes().split(b"\r\n")
               if line.split(b";")[1:3] == [b"2024M03", b"."])  # not a pilot municipality
    cells = row.split(b";")
    cells[2], cells[3] = b"0", str(int(cells[3]) + 5).encode()
    _replace_once(tem_1208, row, b";".join(cells))
    _replace_once(tem_1208, b"Poimittu 15.01.2025", b"Poimittu 15.02.2025")
    # TEM 1356 under a second name, the same extraction date, one count changed.
    tem_1356 = paths["1356"]
    second = tem_1356.with_name("1356_virrat_korjattu.csv")
    text = tem_1356.read_bytes()
    row = next(line for line in text.split(b"\r\n") if line.split(b";")[1:2] == [b"2024M07"])
    cells = row.split(b";")
    cells[2] = str(int(cells[2]) + 1).encode()
    second.write_bytes(text.replace(row, b";".join(cells), 1))
    # StatFin 12r5, a later update: the country's first number changed.
    px = paths["12r5"]
    data = px.read_bytes()
    first = re.search(rb"DATA=\s*(\d+)\s", data)
    data = data[:first.start(1)] + str(int(first[1]) + 1).encode() + data[first.end(1):]
    assert b'"20250120 08:00"' in data
    px.write_bytes(data.replace(b'"20250120 08:00"', b'"20250220 08:00"'))
    # Kela, same name: one day class's kuntaosuus revised by a cent.
    kela = paths["kela"]
    lines = kela.read_bytes().split(b"\n")
    fields = lines[1].split(b",")
    euros, cents = fields[-1].split(b".")
    fields[-1] = euros + b"." + f"{(int(cents) + 1) % 100:02d}".encode()
    assert fields[-1] != lines[1].split(b",")[-1]
    lines[1] = b",".join(fields)
    kela.write_bytes(b"\n".join(lines))

    for family in FAMILIES:
        load_family(con, raw, family)
    return con, raw, single


def test_one_version_of_every_file_puts_no_cell_through_the_window(vintages):
    _con, _raw, (window_rows, revisions, reference) = vintages
    assert revisions == reference == []
    assert window_rows == 0


def test_revisions_equal_the_window_over_every_cell(vintages):
    con, _raw, _ = vintages
    fast, plain = _rows(con, "audit.revisions"), _rows(con, "audit.revisions_reference")
    assert fast == plain
    by_source: dict[str, int] = {}
    for r in fast:
        by_source[r[0]] = by_source.get(r[0], 0) + 1
    assert by_source == {"TEM 1208": 2, "TEM 1356": 1, "StatFin 12r5": 1, "Kela": 1}
    tem = {r[3]: r for r in fast if r[0] == "TEM 1208"}
    assert tem["Kuntakokeilun asiakkaat"][6:8] == (".", None)  # old symbol, new value
    assert tem["Kuntakokeilun asiakkaat"][4:6] == (None, 0.0)
    assert str(tem["Työnhakijat"][13]) == "2025-02-15"
    r5 = next(r for r in fast if r[0] == "StatFin 12r5")
    assert r5[1] == "SSS" and r5[5] == r5[4] + 1
    assert str(r5[12]) == "2025-01-20" and str(r5[13]) == "2025-02-20"
    tem_1356 = next(r for r in fast if r[0] == "TEM 1356")
    assert tem_1356[8] == "tem/1356_virrat.csv"
    assert tem_1356[10] == "tem/1356_virrat_korjattu.csv"


def test_only_sources_with_several_versions_go_through_the_window(vintages, tmp_path):
    con, _raw, _ = vintages
    expected = con.execute("""
        select (select count(*) from raw.tem_report_cells where report in ('1208', '1356'))
            + (select count(*) from raw.statfin_12r5)
            + (select count(*) from raw.kela_municipal_share)""").fetchall()[0][0]
    untouched = con.execute("""
        select (select count(*) from raw.tem_report_cells where report in ('4253', 'TTV15'))
            + (select count(*) from raw.statfin_12u4)""").fetchall()[0][0]
    assert untouched > 0
    assert _window_rows(con, tmp_path) == expected
