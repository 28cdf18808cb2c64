"""The first-come-first-served baseline: offers in arrival order fill the most urgent needs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from optimizer.model import Allocation, Instance, Result
from optimizer.problem import Problem, build_problem, reachable_villages, shared_problem
from optimizer.result import checked_result, make_result
from optimizer.solution import allocations, coverage_sums, shortfall

BATCH_PAIRS = 1_000_000  # eligible pairs a large week's baseline indexes at once
FIRST_BATCH = 256  # offers in the first batch (the next ones are sized by its pairs per offer)


def greedy_vector(
    problem: Problem,
    deadline: float | None = None,
    state: tuple[list[int], list[float]] | None = None,
) -> list[int]:
    """Greedy units per pair: each offer, in list order, serves villages by their most urgent
    eligible need, filling each served village's needs in urgency order, and only when the
    link improves the objective and every hard constraint still holds. At `deadline`
    (time.perf_counter() seconds) the offers not yet reached give nothing (still feasible).

    `state` (units each need still lacks, each village's coverage sum) carries the week from
    earlier offers when the offers are indexed in batches; it is updated in place."""
    instance, policy = problem.instance, problem.instance.policy
    x = [0] * len(problem.pair_offer)
    if state is None:
        remaining = [n.quantity for n in instance.needs]
        sums = coverage_sums(problem, x)
    else:
        remaining, sums = state
    groups_of: list[list[int]] = [[] for _ in instance.offers]
    for g, group in enumerate(problem.groups):
        groups_of[group.offer].append(g)
    for o, offer in enumerate(instance.offers):
        if deadline is not None and time.perf_counter() > deadline:
            break

        def rank(j: int) -> tuple[int, float, int]:
            return (-instance.needs[problem.pair_need[j]].urgency, -problem.pair_value[j], j)

        order = sorted((j for g in groups_of[o] for j in problem.groups[g].pairs), key=rank)
        supply, served, done = offer.quantity, 0, set()
        for first in order:
            g = problem.pair_group[first]
            if g in done or supply <= 0:
                continue
            if offer.max_villages is not None and served >= offer.max_villages:
                break
            done.add(g)
            plan = _fill_village(problem, g, first, rank, supply, remaining, sums)
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
    rank: Callable[[int], tuple[int, float, int]],
    supply: int,
    remaining: list[int],
    sums: list[float],
) -> tuple[float, list[tuple[int, int]]] | None:
    """Units to give group g's needs (most urgent first), and their gain, or None."""
    instance, policy = problem.instance, problem.instance.policy
    offer = instance.offers[problem.groups[g].offer]
    # The group's pairs in the offer's order (not a scan of all its pairs per village: a
    # province-wide offer reaches thousands of villages).
    pairs = [first] + [j for j in sorted(problem.groups[g].pairs, key=rank) if j != first]
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


def solve_greedy(instance: Instance, deadline: float | None = None) -> Result:
    """Solve by the first-come-first-served baseline (no optimisation, no bound); at `deadline`
    (time.perf_counter() seconds) the offers not yet reached give nothing.

    A week the optimizer has indexed already (inside `sharing_problems()`) reuses its index. A
    larger week is indexed a batch of offers at a time (about BATCH_PAIRS pairs each), in list
    order, carrying what each need lacks and each village's coverage from batch to batch: the
    same allocations as one index of the whole week, in a fraction of its memory (a province
    week of 30 million pairs took 13 GB indexed at once)."""
    start = time.perf_counter()
    problem = shared_problem(instance)
    if problem is None and len(instance.offers) > FIRST_BATCH:
        return _in_batches(instance, start, deadline)
    problem = problem or build_problem(instance)
    x = greedy_vector(problem, deadline)
    return make_result(problem, x, None, time.perf_counter() - start, "greedy", {})


def _in_batches(instance: Instance, start: float, deadline: float | None) -> Result:
    reached = reachable_villages(instance)
    reachable = tuple(v in reached for v in range(len(instance.villages)))
    remaining = [n.quantity for n in instance.needs]
    sums = [0.0] * len(instance.villages)
    found: list[Allocation] = []
    first, size = 0, FIRST_BATCH
    while first < len(instance.offers):
        if deadline is not None and time.perf_counter() > deadline:
            break
        batch = instance.offers[first : first + size]
        # The week's reachable villages, not the batch's: a village's fairness counts for
        # every offer that may reach it.
        problem = replace(build_problem(replace(instance, offers=batch)), reachable=reachable)
        x = greedy_vector(problem, deadline, state=(remaining, sums))
        found.extend(allocations(problem, x))
        per_offer = max(1.0, len(problem.pair_offer) / len(batch))
        first += len(batch)
        size = max(16, int(BATCH_PAIRS / per_offer))
    chosen = tuple(sorted(found, key=lambda a: (a.offer, a.need)))
    return checked_result(instance, chosen, method="greedy", seconds=time.perf_counter() - start)
