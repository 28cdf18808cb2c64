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


def test_generated_weeks_with_kinds_look_like_the_shared_kinds_instances() -> None:
    plain = generate(villages=120, offers=300, seed=4)
    data = generate(villages=120, offers=300, seed=4, kinds=True)
    assert data == generate(villages=120, offers=300, seed=4, kinds=True)
    assert plain == generate(villages=120, offers=300, seed=4)  # v1 weeks unchanged
    for with_kinds, without in zip(data["needs"], plain["needs"], strict=True):
        assert {k: v for k, v in with_kinds.items() if k not in ("item", "accepts")} == without
    needs, offers = data["needs"], data["offers"]
    assert all(n["item"].startswith(n["category"] + ".") for n in needs)
    accepting = [n for n in needs if n.get("accepts")]
    assert 0.10 < len(accepting) / len(needs) < 0.20
    assert all(
        a != n["item"] and a.startswith(n["category"] + ".") for n in accepting
        for a in n["accepts"]
    )
    shapes = {len(o.get("items", [])) for o in offers}
    assert shapes == {0, 1, 2}
    leaves = {n["item"] for n in needs}
    assert any(k not in leaves for o in offers for k in o.get("items", []))  # parents
    instance = parse_instance(data)
    greedy = solve_greedy(instance)
    assert evaluate(instance, greedy.allocations).feasible
