"""Background allocation: a week's preview runs as a job, on RQ with Redis or in a local thread.

The AllocationRun row is the job's state. A view calls `start_preview`, which stores a queued
run and hands its id to the runner: RQ when DUIJIE_REDIS_URL is set (`duijie worker` processes
on any machine pick it up), otherwise a thread of this process (the embedded default). Both run
`preview_job(run_id)`, which opens its own app context and session, claims the run (queued ->
running), solves, and stores the preview in one final update. While it solves, a ticker thread
writes stage, elapsed seconds, best objective, bound and a heartbeat into `progress` every half
second and reads back `cancel_requested`, which the solver polls through `should_stop`.

A job that dies (worker killed, machine lost) stores nothing: `check_alive` notices a silent
heartbeat, or RQ's failed registry, and marks the run failed with the reason; `retry` starts a
new run with the same week, weights and time limit. Committing stays with
`web.services.week.commit_run` (one locking transaction; `committed_week` is unique).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from optimizer import Progress
from web.extensions import db
from web.models import AllocationRun, User
from web.services.audit import acting_as
from web.services.week import WeekError, ensure_not_committed, require_admin, solve_week
from web.services.week_instance import effective_policy

__all__ = [
    "ACTIVE",
    "QUEUE_NAME",
    "check_alive",
    "join_threads",
    "preview_job",
    "progress_of",
    "redis_connection",
    "request_cancel",
    "retry",
    "start_preview",
    "uses_redis",
]

log = logging.getLogger(__name__)

QUEUE_NAME = "duijie"
ACTIVE = ("queued", "running")
TICK_SECONDS = 0.5  # progress is written at most this often
STALE_SECONDS = 30.0  # a running job whose heartbeat is older than this is taken for dead
QUEUED_GRACE_SECONDS = 60.0  # a thread job not started after this long was lost with its process
JOB_MARGIN_SECONDS = 600  # RQ kills a job this long after its solve's time limit

# How stored failure reasons begin (the run page names them in the user's language).
WORKER_LOST = "the worker stopped responding"
WORKER_FAILED = "the worker failed"
QUEUE_DOWN = "the job queue (Redis) could not be reached"
JOB_LOST = "the job was lost"
SOLVE_FAILED = "the solve failed"

_threads: dict[int, threading.Thread] = {}
_threads_lock = threading.Lock()


# --- starting, cancelling, retrying ---


def uses_redis(app: Flask | None = None) -> bool:
    """Whether jobs go to RQ (DUIJIE_REDIS_URL set) rather than a local thread."""
    return bool((app or current_app).config.get("DUIJIE_REDIS_URL"))


def redis_connection(app: Flask | None = None) -> Any:
    """The app's Redis client for the configured URL (one connection pool per app and URL)."""
    from redis import Redis

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    url = app.config.get("DUIJIE_REDIS_URL")
    if not url:
        raise WeekError("no Redis is configured: set DUIJIE_REDIS_URL")
    clients = app.extensions.setdefault("duijie_jobs_redis", {})
    if url not in clients:
        clients[url] = Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
    return clients[url]


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
    run = AllocationRun(
        week=week,
        status="queued",
        policy=effective_policy(policy),
        created_by_id=actor.id,
        progress={"stage": "queued", "time_limit": float(time_limit), "heartbeat": time.time()},
    )
    session.add(run)
    session.commit()
    _enqueue(session, run, float(time_limit))
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
    queued = session.execute(
        update(AllocationRun)
        .where(AllocationRun.id == run_id, AllocationRun.status == "queued")
        .values(status="cancelled", cancel_requested=True, finished_at=now)
    )
    if not queued.rowcount:  # type: ignore[attr-defined]
        session.execute(
            update(AllocationRun)
            .where(AllocationRun.id == run_id, AllocationRun.status == "running")
            .values(cancel_requested=True)
        )
    session.commit()
    session.refresh(run)
    return run


def _enqueue(session: Session, run: AllocationRun, time_limit: float) -> None:
    """Hand the run to RQ or to a thread and record the job id; a queue that is down fails it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if uses_redis(app):
        from rq import Queue

        try:
            queue = Queue(QUEUE_NAME, connection=redis_connection(app))
            job = queue.enqueue(
                preview_job,
                run.id,
                job_id=f"duijie-run-{run.id}-{int(time.time())}",
                job_timeout=int(time_limit) + JOB_MARGIN_SECONDS,
                result_ttl=86400,
                failure_ttl=7 * 86400,
                description=f"preview of week {run.week} (run {run.id})",
            )
        except Exception as error:  # redis.ConnectionError and friends: say so on the run
            _fail(session, run.id, f"{QUEUE_DOWN}: {error}")
            raise WeekError(f"{QUEUE_DOWN}: {error}") from None
        job_id = job.id
    else:
        job_id = f"thread-run-{run.id}"
    session.execute(update(AllocationRun).where(AllocationRun.id == run.id).values(job_id=job_id))
    session.commit()
    if not uses_redis(app):
        thread = threading.Thread(
            target=preview_job, args=(run.id,), kwargs={"app": app}, name=job_id, daemon=True
        )
        with _threads_lock:
            _threads[run.id] = thread
        thread.start()
        if app.config.get("DUIJIE_JOBS_SYNC", app.testing):
            thread.join()  # tests: the same job, awaited before the request returns


def join_threads(timeout: float = 60.0) -> None:
    """Wait for this process's local job threads (tests; a graceful shutdown)."""
    deadline = time.monotonic() + timeout
    with _threads_lock:
        threads = list(_threads.values())
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


# --- the job ---


def preview_job(run_id: int, app: Flask | None = None) -> str:
    """The job: claim the queued run, solve its week, store the preview; returns the final status.

    Runs the same in an RQ work horse and in a local thread. Nothing is written but the run's
    own row: the preview only at the end, in one update conditional on the run still running.
    """
    app = app or _job_app()
    try:
        with app.app_context():
            try:
                return _run_preview(db.session, run_id)
            finally:
                db.session.remove()
    finally:
        with _threads_lock:
            if _threads.get(run_id) is threading.current_thread():
                del _threads[run_id]


_worker_app: Flask | None = None


def _job_app() -> Flask:
    """The app for a job: the worker's (forked with its context) or one built from the env."""
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]
    if _worker_app is None:
        from web import create_app

        _worker_app = create_app()
    return _worker_app


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
        return _claim_and_solve(session, run_id, week, policy, time_limit)


def _claim_and_solve(
    session: Session, run_id: int, week: str, policy: dict[str, Any], time_limit: float
) -> str:
    tracker = Tracker(current_app._get_current_object(), run_id, time_limit)  # type: ignore[attr-defined]
    # Claimed with a fresh heartbeat: a run that waited long in the queue is not taken for dead.
    claimed = session.execute(
        update(AllocationRun)
        .where(
            AllocationRun.id == run_id,
            AllocationRun.status == "queued",
            AllocationRun.cancel_requested.is_(False),
        )
        .values(status="running", started_at=datetime.now(UTC), progress=tracker.snapshot())
    )
    session.commit()
    if not claimed.rowcount:  # type: ignore[attr-defined]
        log.info("run %s is no longer queued; job skipped", run_id)
        return "skipped"
    tracker.start()

    def stage(name: str) -> None:
        tracker.set_stage(name)
        if name == "solving":
            session.rollback()  # no transaction held open through the solve

    try:
        fields = solve_week(
            session,
            week,
            policy,
            time_limit=time_limit,
            progress=tracker.progress,
            should_stop=tracker.should_stop,
            stage=stage,
        )
    except WeekError as error:
        tracker.stop()
        session.rollback()
        return _finish(session, run_id, tracker, "failed", {"error": str(error)})
    except Exception as error:
        tracker.stop()
        session.rollback()
        log.exception("preview job of run %s failed", run_id)
        reason = f"{SOLVE_FAILED}: {type(error).__name__}: {error}"
        return _finish(session, run_id, tracker, "failed", {"error": reason})
    tracker.stop()
    if tracker.cancelled:
        return _finish(session, run_id, tracker, "cancelled", {})
    return _finish(session, run_id, tracker, "preview", fields)


def _finish(
    session: Session, run_id: int, tracker: Tracker, status: str, fields: dict[str, Any]
) -> str:
    """Store the job's outcome in one update, only if the run is still ours (running)."""
    tracker.set_stage("done" if status == "preview" else status)
    done = session.execute(
        update(AllocationRun)
        .where(AllocationRun.id == run_id, AllocationRun.status == "running")
        .values(status=status, finished_at=datetime.now(UTC), progress=tracker.snapshot(), **fields)
    )
    session.commit()
    if not done.rowcount:  # type: ignore[attr-defined]
        log.warning("run %s was no longer running (taken for dead?); outcome dropped", run_id)
        return "dropped"
    return status


class Tracker:
    """The job's live state, written to the run every TICK_SECONDS by its own thread.

    The solver's callbacks only touch memory (they run inside OR-Tools' threads); the ticker
    does the database work and brings back whether a cancel was asked for.
    """

    def __init__(self, app: Flask, run_id: int, time_limit: float) -> None:
        self.app, self.run_id, self.time_limit = app, run_id, time_limit
        self.started = time.monotonic()
        self.state: dict[str, Any] = {"stage": "building", "objective": None, "bound": None}
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.cancelled = False
        self.lost = False  # the run was marked failed behind our back: stop early
        self.thread = threading.Thread(target=self._loop, name=f"progress-{run_id}", daemon=True)

    def progress(self, progress: Progress) -> None:
        with self.lock:
            if progress.objective is not None:
                self.state["objective"] = progress.objective
            if progress.bound is not None:
                self.state["bound"] = progress.bound

    def set_stage(self, name: str) -> None:
        with self.lock:
            self.state["stage"] = name

    def should_stop(self) -> bool:
        return self.cancelled or self.lost

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            state = dict(self.state)
        state["elapsed"] = round(time.monotonic() - self.started, 2)
        state["time_limit"] = self.time_limit
        state["heartbeat"] = time.time()
        return state

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.halt.set()
        self.thread.join(timeout=10)

    def _loop(self) -> None:
        while not self.halt.wait(TICK_SECONDS):
            self.flush()

    def flush(self) -> None:
        """Write the snapshot while the run is running; read back cancel_requested and status."""
        table = AllocationRun.__table__
        try:
            with self.app.app_context(), db.engine.begin() as conn:
                conn.execute(
                    update(table)
                    .where(table.c.id == self.run_id, table.c.status == "running")
                    .values(progress=self.snapshot())
                )
                row = conn.execute(
                    select(table.c.status, table.c.cancel_requested).where(
                        table.c.id == self.run_id
                    )
                ).one_or_none()
        except Exception:  # a database hiccup: the next tick tries again
            log.exception("progress of run %s not written", self.run_id)
            return
        if row is None or row.status != "running":
            self.lost = True
        elif row.cancel_requested:
            self.cancelled = True


# --- watching: progress for the page, dead jobs found out ---


def progress_of(run: AllocationRun) -> dict[str, Any]:
    """What the run page and its JSON endpoint show: status, stage, times, objective, bound."""
    progress = dict(run.progress or {})
    time_limit = float(progress.get("time_limit") or 0.0)
    elapsed = float(progress.get("elapsed") or 0.0)
    if run.status in ("preview", "committed", "published"):
        fraction = 1.0
    elif time_limit > 0 and progress.get("stage") in ("solving", "greedy", "figures"):
        fraction = min(0.99, elapsed / (time_limit + 1.0))
    else:
        fraction = 0.0
    return {
        "id": run.id,
        "status": run.status,
        "stage": progress.get("stage") or run.status,
        "elapsed": elapsed,
        "time_limit": time_limit,
        "objective": progress.get("objective"),
        "bound": progress.get("bound"),
        "fraction": round(fraction, 3),
        "cancel_requested": bool(run.cancel_requested),
        "done": run.status not in ACTIVE,
        "error": run.error,
    }


def check_alive(session: Session, run: AllocationRun) -> AllocationRun:
    """Mark a queued or running run failed, with the reason, when its job is known to be dead."""
    if run.status not in ACTIVE:
        return run
    reason = _dead_reason(run)
    if reason is None:
        return run
    _fail(session, run.id, reason, statuses=(run.status,))
    session.refresh(run)
    return run


def _fail(session: Session, run_id: int, reason: str, statuses: tuple[str, ...] = ACTIVE) -> None:
    session.execute(
        update(AllocationRun)
        .where(AllocationRun.id == run_id, AllocationRun.status.in_(statuses))
        .values(status="failed", error=reason, finished_at=datetime.now(UTC))
    )
    session.commit()


def _stale_seconds() -> float:
    configured = current_app.config.get("DUIJIE_JOB_STALE_SECONDS")
    return float(configured or os.environ.get("DUIJIE_JOB_STALE_SECONDS") or STALE_SECONDS)


def _dead_reason(run: AllocationRun) -> str | None:
    """Why the run's job is dead, or None while it may still be alive."""
    heartbeat = float((run.progress or {}).get("heartbeat") or 0.0)
    silent = time.time() - heartbeat
    if uses_redis() and run.job_id and not run.job_id.startswith("thread-"):
        reason = _rq_reason(run.job_id)
        if reason is not None:
            return reason
    elif run.status == "queued" and silent > QUEUED_GRACE_SECONDS:
        return f"{JOB_LOST}: the server stopped before the job started; nothing was stored"
    if run.status == "running" and silent > _stale_seconds():
        return (
            f"{WORKER_LOST} (no progress for {silent:.0f} s): it was probably "
            "stopped or killed; nothing was stored"
        )
    return None


def _rq_reason(job_id: str) -> str | None:
    """A dead job's reason from RQ: failed (with its error), stopped, cancelled or gone."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        job = Job.fetch(job_id, connection=redis_connection())
        status = job.get_status()
    except NoSuchJobError:
        return f"{JOB_LOST}: it is no longer in the queue; nothing was stored"
    except Exception:  # Redis unreachable: we cannot tell, so we do not guess
        return None
    if status == JobStatus.FAILED:
        text = (job.exc_info or "").strip().splitlines()
        return f"{WORKER_FAILED}: {text[-1] if text else 'no reason given'}"
    if status in (JobStatus.STOPPED, JobStatus.CANCELED):
        return f"{JOB_LOST}: it was {status.value} in the queue; nothing was stored"
    return None
