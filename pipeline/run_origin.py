"""Headless runs on the Dagster UI's Overview timeline, beside the schedule's and sensor's.

Why they were missing: ``JobDefinition.execute_in_process`` (what ``python -m pipeline run``
uses) records a run without a code-location origin (``remote_job_origin`` is None), and the
UI's timeline (``useRunsForTimeline.tsx`` in Dagster 1.13) drops every run whose
``repositoryOrigin`` is null; the Runs list shows them, the timeline does not. A run the
daemon or the UI launches carries the origin of the code location it was loaded from.

So after a headless run its record is given the origin of the code location that
``make dev``, ``make serve`` and the systemd unit load (``dagster dev -m
pipeline.definitions``: location ``pipeline.definitions``, repository ``__repository__``),
through the run storage's ``replace_job_origin`` (what Dagster uses to move runs between
locations). The timeline then draws it in the job's row ``refresh_indicators``.
"""

from __future__ import annotations

import os
import sys

from dagster import DagsterInstance

CODE_LOCATION = "pipeline.definitions"  # the module `dagster dev -m` loads: the location name
REPOSITORY = "__repository__"           # the name Dagster gives a module's Definitions


def job_origin(job_name: str):
    """The origin a run of ``job_name`` launched from the UI's code location carries."""
    from dagster._core.remote_origin import (
        ManagedGrpcPythonEnvCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    location = ManagedGrpcPythonEnvCodeLocationOrigin(
        LoadableTargetOrigin(executable_path=sys.executable, module_name=CODE_LOCATION,
                             working_directory=os.getcwd()),
        location_name=CODE_LOCATION)
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, REPOSITORY), job_name)


def show_on_timeline(instance: DagsterInstance, run_id: str) -> bool:
    """Give a headless run the code-location origin the timeline needs; False if the run is
    not there or already has one."""
    run = instance.get_run_by_id(run_id)
    if run is None or run.remote_job_origin is not None:
        return False
    instance.run_storage.replace_job_origin(run, job_origin(run.job_name))
    return True
