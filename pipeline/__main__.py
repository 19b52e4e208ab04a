"""The command line: ``python -m pipeline <command>``.

    run      materialize every asset headless, in process, through Dagster
    verify      compare the published marts with the report's published figures
    load        load one raw file into a DuckDB file's raw schema and say what it held
    export      render the report's figures from the published warehouse
    sql         run one read-only query on the published warehouse (nothing else: no
                files, no settings, no writes; stopped after --timeout seconds)
    dictionary  write the data dictionary (Markdown) from the warehouse's comments
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# The Dagster instance's settings. Telemetry off. One writer on the working database: every
# asset that writes it is in the pool "warehouse_writer", and a pool without a limit of its
# own gets default_limit, so a second run's writing steps wait for the slot instead of
# failing on DuckDB's file lock; run monitoring frees the slots of runs that ended.
DAGSTER_YAML = """\
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1
    granularity: op
run_monitoring:
  enabled: true
  free_slots_after_run_end_seconds: 60
"""
PREVIOUS_DAGSTER_YAMLS = ("telemetry:\n  enabled: false\n",)  # upgraded when found


def dagster_home() -> Path:
    """``$DAGSTER_HOME``, or ``.dagster`` in the working folder: run history is kept, and the
    UI (``make dev``) shows headless runs. Telemetry off."""
    home = Path(os.environ.get("DAGSTER_HOME") or Path.cwd() / ".dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    cfg = home / "dagster.yaml"
    if not cfg.exists() or cfg.read_text() in PREVIOUS_DAGSTER_YAMLS:
        cfg.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    return home


def cmd_run(args) -> int:
    dagster_home()
    from .runner import run_pipeline

    return run_pipeline(str(args.raw_dir), str(args.marts_dir), str(args.reports_dir),
                        changed_only=args.changed_only)


def cmd_verify(args) -> int:
    from .verify import verify
    from .warehouse import connect_published

    try:
        con = connect_published(args.marts_dir)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        outcomes = verify(con, args.figure)
    finally:
        con.close()
    for o in outcomes:
        print(o.line())
    good = sum(o.ok for o in outcomes)
    print(f"{good} of {len(outcomes)} published figures reproduced")
    return 0 if good == len(outcomes) else 1


def cmd_load(args) -> int:
    import duckdb

    from .raw_layer import FAMILIES, loaded_versions
    from .readers.common import RawFile, RawInputError

    path = Path(args.file)
    fam = next((f for f in FAMILIES.values() if f.sniff(path)), None)
    if fam is None:
        print(f"error: {path}: not recognised as any source family "
              f"({', '.join(FAMILIES)})", file=sys.stderr)
        return 2
    from datetime import UTC, datetime

    from .readers.common import LoadContext

    con = duckdb.connect(str(args.db))
    start = time.perf_counter()
    raw = RawFile.of(path)
    try:
        fam.create_tables(con)
        if (raw.rel_path, raw.sha256) in loaded_versions(con, fam):
            # Loading the same bytes again would only duplicate its rows.
            print(f"{path}: already loaded into {args.db} (same name and SHA-256); "
                  "nothing to do")
            return 0
        con.execute("begin transaction")
        summary = fam.load(con, raw, LoadContext("cli-" + os.urandom(4).hex(),
                           datetime.now(UTC).replace(tzinfo=None)))
        con.execute("commit")
    except RawInputError as e:
        con.execute("rollback")
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        con.close()
    print(f"{path}: {fam.title}")
    for k, v in vars(summary).items():
        print(f"  {k}: {v}")
    print(f"  seconds: {time.perf_counter() - start:.2f}  (into {args.db})")
    return 0


def cmd_sql(args) -> int:
    import duckdb

    from . import readonly_sql as ro

    emit = ro.emit_csv(sys.stdout) if args.csv else ro.emit_table(args.max_rows)
    try:
        ro.run(args.marts_dir, args.query, emit, timeout=args.timeout)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ro.Refused as e:
        print(f"refused: {e}", file=sys.stderr)
        return 1
    except (ro.TimedOut, duckdb.Error) as e:
        print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # | head: the reader has what it wanted
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so the exit flush stays quiet
    return 0


def cmd_dictionary(args) -> int:
    from .dictionary import dictionary_markdown
    from .warehouse import connect_published

    con = connect_published(args.marts_dir)
    try:
        text = dictionary_markdown(con)
    finally:
        con.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({text.count(chr(10) + '### ')} tables and views)")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="materialize every asset on the raw folder")
    run.add_argument("--raw-dir", type=Path, default=Path("data/raw"))
    run.add_argument("--marts-dir", type=Path, default=Path("data/marts"))
    run.add_argument("--reports-dir", type=Path, default=Path("reports"))
    run.add_argument("--changed-only", action="store_true",
                     help="recompute only what depends on raw files that changed since the "
                          "published run (everything if there is none, or the code changed)")
    run.set_defaults(func=cmd_run)

    ver = sub.add_parser("verify", help="compare the published marts with the report")
    ver.add_argument("--marts-dir", type=Path, default=Path("data/marts"))
    ver.add_argument("--figure", action="append",
                     help="only this figure (kuvio_8, section_2_5 …); repeatable")
    ver.set_defaults(func=cmd_verify)

    load = sub.add_parser("load", help="load one raw file and say what it held")
    load.add_argument("file", type=Path)
    load.add_argument("--db", type=Path, default=Path("inspect.duckdb"))
    load.set_defaults(func=cmd_load)

    from .export import add_export_parser

    add_export_parser(sub)

    sql = sub.add_parser("sql", help="run a read-only query on the published warehouse")
    sql.add_argument("query")
    sql.add_argument("--marts-dir", type=Path, default=Path("data/marts"))
    sql.add_argument("--csv", action="store_true", help="all rows as CSV on stdout")
    sql.add_argument("--max-rows", type=int, default=200)
    sql.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                     help="stop the query after this long (default 60)")
    sql.set_defaults(func=cmd_sql)

    dic = sub.add_parser("dictionary", help="write the data dictionary as Markdown")
    dic.add_argument("--marts-dir", type=Path, default=Path("data/marts"))
    dic.add_argument("--out", type=Path, default=Path("docs/data_dictionary.md"))
    dic.set_defaults(func=cmd_dictionary)

    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
