"""Peak memory and time of the raw layer on large or hostile files:
``.venv/bin/python -m benchmarks.raw_limits [--mb 240] [--case NAME ...]``.

Each case writes one file into a raw folder of its own and runs, in a child process (so its
peak memory is its own), what a raw asset does: scan the folder, then load the TEM family
into a new DuckDB file. It prints a line per case: the outcome (rows loaded, or the error),
wall seconds and the child's peak RSS (``os.wait4``), beside the file's size.

Cases:

``junk_csv``
    ``junk.csv``: random text lines, no title, no header. Recognised by no family: the scan
    reads the heads only, nothing loads.
``tem_junk``
    a TEM 1356 export (title and header) followed by lines that are not data rows. Refused
    at the first bad row, without reading the rest into memory.
``tem_valid``
    a valid TEM 1356 export of that size (every row kept): the peak stays near the size of
    the cells kept (the Arrow table that is inserted), not a multiple of the file.
``xlsx_bomb``
    a small .xlsx whose ``xl/worksheets/sheet1.xml`` inflates past the limit: refused from
    the zip directory before anything is inflated.

Not a test (it measures this machine); ``tests/test_raw_folder.py`` asserts the behaviour
(refused, which file and part, the heads only read) without timing anything.

Measured on the project's 2-core machine (shared, so the seconds are rough), 2026-12-01;
a bare process with the readers imported peaks at about 160 MB:

============  =========  ===============================  ==============================
case          file       before (main b9995e8)            after
============  =========  ===============================  ==============================
junk_csv      262 MB     (heads only already)             165 MB, 1.2 s, not recognised
tem_junk      240 MB     3 190 MB, 23.7 s                 207 MB, 2.7 s, refused line 4
tem_junk      40 MB      733 MB, 4.2 s                    210 MB, 1.2 s
tem_valid     40 MB      1 915 MB, 15.6 s (4.6 M cells)   998 MB, 16.1 s
xlsx_bomb     2.8 MB     (inflated and parsed)            168 MB, 1.1 s, refused: sheet1.xml
                                                          inflates to 2 879 MB
============  =========  ===============================  ==============================

``tem_valid`` keeps 4.6 M cells (55 MB in the database file once checkpointed): the peak is
DuckDB's transaction-local copy of them before the commit (uncompressed), plus one batch.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TITLE = "Työnvälitystilasto 1356: Virta yli 3, 6 ja 12 kuukauden työttömyyteen"
HEADER = ("Alue;Kuukausi;Alkaneet työttömyysjaksot;Virta yli 3 kk työttömyyteen;"
          "Virta yli 6 kk työttömyyteen;Virta yli 12 kk työttömyyteen")


def _write_lines(path: Path, head: list[str], line, size: int) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="\r\n") as f:
        for h in head:
            f.write(h + "\n")
        written, i = 0, 0
        block: list[str] = []
        while written < size:
            text = line(i)
            block.append(text)
            written += len(text) + 2
            i += 1
            if len(block) == 10_000:
                f.write("\n".join(block) + "\n")
                block = []
        if block:
            f.write("\n".join(block) + "\n")


def junk_csv(folder: Path, size: int) -> Path:
    rnd = random.Random(1)
    letters = "abcdefghijklmnopqrstuvwxyzåäö ,;"
    words = ["".join(rnd.choice(letters) for _ in range(60)) for _ in range(1000)]
    path = folder / "junk.csv"
    _write_lines(path, [], lambda i: words[i % 1000], size)
    return path


def tem_junk(folder: Path, size: int) -> Path:
    path = folder / "tem" / "1356_junk.csv"
    path.parent.mkdir(parents=True)
    _write_lines(path, [TITLE, "Poimittu 15.01.2025", HEADER],
                 lambda i: f"row {i} of something else entirely;x;y;z", size)
    return path


def tem_valid(folder: Path, size: int) -> Path:
    """Valid rows: areas 000–999 with a suffix so that every (area, month) is unique."""
    path = folder / "tem" / "1356_valid.csv"
    path.parent.mkdir(parents=True)
    months = [f"{y}M{m:02d}" for y in range(1990, 2040) for m in range(1, 13)]

    def line(i: int) -> str:
        area, month = divmod(i, len(months))
        return (f"{area % 1000:03d} Alue{area};{months[month]};{1000 + i % 97};{i % 89};"
                f"{i % 53};{i % 31}")

    _write_lines(path, [TITLE, "Poimittu 15.01.2025", HEADER], line, size)
    return path


def xlsx_bomb(folder: Path, size: int) -> Path:
    """A workbook whose sheet inflates to ``size`` × 12 bytes (zeros compress ~1000:1)."""
    path = folder / "tem" / "pommi.xlsx"
    path.parent.mkdir(parents=True)
    src = REPO / "data" / "raw" / "tem" / "TEM_1208_tyonhakijat_2019-2024.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(item, zin.read(item))
        with zout.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            chunk = b"<!--" + b" " * ((1 << 20) - 7) + b"-->"
            for _ in range(size * 12 >> 20):
                f.write(chunk)
    return path


CASES = {"junk_csv": junk_csv, "tem_junk": tem_junk, "tem_valid": tem_valid,
         "xlsx_bomb": xlsx_bomb}


def child(raw: str, db: str) -> None:
    """What the raw asset does: scan, then load the TEM family; one JSON line."""
    import duckdb

    from pipeline.raw_layer import load_family, scan
    from pipeline.readers.common import RawInputError

    start = time.perf_counter()
    con = duckdb.connect(db)
    try:
        found = scan(Path(raw))
        result = load_family(con, Path(raw), "tem", found)
        outcome = f"loaded {sum(f['rows'] or 0 for f in result.loaded):,} cells"
        not_loaded = [f"{f.file}: {f.reason}" for f in getattr(found, "not_loaded", [])]
        if not_loaded:
            outcome += "; not loaded: " + "; ".join(not_loaded)
    except RawInputError as e:
        outcome = f"refused: {e}"
    finally:
        con.close()
    print(json.dumps({"outcome": outcome, "seconds": round(time.perf_counter() - start, 2)}))


def measure(name: str, size: int, work: Path) -> dict:
    raw = work / name / "raw"
    raw.mkdir(parents=True)
    path = CASES[name](raw, size)
    file_mb = round(path.stat().st_size / 1e6, 1)
    db = work / name / "bench.duckdb"
    start = time.perf_counter()
    with open(work / "child.err", "wb") as err:
        p = subprocess.Popen([sys.executable, "-m", "benchmarks.raw_limits", "--child",
                              str(raw), str(db)], stdout=subprocess.PIPE, stderr=err,
                             cwd=REPO)
        out = p.stdout.read().decode()
        _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError((work / "child.err").read_text()[-3000:])
    line = json.loads(out.strip().splitlines()[-1])
    shutil.rmtree(work / name, ignore_errors=True)
    return {"case": name, "file_mb": file_mb, "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "wall_s": round(wall, 2), **line}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=240, help="file size in MB (default 240)")
    ap.add_argument("--case", action="append", choices=sorted(CASES))
    ap.add_argument("--child", nargs=2, metavar=("RAW", "DB"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    with tempfile.TemporaryDirectory(prefix="raw_limits_") as tmp:
        for name in args.case or list(CASES):
            r = measure(name, args.mb * 1_000_000, Path(tmp))
            print(f"{r['case']:<10} {r['file_mb']:>7.1f} MB  peak RSS {r['peak_rss_mb']:>8.1f} MB  "
                  f"{r['wall_s']:>7.2f} s  {r['outcome'][:160]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
