"""Large-neighbourhood search: free a few related offers, re-solve them exactly on CP-SAT.

Each step frees k offers that compete for the same villages (same category, overlapping
villages) or that can all reach one village (any category, for fairness), keeps every other
offer's units fixed, and solves the freed offers' part of the model exactly, starting from the
current units. Better solutions are kept. k grows while steps finish quickly and shrinks when
they time out. With `workers` >= 2, that many threads run single-worker steps on a shared
incumbent; a step's result is merged only if it is still feasible and better.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from optimizer.cpsat import build_submodel, objective_scale, solve_submodel
from optimizer.problem import Problem
from optimizer.solution import objective, shortfall

STEP_SECONDS = 0.5  # CP-SAT time per step
LNS_SCALE = 1e6  # objective scale in steps; acceptance uses the exact objective
KMAX = 8  # most offers freed in one step
FOCUS_GROUPS = 20  # an offer's best villages by value that every step may give it
RANDOM, RELATED = 0.5, 0.3  # shares of random and related steps; the rest are village steps


@dataclass
class _Neighbours:
    """For each offer its pairs and villages; offers per category and per village.

    `focus[o]` are the pairs a step offers to o besides those it uses now: the villages the LP
    relaxation gives it units in, and its FOCUS_GROUPS best villages by unit value. A step over
    a few dozen villages per offer is solved to optimality in a fraction of the time one over
    all of an unrestricted offer's villages takes (a wide offer reaches every village).
    """

    pairs: list[list[int]]
    focus: list[list[int]]
    villages: list[set[int]]
    by_category: dict[str, list[int]]
    by_village: list[list[int]]


def _neighbours(problem: Problem, guide: Sequence[float] | None = None) -> _Neighbours:
    instance = problem.instance
    pairs = _pairs_by_offer(problem)
    villages: list[set[int]] = [set() for _ in instance.offers]
    by_village: list[list[int]] = [[] for _ in instance.villages]
    for group in problem.groups:
        villages[group.offer].add(group.village)
        by_village[group.village].append(group.offer)
    by_category: dict[str, list[int]] = {}
    for o, offer in enumerate(instance.offers):
        if pairs[o]:
            by_category.setdefault(offer.category, []).append(o)
    focus: list[list[int]] = [[] for _ in instance.offers]
    for g in _focus_groups(problem, guide):
        focus[problem.groups[g].offer].extend(problem.groups[g].pairs)
    return _Neighbours(pairs, focus, villages, by_category, by_village)


def _pairs_by_offer(problem: Problem) -> list[list[int]]:
    """Each offer's pairs, in pair order (one stable sort, not a Python pass per pair)."""
    offers = len(problem.instance.offers)
    pair_offer = np.asarray(problem.pair_offer, dtype=np.int64)
    order = np.argsort(pair_offer, kind="stable")
    ends = np.cumsum(np.bincount(pair_offer, minlength=offers)).tolist()
    flat = order.tolist()
    return [flat[(ends[o - 1] if o else 0) : ends[o]] for o in range(offers)]


def _focus_groups(problem: Problem, guide: Sequence[float] | None) -> list[int]:
    """Each offer's FOCUS_GROUPS groups of highest unit value, and the groups the LP uses."""
    if not problem.groups:
        return []
    values = np.array(problem.pair_value)
    starts = np.array([group.pairs[0] for group in problem.groups], dtype=np.int64)
    best = np.maximum.reduceat(values, starts)  # a group's pairs are contiguous
    offer = np.array([group.offer for group in problem.groups], dtype=np.int64)
    order = np.lexsort((-best, offer))  # by offer, best first
    first = np.r_[True, offer[order][1:] != offer[order][:-1]]
    begin = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    chosen = np.zeros(len(problem.groups), dtype=bool)
    chosen[order[np.arange(len(order)) - begin < FOCUS_GROUPS]] = True
    if guide is not None:
        used = np.asarray(guide, dtype=float) > 1e-6
        chosen[np.array(problem.pair_group, dtype=np.int64)[used]] = True
    return np.flatnonzero(chosen).tolist()


def _related_offers(near: _Neighbours, problem: Problem, rng: random.Random, k: int) -> list[int]:
    """A seed offer and the k-1 offers of its category sharing most villages with it."""
    seed = rng.choice([o for offers in near.by_category.values() for o in offers])
    peers = near.by_category[problem.instance.offers[seed].category]
    mine = near.villages[seed]
    scored = sorted(
        (-len(mine & near.villages[o]) - rng.random(), o) for o in peers if o != seed
    )
    return [seed] + [o for _, o in scored[: k - 1]]


def _random_offers(near: _Neighbours, problem: Problem, rng: random.Random, k: int) -> list[int]:
    """k offers drawn at random from one category."""
    peers = near.by_category[rng.choice(sorted(near.by_category))]
    return rng.sample(peers, min(k, len(peers)))


def _village_offers(
    near: _Neighbours, problem: Problem, given: list[int], rng: random.Random, k: int
) -> tuple[list[int], int]:
    """Up to k offers able to reach one village, preferring villages below the floor."""
    sums = _coverage_sums(problem, given)
    short = [v for v, s in enumerate(sums) if shortfall(problem, v, s) > 0 and near.by_village[v]]
    pool = short or [v for v in range(len(sums)) if near.by_village[v]]
    village = rng.choice(pool)
    offers = list(dict.fromkeys(near.by_village[village]))
    rng.shuffle(offers)
    return offers[:k], village


def _coverage_sums(problem: Problem, given: list[int]) -> list[float]:
    """Per village, the sum of its needs' received shares, from the units per need."""
    needs = problem.instance.needs
    sums = [0.0] * len(problem.village_needs)
    for n, units in enumerate(given):
        if units:
            sums[problem.need_village[n]] += units / needs[n].quantity
    return sums


class _Search:
    """The shared state of the search threads: the incumbent, its units per need, its objective.

    The incumbent lists are replaced, never changed in place, so a thread's snapshot stays
    consistent while another thread merges.
    """

    def __init__(
        self,
        problem: Problem,
        x: list[int],
        on_improve: Callable[[list[int], float], None],
        guide: Sequence[float] | None = None,
    ) -> None:
        self.problem = problem
        self.near = _neighbours(problem, guide)
        self.x, self.best = x, objective(problem, x)
        self.given = [0] * len(problem.instance.needs)
        for j in np.flatnonzero(np.asarray(x, dtype=np.int64)).tolist():
            self.given[problem.pair_need[j]] += x[j]
        self.on_improve = on_improve
        self.lock = threading.Lock()
        self.scale = min(LNS_SCALE, objective_scale(problem))

    def snapshot(self) -> tuple[list[int], list[int]]:
        with self.lock:
            return self.x, self.given

    def merge(self, free: list[int], units: dict[int, int]) -> None:
        """Put the freed offers' new units into the incumbent if it is still feasible and better.

        Another thread may have changed other offers meanwhile, so demand is checked again.
        The change is priced on the pairs, links and villages it touches: the value of the
        changed units, the links opened or closed, the shortfall of the villages touched. That
        is the whole difference of the objective (no other term moves), so the whole solution
        is not priced again (that took 30% of the search's time on hezhou-31); the result's
        objective is recomputed from scratch by `make_result` at the end.
        """
        problem = self.problem
        policy, needs = problem.instance.policy, problem.instance.needs
        with self.lock:
            x, given = self.x, list(self.given)
            changes: dict[int, int] = {}
            for o in free:
                for j in self.near.pairs[o]:
                    if x[j]:
                        changes[j] = 0
            for j, units_j in units.items():
                if units_j or j in changes:
                    changes[j] = units_j
            changes = {j: u for j, u in changes.items() if u != x[j]}
            if not changes:
                return
            value, groups, villages = 0.0, set(), set()
            for j, u in changes.items():
                n = problem.pair_need[j]
                given[n] += u - x[j]
                value += (u - x[j]) * problem.pair_value[j]
                groups.add(problem.pair_group[j])
                villages.add(problem.need_village[n])
            touched = {problem.pair_need[j] for j in changes}
            if any(given[n] > needs[n].quantity for n in touched):
                return
            trial = list(x)
            for j, u in changes.items():
                trial[j] = u
            links = sum(
                any(trial[j] for j in problem.groups[g].pairs)
                - any(x[j] for j in problem.groups[g].pairs)
                for g in groups
            )
            fairness = 0.0
            for v in villages:
                before = sum(self.given[n] / needs[n].quantity for n in problem.village_needs[v])
                after = sum(given[n] / needs[n].quantity for n in problem.village_needs[v])
                fairness += shortfall(problem, v, after) - shortfall(problem, v, before)
            gain = (
                value - policy.fragmentation_penalty * links - policy.fairness_penalty * fairness
            )
            tolerance = 1e-9 * max(1.0, abs(self.best))
            if gain <= tolerance:
                return
            self.x, self.given, self.best = trial, given, self.best + gain
            self.on_improve(trial, self.best)


def _candidates(search: _Search, o: int, x: list[int], village: int | None) -> list[int]:
    """The pairs a step offers to offer o: its focus, the groups it uses now, and the village
    the step is about."""
    problem = search.problem
    chosen = set(search.near.focus[o])
    for j in search.near.pairs[o]:
        if x[j] or (village is not None and problem.need_village[problem.pair_need[j]] == village):
            chosen.update(problem.groups[problem.pair_group[j]].pairs)
    return sorted(chosen)


def _steps(
    search: _Search,
    deadline: float,
    seed: int,
    workers: int,
    should_stop: Callable[[], bool] | None,
) -> None:
    """One thread's loop of neighbourhood steps until the deadline."""
    problem, near = search.problem, search.near
    rng = random.Random(seed)
    k = 8
    while time.perf_counter() < deadline - 0.05 and not (should_stop and should_stop()):
        x, given = search.snapshot()
        draw = rng.random()
        village = None
        if draw < RANDOM:
            free = _random_offers(near, problem, rng, k)
        elif draw < RANDOM + RELATED:
            free = _related_offers(near, problem, rng, k)
        else:
            free, village = _village_offers(near, problem, given, rng, k)
        candidates = {o: _candidates(search, o, x, village) for o in free}
        sub = build_submodel(problem, free, candidates.__getitem__, x, search.scale, given)
        optimal, found, units = solve_submodel(
            sub, min(STEP_SECONDS, deadline - time.perf_counter()), workers,
            rng.randrange(1 << 30),
        )
        k = min(KMAX, k + 1) if optimal else max(3, k - 2)
        if found:
            search.merge(free, units)


def improve(
    problem: Problem,
    x: list[int],
    deadline: float,
    *,
    workers: int,
    seed: int,
    on_improve: Callable[[list[int], float], None],
    should_stop: Callable[[], bool] | None = None,
    guide: Sequence[float] | None = None,
) -> list[int]:
    """Improve `x` by large-neighbourhood steps until `deadline` (perf_counter seconds);
    `guide`, the LP relaxation's units per pair, widens each offer's focus (_Neighbours).

    With several workers, that many threads each run single-worker CP-SAT steps (CP-SAT
    releases the GIL while it searches); with one worker, the steps run in this thread.
    """
    if time.perf_counter() >= deadline - 0.05 or (should_stop and should_stop()):
        return x
    search = _Search(problem, x, on_improve, guide)
    if not search.near.by_category:
        return x
    if workers <= 1:
        _steps(search, deadline, seed, 1, should_stop)
        return search.x
    threads = [
        threading.Thread(target=_steps, args=(search, deadline, seed + i, 1, should_stop))
        for i in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return search.x
