"""v2 results against the independent checker (tests/optimizer/rolling_oracle.py)."""

from __future__ import annotations

import pytest

from optimizer.rolling import WeekAllocation, evaluate_rolling, parse_rolling, solve_rolling
from tests.optimizer import rolling_oracle
from tests.optimizer.factories import instance, need, offer, village


def _given(result: object) -> list[tuple[str, str, int, int]]:
    return [(a.offer, a.need, a.quantity, a.week) for a in result.allocations]  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", range(40))
def test_random_rolling_weeks_are_solved_to_the_checker_optimum(seed: int) -> None:
    data = rolling_oracle.random_rolling(seed)
    result = solve_rolling(parse_rolling(data), time_limit=10)
    objective, bad = rolling_oracle.check(data, _given(result))
    assert bad == []
    assert result.objective == pytest.approx(objective, rel=1e-9, abs=1e-6)
    best = rolling_oracle.optimum(data)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(best, rel=1e-6, abs=1e-5)


WAITING_SEEDS = [
    s for s in range(200) if rolling_oracle.waiting_now(rolling_oracle.random_rolling(s))
]


@pytest.mark.parametrize("seed", WAITING_SEEDS)
def test_random_weeks_with_a_waiting_village_reach_the_checker_optimum(seed: int) -> None:
    # The waiting rule is applied after v1's solve, so the status may stay "feasible".
    data = rolling_oracle.random_rolling(seed)
    result = solve_rolling(parse_rolling(data), time_limit=10)
    objective, bad = rolling_oracle.check(data, _given(result))
    assert bad == []
    assert result.objective == pytest.approx(objective, rel=1e-9, abs=1e-6)
    assert result.objective == pytest.approx(rolling_oracle.optimum(data), rel=1e-6, abs=1e-5)


def _two_weeks() -> dict:
    data = instance(
        [village("V1"), village("V2")],
        [need("N1", "V1", 4, due=0), need("N2", "V2", 4, open_from=1)],
        [offer("O1", 8), offer("O2", 4, available_from=1)],
    )
    data["horizon"] = 2
    return data


def test_checker_and_evaluator_refuse_the_wrong_week() -> None:
    data = _two_weeks()
    wrong = [WeekAllocation("O1", "N2", 4, 0)]  # N2 opens in week 1
    assert any("week" in p for p in rolling_oracle.check(data, [("O1", "N2", 4, 0)])[1])
    assert any("week" in p for p in evaluate_rolling(parse_rolling(data), wrong).violations)


def test_checker_and_evaluator_refuse_a_pledge_before_it_arrives() -> None:
    data = _two_weeks()
    early = [WeekAllocation("O2", "N1", 4, 0)]  # O2 arrives in week 1, N1 is due in week 0
    assert rolling_oracle.check(data, [("O2", "N1", 4, 0)])[1]
    assert evaluate_rolling(parse_rolling(data), early).violations


def test_checker_and_evaluator_refuse_an_offer_used_twice_across_weeks() -> None:
    data = _two_weeks()
    data["offers"][0]["quantity"] = 5
    twice = [WeekAllocation("O1", "N1", 4, 0), WeekAllocation("O1", "N2", 4, 1)]
    given = [("O1", "N1", 4, 0), ("O1", "N2", 4, 1)]
    assert "offer O1 over" in rolling_oracle.check(data, given)[1]
    assert any("O1" in p for p in evaluate_rolling(parse_rolling(data), twice).violations)
