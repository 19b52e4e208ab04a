"""Data-quality checks as Dagster asset check results, with their offending rows.

A check (``pipeline/sql/checks/<model>__<name>.sql``) is a query returning offending rows.
Its result carries the count and the first ``SHOWN_ROWS`` rows, as a Markdown table for the
UI and as JSON (``first_rows``) that the headless run prints in its summary; the rows name
their raw file and place where the check's rows have them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue

from ..models import Check, run_check

SHOWN_ROWS = 10


def check_specs(checks: list[Check], key: AssetKey) -> list[AssetCheckSpec]:
    return [AssetCheckSpec(c.name, asset=key, blocking=c.blocking, description=c.description)
            for c in checks]


def _plain(value: object) -> object:
    """A value as JSON can hold it (dates and decimals as text)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (date, datetime, Decimal)):
        return str(value)
    return str(value)


def check_results(con, checks: list[Check]) -> list[AssetCheckResult]:
    """Run each check; a result per check with its offending rows (the first few)."""
    results = []
    for c in checks:
        n, cols, sample = run_check(con, c, preview_rows=SHOWN_ROWS)
        preview = ""
        if n:
            preview = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
            preview += "\n".join("| " + " | ".join(map(str, r)) + " |" for r in sample)
            if n > len(sample):
                preview += f"\n\n… and {n - len(sample)} more"
        results.append(AssetCheckResult(
            check_name=c.name, passed=n == 0,
            severity=AssetCheckSeverity.ERROR if c.blocking else AssetCheckSeverity.WARN,
            description=c.description,
            metadata={
                "offending_rows": n,
                "sample": MetadataValue.md(preview or "none"),
                "first_rows": MetadataValue.json(
                    {"columns": list(cols), "rows": [[_plain(v) for v in r] for r in sample]}),
            },
        ))
    return results
