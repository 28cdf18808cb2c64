"""The linear relaxation: its optimum guides the search, its duals give a proven bound.

With y (offer serves village) relaxed, the best y for group g is T_g / capacity_g, so y is
substituted out: each unit pays fragmentation_penalty / capacity_g, and a village cap
becomes sum_g T_g / capacity_g <= max_villages. What remains is small: one row per offer,
need, capped offer and reachable village.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from optimizer.problem import Problem


@dataclass(frozen=True)
class Relaxation:
    """The LP optimum per pair (fractional units) and a proven upper bound, if solved."""

    units: tuple[float, ...]
    bound: float | None
    value: float | None


@dataclass(frozen=True)
class _Rows:
    """The LP as rows a.x <= b over columns (pairs, then one shortfall per village)."""

    row: np.ndarray
    col: np.ndarray
    coef: np.ndarray
    rhs: np.ndarray
    cost: np.ndarray  # objective coefficient per column (maximised)
    upper: np.ndarray  # column upper bounds; lower bounds are all 0


def pair_upper(problem: Problem) -> list[int]:
    """Most units pair j can carry: the offer, the need and the group capacity allow."""
    needs, offers = problem.instance.needs, problem.instance.offers
    return [
        min(offers[o].quantity, needs[n].quantity, problem.groups[g].capacity)
        for o, n, g in zip(problem.pair_offer, problem.pair_need, problem.pair_group, strict=True)
    ]


def _rows(problem: Problem, prices: Sequence[float] | None = None) -> _Rows:
    """The LP's rows; with `prices`, fairness is a price per unit of coverage, not rows."""
    instance, policy = problem.instance, problem.instance.policy
    npairs = len(problem.pair_offer)
    villages = [v for v, ok in enumerate(problem.reachable) if ok and policy.fairness_penalty > 0]
    if prices is not None:
        villages = []
    row: list[int] = []
    col: list[int] = []
    coef: list[float] = []
    rhs: list[float] = []
    cost = [
        problem.pair_value[j] - policy.fragmentation_penalty / problem.groups[g].capacity
        for j, g in enumerate(problem.pair_group)
    ]
    upper = [float(u) for u in pair_upper(problem)]
    if prices is not None:  # Lagrangian: mu_v per unit of coverage of village v
        for j, n in enumerate(problem.pair_need):
            v = problem.need_village[n]
            count = len(problem.village_needs[v])
            cost[j] += prices[v] / (count * instance.needs[n].quantity)

    def add(entries: list[tuple[int, float]], limit: float) -> None:
        r = len(rhs)
        for c, a in entries:
            row.append(r)
            col.append(c)
            coef.append(a)
        rhs.append(limit)

    by_offer: list[list[int]] = [[] for _ in instance.offers]
    by_need: list[list[int]] = [[] for _ in instance.needs]
    for j in range(npairs):
        by_offer[problem.pair_offer[j]].append(j)
        by_need[problem.pair_need[j]].append(j)
    for o, offer in enumerate(instance.offers):  # supply
        if by_offer[o]:
            add([(j, 1.0) for j in by_offer[o]], offer.quantity)
    for n, need in enumerate(instance.needs):  # demand
        if by_need[n]:
            add([(j, 1.0) for j in by_need[n]], need.quantity)
    for o, offer in enumerate(instance.offers):  # village cap, with y = T / capacity
        groups = {problem.pair_group[j] for j in by_offer[o]}
        if offer.max_villages is not None and offer.max_villages < len(groups):
            groups_ = problem.groups
            entries = [(j, 1.0 / groups_[problem.pair_group[j]].capacity) for j in by_offer[o]]
            add(entries, offer.max_villages)
    for k, v in enumerate(villages):  # fairness: -s_v - coverage_v <= -floor
        count = len(problem.village_needs[v])
        entries = [(npairs + k, -1.0)]
        for n in problem.village_needs[v]:
            entries += [(j, -1.0 / (count * instance.needs[n].quantity)) for j in by_need[n]]
        add(entries, -policy.fairness_floor)
        cost.append(-policy.fairness_penalty)
        upper.append(policy.fairness_floor)
    return _Rows(
        np.array(row, dtype=np.int64), np.array(col, dtype=np.int64), np.array(coef),
        np.array(rhs), np.array(cost), np.array(upper),
    )


def proven_bound(rows: _Rows, duals: np.ndarray) -> float:
    """Weak duality: for any duals >= 0, max over the box of the Lagrangian bounds the LP."""
    lam = np.maximum(duals, 0.0)
    used = np.bincount(rows.col, weights=rows.coef * lam[rows.row], minlength=len(rows.cost))
    reduced = rows.cost - used
    terms = np.concatenate([rows.rhs * lam, np.maximum(reduced, 0.0) * rows.upper])
    total = math.fsum(terms.tolist())
    return total + 1e-9 * math.fsum(np.abs(terms).tolist()) + 1e-9


def solve_relaxation(
    problem: Problem, time_limit: float, fairness_prices: Sequence[float] | None = None
) -> Relaxation:
    """Solve the LP relaxation with GLOP; the bound holds even if GLOP is inexact.

    With `fairness_prices` (one per village, 0 <= mu_v <= fairness_penalty), the fairness
    rows are replaced by the price mu_v per unit of the village's coverage: the bound is then
    of the model's objective plus floor * sum of the reachable villages' prices (decompose.py).
    """
    rows = _rows(problem, fairness_prices)
    solver = pywraplp.Solver.CreateSolver("GLOP")
    solver.SetTimeLimit(max(1, int(time_limit * 1000)))
    columns = [solver.NumVar(0.0, float(u), "") for u in rows.upper]
    constraints = [solver.Constraint(-solver.infinity(), float(b)) for b in rows.rhs]
    for r, c, a in zip(rows.row.tolist(), rows.col.tolist(), rows.coef.tolist(), strict=True):
        constraints[r].SetCoefficient(columns[c], a)
    objective = solver.Objective()
    for column, c in zip(columns, rows.cost.tolist(), strict=True):
        objective.SetCoefficient(column, c)
    objective.SetMaximization()
    status = solver.Solve()
    npairs = len(problem.pair_offer)
    if status not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return Relaxation((0.0,) * npairs, None, None)
    duals = np.array([c.dual_value() for c in constraints])
    units = tuple(max(0.0, columns[j].solution_value()) for j in range(npairs))
    bound = proven_bound(rows, duals) if len(rows.rhs) else math.fsum(
        max(0.0, c) * u for c, u in zip(rows.cost.tolist(), rows.upper.tolist(), strict=True)
    )
    return Relaxation(units, bound, objective.Value())
