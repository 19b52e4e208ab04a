"""Bad input stops the run with file, place and problem, and the published warehouse stays.

Each case changes one file of a copy of the bundled raw folder after a good run has
published; the next run must exit 1, name the file and the place, and leave
indicators.duckdb byte for byte as it was. (Reader-level tests cover more kinds of bad input,
each with its message and an empty raw table after rollback.)
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, copy_of_run, write_tem_csv

from pipeline.raw_layer import scan


def _px_short_data(raw):
    p = raw / "statfin" / "statfin_tyonv_pxt_12r5.px"
    text = p.read_bytes()
    p.write_bytes(text[: text.rindex(b";")].rsplit(b" ", 1)[0] + b";\n")  # one value fewer
    return "statfin/statfin_tyonv_pxt_12r5.px", "DATA"


def _kela_bad_month(raw):
    p = raw / "kela" / "data.csv"
    lines = p.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[5] = lines[5].replace(",2019", ",2019", 1).replace("201901", "201913", 1)
    p.write_text("".join(lines), encoding="utf-8")
    return "kela/data.csv", "line 6"


def _tem_text_in_count(raw):
    write_tem_csv(raw / "tem" / "extra_1356.csv", "1356",
                  [["564 Oulu", "2025M01", "noin 50", 1, 1, 1]],
                  header=["Alue", "Kuukausi", "Alkaneet työttömyysjaksot",
                          "Virta yli 3 kk työttömyyteen", "Virta yli 6 kk työttömyyteen",
                          "Virta yli 12 kk työttömyyteen"])
    return "tem/extra_1356.csv", "line 5, field 3"


def _empty_csv(raw):
    (raw / "tem" / "tyhja_1208.csv").write_bytes(b"")
    return "tem/tyhja_1208.csv", "the file is empty"


def _not_a_workbook(raw):
    p = raw / "tem" / "TEM_1208_tyonhakijat_2019-2024.xlsx"
    p.write_bytes(b"PK\x03\x04 this is not really a zip")
    return "tem/TEM_1208_tyonhakijat_2019-2024.xlsx", "not a readable Excel workbook"


def _undecodable_tem_csv(raw):
    p = raw / "tem" / "tem4253_aktivointiaste.csv"
    data = p.read_bytes()
    p.write_bytes(data.replace(b"564 Oulu;2019M05", b"564 Oulu\x81;2019M05", 1))
    return "tem/tem4253_aktivointiaste.csv", "cannot be decoded"


def _published_rate_disagrees(raw):
    """Not a parse error: a blocking check (TEM's rate vs the recomputed one) stops the run."""
    p = raw / "tem" / "tem4253_aktivointiaste.csv"
    lines = p.read_bytes().decode("cp1252").split("\r\n")
    i = next(i for i, ln in enumerate(lines) if ln.startswith("244 Kempele;2022M05;"))
    cells = lines[i].split(";")
    cells[2] = "99,9"
    lines[i] = ";".join(cells)
    p.write_bytes("\r\n".join(lines).encode("cp1252"))
    return "indicator_values_by_source", "published_rates_match"


CASES = {
    "px_data_count": _px_short_data,
    "kela_bad_month": _kela_bad_month,
    "tem_text_in_count": _tem_text_in_count,
    "not_a_workbook": _not_a_workbook,
    "empty_file": _empty_csv,
    "undecodable_csv": _undecodable_tem_csv,
    "blocking_check": _published_rate_disagrees,
}


@pytest.fixture(scope="module")
def published(bundled_run_once, tmp_path_factory):
    return copy_of_run(bundled_run_once, tmp_path_factory, "bad")


def sha(p):
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_stops_the_run_and_keeps_the_warehouse(published, tmp_path, case):
    raw, marts = tmp_path / "raw", tmp_path / "marts"
    shutil.copytree(published / "raw", raw)
    shutil.copytree(published / "marts", marts)
    before = sha(marts / "indicators.duckdb")
    name, place = CASES[case](raw)
    res = subprocess.run([sys.executable, "-m", "pipeline", "run", "--raw-dir", str(raw),
                          "--marts-dir", str(marts), "--reports-dir", str(tmp_path / "r")],
                         capture_output=True, text=True, cwd=ROOT)
    text = res.stdout + res.stderr
    assert res.returncode == 1, text
    assert name in text and place in text, text
    assert "nothing was published" in text
    assert sha(marts / "indicators.duckdb") == before


def test_unknown_files_are_reported_by_name_not_loaded(published, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(published / "raw", raw)
    (raw / "muistiinpanot.txt").write_text("analyst's notes\n", encoding="utf-8")
    (raw / "tem" / "vanha_raportti.csv").write_text("Otsikko;x\n1;2\n", encoding="utf-8")
    found = scan(raw)
    assert found.unrecognised == ["muistiinpanot.txt", "tem/vanha_raportti.csv"]
    assert sum(len(v) for v in found.by_family.values()) == 7
