"""Which charts the published warehouse still owes: "published" and "reports made" apart.

A run publishes the warehouse, then draws the charts from it. A run killed between the two
(or whose chart step failed) leaves charts of the previous warehouse; nothing in the
published file can say so, because it is written before the charts and never changed
after. So a small state file beside it, ``<marts>/reports_status.json``, says::

    {"pending": {"kuvio_11": "<run id>", …},   # figure -> the published run that needs it
     "runs": {"<run id>": {"published_at": "…", "reports_made_at": null,
                           "reports_made_by": null}, …}}

Before the publish step renames the new warehouse into place, every chart the run is to
draw is added to ``pending`` (a kill between the rename and the charts then leaves them
pending; a kill before the rename only makes them be redrawn from the same warehouse, which
changes nothing). Each figure removes itself when drawn; a run's reports
are made when no figure it needed is pending. ``run --changed-only`` and the raw-folder
sensor draw the pending figures, also when no raw file changed.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from .warehouse import WORK_DIR_NAME

STATUS_NAME = "reports_status.json"
KEEP_RUNS = 100  # the newest runs listed; older ones are dropped


def status_path(marts_dir: Path) -> Path:
    return Path(marts_dir) / STATUS_NAME


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def read(marts_dir: Path) -> dict:
    """The state (empty if there is none, or it is unreadable: then nothing is pending)."""
    try:
        data = json.loads(status_path(marts_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"pending": {}, "runs": {}}
    if not isinstance(data, dict):
        return {"pending": {}, "runs": {}}
    data.setdefault("pending", {})
    data.setdefault("runs", {})
    return data


def pending(marts_dir: Path) -> dict[str, str]:
    """figure id -> the published run whose charts it still owes."""
    return dict(read(marts_dir)["pending"])


@contextmanager
def _update(marts_dir: Path):
    """Read, change and atomically replace the state, one process at a time."""
    marts_dir = Path(marts_dir)
    lock_dir = marts_dir / WORK_DIR_NAME
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / "reports_status.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = read(marts_dir)
        yield data
        runs = data["runs"]
        for old in sorted(runs, key=lambda r: runs[r].get("listed_at", ""))[:-KEEP_RUNS]:
            runs.pop(old)
        path = status_path(marts_dir)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def before_publish(marts_dir: Path, run_id: str, figures: Iterable[str]) -> None:
    """Called before the rename: the figures this run's publish makes out of date."""
    with _update(marts_dir) as data:
        for f in figures:
            data["pending"][f] = run_id
        data["runs"][run_id] = {"listed_at": _now(), "published_at": None,
                                "reports_made_at": None, "reports_made_by": None}


def published(marts_dir: Path, run_id: str) -> None:
    """Called after the rename."""
    with _update(marts_dir) as data:
        entry = data["runs"].setdefault(run_id, {"listed_at": _now(), "reports_made_at": None,
                                                 "reports_made_by": None})
        entry["published_at"] = _now()
        _settle(data, run_id)


def drawn(marts_dir: Path, figure_id: str, run_id: str) -> None:
    """Called when a figure's files are written from the published warehouse."""
    with _update(marts_dir) as data:
        data["pending"].pop(figure_id, None)
        _settle(data, run_id)


def _settle(data: dict, by_run: str) -> None:
    """Mark made the reports of every published run none of whose figures is pending."""
    owing = set(data["pending"].values())
    for run_id, entry in data["runs"].items():
        if entry.get("published_at") and not entry.get("reports_made_at") \
                and run_id not in owing:
            entry["reports_made_at"] = _now()
            entry["reports_made_by"] = by_run
