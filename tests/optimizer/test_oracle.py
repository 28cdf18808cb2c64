"""The solver against an independent oracle (scipy's HiGHS on the model written again)."""

from __future__ import annotations

import importlib

import pytest

from optimizer import evaluate, parse_instance, solve
from tests.optimizer.factories import random_instance
from tests.optimizer.oracle import optimum


def check(seed: int) -> None:
    data = random_instance(seed)
    result = solve(parse_instance(data), time_limit=10)
    best = optimum(data)
    checked = evaluate(parse_instance(data), result.allocations)
    assert checked.feasible, checked.violations
    assert result.objective == pytest.approx(checked.objective, rel=1e-12, abs=1e-9)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    assert result.bound is not None and result.bound >= best - 1e-6 * max(1.0, abs(best))


@pytest.mark.parametrize("seed", range(40))
def test_matches_oracle(seed: int) -> None:
    check(seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(40, 400))
def test_matches_oracle_sweep(seed: int) -> None:
    check(seed)


@pytest.mark.parametrize("seed", range(20))
def test_lp_bound_is_above_the_optimum(seed: int) -> None:
    """The large-instance path's LP bound (duality-proven) is never below the optimum."""
    from optimizer.lp import solve_relaxation
    from optimizer.problem import build_problem

    data = random_instance(1000 + seed)
    bound = solve_relaxation(build_problem(parse_instance(data)), 10).bound
    assert bound is not None and bound >= optimum(data) - 1e-6


@pytest.mark.parametrize("seed", range(10))
def test_large_path_is_feasible_and_exact(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The LP-guided construction and LNS, forced on a small instance, stay feasible."""
    monkeypatch.setattr(importlib.import_module("optimizer.solve"), "EXACT_PAIRS", -1)
    data = random_instance(2000 + seed)
    result = solve(parse_instance(data), time_limit=0.5)
    checked = evaluate(parse_instance(data), result.allocations)
    assert checked.feasible
    assert result.objective == pytest.approx(checked.objective, rel=1e-12, abs=1e-9)
    assert result.objective <= optimum(data) + 1e-6
