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

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from optimizer import Instance, Result, evaluate
from optimizer.decompose import (
    bound_payloads,
    combine_bounds,
    fairness_prices,
    greedy_payload,
    is_wide,
    merge,
    part_payloads,
    plan_parts,
    share_payloads,
)
from optimizer.result import checked_result
from web.services.distributed_coordinator import Coordinator
from web.services.distributed_jobs import (
    BUNDLE_SECONDS,
    DISTRIBUTE_PAIRS,
    MIN_PART_SECONDS,
    PART_FLOOR_SECONDS,
    Cancelled,
    NoWorkers,
    PartsProgress,
    QueueUnavailable,
    bound_job,
    bundles,
    here,
    log,
    part_job,
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
    "part_seconds_setting",
    "plan_size",
    "solve_distributed",
    "wide_share",
]


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
    greedy: Result | None = None  # the week's baseline, when asked for and in by the deadline


def part_seconds_setting(raw: str | None) -> float | None:
    """DUIJIE_PART_SECONDS as configured: the longest time one part is given (unset: its share
    of the run); ValueError naming the setting when it is not a positive number."""
    raw = (raw or "").strip()
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
    with_greedy: bool = False,
) -> Distributed:
    """Solve the week as parts on the queue and merge them; see the module docstring.

    `time_limit` bounds the whole call's wall time from `started` (time.monotonic(), default
    now), planning and merging included. With `with_greedy`, the week's first-come-first-served
    baseline is a job beside the parts (`Distributed.greedy`). Each part gets its share of the
    workers' time,
    `part_seconds` at most when given. Without `steal`, no listening worker is an error
    (NoWorkers) raised before anything is enqueued; Redis unreachable is QueueUnavailable.
    """
    began = started if started is not None else time.monotonic()
    wall_deadline = time.time() + time_limit - (time.monotonic() - began)
    workers = _listening(connection, queue_name, steal)
    if plan is None:
        plan = plan_parts(instance)
    coordinator = _factory(
        instance, connection, queue_name, steal, should_stop, on_progress, workers, plan
    )
    # Time left once planned, less a reserve for merging and evaluating the whole week.
    reserve = min(30.0, max(1.0, 0.1 * time_limit))
    relaxed = _relax(instance, coordinator, time_limit, wall_deadline - reserve)
    if relaxed.flows is not None:
        plan = plan_parts(instance, relaxed.flows)
    # With a relaxation, its bound is known, and a tighter one (priced from the parts'
    # solution) is worth the time it took: kept free after the parts.
    timing = _Timing(
        wall_deadline - reserve - relaxed.seconds, time_limit, workers, seed, part_seconds
    )
    bound_now = with_bound and connection is not None and relaxed.bound is None
    solving, parts = _first_round(
        instance, plan, coordinator, timing, relaxed, with_greedy, bound_now
    )
    improved = _improve(instance, plan, solving, coordinator, timing, on_progress)
    outputs = improved.outputs if improved is not None else solving.outputs()
    if with_bound and connection is not None:
        _tighten(instance, solving, outputs, wall_deadline - reserve, relaxed.seconds)
    settings = {"time_limit": time_limit, "parts": parts, "queue": queue_name}
    return _outcome(instance, solving, plan, began, settings, relaxed, improved)


def _listening(connection: Any | None, queue_name: str, steal: bool) -> int:
    """Workers listening on the queue (0 without Redis); NoWorkers when none listens and the
    coordinator does not solve parts itself."""
    if connection is None:
        return 0
    workers = workers_on(connection, queue_name)
    if workers == 0 and not steal:
        raise NoWorkers(f"no worker listens on the queue {queue_name!r}")
    return workers


def _factory(
    instance: Instance,
    connection: Any | None,
    queue_name: str,
    steal: bool,
    should_stop: Callable[[], bool] | None,
    on_progress: Callable[[PartsProgress], None] | None,
    workers: int,
    plan: Any,
) -> Callable[..., Coordinator]:
    """Coordinators of this run, one per round: `make(deadline, listener=on_progress)`."""
    from rq import get_current_job

    job = get_current_job()  # a preview's coordinator is itself a job on a worker
    me = (job.worker_name if job is not None else None) or here()

    def make(
        deadline: float, listener: Callable[[PartsProgress], None] | None = on_progress
    ) -> Coordinator:
        made = Coordinator(
            instance, connection, queue_name, deadline, steal, should_stop, listener, me
        )
        made.workers, made.planned = workers, len(plan.parts)
        return made

    return make


def _first_round(
    instance: Instance,
    plan: Any,
    coordinator: Callable[..., Coordinator],
    timing: _Timing,
    relaxed: _Relaxed,
    with_greedy: bool,
    with_bound: bool,
) -> tuple[Coordinator, int]:
    """Every part solved once (with the baseline, and bound jobs priced at the penalty, beside
    them when asked for); the coordinator that ran them and how many parts there were."""
    payloads = _timed_payloads(
        instance, plan, timing.deadline, timing.workers, timing.seed, timing.part_seconds
    )
    solving = coordinator(timing.deadline)
    solving.known_bound, solving.retried = relaxed.bound, relaxed.retried
    if with_greedy:  # first, so that a worker starts it at once
        solving.add("greedy", [greedy_payload(instance)])
    solving.add("part", bundles(payloads, BUNDLE_SECONDS))
    if with_bound:
        solving.add("bound", bound_payloads(instance))
    _run(solving)
    return solving, len(payloads)


RELAX_WIDE_SHARE = 0.2  # a week whose wide offers hold this share of the units is relaxed first
RELAX_TIME_SHARE = 0.25  # of the time limit at most for the relaxation


@dataclass(frozen=True)
class _Relaxed:
    """What the relaxation of the whole week gave: where it sends the wide offers' units (None:
    not run, or not in time), its bound, its wall seconds and the jobs it retried."""

    flows: list[Any] | None = None
    bound: float | None = None
    seconds: float = 0.0
    retried: int = 0


def wide_share(instance: Instance) -> float:
    """The share of the week's offered units held by wide offers (no county or village limit)."""
    total = sum(o.quantity for o in instance.offers)
    wide = sum(o.quantity for o in instance.offers if is_wide(o))
    return wide / total if total else 0.0


def _relax(
    instance: Instance,
    coordinator: Callable[[float], Coordinator],
    time_limit: float,
    deadline: float,
) -> _Relaxed:
    """Round 0 for a week where wide offers matter: each category's transport relaxation
    (bound_part, every village's fairness priced at half the penalty) as jobs on the queue; its
    flows share the wide offers among regions (plan_parts), its sum is a valid bound. Given at
    most RELAX_TIME_SHARE of the time limit: a relaxation not in by then is dropped, and the wide
    offers are shared by unmet demand as without it."""
    if wide_share(instance) < RELAX_WIDE_SHARE:
        return _Relaxed()
    start = time.monotonic()
    half = {v.id: instance.policy.fairness_penalty / 2 for v in instance.villages}
    relaxing = coordinator(min(deadline, time.time() + RELAX_TIME_SHARE * time_limit))
    relaxing.add("relax", bound_payloads(instance, half))
    _run(relaxing)
    outputs = [t.output for t in relaxing.tasks]
    seconds = time.monotonic() - start
    if any(out is None for out in outputs):
        log.warning("the relaxation was not in within its time: wide offers shared by demand")
        return _Relaxed(seconds=0.0, retried=relaxing.retried)
    done = [out for out in outputs if out is not None]
    return _Relaxed(
        flows=[flow for out in done for flow in out["flows"]],
        bound=combine_bounds(instance, done),
        seconds=seconds,
        retried=relaxing.retried,
    )


IMPROVE_SHARE = 0.15  # a second round when at least this share of the time limit is left


@dataclass(frozen=True)
class _Timing:
    """When the parts must be in, and what their limits are made of."""

    deadline: float  # time.time()
    time_limit: float
    workers: int
    seed: int
    part_seconds: float | None


@dataclass(frozen=True)
class _Improved:
    """The second round: every part's best output, and the coordinator that ran it."""

    outputs: list[dict[str, Any]]
    coordinator: Coordinator
    parts: int
    objectives: tuple[float, float]  # the merged week's before and after


def _improve(
    instance: Instance,
    plan: Any,
    solving: Coordinator,
    coordinator: Callable[..., Coordinator],
    timing: _Timing,
    on_progress: Callable[[PartsProgress], None] | None,
) -> _Improved | None:
    """A second round when the first left time (parts that reach their optimum end early):
    the parts not proven optimal are solved again from their first-round allocation, with the
    offers they share re-shared (each keeps what it used, the rest goes where needs are unmet)
    and fixed shares of each village's fairness floor (optimizer.decompose.share_payloads).
    A part's first-round allocation fits its new share, so any mix of the two rounds' parts is
    a valid week; the better merged week is kept. None: no second round."""
    left = timing.deadline - time.time()
    first = solving.outputs()
    again_keys = {o["key"] for o in first if o.get("status") != "optimal"}
    if left < max(2.0, IMPROVE_SHARE * timing.time_limit) or not again_keys:
        return None
    payloads = [
        p for p in share_payloads(instance, plan, first, 1.0, timing.seed) if p["key"] in again_keys
    ]
    capacity = left * max(1, timing.workers)
    longest = min(0.8 * left, timing.part_seconds or math.inf)
    _share_time(payloads, 0.6 * capacity, longest)
    before = solving.progress()

    def heard(now: PartsProgress) -> None:  # parts done stay done; the objective moves on
        if on_progress is None:
            return
        newer = {o["key"]: o for o in again.outputs()}
        best = math.fsum(float(newer.get(o["key"], o)["objective"]) for o in first)
        on_progress(
            PartsProgress(before.done, before.total, best, before.bound, now.elapsed, before.lost)
        )

    again = coordinator(timing.deadline, heard)
    again.add("part", bundles(payloads, BUNDLE_SECONDS))
    _run(again)
    better = {o["key"]: o for o in again.outputs()}
    mixed = [better.get(o["key"], o) for o in first]
    scores = [evaluate(instance, merge(instance, week)).objective for week in (first, mixed)]
    return _Improved(
        mixed if scores[1] > scores[0] else first, again, len(payloads), (scores[0], scores[1])
    )


def _tighten(
    instance: Instance,
    solving: Coordinator,
    outputs: list[dict[str, Any]],
    deadline: float,
    needs: float,
) -> None:
    """The bound again, with fairness priced from the merged parts' coverage (tighter than the
    relaxation's half penalty, or a local week's first bound jobs at the full penalty), when
    workers take its jobs before the deadline and the time left is at least half what the
    relaxation took (`needs` seconds); the smaller bound is kept."""
    if deadline - time.time() < max(1.0, 0.5 * needs):
        return
    prices = fairness_prices(instance, merge(instance, outputs))
    solving.deadline = deadline
    solving.parts_in = None
    solving.add("bound", bound_payloads(instance, prices), group=1)
    _run(solving)


def _run(coordinator: Coordinator) -> None:
    try:
        coordinator.run()
    except BaseException:
        coordinator.stop_all("stopped")
        raise


def _outcome(
    instance: Instance,
    coordinator: Coordinator,
    plan: Any,
    began: float,
    settings: dict[str, Any],
    relaxed: _Relaxed,
    improved: _Improved | None = None,
) -> Distributed:
    """The merged week and what happened to its parts, once the coordinator is done."""
    settings = {
        **settings,
        # how the wide offers were shared among regions: by the whole week's relaxation (its
        # units per region), or by unmet demand (a week of local donors, or no time for it)
        "wide_offers_shared_by": "relaxation" if relaxed.flows is not None else "demand",
        "rounds": 2 if improved is not None else 1,
    }
    parts = int(settings["parts"])
    lost = [_lost(payload, why) for payload, why in coordinator.lost()]
    rounds = [coordinator] + ([improved.coordinator] if improved is not None else [])
    solved_by = sorted({w for c in rounds for w in _solved_by(c)})
    retried = sum(c.retried for c in rounds)
    figures = {
        "parts": float(parts),
        "parts_lost": float(len(lost)),
        "parts_retried": float(retried),
        "workers": float(len(solved_by)),
        "wide_offers": float(plan.wide_offers),
        "relax_seconds": round(relaxed.seconds, 2),
    }
    if improved is not None:
        figures["round_2_parts"] = float(improved.parts)
        figures["round_1_objective"], figures["round_2_objective"] = improved.objectives
    outputs = improved.outputs if improved is not None else coordinator.outputs()
    result = _merged(instance, coordinator, outputs, began, figures, settings)
    greedy = _greedy(instance, coordinator)
    return Distributed(result, parts, solved_by, lost, retried, greedy)


def _greedy(instance: Instance, coordinator: Coordinator) -> Result | None:
    """The baseline job's week, checked on the whole week (None: not asked for, or not in)."""
    out = next((t.output for t in coordinator.tasks if t.kind == "greedy" and t.output), None)
    if out is None:
        return None
    return checked_result(
        instance, merge(instance, [out]), method="greedy", seconds=float(out["seconds"])
    )


def _solved_by(coordinator: Coordinator) -> list[str]:
    """The workers that solved at least one part."""
    return sorted(
        {
            str(t.output["worker"])
            for t in coordinator.tasks
            if t.kind == "part" and t.output and t.output["outputs"]
        }
    )


def _merged(
    instance: Instance,
    coordinator: Coordinator,
    outputs: list[dict[str, Any]],
    began: float,
    figures: dict[str, float],
    settings: dict[str, Any],
) -> Result:
    """The parts' allocations merged and checked on the whole week, with the run's figures."""
    # In the order they always had: the week's, then the parts' ("parts" first).
    metrics = {"parts": figures["parts"], "parts_solved": float(len(outputs)), **figures}
    return checked_result(
        instance,
        merge(instance, outputs),
        method="distributed",
        seconds=time.monotonic() - began,
        bound=coordinator.bound(),
        metrics=metrics,
        settings=settings,
    )


def _timed_payloads(
    instance: Instance,
    plan: Any,
    parts_deadline: float,
    workers: int,
    seed: int,
    part_seconds: float | None,
) -> list[dict[str, Any]]:
    """The parts' payloads, each with its time limit: the workers' capacity until the parts'
    deadline shared by size, `part_seconds` at most when given."""
    left = max(MIN_PART_SECONDS, parts_deadline - time.time())
    capacity = left * max(1, workers)
    payloads = part_payloads(instance, plan, 0.9 * capacity, seed)
    longest = min(0.8 * left, part_seconds or math.inf)
    _share_time(payloads, 0.6 * capacity, longest)  # 0.6, 0.8: room for start-up and load
    return payloads


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
