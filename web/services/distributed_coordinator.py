"""The coordinator of a distributed solve: it enqueues the part and bound jobs, watches their
heartbeats, retries a lost part once, steals queued parts to solve itself while it waits, and
stops everything at the deadline or on cancel. See web.services.distributed.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from optimizer import Instance
from optimizer.decompose import bound_part, combine_bounds, greedy_week
from web.services.distributed_jobs import (
    BEAT_KEY,
    BEAT_TTL,
    MAX_ATTEMPTS,
    MIN_PART_SECONDS,
    OVERRUN_SECONDS,
    POLL_SECONDS,
    RESULT_TTL,
    Cancelled,
    PartsProgress,
    QueueUnavailable,
    bound_job,
    greedy_job,
    log,
    part_job,
    solve_bundle,
)


@dataclass
class Task:
    index: int
    # "part", "relax" (a category's relaxation, before the parts), "greedy" (the week's
    # baseline, beside the parts) or "bound"
    kind: str
    payload: dict[str, Any]
    job_id: str = ""
    attempts: int = 0
    started: float | None = None  # when this attempt was seen started (monotonic)
    output: dict[str, Any] | None = None
    lost: str | None = None  # why it was given nothing
    errors: list[str] = field(default_factory=list)
    group: int = 0  # bound jobs: each group is one set of category bounds, priced alike

    @property
    def open(self) -> bool:
        return self.output is None and self.lost is None


class Coordinator:
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
        self.tasks: list[Task] = []
        self.retried = 0
        self.workers = 0  # workers listening when the run began (the coordinator's own included)
        self.parts_in: float | None = None  # since when no bound job has been running
        self.known_bound: float | None = None  # a bound found before (the relaxation's)
        self.planned = 0  # parts planned, shown as the total before the parts are enqueued
        self.queue: Any = None
        if connection is not None:
            from rq import Queue

            self.queue = Queue(queue_name, connection=connection)

    # enqueueing

    def _enqueue(self, task: Task) -> None:
        task.attempts += 1
        task.started = None
        task.job_id = f"duijie-{task.kind}-{self.token}-{task.index}-a{task.attempts}"
        left = max(1.0, self.deadline - time.time())
        if task.kind == "part":
            function: Any = part_job
            args: tuple[Any, ...] = (task.payload, self.deadline)
            timeout = int(float(task.payload["time_limit"]) + OVERRUN_SECONDS + 10)
        elif task.kind == "greedy":
            function, args = greedy_job, (task.payload, self.deadline)
            timeout = int(left + OVERRUN_SECONDS)
        else:  # relax and bound: one category's transport relaxation (bound_part)
            function, args = bound_job, ({**task.payload, "deadline": self.deadline},)
            timeout = int(left + OVERRUN_SECONDS)
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

    def add(self, kind: str, payloads: Sequence[dict[str, Any]], group: int = 0) -> None:
        for payload in payloads:
            task = Task(len(self.tasks), kind, payload, group=group)
            self.tasks.append(task)
            if self.queue is not None:
                self._enqueue(task)

    # watching

    def progress(self) -> PartsProgress:
        parts = [t for t in self.tasks if t.kind == "part"]
        outputs = self.outputs()
        objective = math.fsum(float(o["objective"]) for o in outputs) if outputs else None
        return PartsProgress(
            done=len(outputs),
            total=sum(len(t.payload["parts"]) for t in parts) or self.planned,
            objective=objective,
            bound=self.bound(),
            elapsed=time.monotonic() - self.started,
            lost=len(self.lost()),
        )

    def bound(self) -> float | None:
        """The best bound known: the relaxation's, or that of any group of bound jobs all in."""
        found = [b for b in (self.known_bound, *self.bound_groups()) if b is not None]
        return min(found) if found else None

    def bound_groups(self) -> list[float | None]:
        """The bound of each group of bound jobs whose jobs are all in."""
        groups: dict[int, list[Task]] = {}
        for task in self.tasks:
            if task.kind == "bound":
                groups.setdefault(task.group, []).append(task)
        return [
            combine_bounds(self.instance, [t.output for t in tasks if t.output])
            for tasks in groups.values()
            if all(t.output is not None for t in tasks)
        ]

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
        """Until every part (or relaxation) is done or lost (bounds too, unless the deadline
        comes first)."""
        self._report()
        while True:
            if self.should_stop():
                self.stop_all("cancelled")
                raise Cancelled("the run was cancelled; every part was stopped")
            if time.time() >= self.deadline:
                self.stop_all("the run's time limit came before this part finished")
                break
            if not any(t.open for t in self.tasks if t.kind != "bound"):
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
        """All parts are in and no worker has had a bound job started for 2 s in a row (one
        worker takes them one after another: the gap between two is not idleness)."""
        if any(t.started is not None for t in self.tasks if t.kind == "bound" and t.open):
            self.parts_in = None
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

    def _again(self, task: Task, reason: str) -> None:
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
        """Take the first queued part (or relaxation) off the queue and solve it here (no worker
        is free)."""
        for task in self.tasks:
            if task.kind == "bound" or not task.open:
                continue
            if self.queue is not None:
                if task.started is not None or not self.queue.remove(task.job_id):
                    continue  # a worker has it
                self._forget_id(task.job_id)
            try:
                if task.kind == "relax":
                    task.output = bound_part({**task.payload, "deadline": self.deadline})
                elif task.kind == "greedy":
                    task.output = greedy_week(task.payload, self.deadline)
                else:
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

    def _scale(self, task: Task) -> float:
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
