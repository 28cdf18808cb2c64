"""The linear relaxation: its optimum guides the search, its duals give a proven bound.

With y (offer serves village) relaxed, the best y for group g is T_g / capacity_g, so y is
substituted out: each unit pays fragmentation_penalty / capacity_g, and a village cap
becomes sum_g T_g / capacity_g <= max_villages. What remains is small: one row per offer,
need, capped offer and reachable village.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import linear_solver_pb2, pywraplp

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
    upper: list[int] = _upper(problem).tolist()
    return upper


def _upper(problem: Problem) -> np.ndarray:
    instance = problem.instance
    offer_q = np.array([o.quantity for o in instance.offers], dtype=np.int64)
    need_q = np.array([n.quantity for n in instance.needs], dtype=np.int64)
    capacity = np.array([g.capacity for g in problem.groups], dtype=np.int64)
    pair_offer = np.array(problem.pair_offer, dtype=np.int64)
    pair_need = np.array(problem.pair_need, dtype=np.int64)
    pair_group = np.array(problem.pair_group, dtype=np.int64)
    if not len(pair_offer):
        return np.zeros(0, dtype=np.int64)
    return np.minimum(np.minimum(offer_q[pair_offer], need_q[pair_need]), capacity[pair_group])


def _rows(problem: Problem, prices: Sequence[float] | None = None) -> _Rows:
    """The LP's rows, built from arrays; with `prices`, fairness is a price per unit of
    coverage, not rows. Row order: supply per offer, demand per need, village caps, fairness."""
    instance, policy = problem.instance, problem.instance.policy
    npairs = len(problem.pair_offer)
    pair_offer = np.array(problem.pair_offer, dtype=np.int64)
    pair_need = np.array(problem.pair_need, dtype=np.int64)
    pair_group = np.array(problem.pair_group, dtype=np.int64)
    need_q = np.array([n.quantity for n in instance.needs], dtype=float)
    offer_q = np.array([o.quantity for o in instance.offers], dtype=float)
    need_village = np.array(problem.need_village, dtype=np.int64)
    count = np.array([len(ns) for ns in problem.village_needs], dtype=float)
    capacity = np.array([g.capacity for g in problem.groups], dtype=float)
    pairs = np.arange(npairs, dtype=np.int64)
    cost = np.array(problem.pair_value, dtype=float)
    if npairs:
        cost = cost - policy.fragmentation_penalty / capacity[pair_group]
    upper = _upper(problem).astype(float)
    pair_village = need_village[pair_need] if npairs else pair_need
    # A pair's share of its village's coverage per unit.
    share = 1.0 / (count[pair_village] * need_q[pair_need]) if npairs else cost
    if prices is not None and npairs:  # Lagrangian: mu_v per unit of coverage of village v
        cost = cost + np.asarray(prices, dtype=float)[pair_village] * share
    row_parts: list[np.ndarray] = []
    col_parts: list[np.ndarray] = []
    coef_parts: list[np.ndarray] = []
    rhs_parts: list[np.ndarray] = []
    nrows = 0

    def block(owner: np.ndarray, size: int, limits: np.ndarray, cols: np.ndarray,
              coefs: np.ndarray) -> None:
        """One row per owner (0..size-1) that has entries, in owner order."""
        nonlocal nrows
        used = np.zeros(size, dtype=bool)
        used[owner] = True
        number = np.cumsum(used) - 1 + nrows
        row_parts.append(number[owner])
        col_parts.append(cols)
        coef_parts.append(coefs)
        rhs_parts.append(limits[used])
        nrows += int(used.sum())

    ones = np.ones(npairs)
    block(pair_offer, len(instance.offers), offer_q, pairs, ones)  # supply
    block(pair_need, len(instance.needs), need_q, pairs, ones)  # demand
    # Village cap, with y = T / capacity, for offers capped below their number of groups.
    groups_of = np.bincount(
        np.array([g.offer for g in problem.groups], dtype=np.int64), minlength=len(instance.offers)
    ) if problem.groups else np.zeros(len(instance.offers), dtype=np.int64)
    cap = np.array([
        -1 if o.max_villages is None else o.max_villages for o in instance.offers
    ], dtype=np.int64)
    capped = (cap >= 0) & (cap < groups_of)
    if npairs and capped.any():
        chosen = capped[pair_offer]
        block(pair_offer[chosen], len(instance.offers), cap.astype(float), pairs[chosen],
              1.0 / capacity[pair_group[chosen]])
    villages = np.array(
        [v for v, ok in enumerate(problem.reachable) if ok and policy.fairness_penalty > 0],
        dtype=np.int64,
    )
    if prices is not None:
        villages = villages[:0]
    if len(villages):  # fairness: -s_v - coverage_v <= -floor
        column = np.full(len(instance.villages), -1, dtype=np.int64)
        column[villages] = npairs + np.arange(len(villages))
        chosen = column[pair_village] >= 0 if npairs else np.zeros(0, dtype=bool)
        owner = np.r_[villages, pair_village[chosen]]
        cols = np.r_[column[villages], pairs[chosen]]
        coefs = np.r_[-np.ones(len(villages)), -share[chosen]]
        order = np.argsort(owner, kind="stable")
        block(owner[order], len(instance.villages),
              np.full(len(instance.villages), -policy.fairness_floor), cols[order], coefs[order])
        cost = np.r_[cost, np.full(len(villages), -policy.fairness_penalty)]
        upper = np.r_[upper, np.full(len(villages), policy.fairness_floor)]

    def joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    return _Rows(
        joined(row_parts, np.int64), joined(col_parts, np.int64), joined(coef_parts, float),
        joined(rhs_parts, float), cost.astype(float), upper.astype(float),
    )


def proven_bound(rows: _Rows, duals: np.ndarray) -> float:
    """Weak duality: for any duals >= 0, max over the box of the Lagrangian bounds the LP."""
    lam = np.maximum(duals, 0.0)
    used = np.bincount(rows.col, weights=rows.coef * lam[rows.row], minlength=len(rows.cost))
    reduced = rows.cost - used
    terms = np.concatenate([rows.rhs * lam, np.maximum(reduced, 0.0) * rows.upper])
    total = math.fsum(terms.tolist())
    return total + 1e-9 * math.fsum(np.abs(terms).tolist()) + 1e-9


def _request(rows: _Rows, time_limit: float) -> linear_solver_pb2.MPModelRequest:
    """The LP as a GLOP request, filled from the arrays (no Python object per variable)."""
    request = linear_solver_pb2.MPModelRequest(
        solver_type=linear_solver_pb2.MPModelRequest.GLOP_LINEAR_PROGRAMMING,
        solver_time_limit_seconds=max(0.05, time_limit),
    )
    model = request.model
    model.maximize = True
    for u, c in zip(rows.upper.tolist(), rows.cost.tolist(), strict=True):
        model.variable.add(lower_bound=0.0, upper_bound=u, objective_coefficient=c)
    order = np.argsort(rows.row, kind="stable")
    cols, coefs = rows.col[order].tolist(), rows.coef[order].tolist()
    ends = np.searchsorted(rows.row[order], np.arange(len(rows.rhs) + 1)).tolist()
    for r, b in enumerate(rows.rhs.tolist()):
        constraint = model.constraint.add(lower_bound=-math.inf, upper_bound=b)
        constraint.var_index.extend(cols[ends[r] : ends[r + 1]])
        constraint.coefficient.extend(coefs[ends[r] : ends[r + 1]])
    return request


def solve_relaxation(
    problem: Problem, time_limit: float, fairness_prices: Sequence[float] | None = None
) -> Relaxation:
    """Solve the LP relaxation with GLOP within `time_limit` seconds (building included); the
    bound holds even if GLOP is inexact or stopped early with a feasible dual.

    With `fairness_prices` (one per village, 0 <= mu_v <= fairness_penalty), the fairness
    rows are replaced by the price mu_v per unit of the village's coverage: the bound is then
    of the model's objective plus floor * sum of the reachable villages' prices (decompose.py).
    """
    start = time.perf_counter()
    rows = _rows(problem, fairness_prices)
    npairs = len(problem.pair_offer)
    if not len(rows.rhs):
        bound = math.fsum(
            max(0.0, c) * u for c, u in zip(rows.cost.tolist(), rows.upper.tolist(), strict=True)
        )
        units = tuple(rows.upper[:npairs].tolist()) if npairs else ()
        return Relaxation(
            tuple(u if c > 0 else 0.0 for u, c in zip(units, rows.cost.tolist(), strict=False)),
            bound, bound,
        )
    request = _request(rows, time_limit - (time.perf_counter() - start))
    response = linear_solver_pb2.MPSolutionResponse()
    pywraplp.Solver.SolveWithProto(request, response)
    solved = (linear_solver_pb2.MPSOLVER_OPTIMAL, linear_solver_pb2.MPSOLVER_FEASIBLE)
    if response.status not in solved or len(response.dual_value) != len(rows.rhs):
        return Relaxation((0.0,) * npairs, None, None)
    duals = np.array(response.dual_value, dtype=float)
    values = np.maximum(np.array(response.variable_value, dtype=float)[:npairs], 0.0)
    return Relaxation(
        tuple(values.tolist()), proven_bound(rows, duals), response.objective_value
    )
