"""One PX ingest, in a process of its own (so its peak memory is its own):
``python -m benchmarks.ingest {pipeline,pyaxis} FILE WORK_DIR``.

``pipeline``: what the raw layer does with one StatFin file — hash it, load it with
``pipeline.readers.px.load_px`` into a new DuckDB file in one transaction, commit, close.
``pyaxis``: ``pyaxis.parse`` of the same file into a pandas DataFrame (the peer figure).

Prints one JSON line: ``{"reader", "seconds", "cells"}``; seconds count from the start of
the work (after imports) to the end (committed and closed). The parent measures the peak
memory of the process (``os.wait4``).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path


def ingest_pipeline(path: Path, work: Path) -> int:
    import duckdb

    from pipeline.readers.common import LoadContext, RawFile
    from pipeline.readers.px import load_px

    db = work / "ingest.duckdb"
    for f in (db, db.with_name(db.name + ".wal")):
        f.unlink(missing_ok=True)
    raw = RawFile.of(path, path.parent)
    con = duckdb.connect(str(db))
    try:
        con.execute("begin transaction")
        summary = load_px(con, raw, LoadContext("bench", datetime.now(UTC)))
        con.execute("commit")
    finally:
        con.close()
    return summary.rows


def ingest_pyaxis(path: Path, work: Path) -> int:
    import logging

    from pyaxis import pyaxis

    logging.getLogger("pyaxis").setLevel(logging.WARNING)
    parsed = pyaxis.parse(uri=str(path), encoding="utf-8")
    return len(parsed["DATA"])


READERS = {"pipeline": ingest_pipeline, "pyaxis": ingest_pyaxis}


def main(argv: list[str] | None = None) -> None:
    reader, path, work = (argv if argv is not None else sys.argv[1:])[:3]
    fn = READERS[reader]
    if reader == "pipeline":  # import before the clock starts, as pyaxis's import is
        import pipeline.readers.px  # noqa: F401
    else:
        import pyaxis.pyaxis  # noqa: F401
    start = time.perf_counter()
    cells = fn(Path(path), Path(work))
    seconds = time.perf_counter() - start
    print(json.dumps({"reader": reader, "seconds": round(seconds, 3), "cells": cells}))


if __name__ == "__main__":
    main()
