"""solve(): progress, cancellation, reproducibility, recorded settings, greedy baseline."""

from __future__ import annotations

import importlib
import time

import pytest

from optimizer import Progress, evaluate, parse_instance, result_to_json, solve, solve_greedy
from optimizer.solution import allocations
from tests.optimizer.factories import INSTANCES, instance, random_instance


def test_progress_reports_and_settings_are_recorded() -> None:
    seen: list[Progress] = []
    result = solve(parse_instance(random_instance(7)), seed=3, workers=1, progress=seen.append)
    assert seen and all(p.elapsed >= 0 for p in seen)
    assert seen[-1].objective == result.objective
    output = result_to_json(result)
    assert output["solver"]["seed"] == 3 and output["solver"]["workers"] == 1
    assert output["solver"]["time_limit"] == 30.0


def test_same_input_same_allocation_when_optimal() -> None:
    data = parse_instance(random_instance(11))
    first, second = solve(data), solve(data)
    assert first.status == second.status == "optimal"
    assert first.allocations == second.allocations


def test_empty_instance() -> None:
    result = solve(parse_instance(instance([], [], [])))
    assert result.status == "optimal" and result.objective == 0 and result.allocations == ()
    assert solve_greedy(parse_instance(instance([], [], []))).objective == 0


@pytest.mark.parametrize("path", ["exact", "large"])
def test_should_stop_cancels(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if not (INSTANCES / "medium-21.json").exists():
        pytest.skip(f"shared sample instances not found at {INSTANCES}")
    from optimizer import load_instance

    if path == "large":
        monkeypatch.setattr(importlib.import_module("optimizer.solve"), "EXACT_PAIRS", -1)
    data = load_instance(str(INSTANCES / "medium-21.json"))
    start = time.perf_counter()
    result = solve(data, time_limit=60, should_stop=lambda: time.perf_counter() - start > 1.0)
    assert time.perf_counter() - start < 10
    assert evaluate(data, result.allocations).feasible


def test_greedy_never_beats_a_proven_optimum() -> None:
    for seed in range(30):
        data = parse_instance(random_instance(seed))
        greedy = solve_greedy(data)
        assert evaluate(data, greedy.allocations).feasible
        assert greedy.objective <= solve(data).objective + 1e-6


@pytest.mark.parametrize(
    ("seed", "wide", "kinds"), [(1, 0.6, False), (2, None, True), (3, 0.3, True)]
)
def test_the_baseline_indexed_in_batches_gives_the_same_week(
    seed: int, wide: float | None, kinds: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large week's first-come-first-served baseline is indexed a batch of offers at a time
    (a province week indexed whole took 13 GB): the allocations are exactly those of one index."""
    from benchmarks.province_gen import generate as generate_province
    from optimizer import greedy
    from optimizer.problem import build_problem

    instance = parse_instance(
        generate_province(villages=200, needs=1600, offers=800, seed=seed, wide=wide, kinds=kinds)
    )
    whole = build_problem(instance)
    expected = allocations(whole, greedy.greedy_vector(whole))
    monkeypatch.setattr(greedy, "BATCH_PAIRS", 20_000)
    batched = greedy.solve_greedy(instance)
    assert len(instance.offers) > greedy.FIRST_BATCH and batched.allocations == expected
    assert evaluate(instance, batched.allocations).objective == pytest.approx(batched.objective)
