"""A solution as a vector of units per pair: its objective, and its allocations."""

from __future__ import annotations

import math

from optimizer.model import Allocation
from optimizer.problem import Problem


def coverage_sums(problem: Problem, x: list[int]) -> list[float]:
    """Per village, the sum over its needs of the fraction received."""
    given = [0] * len(problem.need_village)
    for j, units in enumerate(x):
        if units:
            given[problem.pair_need[j]] += units
    sums = [0.0] * len(problem.village_needs)
    for n, units in enumerate(given):
        if units:
            sums[problem.need_village[n]] += units / problem.instance.needs[n].quantity
    return sums


def shortfall(problem: Problem, village: int, coverage_sum: float) -> float:
    """max(0, floor - coverage) of a reachable village; 0 for the others."""
    if not problem.reachable[village]:
        return 0.0
    count = len(problem.village_needs[village])
    return max(0.0, problem.instance.policy.fairness_floor - coverage_sum / count)


def objective(problem: Problem, x: list[int]) -> float:
    """The spec's objective of solution `x` (fast; `evaluate` is the independent check)."""
    policy = problem.instance.policy
    value = math.fsum(units * problem.pair_value[j] for j, units in enumerate(x) if units)
    links = len({problem.pair_group[j] for j, units in enumerate(x) if units})
    sums = coverage_sums(problem, x)
    short = math.fsum(shortfall(problem, v, s) for v, s in enumerate(sums))
    return value - policy.fragmentation_penalty * links - policy.fairness_penalty * short


def allocations(problem: Problem, x: list[int]) -> tuple[Allocation, ...]:
    """The allocations of `x`, in offer then need order."""
    instance = problem.instance
    found = [
        Allocation(
            offer=instance.offers[problem.pair_offer[j]].id,
            need=instance.needs[problem.pair_need[j]].id,
            quantity=units,
            km=round(problem.pair_km[j], 6),
            value=units * problem.pair_value[j],
        )
        for j, units in enumerate(x)
        if units > 0
    ]
    return tuple(sorted(found, key=lambda a: (a.offer, a.need)))
