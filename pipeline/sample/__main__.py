"""Write the bundled synthetic raw files: ``python -m pipeline.sample [--out DIR] [--seed N]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import statfin, tem
from .kela import generate_kela
from .world import World

DEFAULT_SEED = 20210301


def generate(out: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write every bundled raw file under ``out``; return their paths."""
    world = World(seed)
    written = []

    def path(rel: str) -> Path:
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        written.append(p)
        return p

    # Formats vary on purpose: analysts download some reports as workbooks, some as CSV.
    tem.write_xlsx(path("tem/TEM_1208_tyonhakijat_2019-2024.xlsx"), "1208", world)
    tem.write_csv(path("tem/tem4253_aktivointiaste.csv"), "4253", world, "cp1252")
    tem.write_csv(path("tem/1356_virrat_2019-2024.csv"), "1356", world, "utf-8-sig")
    tem.write_xlsx(path("tem/TTV15_paattymissyyt.xlsx"), "TTV15", world)
    statfin.write_12r5(path("statfin/statfin_tyonv_pxt_12r5.px"), world, seed)
    statfin.write_12u4(path("statfin/12u4_aktivointiaste.px"), world, seed)
    generate_kela(path("kela/data.csv"), seed)
    return written


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m pipeline.sample", description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("data/raw"))
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args(argv)
    for p in generate(args.out, args.seed):
        print(f"wrote {p} ({p.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
