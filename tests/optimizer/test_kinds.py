"""Kinds (spec v1.1): one tiny hand-built case per eligibility rule, the exact v1 reduction,
parse errors, the shared kinds samples against their reference figures, and random weeks."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import (
    Allocation,
    InvalidInstance,
    evaluate,
    load_instance,
    parse_instance,
    solve,
    solve_greedy,
)
from optimizer.greedy import greedy_vector
from optimizer.kinds import covers
from optimizer.lp import solve_relaxation
from optimizer.problem import build_problem, eligible_pairs
from optimizer.solution import allocations
from tests.optimizer.factories import INSTANCES, instance, need, offer, random_instance, village
from tests.optimizer.oracle import check, kinds_meet, optimum, unit_value

KINDS_DIR = INSTANCES / "kinds"
# Figures of the v1 samples computed by the optimizer before kinds existed (commit d6a4f6e).
V1_REFERENCE = json.loads((Path(__file__).parent / "data" / "v1_reference.json").read_text())
shared = pytest.mark.skipif(
    not KINDS_DIR.is_dir(), reason=f"shared sample instances not found at {INSTANCES}"
)


def solved(data: dict[str, Any]) -> dict[tuple[str, str], int]:
    """The optimal allocation, checked by evaluate and by the independent oracle."""
    result = solve(parse_instance(data), time_limit=10)
    assert result.status == "optimal"
    assert evaluate(parse_instance(data), result.allocations).feasible
    units = {(a.offer, a.need): a.quantity for a in result.allocations}
    objective, violations = check(data, units)
    assert not violations
    assert objective == pytest.approx(result.objective, abs=1e-9)
    return units


def pairs(data: dict[str, Any]) -> set[tuple[str, str]]:
    parsed = parse_instance(data)
    return {(parsed.offers[o].id, parsed.needs[n].id) for o, n, _ in eligible_pairs(parsed)}


# One tiny case per eligibility rule of v1.1.


def test_general_offer_serves_any_need_of_its_category() -> None:
    data = instance(
        [village("V1")],
        [need("N1", "V1", 1, item="goods.school.desks"), need("N2", "V1", 1, item="goods.x"),
         need("N3", "V1", 1)],
        [offer("O1", 3)],
    )
    assert solved(data) == {("O1", "N1"): 1, ("O1", "N2"): 1, ("O1", "N3"): 1}


def test_parent_kind_covers_child() -> None:
    data = instance(
        [village("V1")],
        [need("N1", "V1", 2, item="goods.school.desks"),
         need("N2", "V1", 2, urgency=5, item="goods.seedling.tea")],
        [offer("O1", 4, items=["goods.school"])],
    )
    assert pairs(data) == {("O1", "N1")}
    assert solved(data) == {("O1", "N1"): 2}


def test_kind_is_not_covered_by_a_mere_string_prefix() -> None:
    # goods.school is no parent of goods.schoolbus: the urgent bus need gets nothing.
    data = instance(
        [village("V1")],
        [need("N1", "V1", 2, urgency=5, item="goods.schoolbus"),
         need("N2", "V1", 2, item="goods.school")],
        [offer("O1", 4, items=["goods.school"])],
    )
    assert pairs(data) == {("O1", "N2")}
    assert solved(data) == {("O1", "N2"): 2}
    assert not covers("goods.school", "goods.schoolbus")


def test_offer_item_covering_an_accepted_alternative_serves_the_need() -> None:
    data = instance(
        [village("V1")],
        [need("N1", "V1", 3, item="goods.school.desks", accepts=["goods.school.tables"]),
         need("N2", "V1", 3, item="goods.school.desks")],
        [offer("O1", 5, items=["goods.school.tables"])],
    )
    assert pairs(data) == {("O1", "N1")}
    assert solved(data) == {("O1", "N1"): 3}


def test_need_without_kind_takes_general_offers_only() -> None:
    # Even the category's root kind does not serve a need that names no kind.
    data = instance(
        [village("V1")],
        [need("N1", "V1", 2, urgency=5), need("N2", "V1", 2, item="goods.quilt")],
        [offer("O1", 2, items=["goods"]), offer("O2", 1)],
    )
    assert pairs(data) == {("O1", "N2"), ("O2", "N1"), ("O2", "N2")}
    assert solved(data) == {("O1", "N2"): 2, ("O2", "N1"): 1}


def test_kind_in_another_category_never_matches() -> None:
    data = instance(
        [village("V1")],
        [need("N1", "V1", 1, item="goods.school.desks"),
         need("N2", "V1", 1, category="funds", item="funds.relief")],
        [offer("O1", 5, category="funds", items=["goods.school"]),
         offer("O2", 5, category="goods", items=["funds.relief", "funds"])],
    )
    assert pairs(data) == set()
    assert solved(data) == {}


def test_an_allocation_across_kinds_is_a_violation() -> None:
    data = instance(
        [village("V1")],
        [need("N1", "V1", 2, item="goods.schoolbus"), need("N2", "V1", 2, item="goods.school.a")],
        [offer("O1", 4, items=["goods.school"])],
    )
    parsed = parse_instance(data)
    across = evaluate(parsed, [Allocation("O1", "N1", 2)])
    assert any("not eligible" in v for v in across.violations)
    assert check(data, {("O1", "N1"): 2})[1]
    assert not evaluate(parsed, [Allocation("O1", "N2", 2)]).violations
    assert not check(data, {("O1", "N2"): 2})[1]


def test_kinds_cut_reachability_and_so_the_fairness_term() -> None:
    # V2's only need is of a kind no offer brings: not reachable, so no fairness penalty.
    data = instance(
        [village("V1"), village("V2")],
        [need("N1", "V1", 1, item="goods.quilt"), need("N2", "V2", 1, item="goods.desk")],
        [offer("O1", 1, items=["goods.quilt"])],
        fairness_floor=0.5, fairness_penalty=1000,
    )
    result = solve(parse_instance(data))
    assert result.objective == pytest.approx(100.0)
    assert evaluate(parse_instance(data), result.allocations).metrics["villages_reachable"] == 1


# Parse errors name the field and the entry's id.


def base() -> dict[str, Any]:
    return instance(
        [village("V1")],
        [need("N1", "V1", 3, item="goods.school.desks", accepts=["goods.school.tables"])],
        [offer("O1", 5, items=["goods.school"])],
    )


def test_kinds_are_parsed() -> None:
    parsed = parse_instance(base())
    assert parsed.needs[0].item == "goods.school.desks"
    assert parsed.needs[0].accepts == ("goods.school.tables",)
    assert parsed.offers[0].items == ("goods.school",)
    plain = parse_instance(instance([village("V1")], [need("N1", "V1", 1)], [offer("O1", 1)]))
    assert plain.needs[0].item is None and plain.needs[0].accepts == ()
    assert plain.offers[0].items == ()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["needs"][0].update(item=""), "needs[0] id='N1': item"),
        (lambda d: d["needs"][0].update(item=7), "needs[0] id='N1': item"),
        (lambda d: d["needs"][0].update(item=None), "needs[0] id='N1': item"),
        (lambda d: d["needs"][0].update(item="goods..desks"), "needs[0] id='N1': item"),
        (lambda d: d["needs"][0].update(item="goods.school."), "needs[0] id='N1': item"),
        (lambda d: d["needs"][0].update(accepts="goods.desks"), "needs[0] id='N1': accepts"),
        (lambda d: d["needs"][0].update(accepts=[""]), "needs[0] id='N1': accepts[0]"),
        (lambda d: d["needs"][0].update(accepts=["a", 3]), "needs[0] id='N1': accepts[1]"),
        (lambda d: d["offers"][0].update(items="goods"), "offers[0] id='O1': items"),
        (lambda d: d["offers"][0].update(items=[None]), "offers[0] id='O1': items[0]"),
        (lambda d: d["offers"][0].update(items=[" goods"]), "offers[0] id='O1': items[0]"),
        (lambda d: d["offers"][0].update(items={"a": 1}), "offers[0] id='O1': items"),
        (lambda d: d["offers"][0].update(item="goods"), "offers[0] id='O1': item: unknown key"),
        (lambda d: d["needs"][0].update(items=["g"]), "needs[0] id='N1': items: unknown key"),
    ],
)
def test_invalid_kinds_name_field_and_id(change: Any, expected: str) -> None:
    data = base()
    change(data)
    with pytest.raises(InvalidInstance) as caught:
        parse_instance(data)
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems


# The exact v1 reduction.


def v1_names() -> list[str]:
    return sorted(V1_REFERENCE) if INSTANCES.is_dir() else []


def figures(data: dict[str, Any]) -> dict[str, Any]:
    parsed = parse_instance(data)
    found = eligible_pairs(parsed)
    problem = build_problem(parsed)
    greedy = evaluate(parsed, allocations(problem, greedy_vector(problem))).objective
    return {
        "eligible_pairs": len(found),
        "eligible_sha256": hashlib.sha256(
            json.dumps([(o, n, round(km, 6)) for o, n, km in found]).encode()
        ).hexdigest(),
        "problem_pairs": len(problem.pair_offer),
        "greedy_objective": round(greedy, 6),
    }


@shared
@pytest.mark.parametrize("name", v1_names())
def test_v1_samples_give_the_same_pairs_and_objective_as_before_kinds(name: str) -> None:
    data = json.loads((INSTANCES / f"{name}.json").read_text(encoding="utf-8"))
    reference = V1_REFERENCE[name]
    now = figures(data)
    assert now == {k: reference[k] for k in now}
    bound = solve_relaxation(build_problem(parse_instance(data)), 60).bound
    assert bound == pytest.approx(reference["lp_bound"], rel=1e-6)
    # The same week written as v1.1 with every default spelt out is the same instance.
    explicit = copy.deepcopy(data)
    for item in explicit["needs"]:
        item["accepts"] = []
    for item in explicit["offers"]:
        item["items"] = []
    assert parse_instance(explicit) == parse_instance(data)
    assert figures(explicit) == now


@shared
def test_general_v1_1_week_solves_as_the_v1_week() -> None:
    data = json.loads((INSTANCES / "small-11.json").read_text(encoding="utf-8"))
    explicit = copy.deepcopy(data)
    for item in explicit["needs"]:
        item["accepts"] = []
    for item in explicit["offers"]:
        item["items"] = []
    one = solve(parse_instance(data), time_limit=10)
    two = solve(parse_instance(explicit), time_limit=10)
    assert one.status == two.status == "optimal"
    assert two.objective == pytest.approx(one.objective, abs=1e-9)
    assert two.objective == pytest.approx(20963.158, abs=5e-4)


# The shared kinds samples and their reference figures (../shared/instances/README.md).


def load_kinds(name: str) -> tuple[dict[str, Any], Any]:
    path = KINDS_DIR / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")), load_instance(str(path))


def checked(data: dict[str, Any], result: Any) -> float:
    """The oracle's objective of a result, after asserting it has no violation."""
    units = {(a.offer, a.need): a.quantity for a in result.allocations}
    objective, violations = check(data, units)
    assert not violations, violations[:5]
    assert all(
        kinds_meet(next(o for o in data["offers"] if o["id"] == a.offer),
                   next(n for n in data["needs"] if n["id"] == a.need))
        for a in result.allocations
    )
    assert objective == pytest.approx(result.objective, rel=1e-9)
    return objective


@shared
@pytest.mark.parametrize(
    ("name", "eligible"), [("small-kinds-14", 75), ("medium-kinds-22", 583),
                           ("hezhou-kinds-33", 23_570)]
)
def test_kinds_samples_have_the_reference_eligible_pairs(name: str, eligible: int) -> None:
    data, parsed = load_kinds(name)
    assert len(eligible_pairs(parsed)) == eligible
    assert oracle_pairs(data) == ids(parsed)


def oracle_pairs(data: dict[str, Any]) -> set[tuple[str, str]]:
    """Eligible (offer id, need id) pairs by the oracle, testing every pair."""
    villages = {v["id"]: v for v in data["villages"]}
    return {
        (off["id"], nd["id"]) for off in data["offers"] for nd in data["needs"]
        if unit_value(data, off, nd, villages) is not None
    }


def ids(parsed: Any) -> set[tuple[str, str]]:
    return {(parsed.offers[o].id, parsed.needs[n].id) for o, n, _ in eligible_pairs(parsed)}


@shared
def test_small_kinds_reaches_the_proven_optimum() -> None:
    data, parsed = load_kinds("small-kinds-14")
    result = solve(parsed, time_limit=10)
    assert result.status == "optimal"
    assert checked(data, result) == pytest.approx(11590.000, abs=5e-4)
    assert result.bound is not None and result.bound >= result.objective


@shared
def test_medium_kinds_is_near_its_optimum_and_under_the_bound() -> None:
    data, parsed = load_kinds("medium-kinds-22")
    result = solve(parsed, time_limit=10)
    objective = checked(data, result)
    assert objective <= 51432.924 + 1e-3 <= 51931.8
    assert objective >= 0.99 * 51432.924
    assert result.bound is not None and result.bound >= 51432.924


@shared
def test_hezhou_kinds_beats_greedy_under_the_lp_bound() -> None:
    data, parsed = load_kinds("hezhou-kinds-33")
    result = solve(parsed, time_limit=12)
    objective = checked(data, result)
    assert 472709.7 < objective <= 555959.0
    assert result.bound is not None and result.bound >= 555959.0 - 1e-3


# Random weeks with kinds: no allocation ever crosses kinds.


@pytest.mark.parametrize("seed", range(15))
def test_random_kinds_weeks_match_the_oracle(seed: int) -> None:
    data = random_instance(seed, kinds=True)
    result = solve(parse_instance(data), time_limit=10)
    assert result.status == "optimal"
    assert checked(data, result) == pytest.approx(optimum(data), rel=1e-6, abs=1e-6)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 100_000))
def test_no_allocation_crosses_kinds(seed: int) -> None:
    data = random_instance(seed, kinds=True)
    parsed = parse_instance(data)
    for result in (solve(parsed, time_limit=2), solve_greedy(parsed)):
        checked(data, result)
    assert ids(parsed) == oracle_pairs(data)
