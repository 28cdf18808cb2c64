"""The model written directly as a MILP for scipy's HiGHS: the benchmark's reference solvers.

Variables: x per eligible pair (integer units), y per (offer, village) link (binary), s per
reachable village (continuous shortfall). Used for "HiGHS MILP" and for the LP relaxation
(integrality dropped), which is the upper bound the benchmark divides by.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from optimizer.lp import pair_upper
from optimizer.problem import Problem


def solve_direct(
    problem: Problem, time_limit: float, relax: bool
) -> tuple[list[int] | None, float | None]:
    """HiGHS on the direct model: (units per pair or None, objective value reported by HiGHS)."""
    instance, policy = problem.instance, problem.instance.policy
    upper = pair_upper(problem)
    nx, ny = len(upper), len(problem.groups)
    reach = [v for v, ok in enumerate(problem.reachable) if ok]
    size = nx + ny + len(reach)
    cost = np.zeros(size)
    high = np.zeros(size)
    integral = np.ones(size)
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lower_b: list[float] = []
    upper_b: list[float] = []

    def row(entries: list[tuple[int, float]], lb: float, ub: float) -> None:
        r = len(lower_b)
        for c, a in entries:
            rows.append(r)
            cols.append(c)
            vals.append(a)
        lower_b.append(lb)
        upper_b.append(ub)

    for j in range(nx):
        cost[j] = problem.pair_value[j]
        high[j] = upper[j]
        row([(j, 1.0), (nx + problem.pair_group[j], -upper[j])], -np.inf, 0.0)
    offer_groups: list[list[int]] = [[] for _ in instance.offers]
    for g, group in enumerate(problem.groups):
        offer = instance.offers[group.offer]
        offer_groups[group.offer].append(g)
        cost[nx + g] = -policy.fragmentation_penalty
        high[nx + g] = 1
        total = [(j, 1.0) for j in group.pairs]
        if offer.indivisible:
            row([*total, (nx + g, -offer.quantity)], 0.0, 0.0)
        else:
            row([*total, (nx + g, -group.capacity)], -np.inf, 0.0)
            row([*total, (nx + g, -offer.min_lot)], 0.0, np.inf)
    for o, offer in enumerate(instance.offers):
        groups = offer_groups[o]
        if groups:
            given = [(j, 1.0) for g in groups for j in problem.groups[g].pairs]
            row(given, -np.inf, offer.quantity)
            cap = 1 if offer.indivisible else offer.max_villages
            if cap is not None and cap < len(groups):
                row([(nx + g, 1.0) for g in groups], -np.inf, cap)
    by_need: list[list[int]] = [[] for _ in instance.needs]
    for j, n in enumerate(problem.pair_need):
        by_need[n].append(j)
    for n, need in enumerate(instance.needs):
        if by_need[n]:
            row([(j, 1.0) for j in by_need[n]], -np.inf, need.quantity)
    for k, v in enumerate(reach):
        c = nx + ny + k
        cost[c] = -policy.fairness_penalty
        high[c] = policy.fairness_floor
        integral[c] = 0
        count = len(problem.village_needs[v])
        entries = [(c, 1.0)]
        for n in problem.village_needs[v]:
            entries += [(j, 1.0 / (count * instance.needs[n].quantity)) for j in by_need[n]]
        row(entries, policy.fairness_floor, np.inf)
    matrix = coo_matrix((vals, (rows, cols)), shape=(len(lower_b), size)).tocsr()
    options = {"time_limit": max(0.1, time_limit), "disp": False}
    result = milp(
        -cost,
        constraints=LinearConstraint(matrix, lower_b, upper_b),
        bounds=Bounds(np.zeros(size), high),
        integrality=np.zeros(size) if relax else integral,
        options=options,
    )
    if result.x is None:
        return None, None
    units = [max(0, round(float(u))) for u in result.x[:nx]]
    return units, float(-result.fun)
