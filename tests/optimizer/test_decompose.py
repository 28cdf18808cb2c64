"""Decomposition of large weeks: independent parts, merged results, the bound, the executor."""

from __future__ import annotations

import json
import multiprocessing
import random
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.province_gen import generate as generate_province
from optimizer import evaluate, parse_instance, solve
from optimizer.decompose import (
    ELSEWHERE,
    bound_part,
    bound_payloads,
    combine_bounds,
    part_payloads,
    plan_parts,
    solve_decomposed,
)
from optimizer.problem import eligible_pairs

CATEGORIES = ["goods", "funds", "jobs"]


def regional_week(seed: int, *, wide: int = 0, fairness: float = 0.0) -> dict[str, Any]:
    """A small week over four counties; offers limited to one or two counties, `wide` not."""
    rng = random.Random(seed)
    counties = ["a1", "a2", "b1", "b2"]
    villages = [
        {
            "id": f"V{v}",
            "county": rng.choice(counties),
            "poverty_weight": rng.choice([1, 1.5]),
            "lat": 24 + rng.random() * 0.5,
            "lon": 110 + rng.random() * 0.5,
        }
        for v in range(10)
    ]
    needs = [
        {
            "id": f"N{n}",
            "village": v["id"],
            "category": c,
            "quantity": rng.randint(2, 30),
            "urgency": rng.randint(1, 5),
        }
        for n, (v, c) in enumerate(
            (v, c) for v in villages for c in rng.sample(CATEGORIES, rng.randint(1, 3))
        )
    ]
    offers = []
    for o in range(12 + wide):
        item: dict[str, Any] = {
            "id": f"O{o}",
            "donor": f"D{o % 4}",
            "category": rng.choice(CATEGORIES),
            "quantity": rng.randint(3, 60),
        }
        if o < 12:  # regional: one county, or the two counties of one "city"
            city = rng.choice("ab")
            item["counties"] = (
                [f"{city}1", f"{city}2"] if rng.random() < 0.4 else [f"{city}{rng.randint(1, 2)}"]
            )
        if rng.random() < 0.2:
            item["min_lot"] = max(1, item["quantity"] // 3)
        if rng.random() < 0.2:
            item["max_villages"] = rng.randint(1, 3)
        offers.append(item)
    return {
        "villages": villages,
        "needs": needs,
        "offers": offers,
        "policy": {
            "fragmentation_penalty": 5,
            "distance_discount_per_km": 0.001,
            "fairness_floor": 0.5,
            "fairness_penalty": fairness,
        },
    }


def test_parts_are_independent_and_cover_every_offer_once() -> None:
    instance = parse_instance(regional_week(3, wide=3))
    plan = plan_parts(instance)
    offers = [o for part in plan.parts for o in part.offers]
    needs = [n for part in plan.parts for n in part.needs]
    assert sorted(offers) == list(range(len(instance.offers)))  # every offer, once
    assert len(needs) == len(set(needs))  # no need in two parts
    part_of_need = {n: part.key for part in plan.parts for n in part.needs}
    part_of_offer = {o: part.key for part in plan.parts for o in part.offers}
    for o, n, _ in eligible_pairs(instance):
        offer = instance.offers[o]
        if offer.counties:  # a regional offer reaches only needs of its own part
            assert part_of_need[n] == part_of_offer[o]
        assert part_of_offer[o].split("/")[0] == instance.needs[n].category
    assert plan.wide_offers == 3
    parts_of_village: dict[tuple[str, str], set[str]] = {}
    for n, key in part_of_need.items():
        need = instance.needs[n]
        parts_of_village.setdefault((need.village, need.category), set()).add(key)
    assert all(len(keys) == 1 for keys in parts_of_village.values())  # one part per category


def test_without_fairness_or_wide_offers_decomposition_is_exact() -> None:
    for seed in range(4):
        instance = parse_instance(regional_week(seed))
        whole = solve(instance, time_limit=20)
        split = solve_decomposed(instance, budget=20, rounds=1)
        assert whole.status == "optimal"
        assert split.result.objective == evaluate(instance, split.result.allocations).objective
        assert abs(split.result.objective - whole.objective) <= 1e-6 * max(1, whole.objective)


def test_bound_holds_above_the_proven_optimum_with_fairness_and_wide_offers() -> None:
    for seed in range(3):
        instance = parse_instance(regional_week(seed, wide=2, fairness=400))
        whole = solve(instance, time_limit=20)
        assert whole.status == "optimal"
        bound = combine_bounds(instance, [bound_part(p) for p in bound_payloads(instance)])
        assert bound is not None and bound >= whole.objective - 1e-6
        split = solve_decomposed(instance, budget=20)
        assert split.result.objective <= whole.objective + 1e-6
        assert split.result.objective >= 0.8 * whole.objective


def test_placeholders_make_part_coverage_count_every_need_of_the_village() -> None:
    instance = parse_instance(regional_week(5, fairness=400))
    payloads = part_payloads(instance, plan_parts(instance), budget=5)
    count: dict[str, int] = {}
    for need in instance.needs:
        count[need.village] = count.get(need.village, 0) + 1
    for payload in payloads:
        json.dumps(payload)  # a job's input is plain JSON
        per_village: dict[str, int] = {}
        for need in payload["instance"]["needs"]:
            per_village[need["village"]] = per_village.get(need["village"], 0) + 1
        assert per_village == {v: count[v] for v in per_village}
        assert not any(o["category"] == ELSEWHERE for o in payload["instance"]["offers"])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), wide=st.integers(0, 3), fairness=st.sampled_from([0, 400]))
def test_merged_results_never_over_allocate(seed: int, wide: int, fairness: float) -> None:
    instance = parse_instance(regional_week(seed, wide=wide, fairness=fairness))
    split = solve_decomposed(instance, budget=4)
    checked = evaluate(instance, split.result.allocations)
    assert checked.feasible, checked.violations
    given_offer: dict[str, int] = {}
    given_need: dict[str, int] = {}
    for a in split.result.allocations:
        given_offer[a.offer] = given_offer.get(a.offer, 0) + a.quantity
        given_need[a.need] = given_need.get(a.need, 0) + a.quantity
    assert all(given_offer.get(o.id, 0) <= o.quantity for o in instance.offers)
    assert all(given_need.get(n.id, 0) <= n.quantity for n in instance.needs)
    assert split.result.objective == checked.objective


def test_parts_run_on_a_process_pool_with_the_same_result() -> None:
    instance = parse_instance(regional_week(8, wide=2, fairness=400))
    here = solve_decomposed(instance, budget=10, rounds=1)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        there = solve_decomposed(instance, budget=10, rounds=1, executor=pool, with_bound=True)
    assert there.result.allocations == here.result.allocations
    assert there.result.bound is not None and there.result.bound >= there.result.objective
    assert sorted(p["key"] for p in there.parts) == sorted(p["key"] for p in here.parts)


def test_province_generator_is_seeded_and_mostly_local() -> None:
    data = generate_province(villages=300, needs=2_400, offers=600, seed=2)
    assert data == generate_province(villages=300, needs=2_400, offers=600, seed=2)
    instance = parse_instance(data)
    assert len({v.county for v in instance.villages}) > 60
    local = sum(1 for o in instance.offers if o.counties or o.villages)
    assert 0.9 * len(instance.offers) < local < len(instance.offers)  # some province-wide
    assert len({o.category for o in instance.offers}) == 8
    two = generate_province(provinces=2, villages=100, needs=800, offers=200, seed=2)
    assert len(two["villages"]) == 200 and len({v["id"] for v in two["villages"]}) == 200


def test_kinds_cut_a_part_into_the_components_of_its_kind_graph() -> None:
    def week(general: bool) -> dict[str, Any]:
        offers: list[dict[str, Any]] = [
            {"id": "O1", "donor": "D", "category": "goods", "quantity": 5,
             "items": ["goods.school"]},
            {"id": "O2", "donor": "D", "category": "goods", "quantity": 5,
             "items": ["goods.seedling.tea"]},
        ]
        if general:
            offers.append({"id": "O3", "donor": "D", "category": "goods", "quantity": 5})
        return {
            "villages": [{"id": "V1", "county": "a1"}, {"id": "V2", "county": "a1"}],
            "needs": [
                {"id": "N1", "village": "V1", "category": "goods", "quantity": 3,
                 "urgency": 2, "item": "goods.school.desks"},
                {"id": "N2", "village": "V2", "category": "goods", "quantity": 3,
                 "urgency": 2, "item": "goods.seedling.tea"},
                {"id": "N3", "village": "V2", "category": "goods", "quantity": 3,
                 "urgency": 2, "item": "goods.quilt"},
            ],
            "offers": offers,
        }

    plan = plan_parts(parse_instance(week(general=False)))
    assert [(p.key, p.needs, p.offers, p.size) for p in plan.parts] == [
        ("goods/a1/goods.school", (0,), (0,), 1),
        ("goods/a1/goods.seedling.tea", (1,), (1,), 1),
    ]
    whole = plan_parts(parse_instance(week(general=True)))  # a general offer joins them all
    assert [(p.key, p.needs, p.offers, p.size) for p in whole.parts] == [
        ("goods/a1", (0, 1, 2), (0, 1, 2), 5),
    ]
    payload = part_payloads(parse_instance(week(general=False)), plan, budget=2)[0]
    assert payload["instance"]["offers"][0]["items"]  # kinds travel with the part


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000))
def test_decomposed_weeks_with_kinds_never_cross_kinds(seed: int) -> None:
    from benchmarks.instance_gen import generate
    from tests.optimizer.oracle import check, kinds_meet

    data = generate(villages=25, offers=40, seed=seed, kinds=True)
    instance = parse_instance(data)
    plan = plan_parts(instance)
    county = {v["id"]: v["county"] for v in data["villages"]}
    for part in plan.parts:  # every offer of a part may serve some need of it
        assert all(
            any(kinds_meet(data["offers"][o], data["needs"][n]) for n in part.needs)
            for o in part.offers
        )
        fitting = [
            (o, n) for o in part.offers for n in part.needs
            if kinds_meet(data["offers"][o], data["needs"][n])
            and county[data["needs"][n]["village"]] in data["offers"][o].get("counties", [
                county[data["needs"][n]["village"]]])
            and data["needs"][n]["village"] in data["offers"][o].get("villages", [
                data["needs"][n]["village"]])
        ]
        assert part.size == len(fitting)  # pairs of the part, distance aside
    split = solve_decomposed(instance, budget=4)
    objective, violations = check(data, {(a.offer, a.need): a.quantity
                                         for a in split.result.allocations})
    assert not violations
    assert abs(objective - split.result.objective) <= 1e-6 * max(1.0, abs(objective))


def test_province_generator_makes_kinds_on_option() -> None:
    plain = generate_province(villages=100, needs=800, offers=200, seed=3)
    kinds = generate_province(villages=100, needs=800, offers=200, seed=3, kinds=True)
    assert kinds == generate_province(villages=100, needs=800, offers=200, seed=3, kinds=True)
    assert plain == generate_province(villages=100, needs=800, offers=200, seed=3)
    assert [n["id"] for n in kinds["needs"]] == [n["id"] for n in plain["needs"]]
    assert all("item" in n for n in kinds["needs"])
    assert not any("item" in n for n in plain["needs"])
    assert not any("items" in o for o in plain["offers"])
    instance = parse_instance(kinds)
    assert len(eligible_pairs(instance)) < len(eligible_pairs(parse_instance(plain)))
    parts, plain_parts = plan_parts(instance).parts, plan_parts(parse_instance(plain)).parts
    assert len(parts) >= len(plain_parts)
    assert max(p.size for p in parts) < max(p.size for p in plain_parts)
