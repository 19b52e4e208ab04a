"""A full run and a ``--changed-only`` run after one changed raw file, side by side.

    .venv/bin/python benchmarks/incremental.py [--raw-dir data/raw] [--keep]

On a temp copy of the raw folder (and its own Dagster instance), it runs
``python -m pipeline run`` once to fill an empty working database, then changes one value in
the Kela CSV and runs the full pipeline, then changes another value and runs it with
``--changed-only``. Each run is a fresh process, timed from start to exit, as a user sees it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.__main__ import DAGSTER_YAML  # noqa: E402

KELA = Path("kela") / "data.csv"
PROGRESS = re.compile(r"^\[\s*\d+/\d+\] (\S+).*?([\d.]+) s$", re.M)


def change_one_kela_value(raw: Path, cents: int) -> str:
    """Rewrite the Kela CSV with the municipal share (last column) of its first data line
    changed by ``cents``; return what changed. When that line is a day class of a month, the
    month's total (the Yhteensä line) changes by as much, so the file stays consistent
    (the total is the sum of its day classes, which a blocking check verifies)."""
    path = raw / KELA
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cls = header.index("tyomarkkinatukipaiva_luokka")

    def bump(i: int) -> tuple[str, str]:
        head, value = lines[i].rsplit(",", 1)
        new = f"{float(value) + cents / 100:.2f}"
        lines[i] = f"{head},{new}"
        return value, new

    first = lines[1].split(",")
    old, new = bump(1)
    what = f"{KELA} line 2 kunta_osuus_eur {old} → {new}"
    if first[cls] != "Yhteensä":
        key = first[:cls]  # the same period, municipality, age group and sex
        total = next((i for i, line in enumerate(lines[2:], 2)
                      if line.split(",")[:cls] == key and line.split(",")[cls] == "Yhteensä"),
                     None)
        if total is not None:
            bump(total)
            what += f" (and its month's total, line {total + 1})"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return what


def run(tmp: Path, env: dict, *extra: str) -> dict:
    cmd = [sys.executable, "-m", "pipeline", "run", "--raw-dir", str(tmp / "raw"),
           "--marts-dir", str(tmp / "marts"), "--reports-dir", str(tmp / "reports"), *extra]
    start = time.perf_counter()
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if res.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{res.stdout}{res.stderr}")
    steps = PROGRESS.findall(res.stdout)
    charts = sum(float(s) for key, s in steps if key.startswith("reports/"))
    return {"seconds": took, "assets": len(steps), "charts": charts,
            "other": sum(float(s) for _, s in steps) - charts}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw-dir", type=Path, default=ROOT / "data" / "raw")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kk-bench-"))
    try:
        shutil.copytree(args.raw_dir, tmp / "raw")
        (tmp / "home").mkdir()
        (tmp / "home" / "dagster.yaml").write_text(DAGSTER_YAML)
        env = {**os.environ, "DAGSTER_HOME": str(tmp / "home")}
        print(f"raw folder: copy of {args.raw_dir} in {tmp}", flush=True)
        rows = [("full run, empty working database", run(tmp, env))]
        print(f"changed: {change_one_kela_value(tmp / 'raw', 1)}", flush=True)
        rows.append(("full run after one changed file", run(tmp, env)))
        print(f"changed: {change_one_kela_value(tmp / 'raw', 1)}", flush=True)
        rows.append(("--changed-only after one changed file", run(tmp, env, "--changed-only")))
        print()
        print(f"{'run':<40} {'assets':>6} {'wall s':>7} {'charts s':>9} {'other steps s':>14}")
        for name, r in rows:
            print(f"{name:<40} {r['assets']:>6} {r['seconds']:>7.1f} {r['charts']:>9.1f} "
                  f"{r['other']:>14.1f}")
        full, inc = rows[1][1]["seconds"], rows[2][1]["seconds"]
        print(f"\n--changed-only took {inc:.1f} s against {full:.1f} s for the full run "
              f"({100 * (1 - inc / full):.0f} % less); wall time includes ~4 s of start-up.")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
