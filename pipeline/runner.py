"""Headless runs: every asset materialized in process through Dagster, with a short summary.

Runs are recorded in the Dagster instance (``$DAGSTER_HOME``), so the UI shows them too.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, materialize

from .definitions import build_defs
from .warehouse import published_path

QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def run_pipeline(raw_dir: str, marts_dir: str, reports_dir: str, out=sys.stdout) -> int:
    """Materialize everything; print what was published and every failure. 0 = success."""
    start = time.monotonic()
    defs = build_defs(raw_dir, marts_dir, reports_dir)
    before = _mtime(published_path(Path(marts_dir)))
    with DagsterInstance.get() as instance:
        result = materialize(
            list(defs.assets), resources=defs.resources, instance=instance,
            run_config=QUIET_LOGS, raise_on_error=False,
        )
    failures, checks, assets = [], {"passed": 0, "warned": 0, "failed": 0}, []
    for ev in result.all_events:
        if ev.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            mat = ev.event_specific_data.materialization
            rows = mat.metadata.get("dagster/row_count")
            assets.append((mat.asset_key.to_user_string(), rows.value if rows else None))
        elif ev.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            data = ev.event_specific_data
            if data.passed:
                checks["passed"] += 1
            elif data.severity.value == "WARN":
                checks["warned"] += 1
                failures.append(f"check warned: {data.asset_key.to_user_string()} "
                                f"{data.check_name}")
            else:
                checks["failed"] += 1
                failures.append(f"check failed: {data.asset_key.to_user_string()} "
                                f"{data.check_name}")
        elif ev.event_type == DagsterEventType.STEP_FAILURE:
            err = ev.event_specific_data.error
            # A Failure raised by our code carries the plain message (file, place, problem).
            msg = err.message.strip().splitlines()[-1] if err else "unknown error"
            failures.append(f"step failed: {ev.step_key}: {msg}")
    for key, rows in assets:
        shown = f"{rows:,} rows" if isinstance(rows, int) else ""
        print(f"  materialized {key:<40} {shown}", file=out)
    published = published_path(Path(marts_dir))
    print(f"checks: {checks['passed']} passed, {checks['warned']} warned, "
          f"{checks['failed']} failed", file=out)
    for f in failures:
        print(f"  {f}", file=out)
    took = time.monotonic() - start
    if result.success and _mtime(published) != before:
        print(f"published {published}", file=out)
        print(f"charts in {Path(reports_dir)}/", file=out)
        print(f"run {result.run_id[:8]} succeeded in {took:.1f} s", file=out)
        return 0
    print(f"run {result.run_id[:8]} FAILED in {took:.1f} s; nothing was published"
          + (f" ({published} is unchanged)" if before else ""), file=out)
    return 1


def _mtime(path: Path) -> float | None:
    return path.stat().st_mtime_ns if path.exists() else None
