"""Redraw a figure only when what it shows changed.

Every source feeds the catalogue's shared marts, so a change to any raw file reruns every
figure asset; drawing is most of an incremental run's time. A figure asset first computes
the fingerprint of what it would draw (its data for the area, its coverage, the synthetic
mark, the code version) and, when the files it wrote last time are in place, byte for byte,
under the same fingerprint, leaves them as they are.

What was drawn is kept in ``<reports>/.drawn.json``: per figure (or book) its fingerprint,
its files with their SHA-256, and the metadata the asset showed (the UI's preview), written
atomically. A missing, edited or foreign file, or any other fingerprint, means a redraw.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .. import areas
from ..readers.common import file_sha256
from . import figures

STATE = ".drawn.json"


def fingerprint(con, figure_ids: list[str], area_code: str = areas.PILOT_AREA,
                lang: str = "fi") -> str:
    """What the figures would show, as a hash: their data, coverage, names and the mark."""
    from ..audit import code_version

    h = hashlib.sha256()
    for part in (code_version(), area_code, lang, str(figures.is_synthetic(con)),
                 str(figures.area_name(con, area_code))):
        h.update(part.encode() + b"\0")
    for fid in figure_ids:
        data = figures.figure_data(con, fid, area_code)
        h.update(fid.encode() + b"\0" + data.to_csv(index=False).encode() + b"\0")
        h.update(repr(figures.group_coverage(con, area_code, fid)).encode() + b"\0")
    return h.hexdigest()


def _load(reports: Path) -> dict:
    try:
        return json.loads((Path(reports) / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def current(reports: Path, key: str, fp: str) -> dict | None:
    """The stored entry if ``key`` was drawn with fingerprint ``fp`` and its files are all
    still there with the bytes written then; else None (draw it)."""
    entry = _load(reports).get(key)
    if not entry or entry.get("fingerprint") != fp or not entry.get("files"):
        return None
    for rel, sha in entry["files"].items():
        path = Path(reports) / rel
        if not path.is_file() or file_sha256(path) != sha:
            return None
    return entry


def damaged(reports: Path) -> list[str]:
    """The figures (and books) drawn into ``reports`` whose files are gone or no longer hold
    the bytes written then: deleted or edited by hand since."""
    out = []
    for key, entry in sorted(_load(reports).items()):
        for rel, sha in (entry.get("files") or {}).items():
            path = Path(reports) / rel
            if not path.is_file() or file_sha256(path) != sha:
                out.append(key)
                break
    return out


def record(reports: Path, key: str, fp: str, paths: list[Path], shown: dict) -> None:
    """Remember what ``key`` drew: its fingerprint, files (relative to ``reports``, with
    their SHA-256) and the metadata to show again when it is left as it is."""
    reports = Path(reports)
    state = _load(reports)
    state[key] = {"fingerprint": fp,
                  "files": {Path(os.path.relpath(p, reports)).as_posix(): file_sha256(p)
                            for p in paths},
                  "shown": shown}
    tmp = reports / f".{STATE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
    os.replace(tmp, reports / STATE)
