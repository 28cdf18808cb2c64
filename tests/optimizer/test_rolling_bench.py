"""The rolling benchmark's count of villages that could have been served (most_served)."""

from __future__ import annotations

from typing import Any

from benchmarks.rolling_bench import most_served
from optimizer import parse_instance
from optimizer.problem import build_problem
from tests.optimizer.factories import instance, need, offer, village


def served_at_once(offers: list[dict[str, Any]], villages: int = 3) -> int:
    names = [f"V{i}" for i in range(villages)]
    data = instance(
        [village(v) for v in names], [need(f"N{v}", v, 5) for v in names], offers
    )
    problem = build_problem(parse_instance(data))
    return most_served(problem, set(range(villages)))


def test_one_last_unit_serves_one_waiting_village_only() -> None:
    assert served_at_once([offer("O1", 1)]) == 1


def test_an_offer_serves_as_many_villages_as_its_lots_and_its_cap_allow() -> None:
    assert served_at_once([offer("O1", 3)]) == 3
    assert served_at_once([offer("O1", 5, min_lot=2)]) == 2
    assert served_at_once([offer("O1", 9, max_villages=2)]) == 2
    assert served_at_once([offer("O1", 5, indivisible=True)]) == 1


def test_offers_are_matched_so_that_most_villages_are_served() -> None:
    # O1 reaches V0 and V1, O2 only V0 (one lot each): both are served when O1 goes to V1,
    # which taking the first offer V0 can have (O1) would miss.
    offers = [
        offer("O1", 1, villages=["V0", "V1"]),
        offer("O2", 1, villages=["V0"]),
    ]
    assert served_at_once(offers, villages=2) == 2
