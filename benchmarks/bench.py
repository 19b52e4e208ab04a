"""``make bench``: the pipeline at whole-country scale, measured on this machine.

``python -m benchmarks.bench [--municipalities N] [--first-year Y] [--last-year Y]
[--work-dir DIR] [--data-dir DIR] [--repeat N] [--write docs/benchmarks.md]``

1. writes the whole-country raw files (``benchmarks.country``: ~300 municipalities, 19
   regions and the country, 2006–2025; the 12u4 file holds ≈ 28 M cells);
2. ingests the 12u4 PX file with the pipeline's reader and with pyaxis, each in a process
   of its own: seconds, peak memory (the process's max RSS, from ``os.wait4``), cells per
   second, and pyaxis' time over ours;
3. runs ``python -m pipeline run`` on the whole set (temporary marts, reports and Dagster
   folders), then changes one raw file (a count in the TEM TTV15 export) and runs again
   with ``--changed-only`` (when the CLI has it; else a plain run, which also skips the
   unchanged raw files); after each run, times ``select count(*) from audit.revisions`` on
   the published warehouse (first one version of every file: no revision; then two versions
   of TTV15: the one changed count); then changes one Kela value and runs ``--changed-only``
   once more (only Kela's mart and the figures drawn from it are redone);
4. exports the figures for a municipality outside the pilot and for an employment area
   (``--area TA_OULU``), from the published warehouse.

Prints a table; with ``--write`` also writes it, with the machine and the versions, as
Markdown. Nothing is asserted: the targets (ingest ≥ 20× faster than pyaxis and ≤ 1.5 GB,
a full run in minutes) are printed beside the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import duckdb

from . import country
from .incremental import KELA, change_one_kela_value

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TARGET_RATIO = 20.0
TARGET_PEAK = 1.5 * 2**30

# The reader before the narrow storage (one wide row per cell, ~10 VARCHAR columns; git
# d138518), measured on this machine with the same whole-country 12u4 file. Kept here
# because that code is gone.
BEFORE = {"seconds": 23.0, "peak_bytes": 1231 * 2**20, "cells": 28_425_600,
          "note": "the wide-table reader (git d138518), same file and machine, 2026-11-28"}


@dataclass
class Result:
    label: str
    seconds: float | None = None
    peak_bytes: int | None = None
    cells: int | None = None
    note: str = ""
    ok: bool = True
    extra: dict = field(default_factory=dict)


@dataclass
class Child:
    returncode: int
    stdout: str
    stderr: str
    wall: float
    peak_bytes: int
    cpu: float


def run_child(cmd: list[str], work: Path, env: dict | None = None) -> Child:
    """Run ``cmd`` as a child process; its wall time, peak RSS and CPU time (os.wait4)."""
    out, err = work / "child.out", work / "child.err"
    with open(out, "wb") as fo, open(err, "wb") as fe:
        start = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, cwd=REPO,
                             env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - start
        p.returncode = os.waitstatus_to_exitcode(status)
    return Child(p.returncode, out.read_text(errors="replace"), err.read_text(errors="replace"),
                 wall, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime)


def ingest(reader: str, px: Path, work: Path) -> tuple[float, int, int, float]:
    """(seconds, cells, peak bytes, cpu seconds) of one ingest in its own process."""
    child = run_child([PYTHON, "-m", "benchmarks.ingest", reader, str(px), str(work)], work)
    if child.returncode != 0:
        raise RuntimeError(f"{reader} ingest failed:\n{child.stderr[-2000:]}")
    line = json.loads(child.stdout.strip().splitlines()[-1])
    return line["seconds"], line["cells"], child.peak_bytes, child.cpu


def pipeline_run(raw: Path, out: Path, work: Path, *extra: str) -> Child:
    return run_child([PYTHON, "-m", "pipeline", "run", "--raw-dir", str(raw),
                      "--marts-dir", str(out / "marts"), "--reports-dir",
                      str(out / "reports"), *extra], work,
                     env={"DAGSTER_HOME": str(out / "dagster")})


def time_revisions(marts: Path, repeat: int = 3) -> tuple[float, int]:
    """(median seconds, rows) of ``select count(*) from audit.revisions`` on the published
    warehouse, opened read-only in this process (closed before the next run)."""
    con = duckdb.connect(str(marts / "indicators.duckdb"), read_only=True)
    try:
        secs, rows = [], 0
        for _ in range(repeat):
            start = time.perf_counter()
            rows = con.execute("select count(*) from audit.revisions").fetchall()[0][0]
            secs.append(time.perf_counter() - start)
    finally:
        con.close()
    return statistics.median(secs), rows


def revisions_result(marts: Path, what: str, expected: int) -> Result:
    secs, rows = time_revisions(marts)
    return Result(f"`select count(*) from audit.revisions` ({what})", secs,
                  note=f"{rows} rows (expected {expected}); median of 3", ok=rows == expected)


def has_changed_only() -> bool:
    child = subprocess.run([PYTHON, "-m", "pipeline", "run", "--help"], cwd=REPO,
                           capture_output=True, text=True)
    return "--changed-only" in child.stdout


def change_one_file(raw: Path) -> str:
    """Add 1 to the first count of the TEM TTV15 export (a new download of one report)."""
    path = raw / country.FILES["TTV15"]
    text = path.read_bytes()
    start = text.index(b"\r\n", text.index(b"Alue;Kuukausi")) + 2
    end = text.index(b"\r\n", start)
    cells = text[start:end].split(b";")
    cells[-1] = str(int(cells[-1]) + 1).encode() if cells[-1].isdigit() else b"1"
    path.write_bytes(text[:start] + b";".join(cells) + text[end:])
    return country.FILES["TTV15"]


def machine() -> dict[str, str]:
    info = {"nproc": str(os.cpu_count()), "python": platform.python_version(),
            "platform": platform.platform()}
    try:
        mem = next(line for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
        info["memory"] = f"{int(mem.split()[1]) / 2**20:.1f} GB"
    except (OSError, StopIteration):
        info["memory"] = "?"
    try:
        info["cpu"] = next(line.split(":", 1)[1].strip()
                           for line in Path("/proc/cpuinfo").read_text().splitlines()
                           if line.startswith("model name"))
    except (OSError, StopIteration):
        info["cpu"] = platform.processor() or "?"
    for pkg in ("duckdb", "pyarrow", "numpy", "pandas", "pyaxis", "dagster"):
        try:
            info[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            info[pkg] = "-"
    try:
        load = os.getloadavg()
        info["load average at start"] = " ".join(f"{x:.2f}" for x in load)
    except OSError:
        pass
    return info


def _gb(n: int | None) -> str:
    return "" if n is None else f"{n / 2**30:.2f} GB"


def _s(x: float | None) -> str:
    return "" if x is None else f"{x:.1f} s" if x >= 10 else f"{x:.2f} s"


def _rate(cells: int | None, seconds: float | None) -> str:
    if not cells or not seconds:
        return ""
    return f"{cells / seconds / 1e6:.2f} M/s"


def table(results: list[Result]) -> str:
    lines = ["| measurement | seconds | peak memory | cells/s | notes |",
             "|---|---:|---:|---:|---|"]
    for r in results:
        mark = "" if r.ok else " **FAILED**"
        lines.append(f"| {r.label}{mark} | {_s(r.seconds)} | {_gb(r.peak_bytes)} | "
                     f"{_rate(r.cells, r.seconds)} | {r.note} |")
    return "\n".join(lines)


def run(args) -> tuple[list[Result], dict]:
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="bench-"))
    work.mkdir(parents=True, exist_ok=True)
    raw = Path(args.data_dir) if args.data_dir else work / "raw"
    size = {"municipalities": args.municipalities, "first_year": args.first_year,
            "last_year": args.last_year}
    results: list[Result] = []
    stamp = raw / "benchmark.json"
    start = time.perf_counter()
    if not (stamp.exists() and json.loads(stamp.read_text()) == size):
        shutil.rmtree(raw, ignore_errors=True)
        paths = country.generate(raw, **size)
        stamp.write_text(json.dumps(size))
        results.append(Result("write the raw files (benchmarks.country)",
                              time.perf_counter() - start,
                              note=f"{sum(p.stat().st_size for p in paths.values()) / 1e6:.0f} MB"
                                   f" in {len(paths)} files"))
    px = raw / country.FILES["12u4"]
    cells = country.px_cells(**size)
    facts = {"cells": cells, "px_bytes": px.stat().st_size,
             "municipalities": len(country.choose(args.municipalities)),
             "months": 12 * (args.last_year - args.first_year + 1)}

    # -- PX ingest: ours --repeat times, pyaxis once in the middle (so that a busy spell on
    # the machine weighs on both), the median of ours against pyaxis
    runs, theirs = [], None
    for i in range(args.repeat):
        runs.append(ingest("pipeline", px, work))
        if i == (args.repeat - 1) // 2 and not args.skip_pyaxis:
            theirs = ingest("pyaxis", px, work)
    secs = [r[0] for r in runs]
    med = statistics.median(secs)
    peak = max(r[2] for r in runs)
    results.append(Result(
        f"PX ingest, 12u4 ({cells / 1e6:.1f} M cells, {px.stat().st_size / 1e6:.0f} MB): "
        "pipeline reader", med, peak, runs[0][1],
        note=f"median of {args.repeat} (best {min(secs):.2f} s); CPU "
             f"{statistics.median(r[3] for r in runs):.1f} s; target ≤ {_gb(int(TARGET_PEAK))}",
        ok=runs[0][1] == cells))
    if theirs is not None:
        p_secs, p_cells, p_peak, p_cpu = theirs
        results.append(Result("PX ingest, same file: pyaxis 0.4.3", p_secs, p_peak, p_cells,
                              note=f"CPU {p_cpu:.1f} s", ok=p_cells == cells))
        ratio = p_secs / med
        results.append(Result(
            "pyaxis time / pipeline reader time", None,
            note=f"**{ratio:.1f}×** (target ≥ {TARGET_RATIO:.0f}×; {p_secs / min(secs):.1f}× "
                 f"with our best run); pyaxis' peak memory {p_peak / peak:.1f}× ours"))
        facts["ratio"] = ratio
    facts["load_after_ingest"] = " ".join(f"{x:.2f}" for x in os.getloadavg())

    # -- a full run, an incremental one, exports
    if not args.skip_run:
        out = work / "out"
        shutil.rmtree(out, ignore_errors=True)
        full = pipeline_run(raw, out, work)
        ok = full.returncode == 0
        results.append(Result("full `python -m pipeline run` (whole set, empty warehouse)",
                              full.wall, full.peak_bytes, ok=ok,
                              note=_summary(full.stdout)))
        if not ok:
            print(full.stdout[-3000:], full.stderr[-3000:], sep="\n", file=sys.stderr)
        else:
            results.append(revisions_result(out / "marts", "one version of every file", 0))
        changed = change_one_file(raw)
        stamp.unlink(missing_ok=True)  # the raw set is no longer the generated one
        flag = ["--changed-only"] if has_changed_only() else []
        inc = pipeline_run(raw, out, work, *flag)
        results.append(Result(
            f"incremental run after one changed file ({changed}"
            f"{', --changed-only' if flag else ''})", inc.wall, inc.peak_bytes,
            ok=inc.returncode == 0, note=_summary(inc.stdout)))
        if inc.returncode == 0:
            results.append(revisions_result(out / "marts", f"two versions of {changed}", 1))
        if flag and (raw / KELA).exists():
            # A source fewer marts depend on: only Kela's mart and its figures are redone.
            what = change_one_kela_value(raw, 1)
            kela = pipeline_run(raw, out, work, *flag)
            results.append(Result(
                f"incremental run after one changed Kela value ({KELA}, --changed-only)",
                kela.wall, kela.peak_bytes, ok=kela.returncode == 0,
                note=_summary(kela.stdout) if kela.returncode == 0 else what))
        for area in (_outside_pilot(args.municipalities), "TA_OULU"):
            exp = run_child([PYTHON, "-m", "pipeline", "export", "--marts-dir",
                             str(out / "marts"), "--area", area, "--out",
                             str(out / "export"), "--format", "png"], work)
            written = sum(1 for line in exp.stdout.splitlines() if line.startswith("wrote "))
            results.append(Result(f"`pipeline export --area {area}` (every figure, PNG)",
                                  exp.wall, exp.peak_bytes, ok=exp.returncode == 0,
                                  note=f"{written} files" if exp.returncode == 0
                                  else " ".join(exp.stderr.strip().splitlines()[-1:])))
    if not args.keep:
        shutil.rmtree(work / "out", ignore_errors=True)
        (work / "ingest.duckdb").unlink(missing_ok=True)
    return results, facts


def _outside_pilot(n: int | None) -> str:
    """A municipality outside the Oulu area: Helsinki when it is in the set, else another."""
    codes = [m.code for m in country.choose(n)]
    if "091" in codes:
        return "KU091"
    others = [c for c in codes if c not in country.OULU_AREA] or codes
    return "KU" + others[-1]


def _summary(stdout: str) -> str:
    lines = [ln for ln in stdout.splitlines() if ln.startswith(("run ", "checks:"))]
    return "; ".join(ln.strip() for ln in lines[-2:]).replace("|", "/")


def markdown(results: list[Result], facts: dict, info: dict, args) -> str:
    size = (f"{facts['municipalities']} municipalities, {facts['months']} months "
            f"({args.first_year}–{args.last_year})")
    before = BEFORE
    lines = [
        "# Benchmarks: whole-country scale",
        "",
        f"Written by `make bench` (`python -m benchmarks.bench`) on "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M')} UTC. Data: `benchmarks.country`, "
        f"{size}; the 12u4 file has {facts['cells']:,} cells "
        f"({facts['px_bytes'] / 1e6:.0f} MB). Each ingest runs in a process of its own; "
        "seconds from the start of the work to the committed, closed database (imports "
        "excluded); peak memory is the process's maximum RSS (`os.wait4`). The runs are "
        "`python -m pipeline run` as a user starts it (Dagster, in-process executor), "
        "wall time including start-up.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in info.items()],
        "",
        "## Results",
        "",
        f"Load average after the ingests: {facts.get('load_after_ingest', '?')} (other "
        "processes on the machine slow every number down).",
        "",
        table(results),
        "",
        "## PX ingest before and after",
        "",
        "| reader | seconds | peak memory | cells/s |",
        "|---|---:|---:|---:|",
        f"| before: {before['note']} | {_s(before['seconds'])} | "
        f"{_gb(before['peak_bytes'])} | {_rate(before['cells'], before['seconds'])} |",
        *[f"| {'after' if 'pipeline' in r.label else 'for comparison'}: "
          f"{r.label.split(': ', 1)[-1]} | {_s(r.seconds)} | {_gb(r.peak_bytes)} | "
          f"{_rate(r.cells, r.seconds)} |" for r in results if r.label.startswith("PX ingest")],
        "",
        "What changed: the wide raw table (one row per cell with a VARCHAR column per "
        "variable and the lineage strings) became narrow storage: the number cells in "
        "`raw.statfin_cells` (`cell_key` BIGINT = file_key × 10¹² + cell index, `value` "
        "DOUBLE), the symbol cells in `raw.statfin_symbols`, the layout in "
        "`raw.statfin_variables` / `raw.statfin_values`. `raw.statfin_12r5` / "
        "`raw.statfin_12u4` are views that compute each code from the cell index, with the "
        "same columns as the tables they replace. DATA is tokenised with numpy on a worker "
        "thread while DuckDB inserts the previous chunk. Staging picks the 12u4 totals (sex "
        "and age group SSS) before ranking and pivoting; `audit.statfin_cells_in_force` "
        "compares cells one by one only for tables loaded from several files. See "
        "`pipeline/readers/px.py`. `audit.revisions` likewise compares cells only for the "
        "sources (TEM report, StatFin table, Kela) loaded from several file versions "
        "(`pipeline/sql/audit/revisions.sql`).",
        "",
        "Timings on a shared 2-core machine vary by ±20 % from run to run; pyaxis runs in "
        "the same session, so the ratio is the steadier figure.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--municipalities", type=int, default=None,
                    help="how many municipalities (default all, about 300)")
    ap.add_argument("--first-year", type=int, default=country.FIRST_YEAR)
    ap.add_argument("--last-year", type=int, default=country.LAST_YEAR)
    ap.add_argument("--work-dir", type=Path, help="default: a new temporary folder")
    ap.add_argument("--data-dir", type=Path,
                    help="where the raw files are (re)used from; default <work-dir>/raw")
    ap.add_argument("--repeat", type=int, default=3, help="pipeline ingests to time")
    ap.add_argument("--skip-pyaxis", action="store_true")
    ap.add_argument("--skip-run", action="store_true", help="ingest only")
    ap.add_argument("--keep", action="store_true", help="keep the run's outputs")
    ap.add_argument("--write", type=Path, help="also write the results as Markdown here")
    args = ap.parse_args(argv)
    info = machine()
    results, facts = run(args)
    print(table(results))
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(markdown(results, facts, info, args), encoding="utf-8")
        print(f"wrote {args.write}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
