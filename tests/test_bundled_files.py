"""Every bundled raw file loads with `python -m pipeline load`, and the bundled PX files read
the same in an independent PC-Axis library (pyaxis) as in ours."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime

import duckdb
import pytest
from conftest import BUNDLED_RAW, ROOT

from pipeline.readers.common import LoadContext, RawFile
from pipeline.readers.px import load_px

BUNDLED = sorted(p.relative_to(BUNDLED_RAW).as_posix() for p in BUNDLED_RAW.rglob("*")
                 if p.is_file())


def test_bundled_set_is_complete():
    assert {p.split("/")[0] for p in BUNDLED} == {"kela", "statfin", "tem"}
    assert len(BUNDLED) == 7


@pytest.mark.parametrize("rel", BUNDLED)
def test_load_command_reads_each_bundled_file(rel, tmp_path):
    res = subprocess.run([sys.executable, "-m", "pipeline", "load", str(BUNDLED_RAW / rel),
                          "--db", str(tmp_path / "inspect.duckdb")],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert ("report:" in out) or ("table_id:" in out) or ("rows_by_aikatyyppi" in out)

    def rows() -> int:
        con = duckdb.connect(str(tmp_path / "inspect.duckdb"), read_only=True)
        try:
            return sum(con.execute(f"select count(*) from raw.{t}").fetchall()[0][0] for (t,) in
                       con.execute("select table_name from duckdb_tables() where schema_name = "
                                   "'raw' and table_name not like '%_files' and table_name not "
                                   "like '%_values'").fetchall())
        finally:
            con.close()

    n = rows()
    assert n > 1000
    # The same file again: nothing is added.
    again = subprocess.run([sys.executable, "-m", "pipeline", "load", str(BUNDLED_RAW / rel),
                            "--db", str(tmp_path / "inspect.duckdb")],
                           capture_output=True, text=True, cwd=ROOT)
    assert again.returncode == 0, again.stderr
    assert "already loaded" in again.stdout
    assert rows() == n


@pytest.mark.parametrize("name", ["statfin_tyonv_pxt_12r5.px", "12u4_aktivointiaste.px"])
def test_bundled_px_reads_the_same_in_pyaxis(name):
    pyaxis = pytest.importorskip("pyaxis.pyaxis")
    path = BUNDLED_RAW / "statfin" / name
    con = duckdb.connect()
    load_px(con, RawFile.of(path, BUNDLED_RAW), LoadContext("t", datetime(2025, 1, 1)))
    table = "statfin_12r5" if "12r5" in name else "statfin_12u4"
    ours = con.execute(f"select count(*), count(value), sum(value) from raw.{table}").fetchall()[0]
    encoding = "iso-8859-1" if "12r5" in name else "utf-8"
    px = pyaxis.parse(uri=str(path), encoding=encoding)
    df = px["DATA"]
    values = df["DATA"].astype(str)
    numeric = values[~values.isin(["...", "..", ".", "-", '"..."', '".."'])].astype(float)
    assert len(df) == ours[0]
    assert len(numeric) == ours[1]
    assert numeric.sum() == pytest.approx(ours[2])
