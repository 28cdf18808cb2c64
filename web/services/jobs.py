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
new run with the same week, weights and time limit.

Committing a preview is a job too: `start_commit` refuses at once what `commit_run` would refuse
cheaply, records in the run's `progress` that a commit job is queued (stage "committing", its
job id, a heartbeat, who asked; the status stays "preview") and hands `commit_job` to the same
runner. The job calls `web.services.week.commit_run`, one all-or-nothing transaction that sets
the status "committed"; a refusal or a crash leaves the preview as it was, with the reason in
`progress` (stage "commit_failed"), and it can be committed again. `check_alive` turns a commit
whose job died into such a failure, never into a failed run: the preview is still valid.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from optimizer import Progress
from web.extensions import db
from web.models import AllocationRun, Need, User
from web.services import distributed
from web.services import week as week_service
from web.services.audit import acting_as
from web.services.locking import begin_write
from web.services.week import (
    AlreadyCommitted,
    WeekError,
    ensure_not_committed,
    require_admin,
    solve_week,
)
from web.services.week_instance import effective_policy

__all__ = [
    "ACTIVE",
    "QUEUE_NAME",
    "CommitInProgress",
    "TimeLimitTooLong",
    "check_alive",
    "commit_job",
    "commit_state",
    "join_threads",
    "max_time_limit",
    "preview_job",
    "progress_of",
    "queue_name",
    "redis_connection",
    "request_cancel",
    "retry",
    "spread_for",
    "start_commit",
    "start_preview",
    "uses_redis",
    "wait_for_commit",
    "workers_listening",
]

log = logging.getLogger(__name__)

QUEUE_NAME = "duijie"
ACTIVE = ("queued", "running")
TICK_SECONDS = 0.5  # progress is written at most this often
STALE_SECONDS = 30.0  # a running job whose heartbeat is older than this is taken for dead
QUEUED_GRACE_SECONDS = 60.0  # a thread job not started after this long was lost with its process
JOB_MARGIN_SECONDS = 600  # RQ kills a job this long after its solve's time limit
MIN_TIME_CAP = 120  # the longest preview time limit of a small week, in seconds
NEEDS_PER_SECOND = 20  # beyond that, one second more per this many open needs

# How stored failure reasons begin (the run page names them in the user's language).
WORKER_LOST = "the worker stopped responding"
WORKER_FAILED = "the worker failed"
QUEUE_DOWN = "the job queue (Redis) could not be reached"
JOB_LOST = "the job was lost"
SOLVE_FAILED = "the solve failed"
COMMIT_CRASHED = "the commit failed"

COMMITTING = "committing"  # progress stage of a preview whose commit job is queued or running
COMMIT_FAILED = "commit_failed"  # progress stage of a preview whose last commit job failed


class CommitInProgress(WeekError):
    """A commit job of this run is already queued or running."""


class TimeLimitTooLong(WeekError):
    """The preview's time limit is longer than the week's size allows (`max_time_limit`)."""


_threads: dict[object, threading.Thread] = {}
_threads_lock = threading.Lock()


# --- starting, cancelling, retrying ---


def uses_redis(app: Flask | None = None) -> bool:
    """Whether jobs go to RQ (DUIJIE_REDIS_URL set) rather than a local thread."""
    return bool((app or current_app).config.get("DUIJIE_REDIS_URL"))


def queue_name(app: Flask | None = None) -> str:
    """The RQ queue this deployment's jobs go to (DUIJIE_QUEUE, by default "duijie")."""
    return str((app or current_app).config.get("DUIJIE_QUEUE") or QUEUE_NAME)


def workers_listening(app: Flask | None = None) -> int | None:
    """How many RQ workers take jobs from this deployment's queue; None without Redis, or when
    Redis cannot be asked (then nobody guesses)."""
    if not uses_redis(app):
        return None
    from rq import Queue, Worker

    try:
        connection = redis_connection(app)
        return int(Worker.count(queue=Queue(queue_name(app), connection=connection)))
    except Exception:  # Redis unreachable: the job's own failure says so when it is found dead
        return None


def _job_id(kind: str, run_id: int) -> str:
    """A job id unique across deployments sharing one Redis: run ids repeat between databases."""
    return f"duijie-{kind}-{run_id}-{int(time.time())}-{secrets.token_hex(3)}"


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

        from web.observability import job_callbacks, job_meta

        try:
            queue = Queue(queue_name(app), connection=redis_connection(app))
            job = queue.enqueue(
                preview_job,
                run.id,
                job_id=_job_id("run", run.id),
                job_timeout=int(time_limit) + JOB_MARGIN_SECONDS,
                result_ttl=86400,
                failure_ttl=7 * 86400,
                description=f"preview of week {run.week} (run {run.id})",
                meta=job_meta(),  # the request id and user, for the worker's log lines
                **job_callbacks(),
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
        if name in ("solving", "parts"):
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
            spread=spread_for(on_parts=tracker.parts),
        )
    except distributed.Cancelled:
        tracker.stop()
        session.rollback()
        return _finish(session, run_id, tracker, "cancelled", {})
    except distributed.QueueUnavailable as error:
        tracker.stop()
        session.rollback()
        return _finish(session, run_id, tracker, "failed", {"error": f"{QUEUE_DOWN}: {error}"})
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

    def parts(self, parts: distributed.PartsProgress) -> None:
        """The parts' progress of a week cut into parts: done / total, objective, bound."""
        with self.lock:
            self.state.update(
                parts_done=parts.done,
                parts_total=parts.total,
                parts_lost=parts.lost,
                objective=parts.objective,
                bound=parts.bound,
            )

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
    commit = commit_state(run)
    if commit == COMMITTING:
        fraction = 0.5 if progress.get("commit_started") else 0.1
    elif run.status in ("preview", "committed", "published"):
        fraction = 1.0
    elif progress.get("stage") == "parts" and progress.get("parts_total"):
        fraction = min(0.99, int(progress.get("parts_done") or 0) / int(progress["parts_total"]))
    elif time_limit > 0 and progress.get("stage") in ("solving", "greedy", "figures"):
        fraction = min(0.99, elapsed / (time_limit + 1.0))
    else:
        fraction = 0.0
    # A job waiting in an RQ queue that no worker reads would wait for ever: say so.
    commit_waiting = commit == COMMITTING and not progress.get("commit_started")
    waiting = run.status == "queued" or commit_waiting
    no_worker = waiting and workers_listening() == 0
    return {
        "id": run.id,
        "status": run.status,
        "no_worker": no_worker,
        "queue": queue_name(),
        "stage": progress.get("stage") or run.status,
        "elapsed": elapsed,
        "time_limit": time_limit,
        "objective": progress.get("objective"),
        "bound": progress.get("bound"),
        "parts_done": progress.get("parts_done"),
        "parts_total": progress.get("parts_total"),
        "parts_lost": progress.get("parts_lost"),
        "fraction": round(fraction, 3),
        "cancel_requested": bool(run.cancel_requested),
        "done": run.status not in ACTIVE and commit != COMMITTING,
        "error": run.error,
        "committing": commit == COMMITTING,
        "commit_error": progress.get("commit_error") if commit == COMMIT_FAILED else None,
    }


def check_alive(session: Session, run: AllocationRun) -> AllocationRun:
    """Mark a queued or running run failed, with the reason, when its job is known to be dead.

    A dead commit job fails the commit only: the run stays a preview that can be committed again.
    """
    if commit_state(run) == COMMITTING:
        progress = dict(run.progress or {})
        reason = _commit_dead_reason(progress)
        if reason is not None:
            _commit_failed(session, run.id, progress.get("commit_job"), reason)
            session.refresh(run)
        return run
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


# --- committing a preview as a job ---


def commit_state(run: AllocationRun) -> str | None:
    """ "committing" while a commit job of the preview is in flight, "commit_failed" after one
    failed (the preview can be committed again), otherwise None."""
    if run.status != "preview":
        return None
    stage = (run.progress or {}).get("stage")
    return stage if stage in (COMMITTING, COMMIT_FAILED) else None


def start_commit(session: Session, run_id: int, actor: User) -> AllocationRun:
    """Queue a job that turns the preview into pledges; refuse at once what cannot be committed.

    The run's status stays "preview" until `commit_run` sets "committed" in its one transaction;
    meanwhile `progress` says a commit is in flight, and a second request is refused.
    """
    require_admin(actor, "commit a week's allocation")
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
        if commit_state(run) == COMMITTING and _commit_dead_reason(progress) is None:
            raise CommitInProgress(
                f"a commit of run {run_id} is already queued or running: wait for it to finish"
            )
        job_id = (
            _job_id("commit", run_id)
            if uses_redis()
            else f"thread-commit-{run_id}-{int(time.time() * 1000)}"
        )
        for key in ("commit_error", "commit_started"):
            progress.pop(key, None)
        progress.update(
            stage=COMMITTING,
            commit_job=job_id,
            commit_by=actor.id,
            commit_queued=time.time(),
            heartbeat=time.time(),
        )
        run.progress = progress
        session.commit()
    except Exception:
        session.rollback()
        raise
    _enqueue_commit(session, run, job_id, actor.id)
    session.refresh(run)
    return run


def _enqueue_commit(session: Session, run: AllocationRun, job_id: str, actor_id: int) -> None:
    """Hand the commit to RQ or to a thread; a queue that is down fails the commit, not the run."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if uses_redis(app):
        from rq import Queue

        from web.observability import job_callbacks, job_meta

        try:
            queue = Queue(queue_name(app), connection=redis_connection(app))
            queue.enqueue(
                commit_job,
                run.id,
                actor_id,
                job_id,
                job_id=job_id,
                job_timeout=JOB_MARGIN_SECONDS,
                result_ttl=86400,
                failure_ttl=7 * 86400,
                description=f"commit of week {run.week} (run {run.id})",
                meta=job_meta(),  # the request id and user, for the worker's log lines
                **job_callbacks(),
            )
        except Exception as error:  # redis.ConnectionError and friends
            _commit_failed(session, run.id, job_id, f"{QUEUE_DOWN}: {error}")
            raise WeekError(f"{QUEUE_DOWN}: {error}") from None
        return
    thread = threading.Thread(
        target=commit_job,
        args=(run.id, actor_id, job_id),
        kwargs={"app": app},
        name=job_id,
        daemon=True,
    )
    with _threads_lock:
        _threads[job_id] = thread
    thread.start()
    if app.config.get("DUIJIE_JOBS_SYNC", app.testing):
        thread.join()  # tests: the same job, awaited before the request returns


def commit_job(
    run_id: int, actor_id: int, job_id: str | None = None, app: Flask | None = None
) -> str:
    """The job: commit the preview with `commit_run`; on a refusal or a crash store the reason.

    Returns "committed", "commit_failed" or "skipped" (the run no longer waits for this job).
    """
    app = app or _job_app()
    try:
        with app.app_context():
            try:
                return _run_commit(db.session, run_id, actor_id, job_id)
            finally:
                db.session.remove()
    finally:
        with _threads_lock:
            if job_id is not None and _threads.get(job_id) is threading.current_thread():
                del _threads[job_id]


def _run_commit(session: Session, run_id: int, actor_id: int, job_id: str | None) -> str:
    if not _claim_commit(session, run_id, job_id):
        log.info("run %s does not wait for commit job %s; job skipped", run_id, job_id)
        return "skipped"
    actor = session.get(User, actor_id)
    try:
        if actor is None:
            raise WeekError(f"no user {actor_id} to commit as")
        with acting_as(actor_id):  # the audit trail names the administrator who asked
            week_service.commit_run(session, run_id, actor)
    except WeekError as error:
        session.rollback()
        reason = f"{type(error).__name__}: {error}"
    except Exception as error:
        session.rollback()
        log.exception("commit job of run %s failed", run_id)
        reason = f"{COMMIT_CRASHED}: {type(error).__name__}: {error}"
    else:
        _commit_done(session, run_id)
        return "committed"
    _commit_failed(session, run_id, job_id, reason)
    return COMMIT_FAILED


def _claim_commit(session: Session, run_id: int, job_id: str | None) -> bool:
    """Mark the commit started (fresh heartbeat) if the preview still waits for this job."""
    try:
        begin_write(session)
        run = session.get(AllocationRun, run_id, with_for_update=True, populate_existing=True)
        progress = dict(run.progress or {}) if run is not None else {}
        if run is None or commit_state(run) != COMMITTING:
            session.rollback()
            return False
        if job_id is not None and progress.get("commit_job") != job_id:
            session.rollback()
            return False
        progress.update(commit_started=time.time(), heartbeat=time.time())
        run.progress = progress
        session.commit()
    except Exception:
        session.rollback()
        raise
    return True


def _commit_done(session: Session, run_id: int) -> None:
    """After commit_run's transaction: the progress says done (the status already does)."""
    run = session.get(AllocationRun, run_id, populate_existing=True)
    if run is None or run.status != "committed":
        return
    progress = dict(run.progress or {})
    progress.update(stage="committed", heartbeat=time.time())
    session.execute(
        update(AllocationRun)
        .where(AllocationRun.id == run_id, AllocationRun.status == "committed")
        .values(progress=progress)
    )
    session.commit()


def _commit_failed(session: Session, run_id: int, job_id: str | None, reason: str) -> None:
    """Store why the commit failed, if the preview still waits for that job; it stays a preview."""
    session.rollback()  # the decision is made afresh under the lock
    try:
        begin_write(session)
        run = session.get(AllocationRun, run_id, with_for_update=True, populate_existing=True)
        if run is None or commit_state(run) != COMMITTING:
            session.rollback()
            return
        progress = dict(run.progress or {})
        if job_id is not None and progress.get("commit_job") != job_id:
            session.rollback()
            return
        progress.update(stage=COMMIT_FAILED, commit_error=reason, commit_finished=time.time())
        run.progress = progress
        session.commit()
    except Exception:
        session.rollback()
        raise


def _commit_dead_reason(progress: Mapping[str, Any]) -> str | None:
    """Why an in-flight commit's job is dead, or None while it may still be alive."""
    job_id = str(progress.get("commit_job") or "")
    silent = time.time() - float(progress.get("heartbeat") or 0.0)
    if uses_redis() and job_id and not job_id.startswith("thread-"):
        reason = _rq_reason(job_id)
        if reason is not None:
            return reason
    elif not progress.get("commit_started") and silent > QUEUED_GRACE_SECONDS:
        return f"{JOB_LOST}: the server stopped before the commit started; nothing was pledged"
    if progress.get("commit_started") and silent > _stale_seconds():
        return (
            f"{WORKER_LOST} (no news for {silent:.0f} s): it was probably stopped or killed; "
            "nothing was pledged"
        )
    return None


def wait_for_commit(session: Session, run: AllocationRun, seconds: float) -> AllocationRun:
    """Wait up to `seconds` for the run's commit job to finish (a quick commit shows at once)."""
    deadline = time.monotonic() + seconds
    while commit_state(run) == COMMITTING and time.monotonic() < deadline:
        time.sleep(0.1)
        session.rollback()
        session.refresh(run)
    return run
