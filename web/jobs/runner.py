"""Where a background job runs: RQ with Redis, a thread of this process, or right away.

`install_runner(app)` chooses once, in `create_app`, from the configuration: RQ when
DUIJIE_REDIS_URL is set (`duijie worker` processes on any machine pick the jobs up), else a
thread of the web process, awaited before the request returns when DUIJIE_JOBS_SYNC is true
(by default under testing). The runner is kept in `app.extensions["duijie_jobs"]`; services get
it with `runner_of(app)`. A job function receives the app as its `app` keyword (a thread and
the synchronous runner pass theirs; in an RQ work horse it is the app `duijie worker` built
once and runs its jobs in).
"""

from __future__ import annotations

import contextvars
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask, current_app, has_app_context

from web.jobs.reasons import Failure, Reason

log = logging.getLogger(__name__)

EXTENSION = "duijie_jobs"
QUEUE_NAME = "duijie"
RESULT_TTL = 86400  # seconds RQ keeps a finished job's result
FAILURE_TTL = 7 * 86400  # seconds RQ keeps a failed job


class QueueDown(Exception):
    """The job could not be handed to the queue (Redis unreachable); str() says why."""


@dataclass(frozen=True)
class Job:
    """What a runner is asked to run: `function(*args, app=...)` under `job_id`."""

    function: Callable[..., Any]
    args: tuple[Any, ...]
    job_id: str
    timeout: int
    description: str


class Runner(Protocol):
    """Runs jobs in the background (or not) and tells whether a job of its is known dead."""

    def job_id(self, kind: str, key: int) -> str: ...

    def submit(self, job: Job) -> None: ...

    def tracks(self, job_id: str) -> bool: ...

    def dead(self, job_id: str) -> Failure | None: ...

    def join(self, timeout: float = 60.0) -> None: ...


def install_runner(app: Flask) -> Runner:
    """Choose the app's runner from its configuration and keep it on the app (create_app)."""
    runner: Runner
    if app.config.get("DUIJIE_REDIS_URL"):
        runner = RQRunner(app)
    elif app.config.get("DUIJIE_JOBS_SYNC", app.testing):
        runner = SyncRunner(app)
    else:
        runner = ThreadRunner(app)
    app.extensions[EXTENSION] = runner
    return runner


def runner_of(app: Flask | None = None) -> Runner:
    """The runner chosen for the app (the current one by default)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    runner = app.extensions.get(EXTENSION)
    return runner if runner is not None else install_runner(app)


def job_app(app: Flask | None) -> Flask:
    """The app a job runs in: the one passed, else the worker's (an RQ work horse runs inside
    the app context `duijie worker` built)."""
    if app is not None:
        return app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]
    raise RuntimeError("a duijie job runs inside the app: start workers with `duijie worker`")


class _LocalRunner:
    """Jobs of this process: their ids start with "thread-", and nobody else can lose them."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def job_id(self, kind: str, key: int) -> str:
        return f"thread-{kind}-{key}-{int(time.time() * 1000)}"

    def tracks(self, job_id: str) -> bool:
        return False  # a lost thread is found out by its silent heartbeat

    def dead(self, job_id: str) -> Failure | None:
        return None

    def join(self, timeout: float = 60.0) -> None:
        return None


class SyncRunner(_LocalRunner):
    """Runs the job before `submit` returns, in a context of its own as a thread would (tests,
    DUIJIE_JOBS_SYNC)."""

    def submit(self, job: Job) -> None:
        contextvars.Context().run(job.function, *job.args, app=self.app)


class ThreadRunner(_LocalRunner):
    """Runs each job in a daemon thread of this process (the embedded default)."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self.threads: dict[str, threading.Thread] = {}
        self.lock = threading.Lock()

    def submit(self, job: Job) -> None:
        thread = threading.Thread(target=self._run, args=(job,), name=job.job_id, daemon=True)
        with self.lock:
            self.threads[job.job_id] = thread
        thread.start()

    def _run(self, job: Job) -> None:
        try:
            job.function(*job.args, app=self.app)
        finally:
            with self.lock:
                self.threads.pop(job.job_id, None)

    def join(self, timeout: float = 60.0) -> None:
        """Wait for this runner's threads (tests; a graceful shutdown)."""
        deadline = time.monotonic() + timeout
        with self.lock:
            threads = list(self.threads.values())
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class RQRunner:
    """Queues jobs on the app's RQ queue for `duijie worker` processes."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def job_id(self, kind: str, key: int) -> str:
        """Unique across deployments sharing one Redis: run ids repeat between databases."""
        return f"duijie-{kind}-{key}-{int(time.time())}-{secrets.token_hex(3)}"

    def submit(self, job: Job) -> None:
        from rq import Queue

        from web.observability import job_callbacks, job_meta

        try:
            queue = Queue(queue_name(self.app), connection=redis_connection(self.app))
            queue.enqueue(
                job.function,
                *job.args,
                job_id=job.job_id,
                job_timeout=job.timeout,
                result_ttl=RESULT_TTL,
                failure_ttl=FAILURE_TTL,
                description=job.description,
                meta=job_meta(),  # the request id and user, for the worker's log lines
                **job_callbacks(),
            )
        except Exception as error:  # redis.ConnectionError and friends
            raise QueueDown(str(error)) from None

    def tracks(self, job_id: str) -> bool:
        """Whether RQ can tell of the job (not one a thread ran before Redis was set up)."""
        return bool(job_id) and not job_id.startswith("thread-")

    def dead(self, job_id: str) -> Failure | None:
        """A dead job's reason from RQ: failed (with its error), stopped, cancelled or gone."""
        if not self.tracks(job_id):
            return None
        from rq.exceptions import NoSuchJobError
        from rq.job import Job as RQJob
        from rq.job import JobStatus

        try:
            job = RQJob.fetch(job_id, connection=redis_connection(self.app))
            status = job.get_status()
        except NoSuchJobError:
            return Failure(Reason.JOB_LOST, "it is no longer in the queue")
        except Exception:  # Redis unreachable: we cannot tell, so we do not guess
            return None
        if status == JobStatus.FAILED:
            text = (job.exc_info or "").strip().splitlines()
            return Failure(Reason.WORKER_FAILED, text[-1] if text else "no reason given")
        if status in (JobStatus.STOPPED, JobStatus.CANCELED):
            return Failure(Reason.JOB_LOST, f"it was {status.value} in the queue")
        return None

    def join(self, timeout: float = 60.0) -> None:
        return None  # the workers are other processes


# --- the deployment's Redis and queue (read from the configuration as it is now) ---


def uses_redis(app: Flask | None = None) -> bool:
    """Whether DUIJIE_REDIS_URL is set (jobs then go to RQ)."""
    return bool((app or current_app).config.get("DUIJIE_REDIS_URL"))


def queue_name(app: Flask | None = None) -> str:
    """The RQ queue this deployment's jobs go to (DUIJIE_QUEUE, by default "duijie")."""
    return str((app or current_app).config.get("DUIJIE_QUEUE") or QUEUE_NAME)


def redis_connection(app: Flask | None = None) -> Any:
    """The app's Redis client for the configured URL (one connection pool per app and URL)."""
    from redis import Redis

    from web.services.week import WeekError

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    url = app.config.get("DUIJIE_REDIS_URL")
    if not url:
        raise WeekError("no Redis is configured: set DUIJIE_REDIS_URL")
    clients = app.extensions.setdefault("duijie_jobs_redis", {})
    if url not in clients:
        clients[url] = Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
    return clients[url]


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
