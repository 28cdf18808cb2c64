"""A best-gain construction: repeatedly open the (offer, village) link that adds the most."""

from __future__ import annotations

import heapq
import time

from optimizer.problem import Problem
from optimizer.solution import coverage_sums


class _State:
    """Units left per offer and need, coverage per village, links per offer."""

    def __init__(self, problem: Problem, x: list[int]) -> None:
        instance = problem.instance
        self.problem = problem
        self.x = list(x)
        self.supply = [o.quantity for o in instance.offers]
        self.room = [n.quantity for n in instance.needs]
        self.links = [0] * len(instance.offers)
        self.open: set[int] = set()
        for j, units in enumerate(x):
            if units:
                self.supply[problem.pair_offer[j]] -= units
                self.room[problem.pair_need[j]] -= units
                self.open.add(problem.pair_group[j])
        for g in self.open:
            self.links[problem.groups[g].offer] += 1
        self.sums = coverage_sums(problem, x)

    def plan(self, g: int) -> tuple[float, list[tuple[int, int]]]:
        """The gain of opening group g now, filling its best needs first, and its units."""
        problem = self.problem
        instance, policy = problem.instance, problem.instance.policy
        group = problem.groups[g]
        offer = instance.offers[group.offer]
        supply = self.supply[group.offer]
        if g in self.open or supply < max(1, offer.min_lot):
            return 0.0, []
        if offer.max_villages is not None and self.links[group.offer] >= offer.max_villages:
            return 0.0, []
        if offer.indivisible and (self.links[group.offer] or supply < offer.quantity):
            return 0.0, []
        v = group.village
        count = len(problem.village_needs[v])
        fair = policy.fairness_penalty if problem.reachable[v] else 0.0
        deficit = max(0.0, policy.fairness_floor - self.sums[v] / count)
        needs = instance.needs
        ranked = sorted(
            group.pairs,
            key=lambda j: -(
                problem.pair_value[j] + fair / (count * needs[problem.pair_need[j]].quantity)
            ),
        )
        total = min(supply, sum(self.room[problem.pair_need[j]] for j in ranked))
        need_total = offer.quantity if offer.indivisible else max(1, offer.min_lot)
        if total < need_total:
            return 0.0, []
        left, gain, units = total, -policy.fragmentation_penalty, []
        for j in ranked:
            n = problem.pair_need[j]
            amount = min(left, self.room[n])
            if amount <= 0:
                continue
            quantity = instance.needs[n].quantity
            relief = min(deficit, amount / (count * quantity))
            deficit -= relief
            gain += amount * problem.pair_value[j] + fair * relief
            units.append((j, amount))
            left -= amount
            if left == 0:
                break
        return gain, units

    def apply(self, g: int, units: list[tuple[int, int]]) -> None:
        problem = self.problem
        group = problem.groups[g]
        for j, amount in units:
            n = problem.pair_need[j]
            self.x[j] += amount
            self.supply[group.offer] -= amount
            self.room[n] -= amount
            self.sums[group.village] += amount / problem.instance.needs[n].quantity
        self.open.add(g)
        self.links[group.offer] += 1


def best_gain(
    problem: Problem,
    x: list[int] | None = None,
    groups: list[int] | None = None,
    deadline: float | None = None,
) -> list[int]:
    """Extend `x` (default: nothing given) by opening links in order of gain while any gains.

    Each link opened keeps every hard constraint, so stopping early at `deadline`
    (time.perf_counter() seconds) still returns a feasible allocation.
    """
    state = _State(problem, x or [0] * len(problem.pair_offer))
    candidates = range(len(problem.groups)) if groups is None else groups
    heap = []
    for count, g in enumerate(candidates):
        if deadline is not None and count % 128 == 0 and time.perf_counter() > deadline:
            break
        gain, _ = state.plan(g)
        if gain > 0:
            heap.append((-gain, g))
    heapq.heapify(heap)
    count = 0
    while heap:
        count += 1
        if deadline is not None and count % 32 == 0 and time.perf_counter() > deadline:
            break
        _, g = heapq.heappop(heap)
        gain, units = state.plan(g)
        if gain <= 0:
            continue
        if heap and gain < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-gain, g))
            continue
        state.apply(g, units)
    return state.x


def lp_guided(
    problem: Problem, units: tuple[float, ...] | list[float], deadline: float | None = None
) -> list[int]:
    """Open first the links the LP relaxation uses most fully, then any link that gains
    (until `deadline`, if given: the result is feasible whenever it stops)."""
    flow: dict[int, float] = {}
    for j, u in enumerate(units):
        if u > 1e-9:
            g = problem.pair_group[j]
            flow[g] = flow.get(g, 0.0) + u
    x: list[int] | None = None
    for share in (0.9, 0.5, 0.25, 0.1, 0.0):
        tier = sorted(g for g, f in flow.items() if f >= share * problem.groups[g].capacity)
        x = best_gain(problem, x, tier, deadline)
    return best_gain(problem, x, None, deadline)
