"""Shared test helpers: small TEM report files written on the fly, and run folders."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_RAW = ROOT / "data" / "raw"
FIXTURES = ROOT / "tests" / "fixtures"
# shared/ (real StatFin files, format notes) lies beside the repository: found relative to
# it, never at a fixed machine path.
SHARED = ROOT.parent / "shared"

TITLES = {
    "1208": "Työnvälitystilasto 1208: Työnhakijat ja kuntakokeilun asiakkaat kuukauden lopussa",
    "4253": "Työnvälitystilasto 4253: Pitkäaikaistyöttömien aktivointiaste",
    "1356": "Työnvälitystilasto 1356: Virta yli 3, 6 ja 12 kuukauden työttömyyteen",
    "TTV15": "Työnvälitystilasto TTV15: Pitkäaikaistyöttömien työttömyysjaksojen päättymissyyt",
}
HEADERS = {
    "1208": ["Alue", "Kuukausi", "Kuntakokeilun asiakkaat", "Työnhakijat",
             "Työttömät työnhakijat", "Pitkäaikaistyöttömät"],
    "4253": ["Alue", "Kuukausi", "Pitkäaikaistyöttömät", "Palveluissa olevat pitkäaikaistyöttömät",
             "Pitkäaikaistyöttömien aktivointiaste (%)"],
}


def write_tem_csv(path: Path, report: str, rows: list[list], header: list[str] | None = None,
                  encoding: str = "cp1252", preamble: list[str] | None = None) -> Path:
    """A TEM export as CSV: title, metadata, header, rows (decimal comma), footnote."""
    lines = preamble if preamble is not None else [TITLES[report], "Poimittu 15.01.2025", ""]
    lines = list(lines) + [";".join(header or HEADERS[report])]
    for r in rows:
        lines.append(";".join(str(v).replace(".", ",") if isinstance(v, float) else str(v)
                              for v in r))
    lines += ["", "Lähde: TEM, Työnvälitystilasto"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))  # as TEM ends lines
    return path


def write_tem_xlsx(path: Path, report: str, rows: list[list], header: list[str] | None = None,
                   preamble: list[str] | None = None, sheet: str = "Raportti") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for line in preamble if preamble is not None else [TITLES[report], "Poimittu 15.01.2025"]:
        ws.append([line])
    ws.append([])
    ws.append(header or HEADERS[report])
    for r in rows:
        ws.append(r)
    ws.append([])
    ws.append(["Lähde: TEM, Työnvälitystilasto"])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


@pytest.fixture
def bundled_raw(tmp_path) -> Path:
    """A copy of the bundled raw folder that a test may change."""
    dst = tmp_path / "raw"
    shutil.copytree(BUNDLED_RAW, dst)
    return dst


@pytest.fixture
def dirs(tmp_path) -> dict[str, Path]:
    return {"marts": tmp_path / "marts", "reports": tmp_path / "reports"}


@pytest.fixture(scope="session", autouse=True)
def _dagster_home(tmp_path_factory):
    """The test session gets its own Dagster instance folder (telemetry off)."""
    home = tmp_path_factory.getbasetemp() / "dagster_home"
    home.mkdir(exist_ok=True)
    # The project's instance settings: telemetry off, one writer in the warehouse_writer pool.
    from pipeline.__main__ import DAGSTER_YAML

    (home / "dagster.yaml").write_text(DAGSTER_YAML)
    old = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = old


@pytest.fixture(scope="session")
def bundled_run_once(_dagster_home, tmp_path_factory) -> tuple[Path, str]:
    """One full pipeline run on a copy of the bundled data for the whole session: (folder
    with raw/, marts/, reports/; the run's printed log). Take a copy (``copy_of_run``)
    before changing anything in it."""
    from pipeline.runner import run_pipeline

    base = tmp_path_factory.mktemp("bundled_run")
    shutil.copytree(BUNDLED_RAW, base / "raw")
    out = io.StringIO()
    code = run_pipeline(str(base / "raw"), str(base / "marts"), str(base / "reports"), out=out)
    assert code == 0, out.getvalue()
    return base, out.getvalue()


def copy_of_run(run: tuple[Path, str], tmp_path_factory, name: str) -> Path:
    """A module's own copy of the session's run folder (raw, working and published
    warehouse, charts), so that what one test module changes no other sees."""
    dst = tmp_path_factory.mktemp(name)
    shutil.copytree(run[0], dst, dirs_exist_ok=True)
    return dst



# --- A hand-computed pilot area (Kuvio 8 and 9) -------------------------------------------
# TEM 1208 and 4253 for the eight pilot municipalities, May and June 2023, numbers chosen by
# hand. Pitkäaikaistyöttömät (long-term unemployed, L) and, in 4253, those in services (S):
#
#   municipality   L May  L June   S     4253 rate = 100·S/(L+S), as TEM rounds it
#   564 Oulu        4094    4086  370    8.3 (May 370/4464 = 8.29 %, June 370/4456 = 8.30 %)
#   244 Kempele      230     230   21    8.4
#   494 Muhos        120     120   11    8.4
#   139 Ii           156     156   14    8.2
#   425 Liminka       70      70    6    7.9
#   436 Lumijoki      25      25    3   10.7
#   859 Tyrnävä       53      53    4    7.0
#   072 Hailuoto       9       9    1   10.0
#   pilot area      4757    4749  430
#
# Kuvio 8 (the pilot area's L): May 4094+230+120+156+70+25+53+9 = 4757, June 4749.
# Kuvio 9 (100·ΣS/(ΣL+ΣS)): May 43000/5187 = 8.28996 %, June 43000/5179 = 8.30276 %.
# The report's labels: June 2023 4749 and 8.3 (equal); May 2023 4758 and 7.6 (not).
PILOT_2023 = [  # (area, L May, L June, S both months, published rate)
    ("564 Oulu", 4094, 4086, 370, 8.3), ("244 Kempele", 230, 230, 21, 8.4),
    ("494 Muhos", 120, 120, 11, 8.4), ("139 Ii", 156, 156, 14, 8.2),
    ("425 Liminka", 70, 70, 6, 7.9), ("436 Lumijoki", 25, 25, 3, 10.7),
    ("859 Tyrnävä", 53, 53, 4, 7.0), ("072 Hailuoto", 9, 9, 1, 10.0),
]


def write_pilot_2023(raw: Path) -> None:
    """The hand-computed files above. 1208's other columns: clients = L, jobseekers = 3L,
    unemployed = 2L (so L is within the unemployed)."""
    r1208, r4253 = [], []
    for area, may, june, s, rate in PILOT_2023:
        for month, ltu in (("2023M05", may), ("2023M06", june)):
            r1208.append([area, month, ltu, 3 * ltu, 2 * ltu, ltu])
            r4253.append([area, month, ltu, s, rate])
    write_tem_csv(raw / "tem" / "1208_pilot_2023.csv", "1208", r1208)
    write_tem_csv(raw / "tem" / "4253_pilot_2023.csv", "4253", r4253)


@pytest.fixture(scope="session")
def pilot_2023_run(_dagster_home, tmp_path_factory) -> Path:
    """One run on the hand-computed pilot files (charts not drawn): its folder."""
    from pipeline.definitions import build_defs
    from pipeline.runner import run_pipeline

    base = tmp_path_factory.mktemp("pilot_2023")
    write_pilot_2023(base / "raw")
    graph = build_defs(str(base / "raw"), str(base / "marts")).resolve_asset_graph()
    keys = [k for k in graph.materializable_asset_keys if k.path[0] != "reports"]
    out = io.StringIO()
    code = run_pipeline(str(base / "raw"), str(base / "marts"), str(base / "reports"),
                        out=out, selection=keys)
    assert code == 0, out.getvalue()
    return base


def export(*argv: str) -> int:
    """``python -m pipeline export …`` through the parser the CLI registers."""
    import argparse

    from pipeline.export import add_export_parser

    ap = argparse.ArgumentParser(prog="python -m pipeline")
    add_export_parser(ap.add_subparsers(dest="command", required=True))
    args = ap.parse_args(["export", *argv])
    return args.func(args)
