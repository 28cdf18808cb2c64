"""The exact model as a MILP on SCIP (bundled with OR-Tools), for instances small enough."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.linear_solver import pywraplp

from optimizer.lp import pair_upper
from optimizer.problem import Problem

BOUND_MARGIN = 1e-7  # SCIP's bound holds up to its tolerances; widen it by this, relatively
# Seconds SCIP takes to stop once interrupted, hand back its solution and be freed (up to
# 0.45 s for 3,900 pairs at load 15-20).
STOP_SECONDS = 0.5


@dataclass(frozen=True)
class MipOutcome:
    """SCIP's best solution (rounded to units), its dual bound, and whether it finished."""

    x: list[int] | None
    bound: float | None
    finished: bool


def _build(
    problem: Problem, solver: pywraplp.Solver, chosen: list[int]
) -> dict[int, pywraplp.Variable]:
    """The model over the groups in `chosen` (all pairs of other groups stay at 0)."""
    instance, policy = problem.instance, problem.instance.policy
    upper = pair_upper(problem)
    pairs = [j for g in chosen for j in problem.groups[g].pairs]
    x = {j: solver.IntVar(0, upper[j], f"x{j}") for j in pairs}
    y = {g: solver.BoolVar(f"y{g}") for g in chosen}
    objective = solver.Objective()
    for j, var in x.items():
        objective.SetCoefficient(var, problem.pair_value[j])
        solver.Add(var <= upper[j] * y[problem.pair_group[j]])  # no units without the link
    offer_groups: list[list[int]] = [[] for _ in instance.offers]
    for g in chosen:
        group = problem.groups[g]
        objective.SetCoefficient(y[g], -policy.fragmentation_penalty)
        offer = instance.offers[group.offer]
        offer_groups[group.offer].append(g)
        total = solver.Sum([x[j] for j in group.pairs])
        if offer.indivisible:  # the whole quantity to one village, or none
            solver.Add(total == offer.quantity * y[g])
        else:  # a served village gets at least one lot
            solver.Add(total <= group.capacity * y[g])
            solver.Add(total >= offer.min_lot * y[g])
    for o, offer in enumerate(instance.offers):
        groups = offer_groups[o]
        if not groups:
            continue
        given = [x[j] for g in groups for j in problem.groups[g].pairs]
        solver.Add(solver.Sum(given) <= offer.quantity)  # supply
        cap = 1 if offer.indivisible else offer.max_villages
        if cap is not None and cap < len(groups):  # the village cap
            solver.Add(solver.Sum([y[g] for g in groups]) <= cap)
    by_need: list[list[int]] = [[] for _ in instance.needs]
    for j in x:
        by_need[problem.pair_need[j]].append(j)
    for n, need in enumerate(instance.needs):  # demand
        if by_need[n]:
            solver.Add(solver.Sum([x[j] for j in by_need[n]]) <= need.quantity)
    for v, reachable in enumerate(problem.reachable):  # fairness shortfall
        if not reachable or policy.fairness_penalty <= 0:
            continue
        count = len(problem.village_needs[v])
        short = solver.NumVar(0.0, policy.fairness_floor, f"s{v}")
        objective.SetCoefficient(short, -policy.fairness_penalty)
        covered = [
            x[j] * (1.0 / (count * instance.needs[n].quantity))
            for n in problem.village_needs[v]
            for j in by_need[n]
        ]
        solver.Add(short + solver.Sum(covered) >= policy.fairness_floor)
    objective.SetMaximization()
    return x


def solve_mip(
    problem: Problem,
    time_limit: float,
    seed: int,
    hint: list[int] | None,
    should_stop: Callable[[], bool] | None,
    groups: list[int] | None = None,
) -> MipOutcome:
    """Solve the model (restricted to `groups` if given) with SCIP to a relative gap of 1e-7,
    or until time is up; the bound is proven only for the unrestricted model.

    `time_limit` counts from this call: building the model counts (0.5-1 s on a loaded machine
    for 5,000 pairs), and SCIP is interrupted at the deadline if it has not stopped by itself
    (a 5-s week of the rolling bench took 6-7 s when SCIP was given the whole limit after
    building, at load 20)."""
    deadline = time.perf_counter() + time_limit - min(STOP_SECONDS, 0.1 * time_limit)
    solver = pywraplp.Solver.CreateSolver("SCIP")
    chosen = list(range(len(problem.groups))) if groups is None else sorted(set(groups))
    x = _build(problem, solver, chosen)
    if hint is not None:
        solver.SetHint(list(x.values()), [float(hint[j]) for j in x])
    solver.SetTimeLimit(max(1, int((deadline - time.perf_counter()) * 1000)))
    # Few cut rounds away from the root: on these models branching pays more than cutting
    # (small-12 and small-13 prove about 30% faster).
    solver.SetSolverSpecificParametersAsString(
        f"limits/gap = 1e-7\nrandomization/randomseedshift = {seed}\n"
        "separating/maxrounds = 1\nseparating/maxroundsroot = 10\n"
    )
    done = threading.Event()
    threading.Thread(
        target=_watch, args=(solver, should_stop, deadline, done), daemon=True
    ).start()
    status = solver.Solve()
    done.set()
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return MipOutcome(None, None, False)
    units = [0] * len(problem.pair_offer)
    for j, var in x.items():
        units[j] = max(0, round(var.solution_value()))
    if groups is not None:
        return MipOutcome(units, None, status == pywraplp.Solver.OPTIMAL)
    bound = solver.Objective().BestBound()
    bound += BOUND_MARGIN * max(1.0, abs(bound))
    return MipOutcome(units, bound, status == pywraplp.Solver.OPTIMAL)


def _watch(
    solver: pywraplp.Solver,
    should_stop: Callable[[], bool] | None,
    deadline: float,
    done: threading.Event,
) -> None:
    """Interrupt SCIP when the caller asks the solve to stop, or at the deadline."""
    while not done.wait(0.05):
        if time.perf_counter() >= deadline or (should_stop is not None and should_stop()):
            solver.InterruptSolve()
            return
