"""Solve the rolling model: v1's solver on the horizon instance, then weeks, plan, deadlines."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from optimizer.evaluate import evaluate
from optimizer.greedy import solve_greedy
from optimizer.model import Allocation, Evaluation, Progress, Result
from optimizer.problem import build_problem
from optimizer.result import make_result, result_to_json
from optimizer.rolling.horizon import (
    Horizon,
    horizon_instance,
    rolling_coverage,
    waiting_unserved,
)
from optimizer.rolling.model import RollingInstance, RollingResult, VillagePlan, WeekAllocation
from optimizer.rolling.waiting import serve_waiting
from optimizer.solve import solve

# Share and seconds kept back from v1's solve for the plan after it, and for v1's own overrun
# of its limit (up to about half a second on a loaded 2-core machine, measured 2026-12-07).
RESERVE = 0.05
RESERVE_SECONDS = 0.4


def solve_rolling(
    instance: RollingInstance,
    *,
    time_limit: float = 30.0,
    workers: int = 2,
    seed: int = 0,
    progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    start_from: Sequence[WeekAllocation] | None = None,
) -> RollingResult:
    """Solve the v2 model within `time_limit` seconds of wall time, everything included."""
    start = time.perf_counter()
    horizon = horizon_instance(instance)
    # The plan after the solve costs about one evaluation: keep a share of the budget for it.
    left = time_limit - (time.perf_counter() - start)
    budget = max(0.1, left * (1 - RESERVE) - RESERVE_SECONDS)
    hint = [Allocation(a.offer, a.need, a.quantity) for a in start_from] if start_from else None
    if horizon.passed_over:  # the waiting rule's repair needs the problem: keep time for it
        budget = max(0.1, budget * 0.85 - 0.5)
    result = solve(
        horizon.instance, time_limit=budget, workers=workers, seed=seed,
        progress=progress, should_stop=should_stop, start_from=hint,
    )
    result = _serve_waiting(instance, horizon, result, start)
    return _rolling_result(instance, horizon, result, time.perf_counter() - start)


def _serve_waiting(
    instance: RollingInstance, horizon: Horizon, result: Result, start: float
) -> Result:
    """The result after the waiting rule's repair (optimizer.rolling.waiting)."""
    if not horizon.passed_over or instance.waiting_penalty <= 0:
        return result
    problem = build_problem(horizon.instance)
    index = {
        (problem.instance.offers[o].id, problem.instance.needs[n].id): j
        for j, (o, n) in enumerate(zip(problem.pair_offer, problem.pair_need, strict=True))
    }
    x = [0] * len(problem.pair_offer)
    for a in result.allocations:
        x[index[(a.offer, a.need)]] += a.quantity
    now = [
        horizon.week(problem.instance.offers[o].id, problem.instance.needs[n].id) == 0
        for o, n in zip(problem.pair_offer, problem.pair_need, strict=True)
    ]
    villages = {v.id: i for i, v in enumerate(problem.instance.villages)}
    penalties = {
        villages[v]: instance.waiting_penalty * horizon.waiting_weight.get(v, 1)
        for v in horizon.passed_over
    }
    repaired = serve_waiting(problem, x, now, penalties)
    if repaired == x:
        return result
    return make_result(
        problem, repaired, result.bound, time.perf_counter() - start,
        result.method + "+waiting", result.settings,
    )


def solve_rolling_greedy(instance: RollingInstance) -> RollingResult:
    """The first-come-first-served baseline on the horizon instance."""
    start = time.perf_counter()
    horizon = horizon_instance(instance)
    result = solve_greedy(horizon.instance)
    return _rolling_result(instance, horizon, result, time.perf_counter() - start)


def evaluate_rolling(
    instance: RollingInstance, allocations: Iterable[WeekAllocation]
) -> Evaluation:
    """The v2 objective of allocations recomputed from scratch, with every violation: v1's on
    the horizon instance (eligibility there includes the windows), and the week rule."""
    horizon = horizon_instance(instance)
    chosen = list(allocations)
    problems = []
    for a in chosen:
        if a.offer in horizon.offer_windows and a.need in horizon.need_windows:
            week = horizon.week(a.offer, a.need)
            if a.week != week:
                problems.append(
                    f"allocation {a.offer}->{a.need}: week {a.week}, but its week is {week}"
                )
        else:
            problems.append(f"allocation {a.offer}->{a.need}: not in the horizon")
    checked = evaluate(
        horizon.instance, [Allocation(a.offer, a.need, a.quantity) for a in chosen]
    )
    waiting = _waiting_term(instance, horizon, chosen)
    metrics = {**checked.metrics, "waiting_penalty_total": waiting}
    return Evaluation(
        checked.objective - waiting, checked.value, checked.fragmentation,
        checked.fairness + waiting, metrics, tuple(problems) + checked.violations,
    )


def _waiting_term(
    instance: RollingInstance, horizon: Horizon, allocations: Iterable[WeekAllocation]
) -> float:
    """waiting_penalty times the waiting weights of the waiting villages reachable now left
    with nothing in week 0."""
    if not horizon.passed_over:
        return 0.0
    village_of = {n.id: n.village for n in instance.base.needs}
    served = {village_of[a.need] for a in allocations if a.week == 0 and a.need in village_of}
    return instance.waiting_penalty * sum(
        horizon.waiting_weight.get(v, 1) for v in waiting_unserved(horizon, served)
    )


def _rolling_result(
    instance: RollingInstance, horizon: Horizon, result: Result, seconds: float
) -> RollingResult:
    weeks = tuple(
        WeekAllocation(a.offer, a.need, a.quantity, horizon.week(a.offer, a.need), a.km, a.value)
        for a in result.allocations
    )
    villages, deadlines = _plan(instance, horizon, weeks)
    waiting = _waiting_term(instance, horizon, weeks)
    objective = result.objective - waiting
    status = result.status
    if waiting and (result.bound is None or objective < result.bound - 1e-6 * abs(result.bound)):
        status = "feasible"  # the bound is v1's: proven for the objective before this term
    metrics = dict(result.metrics)
    metrics["waiting_penalty_total"] = waiting
    metrics["villages_waiting"] = float(len(horizon.passed_over))
    metrics["committed_allocations"] = float(sum(1 for a in weeks if a.week == 0))
    metrics["committed_units"] = float(sum(a.quantity for a in weeks if a.week == 0))
    return RollingResult(
        status=status,
        objective=objective,
        bound=result.bound,
        seconds=seconds,
        horizon=instance.horizon,
        allocations=weeks,
        metrics=metrics,
        villages=villages,
        deadlines=deadlines,
        method=result.method,
        settings={**result.settings, "horizon": instance.horizon},
    )


def _plan(
    instance: RollingInstance, horizon: Horizon, allocations: Sequence[WeekAllocation]
) -> tuple[tuple[VillagePlan, ...], dict[str, int]]:
    """Per village the coverage each week brings; the deadline counts of the plan."""
    base = instance.base
    needs = {n.id: n for n in base.needs if n.id in horizon.need_windows}
    count: dict[str, int] = {}
    for need in needs.values():
        count[need.village] = count.get(need.village, 0) + 1
    expected: dict[str, list[float]] = {}
    received: dict[str, int] = {}
    received_now: dict[str, int] = {}
    for a in allocations:
        need = needs[a.need]
        row = expected.setdefault(need.village, [0.0] * instance.horizon)
        row[a.week] += a.quantity / need.quantity / count[need.village]
        received[a.need] = received.get(a.need, 0) + a.quantity
        if a.week == 0:
            received_now[a.need] = received_now.get(a.need, 0) + a.quantity
    rolling = rolling_coverage(instance)
    villages = tuple(
        VillagePlan(
            village=v.id,
            rolling_coverage=rolling.get(v.id),
            catch_up=horizon.catch_up.get(v.id, 1.0),
            expected=tuple(expected.get(v.id, [0.0] * instance.horizon)),
        )
        for v in base.villages
        if v.id in count
    )
    due_now = due_now_met = due_in = met_by_due = 0
    for n, need in enumerate(base.needs):
        due = instance.need_due[n]
        if need.id not in needs or due is None or due >= instance.horizon:
            continue
        due_in += 1
        met_by_due += received.get(need.id, 0) >= need.quantity
        if due <= 0:
            due_now += 1
            due_now_met += received_now.get(need.id, 0) >= need.quantity
    deadlines = {
        "due_now": due_now, "due_now_met": due_now_met,
        "due_in_horizon": due_in, "met_by_due": met_by_due,
    }
    return villages, deadlines


def rolling_result_to_json(result: RollingResult) -> dict[str, Any]:
    """The spec's v2 output JSON of a result."""
    v1 = result_to_json(
        Result(
            result.status, result.objective, result.bound, result.seconds,
            tuple(Allocation(a.offer, a.need, a.quantity, a.km, a.value)
                  for a in result.allocations),
            result.metrics, result.method, result.settings,
        )
    )
    for row, a in zip(v1["allocations"], result.allocations, strict=True):
        row["week"] = a.week
    v1["horizon"] = result.horizon
    v1["committed"] = len(result.committed)
    v1["villages"] = [
        {
            "village": p.village,
            "rolling_coverage": p.rolling_coverage,
            "catch_up": p.catch_up,
            "expected": [round(x, 6) if math.isfinite(x) else 0.0 for x in p.expected],
        }
        for p in result.villages
    ]
    v1["deadlines"] = dict(result.deadlines)
    return v1
