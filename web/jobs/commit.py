"""The commit job: a preview turned into pledges in the background, as a small state machine.

The run's status stays "preview" until `week.commit_run` sets "committed" in its one
all-or-nothing transaction; the job's own state is the preview's `progress["stage"]`:

    (none) or commit_failed --start_commit--> committing --commit_job--> committed
                                                   \\--refused, crashed, found dead--> commit_failed

`start_commit` refuses at once what `commit_run` would refuse cheaply, records the job (its id,
a heartbeat, who asked) and hands `commit_job` to the app's runner. A refusal or a crash leaves
the preview as it was with the reason's code in `progress["commit_reason"]` (the detail in
`commit_error`), and it can be committed again. Every step goes through `_step`, under the run's
row lock, and only while the preview still waits for the same job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from web.extensions import db
from web.jobs.liveness import commit_dead
from web.jobs.preview import JobQueueDown
from web.jobs.reasons import Failure, Reason
from web.jobs.runner import Job, QueueDown, job_app, runner_of
from web.models import AllocationRun, User
from web.services import week as week_service
from web.services.audit import acting_as
from web.services.locking import begin_write
from web.services.week import (
    AlreadyCommitted,
    StaleRun,
    WeekError,
    ensure_not_committed,
    require_admin,
)

log = logging.getLogger(__name__)

COMMITTING = "committing"  # progress stage of a preview whose commit job is queued or running
COMMIT_FAILED = "commit_failed"  # progress stage of a preview whose last commit job failed
JOB_TIMEOUT_SECONDS = 600  # RQ kills a commit job after this long


class CommitInProgress(WeekError):
    """A commit job of this run is already queued or running."""


def commit_state(run: AllocationRun) -> str | None:
    """ "committing" while a commit job of the preview is in flight, "commit_failed" after one
    failed (the preview can be committed again), otherwise None."""
    if run.status != "preview":
        return None
    stage = (run.progress or {}).get("stage")
    return stage if stage in (COMMITTING, COMMIT_FAILED) else None


def _step(
    session: Session, run_id: int, job_id: str | None, change: Callable[[dict[str, Any]], None]
) -> bool:
    """Apply `change` to the run's progress under its row lock, if the preview still waits for
    commit job `job_id` (any job when None); commits. False, changing nothing, otherwise."""
    session.rollback()  # the decision is made afresh under the lock
    try:
        begin_write(session)
        run = session.get(AllocationRun, run_id, with_for_update=True, populate_existing=True)
        progress = dict(run.progress or {}) if run is not None else {}
        waits = run is not None and commit_state(run) == COMMITTING
        if not waits or (job_id is not None and progress.get("commit_job") != job_id):
            session.rollback()
            return False
        change(progress)
        assert run is not None
        run.progress = progress
        session.commit()
    except Exception:
        session.rollback()
        raise
    return True


def start_commit(session: Session, run_id: int, actor: User) -> AllocationRun:
    """Queue a job that turns the preview into pledges; refuse at once what cannot be committed.

    The run's status stays "preview" until `commit_run` sets "committed" in its one transaction;
    meanwhile `progress` says a commit is in flight, and a second request is refused.
    """
    require_admin(actor, "commit a week's allocation")
    runner = runner_of()
    try:
        begin_write(session)  # one start at a time per run (the run's row lock on PostgreSQL)
        run = session.get(AllocationRun, run_id, with_for_update=True, populate_existing=True)
        if run is None:
            raise WeekError(f"no allocation run {run_id}")
        if run.status in ("committed", "published"):
            raise AlreadyCommitted(f"run {run_id} is {run.status}, not a preview: committed once")
        if run.status != "preview" or run.input is None or run.output is None:
            raise WeekError(f"run {run_id} is {run.status}, not a preview: it cannot be committed")
        ensure_not_committed(session, run.week)
        progress = dict(run.progress or {})
        if commit_state(run) == COMMITTING and commit_dead(progress) is None:
            raise CommitInProgress(
                f"a commit of run {run_id} is already queued or running: wait for it to finish"
            )
        job_id = runner.job_id("commit", run_id)
        for key in ("commit_error", "commit_reason", "commit_started"):
            progress.pop(key, None)
        now = time.time()
        progress.update(
            stage=COMMITTING,
            commit_job=job_id,
            commit_by=actor.id,
            commit_queued=now,
            heartbeat=now,
        )
        run.progress = progress
        session.commit()  # stored before a worker (another process) can take the job
    except Exception:
        session.rollback()
        raise
    _submit(session, run, job_id, actor.id)
    session.refresh(run)
    return run


def _submit(session: Session, run: AllocationRun, job_id: str, actor_id: int) -> None:
    """Hand the commit to the runner; a queue that is down fails the commit, not the run."""
    job = Job(
        commit_job,
        (run.id, actor_id, job_id),
        job_id,
        JOB_TIMEOUT_SECONDS,
        f"commit of week {run.week} (run {run.id})",
    )
    try:
        runner_of().submit(job)
    except QueueDown as error:
        failure = Failure(Reason.QUEUE_DOWN, str(error))
        commit_failed(session, run.id, job_id, failure)
        raise JobQueueDown(failure) from None


def commit_job(
    run_id: int, actor_id: int, job_id: str | None = None, app: Flask | None = None
) -> str:
    """The job: commit the preview with `commit_run`; on a refusal or a crash store the reason.

    Returns "committed", "commit_failed" or "skipped" (the run no longer waits for this job).
    """
    with job_app(app).app_context():
        try:
            return _run_commit(db.session, run_id, actor_id, job_id)
        finally:
            db.session.remove()


def _run_commit(session: Session, run_id: int, actor_id: int, job_id: str | None) -> str:
    started = _step(
        session,
        run_id,
        job_id,
        lambda p: p.update(commit_started=time.time(), heartbeat=time.time()),
    )
    if not started:
        log.info("run %s does not wait for commit job %s; job skipped", run_id, job_id)
        return "skipped"
    actor = session.get(User, actor_id)
    try:
        if actor is None:
            raise WeekError(f"no user {actor_id} to commit as")
        with acting_as(actor_id):  # the audit trail names the administrator who asked
            week_service.commit_run(session, run_id, actor)
            session.commit()  # the job is the boundary: commit_run only flushes
    except WeekError as error:
        session.rollback()
        failure = Failure(_refusal_reason(error), f"{type(error).__name__}: {error}")
    except Exception as error:
        session.rollback()
        log.exception("commit job of run %s failed", run_id)
        failure = Failure(Reason.COMMIT_CRASHED, f"{type(error).__name__}: {error}")
    else:
        _commit_done(session, run_id)
        return "committed"
    commit_failed(session, run_id, job_id, failure)
    return COMMIT_FAILED


def _refusal_reason(error: WeekError) -> Reason:
    if isinstance(error, AlreadyCommitted):
        return Reason.ALREADY_COMMITTED
    if isinstance(error, StaleRun):
        return Reason.STALE_RUN
    return Reason.REFUSED


def _commit_done(session: Session, run_id: int) -> None:
    """After commit_run's transaction: the progress says done (the status already does)."""
    run = session.get(AllocationRun, run_id, populate_existing=True)
    if run is None or run.status != "committed":
        return
    progress = {**(run.progress or {}), "stage": "committed", "heartbeat": time.time()}
    session.execute(
        update(AllocationRun)
        .where(AllocationRun.id == run_id, AllocationRun.status == "committed")
        .values(progress=progress)
    )
    session.commit()


def commit_failed(session: Session, run_id: int, job_id: str | None, failure: Failure) -> None:
    """Store why the commit failed, if the preview still waits for that job; it stays a preview."""

    def fail(progress: dict[str, Any]) -> None:
        progress.update(
            stage=COMMIT_FAILED,
            commit_reason=failure.reason.value,
            commit_error=failure.text,
            commit_finished=time.time(),
        )

    _step(session, run_id, job_id, fail)


def wait_for_commit(session: Session, run: AllocationRun, seconds: float) -> AllocationRun:
    """Wait up to `seconds` for the run's commit job to finish (a quick commit shows at once)."""
    deadline = time.monotonic() + seconds
    while commit_state(run) == COMMITTING and time.monotonic() < deadline:
        time.sleep(0.1)
        session.rollback()
        session.refresh(run)
    return run
