"""One tiny hand-built case per rule of the rolling model v2, where that rule alone decides
the answer (specs/allocation-model-v2.md); each result is also checked independently."""

from __future__ import annotations

from typing import Any

import pytest

from optimizer.rolling import parse_rolling, solve_rolling
from tests.optimizer import rolling_oracle
from tests.optimizer.factories import instance, need, offer, village


def rolling(horizon: int, *parts: Any, history: list | None = None, **policy: Any) -> dict:
    data = instance(*parts, **policy)
    data["horizon"] = horizon
    if history is not None:
        data["history"] = history
    return data


def solved(data: dict) -> dict[tuple[str, str], tuple[int, int]]:
    """(offer, need) -> (units, week) of the optimal solve, checked by the oracle."""
    result = solve_rolling(parse_rolling(data), time_limit=10)
    assert result.status == "optimal"
    given = [(a.offer, a.need, a.quantity, a.week) for a in result.allocations]
    objective, bad = rolling_oracle.check(data, given)
    assert bad == []
    assert result.objective == pytest.approx(objective)
    return {(a.offer, a.need): (a.quantity, a.week) for a in result.allocations}


def test_due_week_a_need_due_now_is_met_now_and_the_later_one_by_a_later_pledge() -> None:
    # O1 (now) could go to either; N2 is worth more, but O2 arrives in week 2, before N2 is
    # due and after N1 is: only the horizon sees that both can be met.
    parts = (
        [village("V1"), village("V2")],
        [need("N1", "V1", 5, urgency=2, due=0), need("N2", "V2", 5, urgency=3, due=3)],
        [offer("O1", 5), offer("O2", 5, available_from=2)],
    )
    assert solved(rolling(4, *parts)) == {("O1", "N1"): (5, 0), ("O2", "N2"): (5, 2)}
    # The week alone (horizon 1) knows nothing of O2 and gives O1 to the more urgent N2.
    assert solved(rolling(1, *parts)) == {("O1", "N2"): (5, 0)}


def test_due_week_bounds_the_plan_a_need_is_not_planned_after_it_is_due() -> None:
    data = rolling(
        4, [village("V1")], [need("N1", "V1", 5, due=1)], [offer("O1", 5, available_from=2)]
    )
    assert solved(data) == {}


def test_overdue_need_may_still_be_met_this_week() -> None:
    data = rolling(3, [village("V1")], [need("N1", "V1", 5, due=-2)], [offer("O1", 5)])
    assert solved(data) == {("O1", "N1"): (5, 0)}


def test_pledged_ahead_offer_serves_from_its_week() -> None:
    data = rolling(
        3, [village("V1")], [need("N1", "V1", 5)], [offer("O1", 5, available_from=1)]
    )
    assert solved(data) == {("O1", "N1"): (5, 1)}


def test_perishable_offer_is_used_before_it_perishes() -> None:
    # P perishes after week 0 and cannot reach N2 (known from week 1); Q lasts. Giving Q to N1
    # now would leave N2 with nothing.
    data = rolling(
        3,
        [village("V1"), village("V2")],
        [need("N1", "V1", 5, urgency=1), need("N2", "V2", 5, urgency=1, open_from=1)],
        [offer("Q", 5), offer("P", 5, available_until=0)],
    )
    assert solved(data) == {("P", "N1"): (5, 0), ("Q", "N2"): (5, 1)}


def test_need_known_from_a_later_week_is_planned_not_committed() -> None:
    data = rolling(
        3, [village("V1")], [need("N1", "V1", 5, open_from=2)], [offer("O1", 5)]
    )
    assert solved(data) == {("O1", "N1"): (5, 2)}


def test_horizon_leaves_out_what_comes_after_it() -> None:
    data = rolling(
        2,
        [village("V1")],
        [need("N1", "V1", 5, open_from=2), need("N2", "V1", 5)],
        [offer("O1", 10), offer("O2", 5, available_from=5)],
    )
    assert solved(data) == {("O1", "N2"): (5, 0)}


def test_supply_an_offer_is_used_once_across_all_weeks() -> None:
    data = rolling(
        3,
        [village("V1"), village("V2")],
        [need("N1", "V1", 5, urgency=2), need("N2", "V2", 5, urgency=1, open_from=2)],
        [offer("O1", 6)],
    )
    assert solved(data) == {("O1", "N1"): (5, 0), ("O1", "N2"): (1, 2)}


def test_demand_a_need_is_met_once_across_all_weeks() -> None:
    data = rolling(
        3,
        [village("V1")],
        [need("N1", "V1", 4)],
        [offer("O1", 3), offer("O2", 10, available_from=1)],
    )
    found = solved(data)
    assert sum(units for units, _ in found.values()) == 4


def test_kinds_never_cross_even_in_a_later_week() -> None:
    data = rolling(
        3,
        [village("V1")],
        [need("N1", "V1", 5, item="goods.school.desks", due=2)],
        [offer("O1", 5, items=["goods.seedling.tea"]),
         offer("O2", 5, items=["goods.school"], available_from=2)],
    )
    assert solved(data) == {("O2", "N1"): (5, 2)}


def test_category_never_crosses_in_a_later_week() -> None:
    data = rolling(
        2,
        [village("V1")],
        [need("N1", "V1", 5, category="funds")],
        [offer("O1", 5, category="goods", available_from=1)],
    )
    assert solved(data) == {}


def test_minimum_lot_counts_the_horizon_total_of_a_link() -> None:
    # 2 units now and 2 in week 1 reach V1's lot of 4 only together.
    data = rolling(
        2,
        [village("V1")],
        [need("N1", "V1", 2), need("N2", "V1", 2, open_from=1)],
        [offer("O1", 4, min_lot=4)],
    )
    assert solved(data) == {("O1", "N1"): (2, 0), ("O1", "N2"): (2, 1)}


def test_village_cap_counts_villages_across_weeks() -> None:
    data = rolling(
        3,
        [village("V1"), village("V2"), village("V3")],
        [need("N1", "V1", 1, 3), need("N2", "V2", 1, 1), need("N3", "V3", 1, 2, open_from=2)],
        [offer("O1", 3, max_villages=2)],
    )
    assert solved(data) == {("O1", "N1"): (1, 0), ("O1", "N3"): (1, 2)}


def test_indivisible_goes_whole_to_one_village_over_the_horizon() -> None:
    # V1 can absorb all 4 only with the need it posts in week 1.
    data = rolling(
        2,
        [village("V1"), village("V2")],
        [need("N1", "V1", 2, 5), need("N2", "V1", 2, 5, open_from=1), need("N3", "V2", 3, 1)],
        [offer("O1", 4, indivisible=True)],
    )
    assert solved(data) == {("O1", "N1"): (2, 0), ("O1", "N2"): (2, 1)}


def test_catch_up_a_village_passed_over_gets_the_scarce_offer() -> None:
    parts = (
        [village("V1"), village("V2")],
        [need("N1", "V1", 1, urgency=3), need("N2", "V2", 1, urgency=2)],
        [offer("O1", 1)],
    )
    passed_over = [{"village": "V2", "weeks_ago": w, "coverage": 0} for w in (1, 2)]
    served = [{"village": "V1", "weeks_ago": w, "coverage": 1} for w in (1, 2)]
    policy = {"fairness_floor": 0.3}
    assert solved(rolling(1, *parts, history=passed_over + served, **policy)) == {
        ("O1", "N2"): (1, 0)
    }
    # Without history, or with it outside the window, the more urgent need wins.
    assert solved(rolling(1, *parts, **policy)) == {("O1", "N1"): (1, 0)}
    old = [{"village": "V2", "weeks_ago": 5, "coverage": 0}]
    assert solved(rolling(1, *parts, history=old, **policy, window=3)) == {("O1", "N1"): (1, 0)}
    # A village that had its floor has nothing to catch up on.
    fine = [{"village": "V2", "weeks_ago": 1, "coverage": 0.3}]
    assert solved(rolling(1, *parts, history=fine, **policy)) == {("O1", "N1"): (1, 0)}


def test_fairness_floor_over_the_horizon_counts_planned_weeks() -> None:
    # V2's need opens in week 1; the floor penalty (60 at zero) makes the plan give it 3
    # units of the one offer rather than all 10 to V1 (worth 20 each against V2's 10).
    data = rolling(
        2,
        [village("V1"), village("V2")],
        [need("N1", "V1", 10, urgency=2), need("N2", "V2", 10, urgency=1, open_from=1)],
        [offer("O1", 10)],
        fairness_floor=0.3, fairness_penalty=200,
    )
    found = solved(data)
    assert found[("O1", "N2")] == (3, 1)
    assert found[("O1", "N1")] == (7, 0)


def test_waiting_a_village_passed_over_for_the_window_is_served_now_not_later() -> None:
    # V2 got nothing in each of the last two weeks (the window). O1 is here now, O2 next week.
    # Without the rule the plan gives O1 to V1's need due now and O2 to V2 next week: V2 would
    # wait a third week. With it, V2 gets O1 now, although V1's need is worth more.
    parts = (
        [village("V1"), village("V2")],
        [need("N1", "V1", 1, urgency=5, due=0), need("N2", "V2", 3, urgency=1)],
        [offer("O1", 1), offer("O2", 1, available_from=1)],
    )
    passed = [{"village": "V2", "weeks_ago": w, "coverage": 0} for w in (1, 2)]
    policy = {"fairness_floor": 0.3}
    assert solved(rolling(2, *parts, history=passed, **policy, waiting_penalty=0)) == {
        ("O1", "N1"): (1, 0), ("O2", "N2"): (1, 1)
    }
    found = solve_rolling(parse_rolling(rolling(2, *parts, history=passed, **policy)), time_limit=5)
    assert {(a.offer, a.need): (a.quantity, a.week) for a in found.allocations} == {
        ("O1", "N2"): (1, 0), ("O2", "N2"): (1, 1)
    }
    data = rolling(2, *parts, history=passed, **policy)
    assert found.objective == pytest.approx(rolling_oracle.optimum(data))
    # Served in one of the two weeks, the village is not passed over.
    once = [{"village": "V2", "weeks_ago": 1, "coverage": 0}, {"village": "V2", "weeks_ago": 2,
                                                             "coverage": 0.2}]
    assert solved(rolling(2, *parts, history=once, **policy))[("O1", "N1")] == (1, 0)


def test_waiting_the_village_at_zero_longest_gets_the_last_unit() -> None:
    # V1 and V2 both got nothing in the window; V2 also the week before (three weeks running).
    # One unit can serve either now; V1's need is worth more (urgency 5 against 1, both doubled
    # by catch-up), and with equal waiting penalties V1 would get it. V2's penalty counts
    # twice, so V2 gets it: a village is not left at zero week after week while another is
    # served first each time.
    parts = (
        [village("V1"), village("V2")],
        [need("N1", "V1", 1, urgency=5), need("N2", "V2", 1, urgency=1)],
        [offer("O1", 1)],
    )
    history = [{"village": v, "weeks_ago": w, "coverage": 0} for v in ("V1", "V2")
               for w in (1, 2)]
    policy = {"fairness_floor": 0.3, "waiting_penalty": 1000}
    equal = rolling(1, *parts, history=history, **policy)
    longer = rolling(1, *parts, history=[*history, {"village": "V2", "weeks_ago": 3,
                                                    "coverage": 0}], **policy)
    for data, chosen, waiting in ((equal, "N1", 1000), (longer, "N2", 1000)):
        found = solve_rolling(parse_rolling(data), time_limit=5)
        assert {(a.offer, a.need): (a.quantity, a.week) for a in found.allocations} == {
            ("O1", chosen): (1, 0)
        }
        assert found.objective == pytest.approx(rolling_oracle.optimum(data))
        given = [(a.offer, a.need, a.quantity, a.week) for a in found.allocations]
        assert rolling_oracle.check(data, given) == (pytest.approx(found.objective), [])
        assert found.metrics["waiting_penalty_total"] == waiting  # the other one left at zero
    # V1 left at zero in `longer` counts once; V2 left at zero there would count twice.


def test_waiting_a_capped_offer_leaves_a_served_village_for_the_one_that_waited() -> None:
    # O1 may serve one village (cap 1). Its three units are worth most at V1 (urgency 5, 500
    # points); V2 got nothing for the whole window and can take one unit (100 points). A unit
    # exists for V2 this week, so V2 gets it: V1's link is closed to make room under the cap,
    # although that loses 400 points of value (the waiting penalty is 5,000).
    parts = (
        [village("V1"), village("V2")],
        [need("N1", "V1", 3, urgency=5), need("N2", "V2", 1, urgency=1)],
        [offer("O1", 3, max_villages=1)],
    )
    passed = [{"village": "V2", "weeks_ago": w, "coverage": 0} for w in (1, 2)]
    assert solved(rolling(1, *parts, history=passed, waiting_penalty=0)) == {
        ("O1", "N1"): (3, 0)
    }
    data = rolling(1, *parts, history=passed)
    found = solve_rolling(parse_rolling(data), time_limit=5)
    assert {(a.offer, a.need): (a.quantity, a.week) for a in found.allocations} == {
        ("O1", "N2"): (1, 0)
    }
    assert found.metrics["waiting_penalty_total"] == 0
    assert found.objective == pytest.approx(rolling_oracle.optimum(data))
    given = [(a.offer, a.need, a.quantity, a.week) for a in found.allocations]
    assert rolling_oracle.check(data, given) == (pytest.approx(found.objective), [])
