"""Fault points: named places in a run where the fault tests kill it (kill -9).

``fault_point(name)`` does nothing unless the environment says ``PIPELINE_FAULT_AT=<name>``;
then it creates the file ``PIPELINE_FAULT_MARKER`` and waits to be killed. The tests
(``tests/test_faults.py``) kill at these places in the code path, never after a number of
seconds, so what a kill interrupts does not depend on how fast the machine is.

The places: ``raw_load`` (a family's rows written, before its commit), ``model_built`` (a
model's table built and committed), ``before_publish_rename`` (the copy of the working
database complete, not renamed into place), ``after_publish`` (the published warehouse
replaced, before the charts), ``during_charts`` (one figure written, the others not yet).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

FAULT_AT = "PIPELINE_FAULT_AT"
FAULT_MARKER = "PIPELINE_FAULT_MARKER"


def fault_point(name: str, detail: str | None = None) -> None:
    """Stop here if ``PIPELINE_FAULT_AT`` is ``name``, or ``name:detail`` (one family's
    load, one model: ``raw_load:tem``, ``model_built:marts.indicators_monthly``)."""
    at = os.environ.get(FAULT_AT)
    if at is None or at not in (name, f"{name}:{detail}"):
        return
    marker = os.environ.get(FAULT_MARKER)
    if marker:
        Path(marker).write_text(str(os.getpid()))
    while True:  # until killed
        time.sleep(1)
