"""Headless runs: the assets materialized in process through Dagster, with live progress
(asset i of n, rows, seconds) and a short summary.

Runs are recorded in the Dagster instance (``$DAGSTER_HOME``), so the UI shows them too,
under the same job the schedule and the sensor start (``refresh_indicators``).

Before a run: a run killed earlier (kill -9) is marked failed and its pool slot freed, and
the temp files it left beside the published warehouse are removed (see
``pipeline.defs.automation``); DuckDB replays the working database's WAL by itself.

``changed_only``: recompute only the source families whose raw files differ from what the
published warehouse (and the working database) were built from: their raw asset and
everything downstream of it; and draw the charts an earlier run published for and did not
draw (``reports_status``). Everything when there is nothing to compare with.

The summary is read from disk: what the published warehouse's ``audit.runs`` says was
published, and which charts are still owed. Before anything runs, ``storage.preflight``
checks that the run can write where it must.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    Definitions,
    LoggerDefinition,
)

from . import reports_status
from .audit import code_version
from .definitions import build_defs
from .defs.automation import (
    CHANGED_TAG,
    REFRESH_JOB,
    TRIGGER_TAG,
    downstream_selection,
    published_inputs,
    release_abandoned_runs,
    remove_stale_temp_files,
    run_tags_for_this_process,
    running_pids,
    stale_families,
)
from .defs.publish import PUBLISHED_KEY
from .run_origin import show_on_timeline
from .storage import StorageError, explain_failure, preflight
from .warehouse import published_path, work_db_path

PROGRESS_LOGGER = "progress"


def run_pipeline(raw_dir: str, marts_dir: str, reports_dir: str, out=sys.stdout, *,
                 changed_only: bool = False, selection: list[AssetKey] | None = None,
                 accept_coverage_loss: bool = False, accept_removed: bool = False,
                 accept_shorter: bool = False) -> int:
    """Materialize the assets (all, ``selection``, or with ``changed_only`` those downstream
    of changed files, the charts an earlier run did not finish and those whose files were
    deleted or edited since they were drawn); print progress, what
    was published and every failure. 0 = success.

    ``accept_removed``: a raw file loaded before that is gone (or no longer recognised) is
    removed from the warehouse instead of failing the run; ``accept_shorter``: a new version
    covering fewer months or areas than the one it replaces is taken (RawLoadConfig)."""
    start = time.monotonic()
    marts = Path(marts_dir)
    published = published_path(marts)
    with DagsterInstance.get() as instance:
        try:
            _preflight(instance, marts, Path(reports_dir))
        except StorageError as e:
            print(f"error: {e}", file=out)
            print("nothing was run; " + (f"{published} is unchanged" if published.exists()
                                         else "nothing was published"), file=out)
            return 1
        defs = build_defs(raw_dir, marts_dir, reports_dir, accept_coverage_loss)
        for line in [*release_abandoned_runs(instance), *remove_stale_temp_files(marts)]:
            print(f"recovered: {line}", file=out)
        graph = defs.resolve_asset_graph()
        # The refresh job's assets: the fetch assets (network) belong to the monthly job only.
        in_job = set(defs.resolve_job_def(REFRESH_JOB).asset_layer.executable_asset_keys)
        everything = sorted(in_job, key=lambda k: k.to_user_string())
        if selection is not None:
            selection = [k for k in selection if k in in_job]
        keys, scope = selection, "selected"
        if changed_only:
            stale = stale_families(Path(raw_dir), marts, code_version=code_version())
            owed = owed_chart_keys(marts, graph)
            # Charts whose files were deleted or edited since they were drawn.
            damaged = [k for k in damaged_chart_keys(Path(reports_dir), graph) if k not in owed]
            if stale.families is None:
                print(f"changed only: {stale.reason}; running everything", file=out)
            elif not stale.families and not owed and not damaged:
                print(f"nothing changed since the published run {stale.published_run[:8]}: "
                      f"{published} is up to date", file=out)
                return 0
            else:
                for fam, why in sorted(stale.details.items()):
                    print(f"changed: {fam} ({'; '.join(why)})", file=out)
                keys = downstream_selection(stale.families, graph)[0] if stale.families else []
                scopes = ["downstream of " + ", ".join(sorted(stale.families))] \
                    if stale.families else []
                if owed:
                    runs = sorted({r[:8] for r in owed.values()})
                    print(f"charts not finished by run {', '.join(runs)}: "
                          f"{', '.join(k.to_user_string() for k in owed)}; drawing them",
                          file=out)
                    keys = sorted({*keys, *owed}, key=lambda k: k.to_user_string())
                    scopes.append("charts owed")
                if damaged:
                    print(f"charts removed or edited in {reports_dir} since they were drawn: "
                          f"{', '.join(k.to_user_string() for k in damaged)}; drawing them",
                          file=out)
                    keys = sorted({*keys, *damaged}, key=lambda k: k.to_user_string())
                    scopes.append("charts removed or edited")
                scope = "; ".join(scopes)
        if keys is None:
            keys, scope = everything, "everything"
        tags = {**run_tags_for_this_process(), TRIGGER_TAG: "cli",
                CHANGED_TAG: "all" if keys == everything else scope.split(" of ")[-1]}
        run_id = str(uuid.uuid4())
        progress = Progress(out, total=len(keys),
                            names={k.to_python_identifier(): k.to_user_string() for k in keys})
        print(f"run {run_id[:8]}: {len(keys)} of {len(everything)} assets ({scope})",
              file=out, flush=True)
        job = Definitions.merge(defs, Definitions(
            loggers={PROGRESS_LOGGER: progress.logger_def()})).resolve_job_def(REFRESH_JOB)
        run_config: dict = {"loggers": {PROGRESS_LOGGER: {}}}
        accepted = {k: v for k, v in (("accept_removed", accept_removed),
                                      ("accept_shorter", accept_shorter)) if v}
        if accepted:  # the raw assets' RawLoadConfig, for those in the selection
            run_config["ops"] = {k.to_python_identifier(): {"config": accepted}
                                 for k in keys if k.path[0] == "raw"}
        result = job.execute_in_process(
            instance=instance, run_config=run_config,
            raise_on_error=False, run_id=run_id, tags=tags,
            asset_selection=None if keys == everything else keys,
        )
        show_on_timeline(instance, run_id)  # the UI's timeline skips runs without an origin
    return progress.summary(result.success, published, published_run(marts) == run_id,
                            reports_status.pending(marts), Path(reports_dir),
                            time.monotonic() - start, run_id, publishes=PUBLISHED_KEY in keys)


def owed_chart_keys(marts: Path, graph) -> dict[AssetKey, str]:
    """The chart assets an earlier run owes (reports_status), with the run that owes each."""
    existing = set(graph.materializable_asset_keys)
    owed = sorted(reports_status.pending(marts).items())
    return {AssetKey(["reports", f]): run for f, run in owed
            if AssetKey(["reports", f]) in existing}


def damaged_chart_keys(reports: Path, graph) -> list[AssetKey]:
    """The chart assets whose files in ``reports`` are gone or hold other bytes than they
    wrote (charts/unchanged.py's record): a chart deleted or edited by hand."""
    from .charts.unchanged import damaged

    existing = set(graph.materializable_asset_keys)
    return [AssetKey(["reports", key]) for key in damaged(reports)
            if AssetKey(["reports", key]) in existing]


def published_run(marts: Path) -> str | None:
    """The run id the published warehouse records as its latest (``audit.runs``)."""
    pub = published_inputs(marts)
    return pub["run_id"] if pub else None


def _preflight(instance, marts: Path, reports: Path) -> None:
    """The folders a run writes are writable, and the working database is not held by a
    process other than a run of this pipeline (those take turns in the writer pool)."""
    try:
        preflight(marts, reports, work_db_path(marts))
    except StorageError as e:
        if e.pid is None or e.pid not in running_pids(instance):
            raise


@dataclass
class Progress:
    """Prints a line per materialized asset as it happens, and the summary at the end."""

    out: object
    total: int
    names: dict[str, str] = field(default_factory=dict)  # step key -> asset key
    done: int = 0
    rows: dict[str, list] = field(default_factory=dict)   # step -> [(asset, rows)]
    checks: dict[str, int] = field(default_factory=lambda: {"passed": 0, "warned": 0,
                                                            "failed": 0})
    errors: list[str] = field(default_factory=list)
    failed: int = 0
    reports: bool = False
    not_loaded: dict[str, str] = field(default_factory=dict)  # raw file -> why not loaded
    removed: set[str] = field(default_factory=set)  # raw files removed (accepted)

    def logger_def(self) -> LoggerDefinition:
        handler = _EventHandler(self)

        def _init(_context) -> logging.Logger:
            log = logging.Logger("kuntakokeilu.progress", level=logging.DEBUG)
            log.addHandler(handler)
            return log

        return LoggerDefinition(_init, description="One line per materialized asset.")

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def event(self, ev) -> None:
        t = ev.event_type
        if t == DagsterEventType.ASSET_MATERIALIZATION:
            mat = ev.event_specific_data.materialization
            rows = mat.metadata.get("dagster/row_count")
            self.rows.setdefault(ev.step_key, []).append(
                (mat.asset_key.to_user_string(), rows.value if rows else None))
            reloaded = mat.metadata.get("files_reloaded")
            for file in (reloaded.value if reloaded else None) or []:
                self._print(f"  reloaded {file}: its rows in the working database had been "
                            "changed outside a run")
            # The raw assets name every file of the folder they did not load, and why.
            if (files := mat.metadata.get("not_loaded_files")) is not None:
                self.not_loaded.update((f["file"], f["reason"]) for f in files.value)
            if (files := mat.metadata.get("removed_files")) is not None:
                self.removed.update(files.value)
        elif t == DagsterEventType.STEP_SUCCESS:
            secs = ev.event_specific_data.duration_ms / 1000
            for key, rows in self.rows.pop(ev.step_key, []):
                self.done += 1
                self.reports |= key.startswith("reports/")
                shown = f"{rows:,} rows" if isinstance(rows, int) else ""
                self._print(f"[{self.done:>{len(str(self.total))}}/{self.total}] "
                            f"{key:<38} {shown:>14} {secs:6.1f} s")
        elif t == DagsterEventType.ASSET_CHECK_EVALUATION:
            data = ev.event_specific_data
            where = f"{data.asset_key.to_user_string()} {data.check_name}"
            if data.passed:
                self.checks["passed"] += 1
                return
            n = data.metadata.get("offending_rows")
            detail = f" ({n.value} offending rows)" if n is not None else ""
            first = data.metadata.get("first_rows")
            shown = _rows_text(first.value, n.value if n is not None else None) if first else ""
            if data.severity.value == "WARN":
                self.checks["warned"] += 1
                self.errors.append(f"check warned: {where}{detail}{shown}")
            else:
                self.checks["failed"] += 1
                self.errors.append(f"check failed: {where}{detail}{shown}")
            self._print(f"  {self.errors[-1]}")
        elif t == DagsterEventType.STEP_FAILURE:
            err = ev.event_specific_data.error
            # A Failure raised by our code carries the plain message (file, place, problem),
            # perhaps over several lines; anything else: its last line.
            msg = _failure_text(err)
            msg = msg.replace("\n", "\n    ")
            name = self.names.get(ev.step_key, ev.step_key)
            self.failed += 1
            self.errors.append(f"step failed: {name}: {msg}")
            self._print(f"  FAILED {name}: {msg}")

    def summary(self, success: bool, published: Path, published_now: bool,
                owed: dict[str, str], reports_dir: Path, took: float, run_id: str,
                publishes: bool = True) -> int:
        """What happened, from what is on disk: ``published_now`` = the published warehouse
        records this run (audit.runs), ``owed`` = charts not drawn since (reports_status)."""
        out = self.out
        print(f"checks: {self.checks['passed']} passed, {self.checks['warned']} warned, "
              f"{self.checks['failed']} failed", file=out)
        for e in self.errors:
            print(f"  {e}", file=out)
        not_run = self.total - self.done - self.failed
        if not_run and self.failed:
            print(f"  {not_run} asset(s) not run: upstream of them failed", file=out)
        # Every file of the raw folder is loaded or named here; the files ignored by name
        # (fetch's manifests, Excel's owner files …) apart, so they do not bury the others.
        ignored = {rel: why for rel, why in self.not_loaded.items()
                   if why.startswith("ignored: ")}
        others = {rel: why for rel, why in self.not_loaded.items() if rel not in ignored}
        if others:
            print(f"raw files not loaded: {len(others)}", file=out)
            for rel, why in sorted(others.items()):
                print(f"  {rel}: {why}", file=out)
        if ignored:
            print(f"raw files ignored by name: {len(ignored)}", file=out)
            for rel, why in sorted(ignored.items()):
                print(f"  {rel}: {why.removeprefix('ignored: ')}", file=out)
        for rel in sorted(self.removed):
            print(f"raw file removed from the warehouse (--accept-removed): {rel}", file=out)
        if published_now:
            print(f"published {published}", file=out)
            _print_coverage(published, out)
        if self.reports:
            print(f"charts in {reports_dir}/", file=out)
        if owed:
            print(f"charts not made yet: {', '.join(sorted(owed))} (owed by run "
                  f"{', '.join(sorted({r[:8] for r in owed.values()}))}); "
                  "`python -m pipeline run --changed-only` draws them", file=out)
        if success:
            what = ("; the selection does not include publishing"
                    if not publishes and not published_now else "")
            print(f"run {run_id[:8]} succeeded in {took:.1f} s ({self.done} of {self.total} "
                  f"assets{what})", file=out)
            return 0
        if published_now:
            print(f"run {run_id[:8]} FAILED in {took:.1f} s after publishing {published}: "
                  "see the errors above", file=out)
        else:
            print(f"run {run_id[:8]} FAILED in {took:.1f} s; nothing was published"
                  + (f" ({published} is unchanged)" if published.exists() else ""), file=out)
        return 1


def _failure_text(err) -> str:
    """What a failed step says: a Failure raised by our code carries the plain message (file,
    place, problem), perhaps over several lines. Anything else Dagster wraps ("Error occurred
    while executing op …"), so the innermost cause is what happened; a full disk, a held lock
    or a read-only place there is said in words, naming the file."""
    if err is None:
        return "unknown error"
    chain = []
    while err is not None:
        chain.append(err)
        err = err.cause or getattr(err, "context", None)
    for e in chain:
        text = (e.message or "").strip()
        if "Failure: " in text:
            return text.split("Failure: ", 1)[1]
    # The innermost cause, without its class's module ("_duckdb.IOException: IO Error: …").
    last = next(((e.message or "").strip() for e in reversed(chain)
                 if (e.message or "").strip()), "unknown error")
    last = re.sub(r"^[\w.]+\.(?=\w+: )", "", last)
    if explained := explain_failure(last):
        return explained
    top = (chain[0].message or "").strip()
    if len(chain) == 1 or "Error occurred while executing" not in top:
        # Not wrapped: its last line says it (a blocking check's failure: the check's name).
        return top.splitlines()[-1] if top else "unknown error"
    return last.splitlines()[0]


def _rows_text(first: dict, total: int | None) -> str:
    """A check's first offending rows as an indented table (file and place among the columns
    where the check's rows have them)."""
    columns, rows = first.get("columns") or [], first.get("rows") or []
    if not rows:
        return ""
    cells = [[("" if v is None else str(v)) for v in r] for r in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]

    def line(values: list[str]) -> str:
        return "      " + "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()

    text = "\n".join([line(columns), *(line(r) for r in cells)])
    if total is not None and total > len(rows):
        text += f"\n      … and {total - len(rows)} more"
    return "\n" + text


class _EventHandler(logging.Handler):
    """Receives Dagster's log records as they happen; passes on those carrying an event."""

    def __init__(self, progress: Progress):
        super().__init__(level=logging.DEBUG)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None)
        event = meta.get("dagster_event") if isinstance(meta, dict) else None
        if event is not None:
            try:
                self.progress.event(event)
            except Exception:  # progress output must never fail a run
                self.handleError(record)


def _print_coverage(published: Path, out) -> None:
    """Per figure, for the pilot area: drawn (how many months, from which sources) or not
    drawn and which raw file would make it (audit.coverage)."""
    import duckdb

    from .coverage import figure_coverage

    try:
        con = duckdb.connect(str(published), read_only=True)
    except duckdb.Error as e:  # a reader cannot block the summary, only shorten it
        print(f"coverage: not read ({str(e).splitlines()[0]})", file=out)
        return
    try:
        lines = [c.line() for c in figure_coverage(con)]
    finally:
        con.close()
    print("coverage (pilot area, audit.coverage):", file=out)
    for line in lines:
        print(f"  {line}", file=out)

