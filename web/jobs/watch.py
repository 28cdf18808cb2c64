"""Watching jobs: the progress a run's page shows, and runs whose job is known dead.

A job that dies (worker killed, machine lost) stores nothing: `check_alive` notices a silent
heartbeat, or the runner's word (RQ's failed registry, a job gone from the queue), and fails
the run with the reason's code. A dead commit job fails the commit only: the preview stays.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from web.jobs.commit import COMMIT_FAILED, COMMITTING, commit_failed, commit_state
from web.jobs.liveness import QUEUED_GRACE_SECONDS, commit_dead, stale_seconds
from web.jobs.preview import ACTIVE, failed, move
from web.jobs.reasons import Failure, Reason
from web.jobs.runner import queue_name, runner_of, workers_listening
from web.models import AllocationRun


def _fraction(run: AllocationRun, progress: Mapping[str, Any], commit: str | None) -> float:
    time_limit = float(progress.get("time_limit") or 0.0)
    if commit == COMMITTING:
        return 0.5 if progress.get("commit_started") else 0.1
    if run.status in ("preview", "committed", "published"):
        return 1.0
    if progress.get("stage") == "parts" and progress.get("parts_total"):
        return min(0.99, int(progress.get("parts_done") or 0) / int(progress["parts_total"]))
    if time_limit > 0 and progress.get("stage") in ("solving", "greedy", "figures"):
        return min(0.99, float(progress.get("elapsed") or 0.0) / (time_limit + 1.0))
    return 0.0


def progress_of(run: AllocationRun) -> dict[str, Any]:
    """What the run page and its JSON endpoint show: status, stage, times, objective, bound."""
    progress = dict(run.progress or {})
    commit = commit_state(run)
    # A job waiting in an RQ queue that no worker reads would wait for ever: say so.
    waiting = run.status == "queued" or (
        commit == COMMITTING and not progress.get("commit_started")
    )
    failed_commit = commit == COMMIT_FAILED
    return {
        "id": run.id,
        "status": run.status,
        "no_worker": waiting and workers_listening() == 0,
        "queue": queue_name(),
        "stage": progress.get("stage") or run.status,
        "elapsed": float(progress.get("elapsed") or 0.0),
        "time_limit": float(progress.get("time_limit") or 0.0),
        "objective": progress.get("objective"),
        "bound": progress.get("bound"),
        "parts_done": progress.get("parts_done"),
        "parts_total": progress.get("parts_total"),
        "parts_lost": progress.get("parts_lost"),
        "fraction": round(_fraction(run, progress, commit), 3),
        "cancel_requested": bool(run.cancel_requested),
        "done": run.status not in ACTIVE and commit != COMMITTING,
        "error": run.error,
        "reason": run.reason,
        "committing": commit == COMMITTING,
        "commit_error": progress.get("commit_error") if failed_commit else None,
        "commit_reason": progress.get("commit_reason") if failed_commit else None,
    }


def check_alive(session: Session, run: AllocationRun) -> AllocationRun:
    """Mark a queued or running run failed, with the reason, when its job is known to be dead.

    A dead commit job fails the commit only: the run stays a preview that can be committed again.
    """
    if commit_state(run) == COMMITTING:
        progress = dict(run.progress or {})
        failure = commit_dead(progress)
        if failure is not None:
            commit_failed(session, run.id, progress.get("commit_job"), failure)
            session.refresh(run)
        return run
    if run.status not in ACTIVE:
        return run
    failure = run_dead(run)
    if failure is None:
        return run
    move(session, run.id, run.status, "failed", **failed(failure))
    session.commit()
    session.refresh(run)
    return run


def run_dead(run: AllocationRun) -> Failure | None:
    """Why the run's job is dead, or None while it may still be alive."""
    silent = time.time() - float((run.progress or {}).get("heartbeat") or 0.0)
    runner = runner_of()
    if run.job_id and runner.tracks(run.job_id):
        failure = runner.dead(run.job_id)
        if failure is not None:
            return Failure(failure.reason, f"{failure.detail}; nothing was stored")
    elif run.status == "queued" and silent > QUEUED_GRACE_SECONDS:
        return Failure(
            Reason.JOB_LOST, "the server stopped before the job started; nothing was stored"
        )
    if run.status == "running" and silent > stale_seconds():
        return Failure(
            Reason.WORKER_LOST,
            f"no progress for {silent:.0f} s: it was probably stopped or killed; "
            "nothing was stored",
        )
    return None


