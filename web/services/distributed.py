"""A week cut into parts, solved as RQ part jobs by any number of `duijie worker` processes.

The coordinator (`solve_distributed`) plans the parts with optimizer.decompose (`plan_parts`,
`part_payloads`), enqueues one RQ job per part (`part_job`, which runs `solve_part`) and one per
category bound (`bound_job`, which runs `bound_part`) on the deployment's queue, watches them,
and merges what came back (`merge`, `combine_bounds`, then `evaluate` on the whole week).

It never deadlocks with a single worker: when it runs as a job itself (a preview from the web or
the API) it takes queued parts off the queue and solves them itself while it waits (`steal`).
It owns retries and time:

- every part job writes a heartbeat key in Redis every BEAT_SECONDS; a started part whose key has
  expired (its worker was killed, its machine lost) is enqueued again, up to MAX_ATTEMPTS tries,
  and so is a part whose job failed with an error. RQ's own abandoned-job handling (the started
  registry's cleanup at its maintenance, every 10 minutes by default in rq 3) is far slower, so
  part jobs carry no RQ Retry: a part is retried by the coordinator only, once;
- a part that keeps failing, or runs past its limit plus OVERRUN_SECONDS, is stopped and given
  nothing: parts share no offer and no need, so the week stays valid, poorer in that part's
  region and category, which the outcome names (`lost`);
- the whole run ends by its deadline: parts still out then are stopped and given nothing;
  each part job also cuts its own limit to the deadline it is given;
- `should_stop` (a cancelled run) stops every part at once: queued ones are cancelled, started
  ones get RQ's stop command (the work horse is killed).

Without a Redis connection the coordinator solves every part itself, one after the other.
Nothing here imports Flask: `duijie solve --distributed` uses it as it is.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from optimizer import Instance, Result, evaluate
from optimizer.decompose import (
    bound_part,
    bound_payloads,
    combine_bounds,
    merge,
    part_payloads,
    plan_parts,
    solve_part,
)

__all__ = [
    "DISTRIBUTE_PAIRS",
    "Cancelled",
    "Distributed",
    "NoWorkers",
    "PartsProgress",
    "QueueUnavailable",
    "Spread",
    "bound_job",
    "part_job",
    "part_seconds_from_env",
    "plan_size",
    "solve_distributed",
]

log = logging.getLogger(__name__)

DISTRIBUTE_PAIRS = 200_000  # weeks with fewer eligible pairs (within parts) stay whole
BEAT_SECONDS = 1.0  # a part job's heartbeat period
BEAT_TTL = 6  # a started part whose heartbeat is older than this is taken for dead
MAX_ATTEMPTS = 2  # tries of a part: the first and one retry (a dead worker, an error)
OVERRUN_SECONDS = 30.0  # a part still running this long after its limit is stopped
POLL_SECONDS = 0.2
RESULT_TTL = 3600  # part results stay in Redis this long (the coordinator reads them at once)
MIN_PART_SECONDS = 0.5  # a part with less time than this left is not started
PART_FLOOR_SECONDS = 0.1  # the least time a part is given (a tiny part needs no more)
BUNDLE_SECONDS = 3.0  # small parts are sent in jobs of about this many seconds of limits
BEAT_KEY = "duijie:part-beat:{}"


class Cancelled(Exception):
    """The run was cancelled: every part was stopped, nothing is merged."""


class NoWorkers(Exception):
    """No worker listens on the queue (and the coordinator does not solve parts itself)."""


class QueueUnavailable(Exception):
    """Redis could not be reached."""


@dataclass(frozen=True)
class PartsProgress:
    """How far the parts are: done / total, best objective so far, bound, elapsed seconds."""

    done: int
    total: int
    objective: float | None
    bound: float | None
    elapsed: float
    lost: int = 0


@dataclass(frozen=True)
class Spread:
    """Where a week's parts go: the Redis connection (None: solved here, one by one), the queue,
    whether the coordinator solves queued parts itself while it waits, the eligible pairs from
    which a week is cut into parts, and who hears the parts' progress."""

    connection: Any | None
    queue_name: str = "duijie"
    steal: bool = True
    threshold: int = DISTRIBUTE_PAIRS
    on_parts: Callable[[PartsProgress], None] | None = None
    part_seconds: float | None = None


@dataclass
class Distributed:
    """A distributed solve's result (the spec's Result) and what happened to its parts."""

    result: Result
    parts: int
    workers: list[str]
    lost: list[dict[str, Any]] = field(default_factory=list)  # parts given nothing, and why
    retried: int = 0


def part_seconds_from_env() -> float | None:
    """DUIJIE_PART_SECONDS: the longest time one part is given (unset: its share of the run)."""
    raw = os.environ.get("DUIJIE_PART_SECONDS", "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"DUIJIE_PART_SECONDS must be a number of seconds, not {raw!r}") from None
    if not value > 0:
        raise ValueError(f"DUIJIE_PART_SECONDS must be positive, not {raw!r}")
    return value


def plan_size(instance: Instance) -> tuple[Any, int]:
    """The plan of parts and its eligible pairs (within parts, distance ignored)."""
    plan = plan_parts(instance)
    return plan, sum(p.size for p in plan.parts)


# --- the jobs, run by `duijie worker` ---


def _beat(connection: Any, key: str, halt: threading.Event) -> None:
    while True:
        try:
            connection.set(key, "1", ex=BEAT_TTL)
        except Exception:  # Redis hiccup: the next beat tries again
            log.warning("part heartbeat %s not written", key)
        if halt.wait(BEAT_SECONDS):
            return


def _with_heartbeat(function: Callable[[dict[str, Any]], dict[str, Any]], payload: dict) -> dict:
    """Run `function(payload)` in the current RQ job, beating its heartbeat key meanwhile."""
    from rq import get_current_job

    job = get_current_job()
    halt = threading.Event()
    beat = None
    if job is not None:
        beat = threading.Thread(
            target=_beat, args=(job.connection, BEAT_KEY.format(job.id), halt), daemon=True
        )
        beat.start()
    try:
        out = function(payload)
    finally:
        halt.set()
        if beat is not None:
            beat.join(5)
    out["worker"] = (job.worker_name if job is not None else None) or _here()
    return out


def part_job(bundle: dict[str, Any], deadline: float) -> dict[str, Any]:
    """RQ job: solve a bundle of parts one after the other, each within its limit and the run's
    deadline (wall clock, seconds); parts the deadline leaves no time for are `missed`."""
    return _with_heartbeat(lambda b: solve_bundle(b, deadline), bundle)


def solve_bundle(bundle: dict[str, Any], deadline: float, scale: float = 1.0) -> dict[str, Any]:
    """The parts of a bundle solved here, each with its limit times `scale`:
    {"outputs": [solve_part's], "missed": [keys]}."""
    outputs, missed = [], []
    for payload in bundle["parts"]:
        left = deadline - time.time()
        if left < MIN_PART_SECONDS:
            missed.append(payload["key"])
            continue
        limit = max(PART_FLOOR_SECONDS, float(payload["time_limit"]) * scale)
        outputs.append(solve_part({**payload, "time_limit": min(limit, left)}))
    return {"key": bundle["key"], "outputs": outputs, "missed": missed}


def bundles(payloads: Sequence[dict[str, Any]], seconds: float) -> list[dict[str, Any]]:
    """Parts grouped into jobs of about `seconds` of limits each (a large part alone), in
    the given order: each job costs a work horse's start, which a tiny part does not repay."""
    out: list[dict[str, Any]] = []
    for payload in payloads:
        limit = float(payload["time_limit"])
        if out and out[-1]["time_limit"] + limit <= seconds:
            out[-1]["parts"].append(payload)
            out[-1]["time_limit"] += limit
        else:
            out.append({"parts": [payload], "time_limit": limit})
    for bundle in out:
        keys = [p["key"] for p in bundle["parts"]]
        bundle["key"] = keys[0] + (f" (+{len(keys) - 1})" if len(keys) > 1 else "")
    return out


def bound_job(payload: dict[str, Any]) -> dict[str, Any]:
    """RQ job: the Lagrangian bound of one category (`bound_part`)."""
    return _with_heartbeat(bound_part, payload)


def _here() -> str:
    return f"{socket.gethostname()}.{os.getpid()}"


# --- the coordinator ---


@dataclass
class _Task:
    index: int
    kind: str  # "part" or "bound"
    payload: dict[str, Any]
    job_id: str = ""
    attempts: int = 0
    started: float | None = None  # when this attempt was seen started (monotonic)
    output: dict[str, Any] | None = None
    lost: str | None = None  # why it was given nothing
    errors: list[str] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.output is None and self.lost is None


class _Coordinator:
    def __init__(
        self,
        instance: Instance,
        connection: Any,
        queue_name: str,
        deadline: float,
        steal: bool,
        should_stop: Callable[[], bool] | None,
        on_progress: Callable[[PartsProgress], None] | None,
        me: str,
    ) -> None:
        self.instance, self.connection, self.queue_name = instance, connection, queue_name
        self.deadline, self.steal, self.me = deadline, steal, me  # deadline: time.time()
        self.should_stop = should_stop or (lambda: False)
        self.on_progress = on_progress
        self.started = time.monotonic()
        self.token = f"{int(time.time())}-{secrets.token_hex(4)}"
        self.tasks: list[_Task] = []
        self.retried = 0
        self.workers = 0  # workers listening when the run began (the coordinator's own included)
        self.parts_in: float | None = None  # when the last part came in
        self.queue: Any = None
        if connection is not None:
            from rq import Queue

            self.queue = Queue(queue_name, connection=connection)

    # enqueueing

    def _enqueue(self, task: _Task) -> None:
        task.attempts += 1
        task.started = None
        task.job_id = f"duijie-{task.kind}-{self.token}-{task.index}-a{task.attempts}"
        left = max(1.0, self.deadline - time.time())
        if task.kind == "part":
            function: Any = part_job
            args: tuple[Any, ...] = (task.payload, self.deadline)
            timeout = int(float(task.payload["time_limit"]) + OVERRUN_SECONDS + 10)
        else:
            function, args, timeout = bound_job, (task.payload,), int(left + OVERRUN_SECONDS)
        try:
            self.queue.enqueue(
                function,
                *args,
                job_id=task.job_id,
                job_timeout=max(1, timeout),
                ttl=int(left) + 5,  # a part nobody took by the deadline expires
                result_ttl=RESULT_TTL,
                failure_ttl=RESULT_TTL,
                description=f"duijie {task.kind} {task.payload['key']}",
            )
        except Exception as error:
            raise QueueUnavailable(str(error)) from None

    def add(self, kind: str, payloads: Sequence[dict[str, Any]]) -> None:
        for payload in payloads:
            task = _Task(len(self.tasks), kind, payload)
            self.tasks.append(task)
            if self.queue is not None:
                self._enqueue(task)

    # watching

    def progress(self) -> PartsProgress:
        parts = [t for t in self.tasks if t.kind == "part"]
        outputs = self.outputs()
        bounds = [t for t in self.tasks if t.kind == "bound"]
        objective = math.fsum(float(o["objective"]) for o in outputs) if outputs else None
        bound = None
        if bounds and all(t.output is not None for t in bounds):
            bound = combine_bounds(self.instance, [t.output for t in bounds if t.output])
        return PartsProgress(
            done=len(outputs),
            total=sum(len(t.payload["parts"]) for t in parts),
            objective=objective,
            bound=bound,
            elapsed=time.monotonic() - self.started,
            lost=len(self.lost()),
        )

    def outputs(self) -> list[dict[str, Any]]:
        """solve_part's outputs of every part solved so far."""
        return [o for t in self.tasks if t.kind == "part" and t.output for o in t.output["outputs"]]

    def lost(self) -> list[tuple[dict[str, Any], str]]:
        """Each part given nothing (its payload) and why."""
        found = []
        for task in self.tasks:
            if task.kind != "part":
                continue
            missed = set(task.output["missed"]) if task.output else set()
            for payload in task.payload["parts"]:
                if task.lost is not None:
                    found.append((payload, task.lost))
                elif payload["key"] in missed:
                    found.append((payload, "the run's time limit came before this part started"))
        return found

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.progress())

    def run(self) -> None:
        """Until every part is done or lost (bounds too, unless the deadline comes first)."""
        self._report()
        while True:
            if self.should_stop():
                self.stop_all("cancelled")
                raise Cancelled("the run was cancelled; every part was stopped")
            if time.time() >= self.deadline:
                self.stop_all("the run's time limit came before this part finished")
                break
            if not any(t.open for t in self.tasks if t.kind == "part"):
                if not any(t.open for t in self.tasks):
                    break
                if self.queue is None or self._bounds_idle():
                    break  # no worker took a bound: it is not waited for
            changed = self._poll() if self.queue is not None else False
            if self.steal or self.queue is None:
                changed = self._solve_one_here() or changed
            if changed:
                self._report()
            else:
                time.sleep(POLL_SECONDS)
        # bounds still running when every part is in are not waited for past the deadline
        self.stop_all("the run's time limit came before this part finished")
        self._report()

    def _bounds_idle(self) -> bool:
        """All parts are in and no worker has started a bound job for 2 s."""
        if any(t.started is not None for t in self.tasks if t.kind == "bound" and t.open):
            return False
        if self.parts_in is None:
            self.parts_in = time.monotonic()
        return time.monotonic() - self.parts_in > 2.0

    def _poll(self) -> bool:
        from rq.job import Job, JobStatus

        open_tasks = [t for t in self.tasks if t.open]
        if not open_tasks:
            return False
        try:  # statuses and heartbeats only: a part's payload is read once, with its result
            with self.connection.pipeline(transaction=False) as pipe:
                for task in open_tasks:
                    pipe.hget(f"rq:job:{task.job_id}", "status")
                    pipe.get(BEAT_KEY.format(task.job_id))
                answers = pipe.execute()
        except Exception as error:
            raise QueueUnavailable(str(error)) from None
        changed = False
        now = time.monotonic()
        for k, task in enumerate(open_tasks):
            raw, beat = answers[2 * k], answers[2 * k + 1]
            status = raw.decode() if isinstance(raw, bytes) else raw
            if status == JobStatus.FINISHED.value:
                job = Job.fetch(task.job_id, connection=self.connection)
                out = job.return_value()
                if isinstance(out, dict):
                    task.output = out
                else:
                    self._again(task, "its job returned no result")
                self._forget(job)  # its payload and result are not needed any more
                changed = True
            elif status in (None, "failed", "stopped", "canceled"):
                self._again(task, self._why(task.job_id, status))
                changed = True
            elif status == JobStatus.STARTED.value:
                if task.started is None:
                    task.started = now
                limit = float(task.payload.get("time_limit") or 0.0)
                if beat is None and now - task.started > BEAT_TTL:
                    self._forget_id(task.job_id)
                    self._again(task, "its worker stopped responding (killed or lost)")
                    changed = True
                elif task.kind == "part" and now - task.started > limit + OVERRUN_SECONDS:
                    self._stop(task.job_id)
                    task.lost = f"it overran its limit of {limit:.0f} s and was stopped"
                    changed = True
        return changed

    def _why(self, job_id: str, status: str | None) -> str:
        """The last line of a failed job's error, or what became of it."""
        from rq.job import Job

        if status is None:
            return "its job was lost from the queue"
        try:
            job = Job.fetch(job_id, connection=self.connection)
            text = (job.exc_info or "").strip().splitlines()
        except Exception:
            text = []
        return text[-1] if text else f"its job was {status}"

    def _again(self, task: _Task, reason: str) -> None:
        task.errors.append(reason)
        if task.attempts >= MAX_ATTEMPTS or self.deadline - time.time() < MIN_PART_SECONDS:
            task.lost = f"it failed {task.attempts} times: {reason}"
            return
        log.warning("%s %s retried: %s", task.kind, task.payload["key"], reason)
        self.retried += 1
        self._enqueue(task)

    def _forget(self, job: Any) -> None:
        try:
            job.delete(remove_from_queue=False)
        except Exception:  # it is gone already
            log.info("job %s not deleted", job.id)

    def _stop(self, job_id: str) -> None:
        from rq.command import send_stop_job_command
        from rq.job import Job

        try:
            job = Job.fetch(job_id, connection=self.connection)
            if job.get_status() == "started":
                send_stop_job_command(self.connection, job_id)
            else:
                job.cancel()
        except Exception:  # finished or gone meanwhile
            log.info("job %s not stopped", job_id)

    def stop_all(self, reason: str) -> None:
        """Give every open task nothing: queued jobs leave the queue, started ones are stopped."""
        open_tasks = [t for t in self.tasks if t.open]
        for task in open_tasks:
            task.lost = reason
        if self.queue is None or not open_tasks:
            return
        try:
            with self.connection.pipeline(transaction=False) as pipe:
                for task in open_tasks:
                    pipe.lrem(self.queue.key, 1, task.job_id)
                    pipe.hget(f"rq:job:{task.job_id}", "status")
                answers = pipe.execute()
            with self.connection.pipeline(transaction=False) as pipe:
                for k, task in enumerate(open_tasks):
                    if answers[2 * k]:  # it was still queued: nobody will take it now
                        pipe.delete(f"rq:job:{task.job_id}")
                pipe.execute()
        except Exception:  # Redis gone: the parts' own deadline and TTL end them
            log.warning("parts of run %s not stopped: Redis did not answer", self.token)
            return
        for k, task in enumerate(open_tasks):
            status = answers[2 * k + 1]
            if not answers[2 * k] and status in (b"started", "started"):
                self._stop(task.job_id)

    def _solve_one_here(self) -> bool:
        """Take the first queued part off the queue and solve it here (no worker is free)."""
        for task in self.tasks:
            if task.kind != "part" or not task.open:
                continue
            if self.queue is not None:
                if task.started is not None or not self.queue.remove(task.job_id):
                    continue  # a worker has it
                self._forget_id(task.job_id)
            try:
                task.output = solve_bundle(task.payload, self.deadline, self._scale(task))
            except Exception as error:  # a failing part: tried again, then given nothing
                log.exception("part %s failed here", task.payload["key"])
                reason = f"{type(error).__name__}: {error}"
                if self.queue is not None:
                    self._again(task, reason)
                else:
                    task.attempts += 1
                    task.errors.append(reason)
                    if task.attempts >= MAX_ATTEMPTS:
                        task.lost = f"it failed {task.attempts} times: {reason}"
                return True
            task.output["worker"] = self.me
            return True
        return False

    def _scale(self, task: _Task) -> float:
        """The coordinator shortens the limits of a bundle it solves itself to its share of the
        time left among the bundles still open (with the workers' help), so that a slow machine
        or busy workers cost quality, not parts."""
        size = sum(int(p.get("size") or 1) for p in task.payload["parts"])
        open_size = sum(
            int(p.get("size") or 1)
            for t in self.tasks
            if t.kind == "part" and t.open
            for p in t.payload["parts"]
        )
        helpers = max(1, self.workers)
        share = 0.7 * helpers * (self.deadline - time.time()) * size / max(1, open_size)
        return min(1.0, max(0.0, share) / max(1e-6, float(task.payload["time_limit"])))

    def _forget_id(self, job_id: str) -> None:
        from rq.job import Job

        try:
            self._forget(Job.fetch(job_id, connection=self.connection))
        except Exception:
            log.info("job %s not deleted", job_id)


def workers_on(connection: Any, queue_name: str) -> int:
    """How many RQ workers listen on the queue; QueueUnavailable when Redis does not answer."""
    from rq import Queue, Worker

    try:
        connection.ping()
        return int(Worker.count(queue=Queue(queue_name, connection=connection)))
    except Exception as error:
        raise QueueUnavailable(str(error)) from None


def solve_distributed(
    instance: Instance,
    *,
    time_limit: float,
    connection: Any | None,
    queue_name: str = "duijie",
    steal: bool = True,
    with_bound: bool = True,
    should_stop: Callable[[], bool] | None = None,
    on_progress: Callable[[PartsProgress], None] | None = None,
    started: float | None = None,
    plan: Any | None = None,
    seed: int = 0,
    part_seconds: float | None = None,
) -> Distributed:
    """Solve the week as parts on the queue and merge them; see the module docstring.

    `time_limit` bounds the whole call's wall time from `started` (time.monotonic(), default
    now), planning and merging included. Each part gets its share of the workers' time,
    `part_seconds` at most when given. Without `steal`, no listening worker is an error
    (NoWorkers) raised before anything is enqueued; Redis unreachable is QueueUnavailable.
    """
    began = started if started is not None else time.monotonic()
    wall_deadline = time.time() + time_limit - (time.monotonic() - began)
    workers = 0
    if connection is not None:
        workers = workers_on(connection, queue_name)
        if workers == 0 and not steal:
            raise NoWorkers(f"no worker listens on the queue {queue_name!r}")
    if plan is None:
        plan = plan_parts(instance)
    # Time left once planned, less a reserve for merging and evaluating the whole week.
    reserve = min(30.0, max(1.0, 0.1 * time_limit))
    parts_deadline = wall_deadline - reserve
    left = max(MIN_PART_SECONDS, parts_deadline - time.time())
    capacity = left * max(1, workers)
    payloads = part_payloads(instance, plan, 0.9 * capacity, seed)
    longest = min(0.8 * left, part_seconds or math.inf)
    _share_time(payloads, 0.6 * capacity, longest)  # 0.6, 0.8: room for start-up and load
    from rq import get_current_job

    job = get_current_job()  # a preview's coordinator is itself a job on a worker
    me = (job.worker_name if job is not None else None) or _here()
    coordinator = _Coordinator(
        instance, connection, queue_name, parts_deadline, steal, should_stop, on_progress, me
    )
    coordinator.workers = workers
    coordinator.add("part", bundles(payloads, BUNDLE_SECONDS))
    if with_bound and connection is not None:
        coordinator.add("bound", bound_payloads(instance))
    try:
        coordinator.run()
    except BaseException:
        coordinator.stop_all("stopped")
        raise
    outputs = coordinator.outputs()
    allocations = merge(instance, outputs)
    checked = evaluate(instance, allocations)
    if checked.violations:  # a bug: parts never share an offer or a need
        problems = "; ".join(checked.violations[:5])
        raise AssertionError(f"merged parts break a constraint: {problems}")
    bounds = [t.output for t in coordinator.tasks if t.kind == "bound"]
    bound = None
    if bounds and all(b is not None for b in bounds):
        bound = combine_bounds(instance, [b for b in bounds if b is not None])
        if bound is not None:
            bound = max(bound, checked.objective)
    solved_by = sorted(
        {
            str(t.output["worker"])
            for t in coordinator.tasks
            if t.kind == "part" and t.output and t.output["outputs"]
        }
    )
    lost = [_lost(payload, why) for payload, why in coordinator.lost()]
    result = Result(
        status="feasible",
        objective=checked.objective,
        bound=bound,
        seconds=time.monotonic() - began,
        allocations=allocations,
        metrics={
            **checked.metrics,
            "parts": float(len(payloads)),
            "parts_solved": float(len(outputs)),
            "parts_lost": float(len(lost)),
            "parts_retried": float(coordinator.retried),
            "workers": float(len(solved_by)),
            "wide_offers": float(plan.wide_offers),
        },
        method="distributed",
        settings={"time_limit": time_limit, "parts": len(payloads), "queue": queue_name},
    )
    return Distributed(result, len(payloads), solved_by, lost, coordinator.retried)


def _share_time(payloads: list[dict[str, Any]], budget: float, longest: float) -> None:
    """Each part's limit in proportion to its size, so that the limits sum to `budget` solver
    seconds (the workers' capacity until the deadline), none above `longest` nor below
    PART_FLOOR_SECONDS: a small part solves in a fraction of a second."""
    total = sum(max(1, int(p.get("size") or 1)) for p in payloads) or 1
    for payload in payloads:
        share = budget * max(1, int(payload.get("size") or 1)) / total
        payload["time_limit"] = round(min(longest, max(PART_FLOOR_SECONDS, share)), 2)


def _lost(payload: dict[str, Any], why: str) -> dict[str, Any]:
    """A part given nothing: its category, region (a county code), needs and units, and why."""
    category, _, rest = str(payload["key"]).partition("/")
    region, _, kind = rest.partition("/")
    needs = [n for n in payload["instance"]["needs"] if n["category"] == category]
    return {
        "key": payload["key"],
        "category": category,
        "region": region,
        "kind": kind or None,
        "needs": len(needs),
        "need_ids": [n["id"] for n in needs],
        "units": sum(int(n["quantity"]) for n in needs),
        "reason": why,
    }
