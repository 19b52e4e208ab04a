"""Kela kuntaosuus (municipal share of the labour market subsidy): reader, generator, SQL models.

The reader is tried on the shared example, on small edge-case fixtures and on every error it
must report; the SQL models on hand-computed fixtures and on the seeded generator's file,
against its own rows summed in Python; the generator alone must reproduce section 2.5 of the
pilot's final report (read from report_figures.csv): it is calibrated to it.
"""

from __future__ import annotations

import csv
import os
import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from pipeline import areas, catalogue
from pipeline.models import ordered, run_model
from pipeline.raw_layer import FAMILIES
from pipeline.readers.common import LoadContext, RawFile, RawInputError
from pipeline.readers.kela import TABLE, KelaLoadSummary, load_kela, sniff_kela
from pipeline.sample.kela import generate_kela

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "kela"
SQL_DIR = REPO / "pipeline" / "sql"
MODELS = (
    ("staging", "stg_kela_municipal_share"),
    ("marts", "municipal_share_yearly"),
)
HEADER = (
    "aikatyyppi,kuukausi_nro,vuosikuukausi,vuosi,kunta_nro,kunta_nimi,ikaryhma,sukupuoli,"
    "tyomarkkinatukipaiva_luokka,saaja_lkm,korvattu_paiva_lkm,maksettu_eur,kunta_osuus_eur"
)
CTX = LoadContext(load_id="test-load", loaded_at=datetime(2026, 1, 2, 3, 4, 5))


# --- helpers -----------------------------------------------------------------------------------


def shared_dir() -> Path:
    """shared/ lies beside the repository (a developer's /work, CI's clone folder)."""
    candidates = [os.environ.get("SHARED_DIR"), REPO.parent / "shared"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "reference" / "report_figures.csv").exists():
            return Path(candidate)
    pytest.fail("shared/ with reference/report_figures.csv not found beside the repository")


def load(con, path: Path) -> KelaLoadSummary:
    return load_kela(con, RawFile.of(path, path.parent), CTX)


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def create_area_members(con) -> None:
    """staging.area_members as the pipeline makes it from pipeline/areas.py."""
    con.execute("create schema if not exists staging")
    con.execute(
        "create or replace table staging.area_members "
        "(area_code varchar, area_name varchar, municipality_code varchar)"
    )
    # The pilot area only: the hand-computed expectations below are about it.
    rows = [r for r in areas.area_member_rows() if r[0] == areas.PILOT_AREA]
    con.executemany("insert into staging.area_members values (?, ?, ?)", rows)


def run_models(con) -> None:
    """Run the SQL models the mart reads, as the runner does (pipeline.models.run_model),
    on the raw tables the test loaded (the other families' tables empty) and the catalogue."""
    create_area_members(con)
    for fam in FAMILIES.values():
        fam.create_tables(con)
    catalogue.write_tables(con)
    for m in ordered(["marts.municipal_share_yearly", "audit.coverage"]):
        run_model(con, m)


def mart(con, code: str, year: int) -> dict:
    rel = con.execute(
        "select * from marts.municipal_share_yearly where municipality_code = ? and year = ?",
        [code, year],
    )
    names = [d[0] for d in rel.description]
    rows = rel.fetchall()
    assert len(rows) == 1, (code, year, rows)
    return dict(zip(names, rows[0]))


def at_precision(value: Decimal, precision: str) -> Decimal:
    """A value as the report states it: rounded half up to the precision's step."""
    step = {
        "exact": Decimal(1),
        "exact_eur": Decimal(1),
        "exact_cent": Decimal("0.01"),
        "round_1_decimal": Decimal("0.1"),
        "round_100": Decimal(100),
        "round_1000": Decimal(1000),
        "round_100000": Decimal(100000),
    }[precision]
    return (Decimal(value) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step


def table_exists(con, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchall()[0][0]
    )


@pytest.fixture
def con():
    c = duckdb.connect()
    yield c
    c.close()


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("kela") / "kela_kuntaosuus.csv"
    generate_kela(path, seed=1)
    return path


@pytest.fixture(scope="module")
def generated_other_seed(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("kela") / "kela_kuntaosuus_seed2.csv"
    generate_kela(path, seed=2)
    return path


@pytest.fixture(scope="module")
def generated_db(generated):
    """The seed-1 file loaded and run through both models, with the load's summary.

    Shared by the tests below, which only read it.
    """
    c = duckdb.connect()
    summary = load(c, generated)
    run_models(c)
    yield c, summary
    c.close()


# --- sniffing and the shared example -------------------------------------------------------------


def test_sniff_recognises_kela_by_header(tmp_path, generated):
    example = shared_dir() / "formats" / "examples" / "kela_example.csv"
    assert sniff_kela(example)
    assert sniff_kela(generated)
    renamed = write(tmp_path, example.read_text(encoding="utf-8"), name="whatever.txt")
    assert sniff_kela(renamed)
    assert not sniff_kela(write(tmp_path, "Alue,Kuukausi,Työttömät\n564 Oulu,2021M01,5\n", "tem.csv"))
    assert not sniff_kela(write(tmp_path, "", "empty.csv"))
    # Re-saved by Excel with ';': recognised, so the load can refuse it saying why.
    assert sniff_kela(write(tmp_path, example.read_text(encoding="utf-8").replace(",", ";"),
                            "excel.csv"))
    assert not sniff_kela(tmp_path / "missing.csv")


def test_load_shared_example(con):
    example = shared_dir() / "formats" / "examples" / "kela_example.csv"
    summary = load(con, example)
    assert summary.rows == 15
    assert summary.rows_by_aikatyyppi == {"Kuukausi": 14, "Vuosi": 1}
    assert (summary.first_month, summary.last_month, summary.months) == (202411, 202412, 2)
    assert summary.years == (2024,)
    assert summary.municipalities == ("KU564",)
    assert summary.unknown_municipality_rows == 8
    assert summary.missing_cells == 3  # the Vuosi row has only kunta_osuus_eur
    row = con.execute(
        f"""select saaja_lkm, maksettu_eur, kunta_osuus_eur, line, place, file, load_id
        from {TABLE} where kunta_nro = '564' and tyomarkkinatukipaiva_luokka = '1000 tai yli'"""
    ).fetchall()
    assert row == [(510, Decimal("434101.21"), Decimal("303870.85"), 9, "line 9", "kela_example.csv", "test-load")]
    vuosi = con.execute(f"select saaja_lkm, kunta_osuus_eur, place from {TABLE} where aikatyyppi = 'Vuosi'").fetchall()
    assert vuosi == [(None, Decimal("7027101.82"), "line 16")]


# --- edge cases -------------------------------------------------------------------------------------


def test_edge_cases_fixture(con):
    summary = load(con, FIXTURES / "edge_cases.csv")
    assert summary.rows == 18
    assert summary.rows_by_aikatyyppi == {"Kuukausi": 16, "Vuosi": 1, "Vuosikertymä": 1}
    assert summary.municipalities == ("KU072", "KU139")
    assert summary.unknown_municipality_rows == 4
    assert summary.missing_cells == 2
    # '072' keeps its leading zero in raw.
    assert con.execute(f"select distinct kunta_nro from {TABLE} where kunta_nimi = 'Hailuoto'").fetchall() == [("072",)]
    # A refund: negative days and euros, loaded as they are.
    refund = con.execute(
        f"""select korvattu_paiva_lkm, maksettu_eur, kunta_osuus_eur from {TABLE}
        where vuosikuukausi = 202102 and tyomarkkinatukipaiva_luokka = '1000 tai yli'"""
    ).fetchall()
    assert refund == [(-12, Decimal("-405.36"), Decimal("-283.75"))]

    run_models(con)
    stg = con.execute(
        """select municipality_code, month, day_class, saaja_lkm, kunta_osuus_eur, place
        from staging.stg_kela_municipal_share
        where day_class in ('Yhteensä', '300-499', '1000 tai yli')
        order by municipality_code, month, day_class"""
    ).fetchall()
    jan, feb = datetime(2021, 1, 1).date(), datetime(2021, 2, 1).date()
    assert stg == [
        # Hailuoto's day classes are under 4 recipients: only in 199, so no rows here.
        ("KU072", jan, "Yhteensä", 6, Decimal("2263.26"), "line 2"),
        ("KU139", jan, "1000 tai yli", 45, Decimal("20808.48"), "line 6"),
        ("KU139", jan, "300-499", 40, Decimal("13174.20"), "line 4"),
        ("KU139", jan, "Yhteensä", 120, Decimal("45636.78"), "line 7"),
        ("KU139", feb, "1000 tai yli", 4, Decimal("-283.75"), "line 16"),
        ("KU139", feb, "300-499", 41, Decimal("13512.00"), "line 14"),
        ("KU139", feb, "Yhteensä", 81, Decimal("25051.25"), "line 17"),
    ]
    # ... and coverage calls Hailuoto's 70 % class masked, not missing.
    masked = con.execute(
        "select status from audit.coverage where indicator = 'municipal_share_1000_plus_eur' "
        "and area_code = 'KU072' and month = '2021-01-01'").fetchall()
    assert masked == [("masked",)]
    # Summing Hailuoto's published breakdown rows does not give its total.
    hailuoto_sex = con.execute(
        f"""select sum(saaja_lkm) from {TABLE}
        where kunta_nro = '072' and aikatyyppi = 'Kuukausi' and sukupuoli <> 'Yhteensä'"""
    ).fetchall()[0][0]
    assert hailuoto_sex == 4 != 6
    # Vuosi and Vuosikertymä rows are not added to the year: only the monthly totals are.
    assert mart(con, "KU072", 2021)["municipal_share_eur"] == Decimal("2263.26")
    assert mart(con, "KU139", 2021)["municipal_share_eur"] == Decimal("70688.03")


def test_symbols_and_missing_values_are_kept_apart(con, tmp_path):
    path = write(
        tmp_path,
        HEADER + "\n"
        "Kuukausi,1,202101,2021,199,Tuntematon,Yhteensä,Mies,Yhteensä,..,..,,-\n"
        "Kuukausi,1,202101,2021,72,Hailuoto,Yhteensä,Yhteensä,Yhteensä,5,100,3200.5,1800\n",
    )
    summary = load(con, path)
    assert summary.symbol_cells == {"-": 1, "..": 2}
    assert summary.missing_cells == 1
    assert summary.municipalities == ("KU072",)
    rows = con.execute(
        f"""select saaja_lkm, saaja_lkm_symbol, kunta_osuus_eur, kunta_osuus_eur_symbol, maksettu_eur
        from {TABLE} order by line"""
    ).fetchall()
    assert rows == [
        (None, "..", None, "-", None),
        (5, None, Decimal("1800.00"), None, Decimal("3200.50")),
    ]


def test_columns_are_found_by_name_not_position(con, tmp_path):
    names = HEADER.split(",")
    values = "Kuukausi,1,202101,2021,072,Hailuoto,Yhteensä,Yhteensä,Yhteensä,5,100,3200.50,1800.00".split(",")
    order = list(reversed(range(len(names))))
    path = write(
        tmp_path,
        "Lisätieto," + ",".join(names[i].upper() for i in order) + "\n"
        "x," + ",".join(values[i] for i in order) + "\n",
    )
    assert sniff_kela(path)
    load(con, path)
    assert con.execute(f"select kunta_nro, saaja_lkm, kunta_osuus_eur from {TABLE}").fetchall() == [
        ("072", 5, Decimal("1800.00"))
    ]


def test_reload_replaces_the_files_rows(con):
    load(con, FIXTURES / "edge_cases.csv")
    load(con, FIXTURES / "edge_cases.csv")
    assert con.execute(f"select count(*) from {TABLE}").fetchall()[0][0] == 18


def test_a_path_with_glob_characters_reads_that_file_only(con, tmp_path):
    """DuckDB's read_csv expands globs even in a bound path: a folder named raw[1] (or a
    file data[12].csv) read raw1/'s (data1.csv's) rows under this file's name and hash."""
    row = "Kuukausi,1,202101,2021,139,Ii,Yhteensä,Yhteensä,Yhteensä,{n},100,3000.00,2100.00\n"
    for folder in ("raw[1]", "raw1"):
        (tmp_path / folder).mkdir()
    ours = write(tmp_path / "raw[1]", HEADER + "\n" + row.format(n=5), name="data[12].csv")
    # What the patterns would match instead: raw1/data1.csv and raw[1]/data2.csv.
    write(tmp_path / "raw1", HEADER + "\n" + row.format(n=7), name="data1.csv")
    write(tmp_path / "raw1", HEADER + "\n" + row.format(n=7), name="data[12].csv")
    write(tmp_path / "raw[1]", HEADER + "\n" + row.format(n=9) + row.format(n=9), name="data2.csv")
    summary = load(con, ours)
    assert summary.rows == 1
    assert con.execute(f"select file, saaja_lkm from {TABLE}").fetchall() == [("data[12].csv", 5)]


def test_line_numbers_survive_blank_lines_and_quotes(con, tmp_path):
    path = write(
        tmp_path,
        HEADER + "\r\n"
        '"Kuukausi",1,202101,2021,139,"Ii",Yhteensä,Yhteensä,"1000 tai yli",5,100,3000.00,2100.00\r\n'
        "\r\n"
        "Kuukausi,1,202101,2021,139,Ii,Yhteensä,Yhteensä,Yhteensä,5,100,3000.00,2100.00\r\n",
    )
    load(con, path)
    assert con.execute(f"select line, place from {TABLE} order by line").fetchall() == [
        (2, "line 2"),
        (4, "line 4"),
    ]


# --- errors ------------------------------------------------------------------------------------------

GOOD = (
    "Kuukausi,1,202101,2021,139,Ii,Yhteensä,Yhteensä,300-499,40,780,26348.40,13174.20\n"
    "Kuukausi,1,202101,2021,139,Ii,Yhteensä,Yhteensä,Yhteensä,120,2350,79383.00,45636.78\n"
)
BAD_LINE_4 = "Kuukausi,1,202101,2021,564,Oulu,Yhteensä,Yhteensä,Yhteensä,{}\n"

ERRORS = {
    "missing column": (
        HEADER.rsplit(",", 1)[0] + "\n" + "Kuukausi,1,202101,2021,139,Ii,Yhteensä,Yhteensä,Yhteensä,1,2,3.00\n",
        "data.csv, line 1: missing column(s) in header: kunta_osuus_eur",
    ),
    "empty file": ("", "data.csv: empty file (no header line)"),
    "header only": (HEADER + "\n", "data.csv: no data rows after the header line"),
    "text for a number": (
        HEADER + "\n" + GOOD + BAD_LINE_4.format("1457,30160,abc,657601.00"),
        "data.csv, line 4: text where a number belongs: maksettu_eur = 'abc'",
    ),
    "decimal comma": (
        HEADER + "\n" + GOOD + BAD_LINE_4.format("1457,30160,1141561,50,657601.00"),
        "data.csv, line 4: malformed CSV: wrong number of fields",
    ),
    "month 13": (
        HEADER + "\n" + GOOD + "Kuukausi,13,202113,2021,564,Oulu,Yhteensä,Yhteensä,Yhteensä,1,2,3.00,1.50\n",
        "data.csv, line 4: bad vuosikuukausi 202113: month must be 1-12",
    ),
    "vuosikuukausi against vuosi": (
        HEADER + "\n" + GOOD + "Kuukausi,1,202101,2020,564,Oulu,Yhteensä,Yhteensä,Yhteensä,1,2,3.00,1.50\n",
        "data.csv, line 4: bad vuosikuukausi 202101: disagrees with vuosi 2020 / kuukausi_nro 1",
    ),
    "unknown aikatyyppi": (
        HEADER + "\n" + GOOD + "Kvartaali,1,202101,2021,564,Oulu,Yhteensä,Yhteensä,Yhteensä,1,2,3.00,1.50\n",
        "data.csv, line 4: unknown aikatyyppi 'Kvartaali' (expected Kuukausi, Vuosi, Vuosikertymä)",
    ),
    "conflicting duplicate": (
        HEADER + "\n" + GOOD + "Kuukausi,1,202101,2021,139,Ii,Yhteensä,Yhteensä,300-499,41,780,26348.40,13174.20\n",
        "data.csv, line 4: conflicting duplicate: line 4 and line 2 have the same key",
    ),
    "exact duplicate": (
        HEADER + "\n" + GOOD + GOOD.splitlines()[1] + "\n",
        "data.csv, line 4: duplicate row: line 4 repeats line 3 exactly",
    ),
    "duplicate through the leading zero": (
        HEADER + "\n" + GOOD.replace(",139,", ",072,") + GOOD.splitlines()[1].replace(",139,", ",72,") + "\n",
        "data.csv, line 4: duplicate row: line 4 repeats line 3 exactly",
    ),
    "missing key": (
        HEADER + "\n" + GOOD + "Kuukausi,1,202101,2021,,Oulu,Yhteensä,Yhteensä,Yhteensä,1,2,3.00,1.50\n",
        "data.csv, line 4: missing value in column kunta_nro",
    ),
    # Excel's "CSV" in a Finnish locale: ';', decimal comma, kunta_nro without its zero.
    "re-saved by Excel with ';'": (
        HEADER.replace(",", ";") + "\n"
        + "Kuukausi;1;202101;2021;72;Hailuoto;Yhteensä;Yhteensä;Yhteensä;5;102;3319,70;1909,35\n",
        "data.csv, line 1: separated by ';', as Excel saves a CSV in a Finnish locale",
    ),
    # Half-copied: cut inside the last number (657601.00 would be read as 6576).
    "cut inside the last line": (
        HEADER + "\n" + GOOD + BAD_LINE_4.format("1457,30160,1141561.50,6576").rstrip("\n"),
        "data.csv, line 4: the file ends inside this line, with no line break after it",
    ),
    "line after a blank line": (
        HEADER + "\n" + GOOD + "\n" + BAD_LINE_4.format("1457,30160,x,657601.00"),
        "data.csv, line 5: text where a number belongs: maksettu_eur = 'x'",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_name_file_line_and_problem_and_leave_nothing(con, tmp_path, case):
    text, message = ERRORS[case]
    path = write(tmp_path, text)
    con.begin()
    with pytest.raises(RawInputError) as err:
        load(con, path)
    con.rollback()
    assert str(err.value).startswith(message), str(err.value)
    assert err.value.file == "data.csv"
    assert not table_exists(con, "raw", "kela_municipal_share")
    assert not table_exists(con, "temp", "kela_load_text")


def test_rolled_back_load_leaves_earlier_loads_untouched(con, tmp_path):
    load(con, FIXTURES / "edge_cases.csv")  # committed before
    con.begin()
    load(con, FIXTURES / "mart_small.csv")  # succeeds inside the transaction ...
    with pytest.raises(RawInputError, match="line 4: malformed CSV"):
        load(con, write(tmp_path, ERRORS["decimal comma"][0]))  # ... which then fails
    con.rollback()
    files = con.execute(f"select file, count(*) from {TABLE} group by file").fetchall()
    assert files == [("edge_cases.csv", 18)]
    assert not table_exists(con, "temp", "kela_load_text")


def test_not_utf8_names_the_line(con, tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(
        (HEADER + "\n" + GOOD).encode("utf-8")
        + "Kuukausi,1,202101,2021,859,Tyrnävä,Yhteensä,Yhteensä,Yhteensä,1,2,3.00,1.50\n".encode("latin-1")
    )
    con.begin()
    with pytest.raises(RawInputError, match=r"^data.csv, line 4: not UTF-8 text \(byte 0xe4\)"):
        load(con, path)
    con.rollback()
    assert not table_exists(con, "raw", "kela_municipal_share")


# --- the generator ------------------------------------------------------------------------------------


def test_generator_is_deterministic(tmp_path, generated, generated_other_seed):
    again = tmp_path / "again.csv"
    generate_kela(again, seed=1)
    assert again.read_bytes() == generated.read_bytes()
    assert generated_other_seed.read_bytes() != generated.read_bytes()


def test_generated_file_follows_kelas_rules(generated_db):
    con, summary = generated_db
    assert (summary.first_month, summary.last_month, summary.months) == (201901, 202412, 72)
    assert summary.municipalities == tuple(sorted(areas.PILOT_MUNICIPALITIES))
    assert set(summary.rows_by_aikatyyppi) == {"Kuukausi", "Vuosi", "Vuosikertymä"}
    assert summary.unknown_municipality_rows > 0

    # kunta_osuus = 50 % / 70 % of maksettu, rounded half up to the cent, on municipality rows.
    rates = {"300-499": Decimal("0.5"), "500-999": Decimal("0.5"), "1000 tai yli": Decimal("0.7")}
    classes = con.execute(
        f"""select tyomarkkinatukipaiva_luokka, maksettu_eur, kunta_osuus_eur from {TABLE}
        where aikatyyppi = 'Kuukausi' and kunta_nro <> '199' and tyomarkkinatukipaiva_luokka <> 'Yhteensä'"""
    ).fetchall()
    assert classes
    for day_class, paid, share in classes:
        assert (paid * rates[day_class]).quantize(Decimal("0.01"), ROUND_HALF_UP) == share

    # Per month, the totals equal all day-class rows including 199 (to the cent), while the
    # municipalities' own day-class rows fall short wherever a class was moved to 199.
    sums = con.execute(
        f"""select vuosikuukausi,
            sum(kunta_osuus_eur) filter (where kunta_nro <> '199' and tyomarkkinatukipaiva_luokka = 'Yhteensä'
                and ikaryhma = 'Yhteensä' and sukupuoli = 'Yhteensä'),
            sum(kunta_osuus_eur) filter (where tyomarkkinatukipaiva_luokka <> 'Yhteensä'),
            sum(kunta_osuus_eur) filter (where kunta_nro <> '199' and tyomarkkinatukipaiva_luokka <> 'Yhteensä')
        from {TABLE} where aikatyyppi = 'Kuukausi' group by 1"""
    ).fetchall()
    assert len(sums) == 72
    assert all(total == with_199 for _, total, with_199, _ in sums)
    assert any(total != without_199 for _, total, _, without_199 in sums)

    negatives = con.execute(f"select count(*) from {TABLE} where kunta_osuus_eur < 0").fetchall()[0][0]
    assert 1 <= negatives <= 10

    # December's year to date equals the Vuosi row.
    mismatch = con.execute(
        f"""select count(*) from {TABLE} v join {TABLE} k using (vuosi, kunta_nro, tyomarkkinatukipaiva_luokka)
        where v.aikatyyppi = 'Vuosi' and k.aikatyyppi = 'Vuosikertymä' and k.kuukausi_nro = 12
            and v.kunta_osuus_eur <> k.kunta_osuus_eur"""
    ).fetchall()[0][0]
    assert mismatch == 0

    # Sizes: Oulu ~2 M EUR and ~4 000-6 000 recipients a month; Hailuoto a handful.
    (oulu_min, oulu_max, oulu_share), = con.execute(
        f"""select min(saaja_lkm), max(saaja_lkm), avg(kunta_osuus_eur) from {TABLE}
        where aikatyyppi = 'Kuukausi' and kunta_nro = '564' and tyomarkkinatukipaiva_luokka = 'Yhteensä'
            and ikaryhma = 'Yhteensä' and sukupuoli = 'Yhteensä'"""
    ).fetchall()
    assert 4_000 <= oulu_min <= oulu_max <= 6_000
    assert 1_700_000 < oulu_share < 2_300_000
    hailuoto_max = con.execute(
        f"""select max(saaja_lkm) from {TABLE} where kunta_nro = '072' and aikatyyppi = 'Kuukausi'"""
    ).fetchall()[0][0]
    assert hailuoto_max < 15


def test_generator_imports_no_pipeline_code():
    source = (REPO / "pipeline" / "sample" / "kela.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+pipeline(?!\.sample)", source, re.MULTILINE)


# --- the report's figures ---------------------------------------------------------------------------


def report_figures_csv() -> Path:
    """The report's figures: the copy packaged with the pipeline, else shared/reference."""
    packaged = REPO / "pipeline" / "reference" / "report_figures.csv"
    return packaged if packaged.exists() else shared_dir() / "reference" / "report_figures.csv"


def section_2_5() -> list[dict]:
    with open(report_figures_csv(), encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["figure"] == "section_2_5"]
    assert rows, "report_figures.csv has no section_2_5 rows"
    return rows


def file_totals(path: Path) -> dict[tuple[str, int], list[Decimal]]:
    """Each municipality's monthly municipal shares per year, read from the CSV with the
    csv module: the Kuukausi rows whose day class, age group and sex are all Yhteensä, not
    199 Tuntematon (Vuosi and Vuosikertymä repeat the same money). No SQL."""
    out: dict[tuple[str, int], list[Decimal]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if (r["aikatyyppi"] == "Kuukausi" and r["kunta_nro"].zfill(3) != "199"
                    and r["ikaryhma"] == r["sukupuoli"] == "Yhteensä"
                    and r["tyomarkkinatukipaiva_luokka"] == "Yhteensä"):
                key = ("KU" + r["kunta_nro"].zfill(3), int(r["vuosi"]))
                out.setdefault(key, []).append(Decimal(r["kunta_osuus_eur"]))
    return out


def test_generated_file_mart_equals_the_file_s_own_rows_summed_in_python(generated,
                                                                         generated_db):
    """The SQL on the whole generated file, against the file itself: each municipality's
    year is the sum of its twelve Kuukausi totals, the pilot area the sum of its eight
    municipalities. (Not against the report's figures: the generator is calibrated to them,
    so they would prove nothing about the SQL.)"""
    con = generated_db[0]
    totals = file_totals(generated)
    assert len(totals) == 8 * 6 and all(len(v) == 12 for v in totals.values())
    for (code, year), months in totals.items():
        row = mart(con, code, year)
        assert row["municipal_share_eur"] == sum(months), (code, year)
        assert row["months_covered"] == 12
        # in whole cents (the mart's DECIMAL): 1956.12 for 23 473.48 / 12 = 1956.1233…
        assert abs(row["municipal_share_monthly_mean_eur"] - sum(months) / 12) <= Decimal("0.005")
    for year in {y for _, y in totals}:
        area = sum(sum(v) for (c, y), v in totals.items() if y == year)
        assert mart(con, "pilot_area", year)["municipal_share_eur"] == area
    # And each year equals Kela's own Vuosi row of the file.
    differ = con.execute(
        f"""select count(*) from marts.municipal_share_yearly m
        join {TABLE} v on v.aikatyyppi = 'Vuosi' and v.tyomarkkinatukipaiva_luokka = 'Yhteensä'
            and v.ikaryhma = 'Yhteensä' and v.sukupuoli = 'Yhteensä'
            and 'KU' || v.kunta_nro = m.municipality_code and v.vuosi = m.year
        where m.municipal_share_eur <> v.kunta_osuus_eur"""
    ).fetchall()[0][0]
    assert differ == 0


def test_generator_is_calibrated_to_section_2_5_for_any_seed(generated, generated_other_seed):
    """A test of the generator, not of the SQL: for two seeds, the file's own rows (summed
    in Python) give every section 2.5 figure at the report's precision."""
    for path in (generated, generated_other_seed):
        totals = {k: sum(v) for k, v in file_totals(path).items()}
        for figure in section_2_5():
            code, period = figure["area"], figure["period"]
            if figure["indicator"] == "municipal_share_eur":
                ours = totals[(code, int(period))]
            elif figure["indicator"] == "municipal_share_eur_monthly_mean":
                ours = totals[(code, int(period))] / 12
            else:
                start, end = (int(y) for y in period.split(".."))
                ours = totals[(code, end)] - totals[(code, start)]
            published = Decimal(figure["value"])
            assert at_precision(ours, figure["precision"]) == published, (path.name, figure)


# --- the mart, computed by hand -------------------------------------------------------------------


def test_mart_small_example_by_hand(con):
    load(con, FIXTURES / "mart_small.csv")
    run_models(con)
    ii21, ii22 = mart(con, "KU139", 2021), mart(con, "KU139", 2022)
    ty21, ty22 = mart(con, "KU859", 2021), mart(con, "KU859", 2022)
    area21, area22 = mart(con, "pilot_area", 2021), mart(con, "pilot_area", 2022)

    # Ii: 1000 + 1100 in 2021, 900 + 700 in 2022 (the Vuosi row is not added again).
    assert ii21["municipal_share_eur"] == Decimal("2100.00")
    assert ii22["municipal_share_eur"] == Decimal("1600.00")
    assert (ii21["share_50_eur"], ii21["share_70_eur"]) == (Decimal("1050.00"), Decimal("1050.00"))
    assert ii21["paid_eur"] == Decimal("3600.00")
    assert ii21["recipients_monthly_mean"] == pytest.approx(29.5)
    assert ii21["months_covered"] == 2
    assert ii21["municipal_share_monthly_mean_eur"] == Decimal("1050.00")
    assert ii21["change_eur"] is None and ii21["change_pct"] is None
    assert ii22["change_eur"] == Decimal("-500.00")
    assert ii22["change_pct"] == pytest.approx(-500 / 2100 * 100)  # -23.81 %

    # Tyrnävä: 500-999 of January 2021 and 2022 is under 4 recipients (only in 199), so the
    # 50 % band misses it: 160 + 200 + 100 = 460, though the total is 400 + 500 = 900.
    assert ty21["municipal_share_eur"] == Decimal("900.00")
    assert ty21["share_50_eur"] == Decimal("460.00")
    assert ty21["share_70_eur"] == Decimal("400.00")
    assert ty22["municipal_share_eur"] == Decimal("400.00")
    assert ty22["change_eur"] == Decimal("-500.00")
    assert ty22["change_pct"] == pytest.approx(-500 / 900 * 100)  # -55.56 %

    # The pilot area: Ii + Tyrnävä (the others have no data here).
    assert area21["municipal_share_eur"] == Decimal("3000.00")
    assert area22["municipal_share_eur"] == Decimal("2000.00")
    assert area22["change_eur"] == Decimal("-1000.00")
    assert area22["change_pct"] == pytest.approx(-100 / 3)
    assert area21["municipal_share_monthly_mean_eur"] == Decimal("1500.00")
    assert area21["recipients_monthly_mean"] == pytest.approx((28 + 12 + 31 + 15) / 2)
    assert area21["municipalities_covered"] == 2
    assert area21["share_of_area_pct"] is None and area21["is_area"]

    # Each municipality's part of its area: 2100 / 3000 and 900 / 3000; 1600 / 2000, 400 / 2000.
    assert ii21["share_of_area_pct"] == pytest.approx(70.0)
    assert ty21["share_of_area_pct"] == pytest.approx(30.0)
    assert ii22["share_of_area_pct"] == pytest.approx(80.0)
    assert ty22["share_of_area_pct"] == pytest.approx(20.0)

    order = con.execute("select municipality_code, year from marts.municipal_share_yearly").fetchall()
    assert order == [("KU139", 2021), ("KU139", 2022), ("KU859", 2021), ("KU859", 2022),
                     ("pilot_area", 2021), ("pilot_area", 2022)]


# --- the SQL files and their docs -------------------------------------------------------------------


@pytest.mark.parametrize("schema,stem", MODELS)
def test_sql_is_one_lowercase_select_documented_column_by_column(con, schema, stem):
    sql = (SQL_DIR / schema / f"{stem}.sql").read_text(encoding="utf-8")
    statements = duckdb.extract_statements(sql)
    assert len(statements) == 1
    assert statements[0].type == duckdb.StatementType.SELECT
    code = re.sub(r"--[^\n]*|'(?:[^']|'')*'", "", sql)  # keywords only: no comments or strings
    assert code == code.lower()
    assert not re.search(r"\bcreate\b", code)

    load(con, FIXTURES / "mart_small.csv")
    run_models(con)
    columns = [r[0] for r in con.execute(f"describe {schema}.{stem}").fetchall()]
    doc = yaml.safe_load((SQL_DIR / schema / f"{stem}.yml").read_text(encoding="utf-8"))
    assert doc["description"].startswith("One row per")
    assert list(doc["columns"]) == columns
    assert all(isinstance(text, str) and text.strip() for text in doc["columns"].values())
