"""Every file of the raw folder is loaded or named with its reason; nothing disappears quietly.

Issue 13, findings 2, 8 and 9: a TEM CSV saved as UTF-16 was logged as ``removed`` and the
run published NULL inflow; a symbolic link was skipped without a word; a missing
``sheet1.xml`` failed all three families naming no file; a 3 MB workbook inflating to 3 GiB
was parsed (by every raw asset) before it was refused. Expected values come from the bundled
files themselves (the same cells read from another encoding), not from generator numbers.
"""

from __future__ import annotations

import builtins
import io
import os
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest
from conftest import BUNDLED_RAW, TITLES, copy_of_run, write_tem_csv
from dagster import AssetKey, DagsterInstance, materialize

from pipeline import raw_layer
from pipeline.defs.ingest import raw_assets
from pipeline.defs.resources import PipelinePaths
from pipeline.raw_layer import load_family, scan
from pipeline.readers import tem_report
from pipeline.readers.common import RawFile, RawInputError
from pipeline.readers.tem_report import read_report
from pipeline.runner import run_pipeline
from pipeline.warehouse import published_path

TEM_1356 = "tem/1356_virrat_2019-2024.csv"
TTV15 = "tem/TTV15_paattymissyyt.xlsx"


def _utf16_tab(src: Path, dst: Path) -> None:
    """The CSV as Excel's "Unicode text" writes it: UTF-16LE with a BOM, TAB-separated."""
    text = src.read_bytes().decode("utf-8-sig").replace(";", "\t")
    dst.write_bytes(text.encode("utf-16"))
    assert dst.read_bytes()[:2] == b"\xff\xfe"


def _rebuild(path: Path, change) -> None:
    """Rewrite a workbook's zip with ``change(part name, bytes)`` (None drops the part)."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = change(item.filename, zin.read(item))
            if data is not None:
                zout.writestr(item, data)
    tmp.replace(path)


def _cells(table) -> list[tuple]:
    return sorted(zip(*(table.column(c).to_pylist() for c in
                        ("area", "month", "breakdown", "measure", "value", "symbol", "place"))))


# --- UTF-16 ----------------------------------------------------------------------------


def test_utf16_tab_csv_reads_the_same_cells_as_the_bundled_export(tmp_path):
    dst = tmp_path / "1356_unicode.txt"
    _utf16_tab(BUNDLED_RAW / TEM_1356, dst)
    facts, table = read_report(RawFile.of(dst, tmp_path))
    _orig_facts, orig = read_report(RawFile.of(BUNDLED_RAW / TEM_1356, BUNDLED_RAW))
    assert facts["encoding"] == "utf-16" and facts["report"] == "1356"
    assert table.num_rows == orig.num_rows == 2304
    assert _cells(table) == _cells(orig)  # same values and places (line N, field k)


def test_a_loaded_csv_saved_again_as_utf16_is_a_new_version_not_removed(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW / "tem", raw / "tem")
    con = duckdb.connect()
    load_family(con, raw, "tem")
    _utf16_tab(raw / TEM_1356, raw / TEM_1356)
    result = load_family(con, raw, "tem")
    assert result.removed == [] and [f["file"] for f in result.loaded] == [TEM_1356]
    assert result.loaded[0]["rows"] == 2304
    statuses = con.execute("select status from audit.load_log where file = ? order by loaded_at",
                           [TEM_1356]).fetchall()
    assert statuses == [("loaded",), ("new version",)]


# --- every file loaded or named ----------------------------------------------------------


def test_owner_lock_and_partial_files_are_ignored_by_name_and_named(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW / "tem", raw / "tem")
    (raw / "tem" / "~$TEM_1208_tyonhakijat_2019-2024.xlsx").write_bytes(b"\x07Analyytikko  ")
    (raw / "tem" / ".~lock.TTV15_paattymissyyt.xlsx#").write_text("x,host,user,;")
    (raw / "tem" / "1356_uusi.csv.crdownload").write_bytes(b"\xef\xbb\xbfTy\xc3\xb6")
    found = scan(raw)
    reasons = {n.file: n.reason for n in found.not_loaded}
    assert "Excel's owner file" in reasons["tem/~$TEM_1208_tyonhakijat_2019-2024.xlsx"]
    assert "LibreOffice's lock file" in reasons["tem/.~lock.TTV15_paattymissyyt.xlsx#"]
    assert "download still in progress" in reasons["tem/1356_uusi.csv.crdownload"]
    assert not found.refused and len(found.by_family["tem"]) == 4
    result = load_family(duckdb.connect(), raw, "tem", found)
    assert len(result.loaded) == 4 and len(result.not_loaded) == 3


def test_symlinks_are_named_and_never_followed_out_of_the_raw_folder(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW / "kela", raw / "kela")
    outside = write_tem_csv(tmp_path / "elsewhere" / "4253.csv", "4253",
                            [["564 Oulu", "2024M10", 2364, 264, 10.0]])
    os.symlink(outside, raw / "linked_4253.csv")
    os.symlink("/etc/passwd", raw / "passwd.csv")
    os.symlink(raw / "kela" / "data.csv", raw / "kela_copy.csv")
    os.symlink(tmp_path / "nowhere.csv", raw / "dangling.csv")
    found = scan(raw)
    reasons = {n.file: n.reason for n in found.not_loaded}
    assert f"a symbolic link to {outside}, outside the raw folder" in reasons["linked_4253.csv"]
    assert "refused" in reasons["passwd.csv"] and "/etc/passwd" in reasons["passwd.csv"]
    assert "kela/data.csv, which is loaded under its own name" in reasons["kela_copy.csv"]
    assert "does not exist" in reasons["dangling.csv"]
    assert found.by_family["tem"] == []  # the TEM file outside was not read
    assert [p.name for p, _ in found.by_family["kela"]] == ["data.csv"]


def _published_copy(bundled_run_once, tmp_path_factory, tmp_path) -> tuple[Path, Path]:
    base = copy_of_run(bundled_run_once, tmp_path_factory, "raw_folder")
    raw, marts = tmp_path / "raw", tmp_path / "marts"
    shutil.copytree(base / "raw", raw)
    shutil.copytree(base / "marts", marts)
    return raw, marts


def _no_reports(raw: Path, marts: Path) -> list[AssetKey]:
    from pipeline.definitions import build_defs

    graph = build_defs(str(raw), str(marts)).resolve_asset_graph()
    return sorted(k for k in graph.materializable_asset_keys if k.path[0] != "reports")


def test_a_removed_file_fails_the_run_unless_accepted_and_every_file_is_named(
        bundled_run_once, tmp_path_factory, tmp_path):
    raw, marts = _published_copy(bundled_run_once, tmp_path_factory, tmp_path)
    before = published_path(marts).read_bytes()
    (raw / "tem" / "tem4253_aktivointiaste.csv").unlink()
    (raw / "muistiinpanot.txt").write_text("analyst's notes\n", encoding="utf-8")
    (raw / "tem" / "~$TTV15_paattymissyyt.xlsx").write_bytes(b"\x07Analyytikko  ")
    os.symlink("/etc/passwd", raw / "tem" / "passwd.csv")
    out = io.StringIO()
    assert run_pipeline(str(raw), str(marts), str(tmp_path / "r"), out=out) == 1
    log = out.getvalue()
    assert ("raw/tem: tem/tem4253_aktivointiaste.csv: was loaded before (as tem 4253) and is "
            "gone from the raw folder") in log and "--accept-removed" in log
    assert "nothing was published" in log and published_path(marts).read_bytes() == before

    out = io.StringIO()
    assert run_pipeline(str(raw), str(marts), str(tmp_path / "r"), out=out,
                        selection=_no_reports(raw, marts), accept_removed=True,
                        # removing 4253 loses its values: accepted too, on purpose
                        accept_coverage_loss=True) == 0, \
        out.getvalue()
    log = out.getvalue()
    assert ("raw file removed from the warehouse (--accept-removed): "
            "tem/tem4253_aktivointiaste.csv") in log
    # Every file of the folder is loaded or named in the summary with the reason ...
    assert "raw files not loaded: 2" in log
    assert "  muistiinpanot.txt: not recognised as any source" in log
    assert "raw files ignored by name: 1\n  tem/~$TTV15_paattymissyyt.xlsx: Excel's owner " \
           "file" in log
    assert "  tem/passwd.csv: refused: a symbolic link to /etc/passwd, outside the raw " \
           "folder" in log
    # ... and in the raw assets' Dagster metadata.
    with DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(AssetKey(["raw", "tem"]))
    meta = event.asset_materialization.metadata
    named = {f["file"]: f["reason"] for f in meta["not_loaded_files"].value}
    assert set(named) == {"muistiinpanot.txt", "tem/~$TTV15_paattymissyyt.xlsx",
                          "tem/passwd.csv"}
    assert meta["removed_files"].value == ["tem/tem4253_aktivointiaste.csv"]
    con = duckdb.connect(str(published_path(marts)), read_only=True)
    assert con.execute("select count(*) from raw.tem_report_cells where report = '4253'"
                       ).fetchall() == [(0,)]


def test_a_file_no_longer_recognised_fails_the_load_unless_accepted(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW / "tem", raw / "tem")
    con = duckdb.connect()
    load_family(con, raw, "tem")
    (raw / TEM_1356).write_text("Otsikko;x\n1;2\n", encoding="utf-8")  # overwritten by mistake
    with pytest.raises(RawInputError) as err:
        load_family(con, raw, "tem")
    assert str(err.value).startswith(f"{TEM_1356}: was loaded before (as tem 1356) and is not "
                                     "recognised now: not recognised as any source")
    assert con.execute("select count(*) from raw.tem_report_cells where file = ?",
                       [TEM_1356]).fetchall() == [(2304,)]  # nothing changed
    assert load_family(con, raw, "tem", accept_removed=True).removed == [TEM_1356]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_in_the_raw_folder_is_named_not_read(tmp_path):
    """Every file of the folder is loaded or named: a pipe was passed over in silence."""
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW / "kela", raw / "kela")
    os.mkfifo(raw / "kela" / "incoming.csv")
    found = scan(raw)
    assert [(n.file, n.reason) for n in found.not_loaded] == [
        ("kela/incoming.csv", "not a regular file (a pipe, socket or device): not read")]
    assert [p.name for p, _ in found.by_family["kela"]] == ["data.csv"]


def test_a_removed_kela_file_is_named_without_its_sniff_result(tmp_path):
    """Kela's recogniser answers True (one kind of file): the message and audit.load_log
    said 'was loaded before (as kela True)'."""
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW / "kela", raw / "kela")
    con = duckdb.connect()
    load_family(con, raw, "kela")
    assert con.execute("select detail from audit.load_log where family = 'kela'").fetchall() \
        == [(None,)]
    (raw / "kela" / "data.csv").unlink()
    with pytest.raises(RawInputError) as err:
        load_family(con, raw, "kela")
    assert str(err.value) == ("kela/data.csv: was loaded before and is gone from the raw "
                              "folder; put it back, or run with --accept-removed to remove its "
                              "rows from the warehouse")


# --- damaged and oversized workbooks -----------------------------------------------------


def test_a_missing_sheet_part_fails_only_the_tem_family_naming_file_and_part(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW, raw)
    _rebuild(raw / TTV15, lambda name, data: None if name == "xl/worksheets/sheet1.xml"
             else data)
    found = scan(raw)
    assert set(found.refused) == {"tem"}
    con = duckdb.connect()
    assert load_family(con, raw, "kela", found).loaded
    assert load_family(con, raw, "statfin", found).loaded
    with pytest.raises(RawInputError) as err:
        load_family(con, raw, "tem", found)
    assert str(err.value) == (f"{TTV15}: xl/worksheets/sheet1.xml is missing (the workbook's "
                              "first sheet, which holds the report)")


def test_a_truncated_sheet_part_is_named(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW / "tem", raw / "tem")
    _rebuild(raw / TTV15, lambda name, data: data[: len(data) * 2 // 3]
             if name == "xl/worksheets/sheet1.xml" else data)
    with pytest.raises(RawInputError) as err:
        load_family(duckdb.connect(), raw, "tem")
    assert str(err.value).startswith(f"{TTV15}: xl/worksheets/sheet1.xml is truncated")


def test_a_workbook_inflating_past_the_limit_is_refused_from_its_zip_directory(
        tmp_path, monkeypatch):
    """A ~0.3 MB file whose sheet inflates to 210 MB: refused with the part named, and the
    sheet is never inflated (nothing opens a part of the zip)."""
    path = tmp_path / "raw" / "tem" / "pommi.xlsx"
    path.parent.mkdir(parents=True)
    src = BUNDLED_RAW / "tem" / "TEM_1208_tyonhakijat_2019-2024.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(item, zin.read(item))
        with zout.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            block = b" " * (1 << 20)
            for _ in range(210):
                f.write(block)
    assert path.stat().st_size < 1_000_000

    def no_inflating(*args, **kwargs):
        raise AssertionError("a part of the workbook was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_inflating)
    found = scan(tmp_path / "raw")
    [error] = found.refused["tem"]
    assert str(error).startswith("tem/pommi.xlsx: xl/worksheets/sheet1.xml inflates to "
                                 "220.2 MB")
    assert "over the limit of 200.0 MB" in str(error)
    with pytest.raises(RawInputError):
        load_family(duckdb.connect(), tmp_path / "raw", "tem", found)


# --- read once, heads only -----------------------------------------------------------------


def test_each_raw_file_is_recognised_once_per_run_not_once_per_raw_asset(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW, raw)
    raw_layer._INSPECTED.clear()
    calls: list[str] = []
    real = raw_layer._inspect_uncached

    def counting(path, rel):
        calls.append(rel)
        return real(path, rel)

    monkeypatch.setattr(raw_layer, "_inspect_uncached", counting)
    from dagster_duckdb import DuckDBResource

    result = materialize(raw_assets, resources={
        "duckdb": DuckDBResource(database=str(tmp_path / "w.duckdb")),
        "paths": PipelinePaths(raw_dir=str(raw), marts_dir=str(tmp_path / "m"))})
    assert result.success
    assert sorted(calls) == sorted(p.relative_to(raw).as_posix()
                                   for p in raw.rglob("*") if p.is_file())


class _CountingFile:
    """A file object that counts the bytes read from it."""

    def __init__(self, f, counter: list[int]):
        self._f, self._counter = f, counter

    def read(self, *args):
        data = self._f.read(*args)
        self._counter[0] += len(data)
        return data

    def read1(self, *args):
        data = self._f.read1(*args)
        self._counter[0] += len(data)
        return data

    def readinto(self, buffer):
        n = self._f.readinto(buffer)
        self._counter[0] += n or 0
        return n

    def readline(self, *args):
        data = self._f.readline(*args)
        self._counter[0] += len(data)
        return data

    def __iter__(self):
        for line in self._f:
            self._counter[0] += len(line)
            yield line

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def __getattr__(self, name):
        return getattr(self._f, name)


def _count_reads(monkeypatch, path: Path) -> list[int]:
    counter = [0]
    real_open = builtins.open

    def counting_open(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        if "b" in mode and Path(os.fspath(file)) == path:
            return _CountingFile(f, counter)
        return f

    monkeypatch.setattr(builtins, "open", counting_open)
    return counter


def test_a_240_mb_junk_csv_is_passed_over_at_the_sniff_reading_its_head_only(tmp_path,
                                                                              monkeypatch):
    raw = tmp_path / "raw"
    raw.mkdir()
    junk = raw / "junk.csv"
    with open(junk, "wb") as f:
        f.write(b"".join(b"%d,lorem ipsum dolor sit amet;%d\n" % (i, i) for i in range(50_000)))
        f.truncate(240_000_000)  # the rest sparse: no disk, no time
    counter = _count_reads(monkeypatch, junk)
    found = scan(raw)
    assert found.unrecognised == ["junk.csv"]
    assert 0 < counter[0] < 2_000_000  # the heads the three families look at, no more


def test_a_240_mb_tem_csv_of_junk_rows_is_refused_at_its_first_batch(tmp_path, monkeypatch):
    raw = tmp_path / "raw"
    path = raw / "tem" / "1356_roska.csv"
    path.parent.mkdir(parents=True)
    head = [TITLES["1356"], "Poimittu 15.01.2025",
            "Alue;Kuukausi;Alkaneet työttömyysjaksot;Virta yli 3 kk työttömyyteen;"
            "Virta yli 6 kk työttömyyteen;Virta yli 12 kk työttömyyteen"]
    with open(path, "wb") as f:
        f.write("\r\n".join(head).encode("utf-8-sig") + b"\r\n")
        f.write(b"".join(b"rivi %d;jotain muuta;x;y;z;w\r\n" % i for i in range(200_000)))
        f.truncate(240_000_000)
    counter = _count_reads(monkeypatch, path)
    with pytest.raises(RawInputError) as err:
        load_family(duckdb.connect(), raw, "tem")
    assert str(err.value) == ("tem/1356_roska.csv, line 4, field 1: 'rivi 0' is not an area "
                              "like '564 Oulu'")
    # The hash, the sniff and one batch of rows (50 000 of them): a few MB of 240.
    assert counter[0] < 240_000_000 + 20_000_000  # hashing reads it all once
    assert tem_report.BATCH_ROWS == 50_000


def test_pipeline_load_names_the_damaged_part_of_a_workbook(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    path = tmp_path / "TTV15.xlsx"
    shutil.copy(BUNDLED_RAW / TTV15, path)
    _rebuild(path, lambda name, data: None if name == "xl/worksheets/sheet1.xml" else data)
    res = subprocess.run([sys.executable, "-m", "pipeline", "load", str(path), "--db",
                          str(tmp_path / "i.duckdb")], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 1
    assert res.stderr == ("error: TTV15.xlsx: xl/worksheets/sheet1.xml is missing (the "
                          "workbook's first sheet, which holds the report)\n")
