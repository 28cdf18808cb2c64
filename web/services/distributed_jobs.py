"""The distributed solve's RQ jobs, run by `duijie worker`: a bundle of parts (`part_job`, which
runs `solve_part` on each) and a category's bound (`bound_job`), each beating a heartbeat key
in Redis while it runs; and the settings, errors and progress the coordinator shares with them.
See web.services.distributed.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from optimizer.decompose import bound_part, greedy_week, solve_part

# One logger for the whole distributed solve, whichever of its modules writes.
log = logging.getLogger("web.services.distributed")

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
    out["worker"] = (job.worker_name if job is not None else None) or here()
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


def greedy_job(payload: dict[str, Any], deadline: float) -> dict[str, Any]:
    """RQ job: the week's first-come-first-served baseline (`greedy_week`), by the deadline."""
    return _with_heartbeat(lambda p: greedy_week(p, deadline), payload)


def bound_job(payload: dict[str, Any]) -> dict[str, Any]:
    """RQ job: the Lagrangian bound of one category (`bound_part`)."""
    return _with_heartbeat(bound_part, payload)


def here() -> str:
    """This process, as a worker is named when RQ gives no name (host.pid)."""
    return f"{socket.gethostname()}.{os.getpid()}"
