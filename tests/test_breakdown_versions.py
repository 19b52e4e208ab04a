"""A new version of a report with a breakdown (TTV15's reasons, Päättymissyy) replaces the
whole breakdown of every area-month it holds.

Staging keeps, cell by cell, the best-ranked version that has the cell, so a download of
fewer months keeps the older months. With a breakdown that rule kept an older version's
reason beside the new version's: TEM renaming "Muu tai tuntematon syy" published both, the
same spells counted twice and every share of Kuvio 10 and 11 wrong, all checks passing.
Expected values are read from the new file itself with openpyxl.
"""

from __future__ import annotations

import shutil
from collections import Counter

import duckdb
import openpyxl
from conftest import BUNDLED_RAW

from pipeline.models import ordered, run_model
from pipeline.raw_layer import FAMILIES, load_family

TTV15 = "tem/TTV15_paattymissyyt.xlsx"


def _rename_reason(path, old: str, new: str) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    for (cell,) in ws.iter_rows(min_col=3, max_col=3):
        if cell.value == old:
            cell.value = new
    wb.save(path)


def _spells_by_reason(path) -> Counter:
    """Päättyneet jaksot summed per reason, as the file holds them (numbers only)."""
    ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    out: Counter = Counter()
    for row in ws.iter_rows(values_only=True):
        if len(row) >= 4 and isinstance(row[3], (int, float)) and row[2]:
            out[row[2]] += row[3]
    return out


def test_a_renamed_reason_in_a_new_ttv15_version_does_not_keep_the_old_one(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW / "tem", raw / "tem")
    con = duckdb.connect()
    load_family(con, raw, "tem")
    _rename_reason(raw / TTV15, "Muu tai tuntematon syy", "Muu syy")
    expected = _spells_by_reason(raw / TTV15)
    assert "Muu syy" in expected and "Muu tai tuntematon syy" not in expected
    load_family(con, raw, "tem")  # the new version, beside the old one
    for fam in FAMILIES.values():  # stg_file_versions reads every family's file list
        fam.create_tables(con)
    for m in ordered(["staging.stg_tem_cells"]):
        run_model(con, m)
    rows = con.execute("select breakdown, sum(value) from staging.stg_tem_cells "
                       "where report = 'TTV15' group by breakdown").fetchall()
    assert dict(rows) == expected
