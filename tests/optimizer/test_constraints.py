"""One tiny hand-built case per hard constraint and per objective term, optimum seen by hand."""

from __future__ import annotations

import pytest

from optimizer import Allocation, evaluate, parse_instance, solve, solve_greedy
from tests.optimizer.factories import instance, need, offer, village


def solved(data: dict) -> dict[tuple[str, str], int]:
    result = solve(parse_instance(data), time_limit=10)
    assert result.status == "optimal"
    assert evaluate(parse_instance(data), result.allocations).feasible
    return {(a.offer, a.need): a.quantity for a in result.allocations}


def test_supply_offer_gives_at_most_its_quantity() -> None:
    # Two needs of 5 each (value 20/unit), one offer of 6: 6 units, all to the urgent one first.
    data = instance(
        [village("V1")],
        [need("N1", "V1", 5, urgency=1), need("N2", "V1", 5, urgency=2)],
        [offer("O1", 6)],
    )
    assert solved(data) == {("O1", "N2"): 5, ("O1", "N1"): 1}


def test_demand_need_receives_at_most_its_quantity() -> None:
    data = instance([village("V1")], [need("N1", "V1", 3)], [offer("O1", 10), offer("O2", 10)])
    result = solve(parse_instance(data))
    assert sum(a.quantity for a in result.allocations) == 3
    assert result.objective == pytest.approx(100.0)


def test_minimum_lot_or_nothing() -> None:
    # V1 can only take 2 < min_lot 3, so everything goes to V2 though V1 is more urgent.
    data = instance(
        [village("V1"), village("V2")],
        [need("N1", "V1", 2, urgency=5), need("N2", "V2", 10, urgency=1)],
        [offer("O1", 10, min_lot=3)],
    )
    assert solved(data) == {("O1", "N2"): 10}


def test_village_cap() -> None:
    # Three villages want 1 unit each; max_villages=2 serves only the two most urgent.
    data = instance(
        [village("V1"), village("V2"), village("V3")],
        [need("N1", "V1", 1, 3), need("N2", "V2", 1, 1), need("N3", "V3", 1, 2)],
        [offer("O1", 3, max_villages=2)],
    )
    assert solved(data) == {("O1", "N1"): 1, ("O1", "N3"): 1}


def test_indivisible_goes_whole_to_one_village() -> None:
    # V1 (urgent) can absorb only 3 of 4 units, so the whole offer goes to V2.
    data = instance(
        [village("V1"), village("V2")],
        [need("N1", "V1", 3, 5), need("N2", "V2", 2, 1), need("N3", "V2", 2, 1)],
        [offer("O1", 4, indivisible=True)],
    )
    assert solved(data) == {("O1", "N2"): 2, ("O1", "N3"): 2}


def test_eligibility_category_county_village_and_distance() -> None:
    data = instance(
        [
            village("V1", "c1", lat=24.0, lon=111.0),
            village("V2", "c2", lat=24.0, lon=111.0),
            village("V3", "c1", lat=30.0, lon=111.0),  # 667 km away: factor <= 0
        ],
        [need("N1", "V1", 1), need("N2", "V2", 1), need("N3", "V3", 1),
         need("N4", "V1", 1, category="funds")],
        [offer("O1", 10, counties=["c1"], lat=24.0, lon=111.0), offer("O2", 10, villages=["V2"])],
        distance_discount_per_km=0.0015,
    )
    assert solved(data) == {("O1", "N1"): 1, ("O2", "N2"): 1}


def test_value_term_weights_urgency_and_poverty() -> None:
    # One unit: 100 * urgency 2 * weight 1.5 for the whole need of 1 unit = 300.
    data = instance(
        [village("V1", poverty_weight=1.5), village("V2")],
        [need("N1", "V1", 1, 2), need("N2", "V2", 1, 2)],
        [offer("O1", 1)],
    )
    result = solve(parse_instance(data))
    assert [(a.need, a.quantity) for a in result.allocations] == [("N1", 1)]
    assert result.objective == pytest.approx(300.0)
    assert result.allocations[0].value == pytest.approx(300.0)


def test_distance_discount() -> None:
    # Same need values; the offer 111.19 km from V2 (1 degree of latitude) prefers V1 at 0 km.
    data = instance(
        [village("V1", lat=24.0, lon=111.0), village("V2", lat=25.0, lon=111.0)],
        [need("N1", "V1", 1), need("N2", "V2", 1)],
        [offer("O1", 2, lat=24.0, lon=111.0)],
        distance_discount_per_km=0.001,
    )
    result = solve(parse_instance(data))
    km = 6371.0 * 3.141592653589793 / 180
    assert result.objective == pytest.approx(100 + 100 * (1 - 0.001 * km))
    assert {a.need: a.km for a in result.allocations}["N2"] == pytest.approx(km, abs=1e-5)


def test_fragmentation_penalty_keeps_offer_together() -> None:
    # Splitting 2 units over two villages earns 100 more value but costs 150 more penalty.
    data = instance(
        [village("V1"), village("V2")],
        [need("N1", "V1", 2, 2), need("N2", "V2", 1, 1), need("N3", "V1", 4, 1)],
        [offer("O1", 2)],
        fragmentation_penalty=150,
    )
    # All in V1: N1 full (200) = 200 - 150; splitting: 100 + 100 - 300 = -100.
    assert solved(data) == {("O1", "N1"): 2}
    assert solve(parse_instance(data)).objective == pytest.approx(50.0)


def test_fairness_penalty_lifts_a_village_to_the_floor() -> None:
    # Without fairness, both units go to urgent V1 (value 500); with floor 0.5 and penalty 800,
    # one unit each puts both villages at the floor: 250 + 100 beats 500 - 800 * 0.5 = 100.
    data = instance(
        [village("V1"), village("V2")],
        [need("N1", "V1", 2, 5), need("N2", "V2", 2, 2)],
        [offer("O1", 2)],
        fairness_floor=0.5, fairness_penalty=800,
    )
    assert solved(data) == {("O1", "N1"): 1, ("O1", "N2"): 1}
    assert solve(parse_instance(data)).objective == pytest.approx(350.0)


def test_fairness_counts_only_reachable_villages() -> None:
    # V2 has a need no offer can serve: no penalty for it.
    data = instance(
        [village("V1"), village("V2")],
        [need("N1", "V1", 1), need("N2", "V2", 1, category="funds")],
        [offer("O1", 1)],
        fairness_floor=0.5, fairness_penalty=1000,
    )
    assert solve(parse_instance(data)).objective == pytest.approx(100.0)


def test_evaluate_reports_each_violation() -> None:
    data = parse_instance(instance(
        [village("V1"), village("V2")],
        [need("N1", "V1", 2), need("N2", "V2", 2)],
        [offer("O1", 3, min_lot=2, max_villages=1)],
    ))
    bad = evaluate(data, [Allocation("O1", "N1", 2), Allocation("O1", "N2", 1)])
    text = " ".join(bad.violations)
    assert "min_lot" in text and "max_villages" in text
    assert not evaluate(data, [Allocation("O1", "N1", 2)]).violations


def test_greedy_baseline_is_feasible_and_first_come_first_served() -> None:
    # O1 arrives first and takes the urgent need; O2 gets what is left.
    data = parse_instance(instance(
        [village("V1")],
        [need("N1", "V1", 2, 5), need("N2", "V1", 2, 1)],
        [offer("O1", 2), offer("O2", 5)],
    ))
    result = solve_greedy(data)
    assert {(a.offer, a.need): a.quantity for a in result.allocations} == {
        ("O1", "N1"): 2, ("O2", "N2"): 2,
    }
    assert result.bound is None and result.status == "feasible"
