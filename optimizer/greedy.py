"""The first-come-first-served baseline: offers in arrival order fill the most urgent needs."""

from __future__ import annotations

import time

from optimizer.model import Instance, Result
from optimizer.problem import Problem, build_problem
from optimizer.result import make_result
from optimizer.solution import coverage_sums, shortfall


def greedy_vector(problem: Problem, deadline: float | None = None) -> list[int]:
    """Greedy units per pair: each offer, in list order, serves villages by their most urgent
    eligible need, filling each served village's needs in urgency order, and only when the
    link improves the objective and every hard constraint still holds. At `deadline`
    (time.perf_counter() seconds) the offers not yet reached give nothing (still feasible)."""
    instance, policy = problem.instance, problem.instance.policy
    x = [0] * len(problem.pair_offer)
    remaining = [n.quantity for n in instance.needs]
    sums = coverage_sums(problem, x)
    groups_of: list[list[int]] = [[] for _ in instance.offers]
    for g, group in enumerate(problem.groups):
        groups_of[group.offer].append(g)
    for o, offer in enumerate(instance.offers):
        if deadline is not None and time.perf_counter() > deadline:
            break
        order = sorted(
            (j for g in groups_of[o] for j in problem.groups[g].pairs),
            key=lambda j: (
                -instance.needs[problem.pair_need[j]].urgency, -problem.pair_value[j], j
            ),
        )
        supply, served, done = offer.quantity, 0, set()
        for first in order:
            g = problem.pair_group[first]
            if g in done or supply <= 0:
                continue
            if offer.max_villages is not None and served >= offer.max_villages:
                break
            done.add(g)
            plan = _fill_village(problem, g, first, order, supply, remaining, sums)
            if plan is None:
                continue
            gain, units = plan
            if gain <= policy.fragmentation_penalty:
                continue
            for j, amount in units:
                x[j] += amount
                n = problem.pair_need[j]
                remaining[n] -= amount
                sums[problem.need_village[n]] += amount / instance.needs[n].quantity
                supply -= amount
            served += 1
    return x


def _fill_village(
    problem: Problem,
    g: int,
    first: int,
    order: list[int],
    supply: int,
    remaining: list[int],
    sums: list[float],
) -> tuple[float, list[tuple[int, int]]] | None:
    """Units to give group g's needs (most urgent first), and their gain, or None."""
    instance, policy = problem.instance, problem.instance.policy
    offer = instance.offers[problem.groups[g].offer]
    members = set(problem.groups[g].pairs)
    pairs = [first] + [j for j in order if j in members and j != first]
    room = sum(remaining[problem.pair_need[j]] for j in pairs)
    total = min(supply, room)
    if offer.indivisible and (supply < offer.quantity or room < offer.quantity):
        return None
    if total < max(1, offer.min_lot):
        return None
    units, left, value, cover = [], total, 0.0, 0.0
    for j in pairs:
        n = problem.pair_need[j]
        amount = min(left, remaining[n])
        if amount > 0:
            units.append((j, amount))
            value += amount * problem.pair_value[j]
            cover += amount / instance.needs[n].quantity
            left -= amount
    v = problem.groups[g].village
    relief = shortfall(problem, v, sums[v]) - shortfall(problem, v, sums[v] + cover)
    return value + policy.fairness_penalty * relief, units


def solve_greedy(instance: Instance) -> Result:
    """Solve by the first-come-first-served baseline (no optimisation, no bound)."""
    start = time.perf_counter()
    problem = build_problem(instance)
    x = greedy_vector(problem)
    return make_result(problem, x, None, time.perf_counter() - start, "greedy", {})
