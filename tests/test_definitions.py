"""The Dagster definitions: importing them has no side effects, and the asset graph is kept
in a snapshot (tests/snapshots/asset_graph.txt) so every change to the graph shows in review.

After an intended change: ``UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest
tests/test_definitions.py`` rewrites the snapshot; commit it with the change.
"""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT

SNAPSHOT = ROOT / "tests" / "snapshots" / "asset_graph.txt"


def graph_text() -> str:
    from pipeline.definitions import defs

    graph = defs.resolve_asset_graph()
    lines = ["# assets: key [group] <- upstream; checks (blocking or warn)"]
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        ups = ", ".join(sorted(k.to_user_string() for k in node.parent_keys))
        lines.append(f"{key.to_user_string()} [{node.group_name}] <- {ups or '-'}")
        for check in sorted(node.check_keys, key=lambda c: c.name):
            spec = graph.get_check_spec(check) if hasattr(graph, "get_check_spec") else None
            blocking = getattr(spec, "blocking", None)
            mark = "" if blocking is None else (" (blocking)" if blocking else " (warn)")
            lines.append(f"  check {check.name}{mark}")
    lines.append("# jobs")
    lines += sorted(job.name for job in defs.jobs or [])
    lines.append("# schedules: name, cron, timezone, job")
    lines += sorted(f"{s.name}, {s.cron_schedule}, {s.execution_timezone}, {s.job_name}"
                    for s in defs.schedules or [])
    lines.append("# sensors: name, job")
    lines += sorted(f"{s.name}, {s.job_name}" for s in defs.sensors or [])
    return "\n".join(lines) + "\n"


def test_asset_graph_matches_the_snapshot():
    text = graph_text()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert SNAPSHOT.exists(), "no snapshot yet: run with UPDATE_SNAPSHOTS=1"
    assert text == SNAPSHOT.read_text(encoding="utf-8"), (
        "the asset graph changed; if intended, rerun with UPDATE_SNAPSHOTS=1 and commit "
        "tests/snapshots/asset_graph.txt")


def test_importing_the_definitions_creates_nothing(tmp_path):
    """``dagster dev -m pipeline.definitions`` imports them in the working folder: it must
    not make data/marts/.work (or anything) there."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([sys.executable, "-c", "import pipeline.definitions as d; d.defs"],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert list(tmp_path.iterdir()) == []
