"""Whether a job is still alive: its heartbeat's age against the deployment's limits, and the
runner's word on a job it tracks (used by the commit job, the watcher and the import job)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from flask import current_app

from web.jobs.reasons import Failure, Reason
from web.jobs.runner import runner_of

STALE_SECONDS = 30.0  # a running job whose heartbeat is older than this is taken for dead
QUEUED_GRACE_SECONDS = 60.0  # a local job not started after this long was lost with its process


def stale_seconds() -> float:
    """DUIJIE_JOB_STALE_SECONDS, else STALE_SECONDS."""
    configured = current_app.config.get("DUIJIE_JOB_STALE_SECONDS")
    return float(configured or os.environ.get("DUIJIE_JOB_STALE_SECONDS") or STALE_SECONDS)


def commit_dead(progress: Mapping[str, Any]) -> Failure | None:
    """Why an in-flight commit's job is dead, or None while it may still be alive."""
    job_id = str(progress.get("commit_job") or "")
    silent = time.time() - float(progress.get("heartbeat") or 0.0)
    runner = runner_of()
    if runner.tracks(job_id):
        failure = runner.dead(job_id)
        if failure is not None:
            return Failure(failure.reason, f"{failure.detail}; nothing was pledged")
    elif not progress.get("commit_started") and silent > QUEUED_GRACE_SECONDS:
        return Failure(
            Reason.JOB_LOST, "the server stopped before the commit started; nothing was pledged"
        )
    if progress.get("commit_started") and silent > stale_seconds():
        return Failure(
            Reason.WORKER_LOST,
            f"no news for {silent:.0f} s: it was probably stopped or killed; nothing was pledged",
        )
    return None
