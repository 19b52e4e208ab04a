"""Category values are checked against known lists with documented aliases (issue 13,
finding 10): Kela's own dataset description writes the top day class ``1000`` where the
bundled file has ``1000 tai yli``; with ``1000`` the 70 % band became NULL without a word.
An unknown value is refused with file, line and the value.
"""

from __future__ import annotations

import shutil
from datetime import datetime

import duckdb
import pytest
from conftest import BUNDLED_RAW, write_tem_csv

from pipeline.models import ordered, run_model
from pipeline.raw_layer import FAMILIES, load_family
from pipeline.readers.common import LoadContext, RawFile, RawInputError
from pipeline.readers.kela import load_kela
from pipeline.readers.tem_report import load_tem

CTX = LoadContext("test", datetime(2025, 1, 1))
STG_KELA = "staging.stg_kela_municipal_share"


def _kela_folder(tmp_path, change=None):
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW / "kela", raw / "kela")
    if change:
        p = raw / "kela" / "data.csv"
        p.write_text(change(p.read_text(encoding="utf-8")), encoding="utf-8")
    return raw


def _staging(raw):
    con = duckdb.connect()
    load_family(con, raw, "kela")
    for fam in FAMILIES.values():  # stg_file_versions reads every family's file list
        fam.create_tables(con)
    for m in ordered([STG_KELA]):
        run_model(con, m)
    return con


def test_day_class_1000_is_read_as_1000_tai_yli(tmp_path):
    bundled = _staging(_kela_folder(tmp_path / "a"))
    spelled = _staging(_kela_folder(tmp_path / "b",
                                    lambda t: t.replace(",1000 tai yli,", ",1000,")))
    query = f"select * exclude (file) from {STG_KELA} order by all"
    rows = spelled.execute(query).fetchall()
    assert rows == bundled.execute(query).fetchall()
    # The 70 % band is there (not NULL) as often as with the bundled spelling.
    band = (f"select count(kunta_osuus_eur) from {STG_KELA} "
            "where day_class = '1000 tai yli'")
    assert spelled.execute(band).fetchall() == bundled.execute(band).fetchall() != [(0,)]
    assert spelled.execute("select count(*) from raw.kela_municipal_share "
                           "where tyomarkkinatukipaiva_luokka = '1000'").fetchall() == [(0,)]


@pytest.mark.parametrize("column, written", [
    ("tyomarkkinatukipaiva_luokka", "1000-"),
    ("ikaryhma", "15-19"),
    ("sukupuoli", "Muu"),
    ("aikatyyppi", "Kvartaali"),
])
def test_an_unknown_kela_category_is_refused_with_file_line_and_value(tmp_path, column,
                                                                      written):
    path = BUNDLED_RAW / "kela" / "data.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].strip().split(",")
    fields = lines[7].split(",")
    i = header.index(column)
    fields[i] = written
    lines[7] = ",".join(fields)
    bad = tmp_path / "data.csv"
    bad.write_text("".join(lines), encoding="utf-8")
    con = duckdb.connect()
    con.execute("begin transaction")
    with pytest.raises(RawInputError) as err:
        load_kela(con, RawFile.of(bad, tmp_path), CTX)
    con.execute("rollback")
    assert str(err.value).startswith(f"data.csv, line 8: unknown {column} '{written}' "
                                     "(expected ")


def test_a_negative_kela_recipient_count_is_refused(tmp_path):
    path = BUNDLED_RAW / "kela" / "data.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[3].split(",")
    fields[9] = "-" + fields[9]
    lines[3] = ",".join(fields)
    bad = tmp_path / "data.csv"
    bad.write_text("".join(lines), encoding="utf-8")
    con = duckdb.connect()
    con.execute("begin transaction")
    with pytest.raises(RawInputError) as err:
        load_kela(con, RawFile.of(bad, tmp_path), CTX)
    assert str(err.value) == (f"data.csv, line 4: negative saaja_lkm {fields[9]}: a count of "
                              "persons cannot be negative")


def test_an_unknown_tem_column_is_refused_with_file_and_cell(tmp_path):
    path = write_tem_csv(tmp_path / "f.csv", "1208", [["564 Oulu", "2024M10", 1, 2, 2, 1, 7]],
                         header=["Alue", "Kuukausi", "Kuntakokeilun asiakkaat", "Työnhakijat",
                                 "Työttömät työnhakijat", "Pitkäaikaistyöttömät",
                                 "Lomautetut"])
    con = duckdb.connect()
    con.execute("begin transaction")
    with pytest.raises(RawInputError) as err:
        load_tem(con, RawFile.of(path, tmp_path), CTX)
    assert str(err.value).startswith("f.csv, line 4, field 7: unknown column 'Lomautetut' in "
                                     "report 1208")


def test_a_repeated_tem_column_is_refused(tmp_path):
    path = write_tem_csv(tmp_path / "f.csv", "4253", [["564 Oulu", "2024M10", 1, 2, 3.0, 4]],
                         header=["Alue", "Kuukausi", "Pitkäaikaistyöttömät",
                                 "Palveluissa olevat pitkäaikaistyöttömät",
                                 "Pitkäaikaistyöttömien aktivointiaste (%)",
                                 "Pitkäaikaistyöttömät"])
    con = duckdb.connect()
    with pytest.raises(RawInputError) as err:
        load_tem(con, RawFile.of(path, tmp_path), CTX)
    assert str(err.value) == ("f.csv, line 4, field 6: column 'Pitkäaikaistyöttömät' appears "
                              "twice in the header (first at line 4, field 3)")
