"""Unattended runs: a monthly schedule, and a sensor that notices new or changed raw files.

``refresh_indicators`` is the job the sensor and headless runs start (every asset but the
fetches, in process: one process per run, not one per step); the sensor runs, for the source
families whose files changed, their raw asset and everything downstream of it. The schedule
starts ``fetch_and_refresh``: the fetch assets (StatFin and Kela downloaded into the raw
folder, see ``pipeline/defs/fetch.py``), then everything else. Its run loads what it fetched
itself; the sensor, seeing those files on a later tick, finds the published warehouse
already built from them and starts nothing (and it waits while such a run is in progress).

What the sensor remembers between ticks (its cursor) is a JSON object keyed by the file's
path relative to the raw folder::

    {"tem/1208.xlsx": {"sha256": "…", "size": 51234, "mtime_ns": 1732800000000000000,
                       "family": "tem"}, …}

A file whose size and mtime are unchanged is not read again; any other file is hashed, and
only a different SHA-256 counts as a change (a ``touch`` or a copy of the same bytes does not).
A file modified in the last ``SETTLE_SECONDS`` may still be being copied in: it is looked at
on a later tick.

When something changed, the run also takes in the families the published warehouse is
behind on (a run that failed earlier): :func:`stale_families` compares the raw folder with
what the published warehouse was built from, which is also what
``python -m pipeline run --changed-only`` runs.

Each tick, and each headless run, first recovers from runs killed outright: see "Recovery
after a killed run" below.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from dagster import (
    AssetCheckKey,
    AssetKey,
    AssetSelection,
    DagsterEventType,
    DagsterInvariantViolationError,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    ScheduleDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    in_process_executor,
    sensor,
)

from .. import integrity, reports_status
from ..processes import process_alive, process_start
from ..raw_layer import FAMILIES, FILE_VERSIONS, ignored
from ..readers.common import file_sha256
from ..warehouse import published_path, work_db_path
from .fetch import FETCH_GROUP
from .ingest import raw_asset_key
from .publish import PUBLISHED_KEY
from .resources import PipelinePaths

REFRESH_JOB = "refresh_indicators"
FETCH_JOB = "fetch_and_refresh"
TRIGGER_TAG = "kuntakokeilu/trigger"   # schedule, sensor, cli
CHANGED_TAG = "kuntakokeilu/changed"   # the source families a partial run recomputes

# TEM publishes its Työllisyyskatsaus (and updates the Työnvälitystilasto reports the raw
# folder holds) for month M around the 20th–25th of month M+1; Statistics Finland's tyonv
# tables follow the same release (12r5 for June 2026 was updated on 21 July). The 28th at
# 06:00 Helsinki time is after the latest usual release with a working day or two for the
# files to be in place, and is a day every month has (February too). The run fetches StatFin
# and Kela, then refreshes from whatever the raw folder holds; files dropped in earlier are
# run by the sensor at once.
MONTHLY_CRON = "0 6 28 * *"
TIMEZONE = "Europe/Helsinki"

SENSOR_INTERVAL_SECONDS = 60
SETTLE_SECONDS = 10.0

refresh_job = define_asset_job(
    REFRESH_JOB,
    selection=AssetSelection.all() - AssetSelection.groups(FETCH_GROUP),
    executor_def=in_process_executor,
    description="Load the raw folder, rebuild staging and marts, publish the warehouse and "
                "draw the charts. The raw-folder sensor runs the part downstream of the files "
                "that changed; `python -m pipeline run` all of it. Never uses the network.",
)

fetch_job = define_asset_job(
    FETCH_JOB,
    selection=AssetSelection.all(),
    executor_def=in_process_executor,
    description="The monthly run: fetch StatFin (PxWeb API) and Kela (open-data portal) into "
                "the raw folder, then load, rebuild, publish and draw. A failed fetch stops "
                "its family and the publish step: nothing new is published.",
)

# `make serve` (a server) starts the schedule and the sensor running; `make dev` (someone
# exploring the UI) starts them stopped, so opening the UI does not rebuild data/marts on
# the sensor's first tick. Either can be switched in the UI (Automation).
AUTOMATION_ENV = "PIPELINE_AUTOMATION"
_RUNNING = os.environ.get(AUTOMATION_ENV, "running").strip().lower() != "stopped"

monthly_refresh = ScheduleDefinition(
    name="monthly_refresh",
    job=fetch_job,
    cron_schedule=MONTHLY_CRON,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.RUNNING if _RUNNING else DefaultScheduleStatus.STOPPED,
    tags={TRIGGER_TAG: "schedule"},
    description="Every month on the 28th at 06:00 (Helsinki): fetch StatFin and Kela, then a "
                "full run, after the monthly release (around the 20th–25th) for the previous "
                "month.",
)


# --- The raw folder's fingerprint -------------------------------------------------------


@dataclass(frozen=True)
class FileState:
    sha256: str
    size: int
    mtime_ns: int
    family: str | None  # None: not recognised as any source family

    def to_json(self) -> dict:
        return {"sha256": self.sha256, "size": self.size, "mtime_ns": self.mtime_ns,
                "family": self.family}


Fingerprint = dict[str, FileState]  # relative path -> state


def family_of(path: Path) -> str | None:
    """The source family that recognises the file (the raw layer's rule: the first that does)."""
    for fam in FAMILIES.values():
        try:
            if fam.sniff(path):
                return fam.name
        except (OSError, ValueError):  # unreadable or half-written: not this family (yet)
            continue
    return None


def _raw_files(raw_dir: Path) -> Iterable[Path]:
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
        if ignored(path):
            continue
        yield path


def fingerprint(raw_dir: Path, previous: Fingerprint | None = None,
                settle_seconds: float = 0.0) -> tuple[Fingerprint, list[str]]:
    """Every file of the raw folder with its hash and family, and the files left for later.

    A file whose size and mtime equal ``previous``'s keeps its recorded hash unread. A file
    modified less than ``settle_seconds`` ago keeps its previous state (or stays out, if new)
    and is listed as unsettled.
    """
    raw_dir, previous = Path(raw_dir), previous or {}
    now_ns = time.time_ns()
    out: Fingerprint = {}
    unsettled: list[str] = []
    for path in _raw_files(raw_dir):
        rel = path.relative_to(raw_dir).as_posix()
        try:
            st = path.stat()
        except FileNotFoundError:  # removed while we looked
            continue
        old = previous.get(rel)
        if old is not None and (old.size, old.mtime_ns) == (st.st_size, st.st_mtime_ns):
            out[rel] = old
            continue
        if settle_seconds and now_ns - st.st_mtime_ns < settle_seconds * 1e9:
            unsettled.append(rel)
            if old is not None:
                out[rel] = old
            continue
        sha = file_sha256(path)
        family = old.family if old is not None and old.sha256 == sha else family_of(path)
        out[rel] = FileState(sha, st.st_size, st.st_mtime_ns, family)
    return out, unsettled


def changed_files(old: Fingerprint, new: Fingerprint) -> dict[str, str]:
    """relative path -> 'new', 'changed' or 'removed' (by content; stat changes don't count)."""
    out = {}
    for rel, st in new.items():
        if rel not in old:
            out[rel] = "new"
        elif old[rel].sha256 != st.sha256:
            out[rel] = "changed"
    for rel in old.keys() - new.keys():
        out[rel] = "removed"
    return dict(sorted(out.items()))


def families_of(changes: Iterable[str], old: Fingerprint, new: Fingerprint) -> set[str]:
    """The source families a set of changed paths belongs to (before or after the change)."""
    fams = set()
    for rel in changes:
        for fp in (old, new):
            if rel in fp and fp[rel].family:
                fams.add(fp[rel].family)
    return fams


def load_cursor(cursor: str | None) -> Fingerprint:
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
        return {rel: FileState(s["sha256"], int(s["size"]), int(s["mtime_ns"]), s.get("family"))
                for rel, s in data.items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}  # an unreadable cursor: look at everything afresh


def dump_cursor(fp: Fingerprint) -> str:
    return json.dumps({rel: st.to_json() for rel, st in sorted(fp.items())}, sort_keys=True)


# --- What the warehouse was built from --------------------------------------------------

_TABLE_FAMILY = {t: f.name for f in FAMILIES.values() for t in f.tables}

Versions = dict[str, set[tuple[str, str]]]  # family -> {(file, sha256)}; a file may have
                                            # several versions (vintages) loaded


def _by_family(files: Iterable[tuple[str, str, str | None]]) -> Versions:
    out: Versions = {name: set() for name in FAMILIES}
    for rel, sha, fam in files:
        if fam in out:
            out[fam].add((rel, sha))
    return out


def _read_only_rows(path: Path, sql: str) -> list | None:
    """A query's rows on a DuckDB file opened read-only; None when the file is missing, held
    by a writer (DuckDB locks it) or lacks what the query reads (an old or foreign file)."""
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.execute(sql).fetchall()
    except duckdb.Error:
        return None
    finally:
        con.close()


def published_inputs(marts_dir: Path) -> dict | None:
    """The latest published run: {run_id, code_version, files: {family: {(file, sha256)}}}."""
    rows = _read_only_rows(published_path(marts_dir),
                           "select run_id, code_version, input_files from audit.runs "
                           "order by published_at desc limit 1")
    if not rows:
        return None
    run_id, code_version, files = rows[0]
    files = json.loads(files) if isinstance(files, str) else files
    # The versions in force when it ran (runs recorded before raw.file_versions list every
    # stored version, without in_force).
    return {"run_id": run_id, "code_version": code_version,
            "files": _by_family((f["file"], f["file_sha256"],
                                 f.get("family") or _TABLE_FAMILY.get(f.get("table")))
                                for f in files if f.get("in_force", True))}


def working_inputs(marts_dir: Path) -> Versions | None:
    """The file versions in force in the working database (``raw.file_versions``); None if
    there is none, another process has it open, or it predates raw.file_versions."""
    rows = _read_only_rows(work_db_path(marts_dir), "select file, file_sha256, family from "
                           f"{FILE_VERSIONS} where in_force")
    return None if rows is None else _by_family(rows)


@dataclass
class Staleness:
    """Which families to recompute; ``families is None`` means everything (with the reason)."""

    families: set[str] | None
    reason: str
    published_run: str | None = None
    details: dict[str, list[str]] = field(default_factory=dict)  # family -> what differs


def stale_families(raw_dir: Path, marts_dir: Path, folder: Fingerprint | None = None,
                   code_version: str | None = None, check_working: bool = True) -> Staleness:
    """The source families a full run would now load differently from the published run.

    A family is up to date when the raw folder holds the same files as the published run was
    built from, each with content the run had loaded, and (with ``check_working``) the
    working database's raw tables hold exactly what the published run's did: a run that
    loaded a file and then failed leaves it there. Everything is stale if there is nothing
    to compare with, or the code changed since the published run.
    """
    marts_dir = Path(marts_dir)
    pub = published_inputs(marts_dir)
    if pub is None:
        return Staleness(None, f"no published warehouse in {marts_dir} yet")
    if code_version is not None and pub["code_version"] != code_version:
        return Staleness(None, f"the code changed since the published run "
                               f"({pub['code_version']} → {code_version})", pub["run_id"])
    if folder is None:
        folder, _ = fingerprint(Path(raw_dir))
    now = _by_family((rel, st.sha256, st.family) for rel, st in folder.items())
    work = working_inputs(marts_dir) if check_working else None
    if check_working and work is None:
        return Staleness(None, "the working database is missing, in use or from an older "
                               "version", pub["run_id"])
    families: set[str] = set()
    details: dict[str, list[str]] = {}
    # Raw rows changed in the working database outside a run: that family loads again.
    edited = (integrity.changed_in(work_db_path(marts_dir)) or {}) if check_working else {}
    for fam in FAMILIES:
        built = pub["files"][fam]
        why = []
        paths_now, paths_built = {f for f, _ in now[fam]}, {f for f, _ in built}
        if paths_now - paths_built:
            why.append(f"{len(paths_now - paths_built)} new file(s)")
        if paths_built - paths_now:
            why.append(f"{len(paths_built - paths_now)} file(s) removed")
        changed = {f for f, sha in now[fam] - built if f in paths_built}
        if changed:
            why.append(f"{len(changed)} file(s) with new content")
        if work is not None and work[fam] != built:
            why.append("the working database differs from the published run")
        if edited.get(fam):
            why.append(f"{len(edited[fam])} file(s) whose rows in the working database were "
                       "changed outside a run")
        if why:
            families.add(fam)
            details[fam] = why
    return Staleness(families, "files changed" if families else "nothing changed",
                     pub["run_id"], details)


def downstream_selection(families: Iterable[str], asset_graph
                         ) -> tuple[list[AssetKey], list[AssetCheckKey]]:
    """The raw assets of ``families`` and everything downstream, with their checks.

    The published warehouse follows every mart, so everything after it would always rerun;
    an asset that names inputs of its own beside the warehouse (a figure: its marts) is
    kept only when one of those is in the selection."""
    sel = AssetSelection.assets(*(raw_asset_key(f) for f in sorted(families))).downstream()
    reached = sel.resolve(asset_graph) & set(asset_graph.materializable_asset_keys)

    def needed(key: AssetKey) -> bool:
        own = set(asset_graph.get(key).parent_keys) - {PUBLISHED_KEY}
        if PUBLISHED_KEY not in asset_graph.get(key).parent_keys or not own:
            return True
        return bool(own & reached)

    keys = sorted((k for k in reached if needed(k)), key=lambda k: k.to_user_string())
    checks = sorted((c for c in sel.resolve_checks(asset_graph) if c.asset_key in set(keys)),
                    key=lambda c: c.to_user_string())
    return keys, checks


# --- The sensor ---------------------------------------------------------------------------


@sensor(
    name="raw_folder_sensor",
    job=refresh_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING if _RUNNING else DefaultSensorStatus.STOPPED,
    description="Watches the raw folder (by content hash) and runs, for the source families "
                "whose files are new, changed or removed, their raw asset and everything "
                "downstream of it. The first tick runs everything.",
)
def raw_folder_sensor(context: SensorEvaluationContext, paths: PipelinePaths):
    _recover(context, paths)
    raw_dir = paths.raw
    if not raw_dir.is_dir():
        return SkipReason(f"the raw folder {raw_dir} does not exist")
    old = load_cursor(context.cursor)
    new, unsettled = fingerprint(raw_dir, old, SETTLE_SECONDS)
    cursor = dump_cursor(new)
    waiting = f" ({len(unsettled)} file(s) still being written)" if unsettled else ""
    if not context.cursor:
        return SensorResult(
            run_requests=[RunRequest(tags={TRIGGER_TAG: "sensor", CHANGED_TAG: "all"})],
            cursor=cursor)
    changes = changed_files(old, new)
    families = families_of(changes, old, new)
    # Charts a run published for and did not draw (killed, or a chart failed): drawn now,
    # unless a run is in progress (it may be drawing them).
    owed = _owed_charts(context, paths)
    if not families and owed:
        return _draw_owed(context, owed, cursor)
    if not changes:
        return SensorResult(skip_reason=SkipReason("no file changed" + waiting), cursor=cursor)
    listed = ", ".join(f"{rel} ({how})" for rel, how in changes.items())
    if not families:
        return SensorResult(skip_reason=SkipReason(
            f"changed, but not recognised as any source: {listed}{waiting}"), cursor=cursor)
    if _fetch_run_in_progress(context):
        # The monthly run loads what it fetches; look again (same cursor) once it is done.
        return SensorResult(skip_reason=SkipReason(
            f"changed: {listed}; the monthly {FETCH_JOB} run is in progress, looking again "
            "after it"), cursor=context.cursor)
    # The families the published warehouse is behind on: those changed (unless a run, such
    # as the monthly fetch and refresh, already published these very files) and those a
    # previous run failed to publish.
    behind = stale_families(raw_dir, paths.marts, folder=new, check_working=False)
    if behind.families is None:  # nothing published yet: build everything
        request = RunRequest(tags={TRIGGER_TAG: "sensor", CHANGED_TAG: "all"})
    elif not behind.families:
        if owed:
            return _draw_owed(context, owed, cursor)
        return SensorResult(skip_reason=SkipReason(
            f"changed: {listed}; the published warehouse (run {behind.published_run[:8]}) "
            "was already built from these files"), cursor=cursor)
    else:
        families = set(behind.families)
        keys, checks = downstream_selection(families, context.repository_def.asset_graph)
        keys = sorted({*keys, *(AssetKey(["reports", f]) for f in owed)},
                      key=lambda k: k.to_user_string())
        request = RunRequest(asset_selection=keys, asset_check_keys=checks,
                             tags={TRIGGER_TAG: "sensor", CHANGED_TAG: ",".join(sorted(families))})
    context.log.info(f"changed: {listed}; running {request.tags[CHANGED_TAG]}")
    return SensorResult(run_requests=[request], cursor=cursor)


def _draw_owed(context: SensorEvaluationContext, owed: dict[str, str], cursor: str):
    """A run of just the owed charts; requested once per owed state (its run key)."""
    context.log.info(f"charts not finished by an earlier run: {', '.join(owed)}")
    return SensorResult(run_requests=[RunRequest(
        asset_selection=[AssetKey(["reports", f]) for f in owed],
        run_key="charts-owed:" + ",".join(f"{f}={run}" for f, run in sorted(owed.items())),
        tags={TRIGGER_TAG: "sensor", CHANGED_TAG: "charts owed"})], cursor=cursor)


def _owed_charts(context: SensorEvaluationContext, paths: PipelinePaths) -> dict[str, str]:
    """figure id -> run, of the charts owed (reports_status) that this code location
    defines; none while a run of the job is in progress."""
    owed = reports_status.pending(paths.marts)
    if not owed:
        return {}
    try:
        instance = context.instance
    except DagsterInvariantViolationError:  # build_sensor_context() without an instance
        instance = None
    if instance is not None and instance.get_run_records(RunsFilter(
            job_name=REFRESH_JOB, statuses=[DagsterRunStatus.QUEUED,
                                            DagsterRunStatus.NOT_STARTED,
                                            DagsterRunStatus.STARTING,
                                            DagsterRunStatus.STARTED]), limit=1):
        return {}
    if _fetch_run_in_progress(context):
        return {}
    existing = context.repository_def.asset_graph.materializable_asset_keys \
        if context.repository_def is not None else None
    return {f: run for f, run in sorted(owed.items())
            if existing is None or AssetKey(["reports", f]) in existing}


def _fetch_run_in_progress(context: SensorEvaluationContext) -> bool:
    """Whether a run of the monthly fetch-and-refresh job is queued or running."""
    try:
        instance = context.instance
    except DagsterInvariantViolationError:  # build_sensor_context() without an instance
        return False
    return bool(instance.get_run_records(RunsFilter(
        job_name=FETCH_JOB, statuses=[DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED,
                                      DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]),
        limit=1))


def _recover(context: SensorEvaluationContext, paths: PipelinePaths) -> None:
    """Housekeeping on each tick, so a server left alone recovers from a killed run too."""
    try:
        instance = context.instance
    except DagsterInvariantViolationError:  # build_sensor_context() without an instance
        return
    for line in [*release_abandoned_runs(instance), *remove_stale_temp_files(paths.marts)]:
        context.log.warning(line)


# --- Recovery after a killed run ----------------------------------------------------------
#
# A run killed outright (kill -9, power cut) cannot clean up after itself. DuckDB replays or
# drops the working database's WAL by itself, and the published warehouse is only ever
# replaced by a rename; what is left is (1) the run's record, still "started", holding the
# writer pool's slot so every later run would wait for ever, and (2) temp files named after
# the dead process. Both are recognised by the process id being gone.

PID_TAG = "kuntakokeilu/pid"
HOST_TAG = "kuntakokeilu/host"
PROC_START_TAG = "kuntakokeilu/proc_start"  # the process's start time, against pid reuse
_TEMP_NAME = re.compile(
    r"^\.(?:indicators\.duckdb|parquet|reports_status\.json)\.(\d+)\.(?:tmp|old)$")


def run_tags_for_this_process() -> dict[str, str]:
    tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    start = process_start(os.getpid())
    if start:
        tags[PROC_START_TAG] = start
    return tags


def _run_process(instance, run) -> tuple[int, str | None] | None:
    """The process that executes ``run`` on this host: ours (tags) or the run worker the
    daemon's launcher started (its "Started process for run (pid: N)" event)."""
    tags = run.tags
    if PID_TAG in tags:
        if tags.get(HOST_TAG) != socket.gethostname():
            return None
        return int(tags[PID_TAG]), tags.get(PROC_START_TAG)
    for rec in instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT):
        data = rec.dagster_event.event_specific_data if rec.dagster_event else None
        pid = getattr(data, "metadata", {}).get("pid") if data else None
        if pid is not None and "Started process for run" in (rec.dagster_event.message or ""):
            return int(pid.value), None
    return None


def running_pids(instance) -> set[int]:
    """The processes on this host executing a run that has not finished."""
    pids = set()
    for rec in instance.get_run_records(RunsFilter(
            statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING])):
        proc = _run_process(instance, rec.dagster_run)
        if proc is not None:
            pids.add(proc[0])
    return pids


def release_abandoned_runs(instance) -> list[str]:
    """Mark runs whose process is gone as failed and free the pool slots they hold."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    candidates = set(storage.get_concurrency_run_ids())
    candidates |= {r.dagster_run.run_id for r in instance.get_run_records(
        RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING],
                   tags={HOST_TAG: socket.gethostname()}))}
    done = []
    for run_id in sorted(candidates):
        run = instance.get_run_by_id(run_id)
        if run is not None and not run.is_finished:
            proc = _run_process(instance, run)
            if proc is None or process_alive(*proc):
                continue
            instance.report_run_failed(
                run, f"The process running it (pid {proc[0]}) is gone: killed or crashed. "
                     "Marked failed by the next run, which frees its pool slot.")
            done.append(f"run {run_id[:8]}: its process (pid {proc[0]}) is gone; "
                        "marked failed, pool slot freed")
        if storage.free_concurrency_slots_for_run(run_id) and run is None:
            done.append(f"run {run_id[:8]}: unknown run; pool slot freed")
    return done


def remove_stale_temp_files(marts_dir: Path) -> list[str]:
    """Remove ``.indicators.duckdb.<pid>.tmp`` and ``.parquet.<pid>.tmp|old`` left by dead
    processes (a live one may be publishing right now: its files stay)."""
    marts_dir, done = Path(marts_dir), []
    if not marts_dir.is_dir():
        return done
    for path in sorted(marts_dir.iterdir()):
        m = _TEMP_NAME.match(path.name)
        if not m or process_alive(int(m.group(1))):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        done.append(f"removed {path.name}, left by a run that was killed")
    return done


automation = {
    "jobs": [refresh_job, fetch_job],
    "schedules": [monthly_refresh],
    "sensors": [raw_folder_sensor],
}
