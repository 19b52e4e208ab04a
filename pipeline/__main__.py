"""The command line: ``python -m pipeline <command>``.

    run      materialize every asset headless, in process, through Dagster
    fetch       download StatFin's tables (PxWeb API) and Kela's open data into data/raw
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
                        changed_only=args.changed_only,
                        accept_coverage_loss=args.accept_coverage_loss,
                        accept_removed=args.accept_removed, accept_shorter=args.accept_shorter)


def cmd_fetch(args) -> int:
    from .fetch import FetchError, check_raw_dir, check_since, fetch, parse_areas

    sources = ("statfin", "kela") if args.source == "all" else (args.source,)
    try:
        areas = parse_areas(args.areas)
        since = check_since(args.since)
        for source in sources:  # before any request: a download must have somewhere to go
            check_raw_dir(args.raw_dir, source)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        report = fetch(args.raw_dir, sources, areas=areas, since=since,
                       statfin=args.statfin_url, kela=args.kela_url,
                       notify=lambda line: print(f"note: {line}", file=sys.stderr, flush=True))
    except FetchError as e:  # pragma: no cover - fetch() reports per source
        print(f"error: {e}", file=sys.stderr)
        return 1
    for s in report.saved:
        print(s.line())
    # No network: one line for all the hosts, not one per source.
    one = report.unreachable_line()
    for line in [one] if one else report.unreachable + report.errors:
        print(f"error: {line}", file=sys.stderr)
    if report.saved:
        limits = (f"; limits maxCalls {report.limits['maxCalls']} per "
                  f"{report.limits['timeWindow']:g} s" if report.limits.get("maxCalls") else "")
        print(f"{report.calls} request(s), {report.waited:.1f} s waited{limits}; "
              f"{len(report.changed)} file(s) written")
    if report.unreachable:
        return 2
    return 0 if report.ok else 1


def cmd_verify(args) -> int:
    from .export import split_values
    from .verify import figure_values, known_figures, verify
    from .warehouse import connect_published

    wanted = split_values(args.figure)
    known = known_figures()
    unknown = [f for f in wanted if f not in known]
    if unknown:
        # Not "0 of 0 reproduced": a typo must not pass for a successful check.
        print(f"error: unknown figure {', '.join(unknown)}; known: {', '.join(known)}",
              file=sys.stderr)
        return 2
    try:
        con = connect_published(args.marts_dir)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        outcomes = verify(con, wanted or None)
        drawn = figure_values(con, wanted or None)
    finally:
        con.close()
    for o in outcomes:
        print(o.line())
    for _fid, has_values, line in drawn:
        print(("ok   " if has_values else "FAIL ") + line)
    good = sum(o.ok for o in outcomes)
    empty = [fid for fid, has_values, _ in drawn if not has_values]
    if outcomes:
        print(f"{good} of {len(outcomes)} published figures reproduced")
    else:
        # Not "0 of 0 reproduced", which reads as a check that passed by doing nothing.
        print(f"the report publishes no numbers for {', '.join(wanted)}: "
              "checked only that it has values")
    if empty:
        print(f"no values for {', '.join(empty)} (see audit.coverage)")
    return 0 if good == len(outcomes) and not empty else 1


def cmd_load(args) -> int:
    import duckdb

    from .raw_layer import FAMILIES, inspect_file, loaded_versions
    from .readers.common import RawFile, RawInputError

    path = Path(args.file)
    # Recognised as the raw layer does: a file of a family that cannot be read (a damaged
    # or oversized workbook) is named with its problem, not "not recognised".
    name, _detail, problem, _key = inspect_file(path, path.name)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    fam = FAMILIES.get(name)
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
    run.add_argument("--accept-coverage-loss", action="store_true",
                     help="publish even when values the published warehouse has would be "
                          "lost (see audit.coverage); without it such a run fails and lists "
                          "what would be lost")
    run.add_argument("--accept-removed", action="store_true",
                     help="a raw file loaded before that is gone from the raw folder (or no "
                          "longer recognised) is removed from the warehouse; without this the "
                          "run fails naming it")
    run.add_argument("--accept-shorter", action="store_true",
                     help="a new version of a raw file that covers fewer months or areas than "
                          "the version it replaces is taken; without this the run fails "
                          "naming the file and what it lacks")
    run.set_defaults(func=cmd_run)

    from .fetch import DEFAULT_SINCE, KELA_URL_ENV, STATFIN_URL_ENV

    fet = sub.add_parser(
        "fetch", help="download the public sources (StatFin, Kela) into the raw folder",
        description="Download StatFin's tables 12r5 and 12u4 (PxWeb API, json-stat2) and "
                    "Kela's municipal-share CSV (open-data portal, CKAN) into the raw folder. "
                    "Each file is validated, then renamed into place with a manifest beside "
                    "it; an unchanged response writes nothing; a failure keeps the previous "
                    "file.")
    fet.add_argument("--source", choices=("statfin", "kela", "all"), default="all",
                     help="which source (default %(default)s: both)")
    fet.add_argument("--raw-dir", type=Path, default=Path("data/raw"),
                     help="the raw folder to write into (default %(default)s)")
    fet.add_argument("--since", default=DEFAULT_SINCE,
                     help="first month to fetch from StatFin (default %(default)s)")
    fet.add_argument("--areas", default="all",
                     help="pilot, all (default), or codes: KU564,KU244, TA_OULU, pilot,KU423")
    fet.add_argument("--statfin-url", default=None,
                     help=f"PxWeb database URL (default: ${STATFIN_URL_ENV} or "
                          "https://pxdata.stat.fi/PxWeb/api/v1/fi/StatFin)")
    fet.add_argument("--kela-url", default=None,
                     help=f"CKAN API base (default: ${KELA_URL_ENV} or "
                          "https://www.avoindata.fi/data/api/3/action)")
    fet.set_defaults(func=cmd_fetch)

    ver = sub.add_parser("verify", help="compare the published marts with the report")
    ver.add_argument("--marts-dir", type=Path, default=Path("data/marts"))
    ver.add_argument("--figure", action="extend", nargs="+", metavar="ID",
                     help="only these figures (kuvio_8, section_2_5 …), as in export: "
                          "--figure kuvio_8 kuvio_9, repeated, or comma separated")
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
