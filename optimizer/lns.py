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
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from optimizer.cpsat import build_submodel, objective_scale
from optimizer.problem import Problem
from optimizer.solution import coverage_sums, objective, shortfall

STEP_SECONDS = 0.5  # CP-SAT time per step
LNS_SCALE = 1e6  # objective scale in steps; acceptance uses the exact objective
KMAX = 8  # most offers freed in one step
RANDOM, RELATED = 0.5, 0.3  # shares of random and related steps; the rest are village steps


@dataclass
class _Neighbours:
    """For each offer its pairs and villages; offers per category and per village."""

    pairs: list[list[int]]
    villages: list[set[int]]
    by_category: dict[str, list[int]]
    by_village: list[list[int]]


def _neighbours(problem: Problem) -> _Neighbours:
    instance = problem.instance
    pairs: list[list[int]] = [[] for _ in instance.offers]
    villages: list[set[int]] = [set() for _ in instance.offers]
    by_village: list[list[int]] = [[] for _ in instance.villages]
    for j, o in enumerate(problem.pair_offer):
        pairs[o].append(j)
    for group in problem.groups:
        villages[group.offer].add(group.village)
        by_village[group.village].append(group.offer)
    by_category: dict[str, list[int]] = {}
    for o, offer in enumerate(instance.offers):
        if pairs[o]:
            by_category.setdefault(offer.category, []).append(o)
    return _Neighbours(pairs, villages, by_category, by_village)


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
    near: _Neighbours, problem: Problem, x: list[int], rng: random.Random, k: int
) -> list[int]:
    """Up to k offers able to reach one village, preferring villages below the floor."""
    sums = coverage_sums(problem, x)
    short = [v for v, s in enumerate(sums) if shortfall(problem, v, s) > 0 and near.by_village[v]]
    pool = short or [v for v in range(len(sums)) if near.by_village[v]]
    village = rng.choice(pool)
    offers = list(dict.fromkeys(near.by_village[village]))
    rng.shuffle(offers)
    return offers[:k]


class _Search:
    """The shared state of the search threads: the incumbent and its objective."""

    def __init__(
        self, problem: Problem, x: list[int], on_improve: Callable[[list[int], float], None]
    ) -> None:
        self.problem = problem
        self.near = _neighbours(problem)
        self.need_pairs: list[list[int]] = [[] for _ in problem.instance.needs]
        for j, n in enumerate(problem.pair_need):
            self.need_pairs[n].append(j)
        self.x, self.best = x, objective(problem, x)
        self.on_improve = on_improve
        self.lock = threading.Lock()
        self.scale = min(LNS_SCALE, objective_scale(problem))

    def merge(self, free: list[int], units: dict[int, int]) -> None:
        """Put the freed offers' new units into the incumbent if it is still feasible and better.

        Another thread may have changed other offers meanwhile, so demand is checked again.
        """
        with self.lock:
            trial = list(self.x)
            touched = set()
            for o in free:
                for j in self.near.pairs[o]:
                    trial[j] = 0
            for j, units_j in units.items():
                trial[j] = units_j
                if units_j:
                    touched.add(self.problem.pair_need[j])
            needs = self.problem.instance.needs
            for n in touched:
                if sum(trial[j] for j in self.need_pairs[n]) > needs[n].quantity:
                    return
            value = objective(self.problem, trial)
            if value > self.best + 1e-9 * max(1.0, abs(self.best)):
                self.x, self.best = trial, value
                self.on_improve(trial, value)


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
        with search.lock:
            x = search.x
        draw = rng.random()
        if draw < RANDOM:
            free = _random_offers(near, problem, rng, k)
        elif draw < RANDOM + RELATED:
            free = _related_offers(near, problem, rng, k)
        else:
            free = _village_offers(near, problem, x, rng, k)
        sub = build_submodel(problem, free, near.pairs.__getitem__, x, search.scale)
        for j, var in sub.x.items():
            sub.model.add_hint(var, x[j])
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(
            0.05, min(STEP_SECONDS, deadline - time.perf_counter())
        )
        solver.parameters.num_workers = workers
        solver.parameters.random_seed = rng.randrange(1 << 30)
        status = solver.solve(sub.model)
        k = min(KMAX, k + 1) if status == cp_model.OPTIMAL else max(3, k - 2)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            search.merge(free, {j: solver.value(var) for j, var in sub.x.items()})


def improve(
    problem: Problem,
    x: list[int],
    deadline: float,
    *,
    workers: int,
    seed: int,
    on_improve: Callable[[list[int], float], None],
    should_stop: Callable[[], bool] | None = None,
) -> list[int]:
    """Improve `x` by large-neighbourhood steps until `deadline` (perf_counter seconds).

    With several workers, that many threads each run single-worker CP-SAT steps (CP-SAT
    releases the GIL while it searches); with one worker, the steps run in this thread.
    """
    search = _Search(problem, x, on_improve)
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
