"""The exact v1 reduction: with one week and no history, v2 is v1 (same objective, result)."""

from __future__ import annotations

import copy
import json

import pytest

from optimizer import parse_instance, solve
from optimizer.rolling import (
    horizon_instance,
    parse_rolling,
    rolling_result_to_json,
    solve_rolling,
)
from tests.optimizer.factories import INSTANCES, random_instance

SAMPLES = ["tiny-1", "tiny-2", "small-11", "small-12", "small-13"]


def _same(data: dict) -> None:
    v1 = solve(parse_instance(data), time_limit=20)
    v2 = solve_rolling(parse_rolling(data), time_limit=20)
    assert v2.objective == v1.objective
    assert v2.status == v1.status
    assert [(a.offer, a.need, a.quantity) for a in v2.allocations] == [
        (a.offer, a.need, a.quantity) for a in v1.allocations
    ]
    assert {a.week for a in v2.allocations} <= {0}


@pytest.mark.parametrize("name", SAMPLES)
def test_v1_sample_instances_solve_the_same_as_v2(name: str) -> None:
    _same(json.loads((INSTANCES / f"{name}.json").read_text()))


@pytest.mark.parametrize("seed", range(15))
def test_random_v1_weeks_solve_the_same_as_v2(seed: int) -> None:
    _same(random_instance(seed, kinds=seed % 2 == 0))


@pytest.mark.parametrize("seed", range(6))
def test_one_week_with_catch_up_off_and_windows_open_now_is_v1(seed: int) -> None:
    data = random_instance(seed, kinds=True)
    v2 = copy.deepcopy(data)
    v2["horizon"] = 1
    v2["policy"]["catch_up"] = 0
    v2["policy"]["waiting_penalty"] = 0
    v2["history"] = [
        {"village": v["id"], "weeks_ago": w, "coverage": 0}
        for v in v2["villages"] for w in (1, 2)
    ]
    for item in v2["needs"]:
        item["due"] = 0
    for item in v2["offers"]:
        item["available_until"] = 3
    assert horizon_instance(parse_rolling(v2)).instance == parse_instance(data)
    assert solve_rolling(parse_rolling(v2), time_limit=10).objective == solve(
        parse_instance(data), time_limit=10
    ).objective


def test_the_horizon_instance_of_a_v1_week_is_that_week() -> None:
    data = json.loads((INSTANCES / "small-11.json").read_text())
    assert horizon_instance(parse_rolling(data)).instance == parse_instance(data)


def test_v2_output_is_v1_output_with_weeks() -> None:
    data = json.loads((INSTANCES / "tiny-1.json").read_text())
    out = rolling_result_to_json(solve_rolling(parse_rolling(data), time_limit=10))
    assert out["horizon"] == 1
    assert out["committed"] == len(out["allocations"])
    assert all(row["week"] == 0 for row in out["allocations"])
    assert {"village", "rolling_coverage", "catch_up", "expected"} <= out["villages"][0].keys()
