"""The benchmark's instance generator makes valid, seeded, Hezhou-like instances."""

from __future__ import annotations

from benchmarks.instance_gen import generate
from optimizer import evaluate, parse_instance, solve_greedy


def test_generated_instances_are_valid_and_seeded() -> None:
    data = generate(villages=40, offers=60, seed=5)
    assert data == generate(villages=40, offers=60, seed=5)
    instance = parse_instance(data)
    assert len({v.county for v in instance.villages}) == 5
    assert any(o.indivisible for o in instance.offers)
    assert any(o.lat is None for o in instance.offers) or any(
        v.lat is None for v in instance.villages
    )
    greedy = solve_greedy(instance)
    assert evaluate(instance, greedy.allocations).feasible
