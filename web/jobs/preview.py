"""The preview job: a week's allocation solved in the background, as a small state machine.

The run's `status` is the job's state. `start_preview` stores a queued run and hands
`preview_job` to the app's runner; the job claims the run (queued -> running), solves, and
stores the outcome in one final update (running -> preview, failed or cancelled). A queued run
is cancelled at once; a running one is asked to stop (`cancel_requested`, polled by the
solver). `check_alive` (web.jobs.watch) fails a run whose job is known dead; `retry`
starts a new run with the same week, weights and time limit. Every status change goes through
`move`, which knows the allowed ones and changes the row only if no one moved it first.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from web.extensions import db
from web.jobs.reasons import Failure, Reason
from web.jobs.runner import (
    Job,
    QueueDown,
    job_app,
    queue_name,
    redis_connection,
    runner_of,
    uses_redis,
)
from web.jobs.tracker import Tracker
from web.models import AllocationRun, Need, User
from web.services import distributed
from web.services.audit import acting_as
from web.services.week import WeekError, ensure_not_committed, require_admin, solve_week
from web.services.week_instance import effective_policy

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
# The preview job's states and where each may go (the others are final, or the commit's).
MOVES: dict[str, tuple[str, ...]] = {
    "queued": ("running", "cancelled", "failed"),
    "running": ("preview", "cancelled", "failed"),
}
JOB_MARGIN_SECONDS = 600  # RQ kills a job this long after its solve's time limit
MIN_TIME_CAP = 120  # the longest preview time limit of a small week, in seconds
NEEDS_PER_SECOND = 20  # beyond that, one second more per this many open needs


class TimeLimitTooLong(WeekError):
    """The preview's time limit is longer than the week's size allows (`max_time_limit`)."""


class JobQueueDown(WeekError):
    """The job could not be queued: its run (or commit) is stored as failed with `failure`."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.text)
        self.failure = failure


def move(
    session: Session,
    run_id: int,
    source: str | tuple[str, ...],
    target: str,
    *conditions: Any,
    **values: Any,
) -> bool:
    """Change the run's status from `source` to `target` (with `values`) in one conditional
    update; False when the run is no longer in `source` (someone moved it first)."""
    sources = (source,) if isinstance(source, str) else source
    if not all(target in MOVES.get(state, ()) for state in sources):
        raise ValueError(f"a run does not go from {sources} to {target}")
    done = session.execute(
        update(AllocationRun)
        .where(AllocationRun.id == run_id, AllocationRun.status.in_(sources), *conditions)
        .values(status=target, **values)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def failed(failure: Failure) -> dict[str, Any]:
    """The columns of a failed run: the reason's code and its detail."""
    return {"reason": failure.reason.value, "error": failure.text, "finished_at": datetime.now(UTC)}


def max_time_limit(session: Session) -> int:
    """The longest time limit a preview may have: MIN_TIME_CAP seconds for a city's week, one
    second per NEEDS_PER_SECOND open verified needs for a larger one (a province's 40,000
    needs: 2,000 s), so a week cut into parts can give each part its share."""
    count = session.scalar(
        select(func.count(Need.id)).where(
            Need.status == "open", Need.verification == "verified", Need.quantity > Need.allocated
        )
    )
    return max(MIN_TIME_CAP, int(count or 0) // NEEDS_PER_SECOND)


def spread_for(
    app: Flask | None = None,
    on_parts: Callable[[distributed.PartsProgress], None] | None = None,
) -> distributed.Spread:
    """Where this deployment's week parts go: its RQ queue (solved here, one by one, without
    Redis); weeks of DUIJIE_DISTRIBUTE_PAIRS eligible pairs or more are cut into parts."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    threshold = int(
        app.config.get("DUIJIE_DISTRIBUTE_PAIRS")
        or os.environ.get("DUIJIE_DISTRIBUTE_PAIRS")
        or distributed.DISTRIBUTE_PAIRS
    )
    return distributed.Spread(
        connection=redis_connection(app) if uses_redis(app) else None,
        queue_name=queue_name(app),
        steal=True,
        threshold=threshold,
        on_parts=on_parts,
        part_seconds=distributed.part_seconds_setting(app.config.get("DUIJIE_PART_SECONDS")),
    )


# --- starting, cancelling, retrying ---


def start_preview(
    session: Session,
    week: str,
    policy: Mapping[str, float] | None,
    actor: User,
    *,
    time_limit: float = 30.0,
) -> AllocationRun:
    """Store a queued preview run and start its job; the run's page follows its progress."""
    require_admin(actor, "preview a week's allocation")
    ensure_not_committed(session, week)
    if not time_limit > 0:
        raise WeekError("the time limit must be a positive number of seconds")
    longest = max_time_limit(session)
    if time_limit > longest:
        raise TimeLimitTooLong(
            f"the time limit may be at most {longest} seconds for this week "
            f"(one second per {NEEDS_PER_SECOND} open needs, at least {MIN_TIME_CAP})"
        )
    runner = runner_of()
    run = AllocationRun(
        week=week,
        status="queued",
        policy=effective_policy(policy),
        created_by_id=actor.id,
        progress={"stage": "queued", "time_limit": float(time_limit), "heartbeat": time.time()},
    )
    session.add(run)
    session.flush()
    run.job_id = runner.job_id("run", run.id)
    session.commit()  # stored before a worker (another process) can claim it
    job = Job(
        preview_job,
        (run.id,),
        run.job_id,
        int(time_limit) + JOB_MARGIN_SECONDS,
        f"preview of week {run.week} (run {run.id})",
    )
    try:
        runner.submit(job)
    except QueueDown as error:
        failure = Failure(Reason.QUEUE_DOWN, str(error))
        move(session, run.id, "queued", "failed", **failed(failure))
        session.commit()  # the run says why it never started
        raise JobQueueDown(failure) from None
    return run


def retry(session: Session, run_id: int, actor: User) -> AllocationRun:
    """A new preview job with a failed or cancelled run's week, weights and time limit."""
    require_admin(actor, "preview a week's allocation")
    run = session.get(AllocationRun, run_id)
    if run is None:
        raise WeekError(f"no allocation run {run_id}")
    if run.status not in ("failed", "cancelled"):
        raise WeekError(f"run {run_id} is {run.status}: only a failed or cancelled run is retried")
    time_limit = float((run.progress or {}).get("time_limit") or 30.0)
    return start_preview(session, run.week, run.policy, actor, time_limit=time_limit)


def request_cancel(session: Session, run_id: int, actor: User) -> AllocationRun:
    """Cancel a queued run at once, or ask a running one to stop (it stores nothing)."""
    require_admin(actor, "cancel an allocation run")
    run = session.get(AllocationRun, run_id)
    if run is None:
        raise WeekError(f"no allocation run {run_id}")
    if run.status not in ACTIVE:
        raise WeekError(f"run {run_id} is {run.status}: there is no job to cancel")
    now = datetime.now(UTC)
    if not move(session, run_id, "queued", "cancelled", cancel_requested=True, finished_at=now):
        session.execute(
            update(AllocationRun)
            .where(AllocationRun.id == run_id, AllocationRun.status == "running")
            .values(cancel_requested=True)
        )
    session.commit()
    session.refresh(run)
    return run


# --- the job ---


def preview_job(run_id: int, app: Flask | None = None) -> str:
    """The job: claim the queued run, solve its week, store the preview; returns the final status.

    Runs the same in an RQ work horse, a thread, or right away. Nothing is written but the
    run's own row: the preview only at the end, in one update conditional on it still running.
    """
    with job_app(app).app_context():
        try:
            return _run_preview(db.session, run_id)
        finally:
            db.session.remove()


def _run_preview(session: Session, run_id: int) -> str:
    run = session.get(AllocationRun, run_id)
    if run is None or run.status != "queued":
        log.info("run %s is not queued; job skipped", run_id)
        return "skipped"
    week, policy = run.week, dict(run.policy or {})
    time_limit = float((run.progress or {}).get("time_limit") or 30.0)
    actor_id = run.created_by_id
    session.rollback()
    with acting_as(actor_id):  # the audit trail names the administrator who started the job
        tracker = Tracker(current_app._get_current_object(), run_id, time_limit)  # type: ignore[attr-defined]
        # Claimed with a fresh heartbeat: a run that waited long in the queue is not taken for dead.
        claimed = move(
            session,
            run_id,
            "queued",
            "running",
            AllocationRun.cancel_requested.is_(False),
            started_at=datetime.now(UTC),
            progress=tracker.snapshot(),
        )
        session.commit()
        if not claimed:
            log.info("run %s is no longer queued; job skipped", run_id)
            return "skipped"
        tracker.start()
        status, fields = _solve(session, week, policy, tracker)
        return _finish(session, run_id, tracker, status, fields)


def _solve(
    session: Session, week: str, policy: dict[str, Any], tracker: Tracker
) -> tuple[str, dict[str, Any]]:
    """Solve the week; the run's next status and the columns to store with it."""

    def stage(name: str) -> None:
        tracker.set_stage(name)
        if name in ("solving", "parts"):
            session.rollback()  # no transaction held open through the solve

    failure: Failure | None = None
    cancelled = False
    try:
        fields = solve_week(
            session,
            week,
            policy,
            time_limit=tracker.time_limit,
            progress=tracker.progress,
            should_stop=tracker.should_stop,
            stage=stage,
            spread=spread_for(on_parts=tracker.parts),
        )
    except distributed.Cancelled:
        cancelled = True
    except distributed.QueueUnavailable as error:
        failure = Failure(Reason.QUEUE_DOWN, str(error))
    except WeekError as error:
        failure = Failure(Reason.REFUSED, str(error))
    except Exception as error:
        log.exception("preview job of run %s failed", tracker.run_id)
        failure = Failure(Reason.SOLVE_FAILED, f"{type(error).__name__}: {error}")
    finally:
        tracker.stop()
    if failure is not None:
        session.rollback()
        return "failed", {"reason": failure.reason.value, "error": failure.text}
    if cancelled or tracker.cancelled:
        session.rollback()
        return "cancelled", {}
    return "preview", fields


def _finish(
    session: Session, run_id: int, tracker: Tracker, status: str, fields: dict[str, Any]
) -> str:
    """Store the job's outcome in one update, only if the run is still ours (running)."""
    tracker.set_stage("done" if status == "preview" else status)
    values = {"finished_at": datetime.now(UTC), "progress": tracker.snapshot(), **fields}
    done = move(session, run_id, "running", status, **values)
    session.commit()
    if not done:
        log.warning("run %s was no longer running (taken for dead?); outcome dropped", run_id)
        return "dropped"
    return status
