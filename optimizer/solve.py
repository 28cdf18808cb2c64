"""The solve: exact MILP for small instances; LP, LP-guided construction and LNS for large."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from optimizer.construct import best_gain, lp_guided
from optimizer.evaluate import evaluate
from optimizer.greedy import greedy_vector
from optimizer.lns import improve
from optimizer.lp import Relaxation, solve_relaxation
from optimizer.mip import solve_mip
from optimizer.model import Allocation, Instance, Progress, Result
from optimizer.problem import Problem, build_problem
from optimizer.result import make_result
from optimizer.solution import allocations, objective

EXACT_PAIRS = 5000  # up to this many eligible pairs, SCIP solves the whole model
SLOWEST = 2.0  # the most the construction's share of a limit grows on a loaded machine


def finish_seconds(pairs: int) -> float:
    """Time kept after the search for assembling and checking the result (with a margin for a
    loaded machine): about 0.1 s on a Hezhou week of 80,000 pairs when the machine is idle."""
    return 0.15 + 3e-6 * pairs


def solve(
    instance: Instance,
    *,
    time_limit: float = 30.0,
    workers: int = 2,
    seed: int = 0,
    progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    start_from: Sequence[Allocation] | None = None,
) -> Result:
    """Solve the weekly allocation model within `time_limit` seconds of wall time, from the
    call to the returned Result: indexing, the LP, the search and the result's own check.

    `start_from`, a known feasible allocation (say the previous preview of the same week, before
    a weight changed), is used as the starting solution when it is better than the solver's own
    construction, so the result is never worse than it. `settings["start"]` tells what became
    of it: "used", "construction better", or "not feasible" (an allocation this week can no
    longer take: an offer or need changed, or a pair is no longer eligible).
    """
    start = time.perf_counter()
    problem = build_problem(instance)
    slow = _slowness(time.perf_counter() - start, len(problem.pair_offer))
    # The result is assembled and checked by evaluate after the search: keep time for it.
    deadline = start + max(0.05, time_limit - finish_seconds(len(problem.pair_offer)))
    hint = _vector(problem, start_from) if start_from else None
    settings: dict[str, float | int | str | None] = {
        "time_limit": time_limit, "workers": workers, "seed": seed,
    }

    def report(best: float | None, bound: float | None) -> None:
        if progress is not None:
            progress(Progress(time.perf_counter() - start, best, bound))

    if len(problem.pair_offer) <= EXACT_PAIRS:
        x, bound, method, used = _exact(problem, deadline, seed, report, should_stop, hint)
    else:
        x, bound, method, used = _large(
            problem, deadline, workers, seed, report, should_stop, hint, slow
        )
    if start_from:
        settings["start"] = (
            "not feasible" if hint is None else "used" if used else "construction better"
        )
    result = make_result(problem, x, bound, time.perf_counter() - start, method, settings)
    report(result.objective, result.bound)
    return result


Reporter = Callable[[float | None, float | None], None]


def _slowness(build_seconds: float, pairs: int) -> float:
    """How much slower than an idle machine this one runs now, read from the time indexing
    the week took (about 0.05 s + 2.5 us per pair when idle; a week indexed before, when solve
    and solve_greedy share it, reads as idle); at most 2, as the LP needs its time too (the
    rolling plan's 5-s weeks lost value when a loaded machine read as 5 times slower)."""
    return min(SLOWEST, max(1.0, build_seconds / (0.05 + 2.5e-6 * pairs)))


def _exact(
    problem: Problem,
    deadline: float,
    seed: int,
    report: Reporter,
    should_stop: Callable[[], bool] | None,
    hint: list[int] | None = None,
) -> tuple[list[int], float | None, str, bool]:
    """SCIP on the whole model, started from the best-gain construction (or the given start
    when it is better; the last item tells)."""
    start_x, used = _better(problem, best_gain(problem), hint)
    report(objective(problem, start_x), None)
    outcome = solve_mip(problem, deadline - time.perf_counter(), seed, start_x, should_stop)
    if outcome.x is None or not _feasible(problem, outcome.x):
        return start_x, None, "best-gain", used
    if objective(problem, outcome.x) < objective(problem, start_x):
        return start_x, outcome.bound, "best-gain", used
    return outcome.x, outcome.bound, "scip-milp", used


def _large(
    problem: Problem,
    deadline: float,
    workers: int,
    seed: int,
    report: Reporter,
    should_stop: Callable[[], bool] | None,
    hint: list[int] | None = None,
    slow: float = 1.0,
) -> tuple[list[int], float | None, str, bool]:
    """LP bound, LP-guided construction (or the given start when it is better; the last item
    tells), then large-neighbourhood search until the deadline."""
    # The LP gets what is left less the construction's share, so a slow LP (a loaded machine)
    # never leaves the construction without time: the share grows with the machine's
    # slowness (`slow`; at load 9 on 2 cores, hezhou-31's LP took 8.6 s and its construction
    # 1.2 s, and a 10-s solve that kept the idle share returned nothing).
    # Without the time an LP of this size needs (about 1 s per 100,000 pairs when idle), it is
    # skipped: a construction without it beats none.
    pairs = len(problem.pair_offer)
    construct_share = (0.3 + 8e-6 * pairs) * slow
    lp_time = deadline - time.perf_counter() - construct_share
    if lp_time >= 0.5 + 1e-5 * pairs:
        relaxation = solve_relaxation(problem, lp_time)
    else:
        relaxation = Relaxation((), None, None)
    bound = relaxation.bound
    # Without an LP solution (no time for it), build without its guidance.
    if bound is None:  # first come, first served is quick and complete; then any gain
        x = best_gain(problem, greedy_vector(problem, deadline), deadline=deadline)
    else:
        x = lp_guided(problem, relaxation.units, deadline)
    x, used = _better(problem, x, hint)
    report(objective(problem, x), bound)
    x = improve(
        problem, x, deadline, workers=workers, seed=seed,
        on_improve=lambda _, best: report(best, bound), should_stop=should_stop,
        guide=relaxation.units if bound is not None else None,
    )
    return x, bound, "lp-guided+lns" if bound is not None else "greedy+gain+lns", used


def _feasible(problem: Problem, x: list[int]) -> bool:
    """Whether units read back from a MILP solver hold every hard constraint."""
    return evaluate(problem.instance, allocations(problem, x)).feasible


def _vector(problem: Problem, chosen: Sequence[Allocation]) -> list[int] | None:
    """Units per pair of a given allocation, or None if it is not feasible here."""
    index = {
        (problem.instance.offers[o].id, problem.instance.needs[n].id): j
        for j, (o, n) in enumerate(zip(problem.pair_offer, problem.pair_need, strict=True))
    }
    x = [0] * len(problem.pair_offer)
    for a in chosen:
        j = index.get((a.offer, a.need))
        if j is None:
            return None
        x[j] += a.quantity
    return x if _feasible(problem, x) else None


def _better(
    problem: Problem, x: list[int], other: list[int] | None
) -> tuple[list[int], bool]:
    """The better of two solutions (the first on ties), and whether it is the other."""
    if other is not None and objective(problem, other) > objective(problem, x):
        return other, True
    return x, False
