"""The shared sample instances: parse, solve under a short limit, output valid and feasible."""

from __future__ import annotations

import json

import pytest

from optimizer import evaluate, load_instance, result_to_json, solve
from tests.optimizer.factories import INSTANCES

# Reference optima from the instances' README (HiGHS, proven optimal).
OPTIMA = {
    "tiny-1": 498.382,
    "tiny-2": 3130.000,
    "small-11": 20963.158,
    "small-12": 23317.503,
    "small-13": 24164.252,
}
LIMITS = {"medium-21": 5.0, "hezhou-31": 8.0, "hezhou-32": 8.0}

pytestmark = pytest.mark.skipif(
    not INSTANCES.is_dir(), reason=f"shared sample instances not found at {INSTANCES}"
)


def names() -> list[str]:
    if not INSTANCES.is_dir():
        return []
    return sorted(p.stem for p in INSTANCES.glob("*.json"))


@pytest.mark.parametrize("name", names())
def test_sample_instance(name: str) -> None:
    instance = load_instance(str(INSTANCES / f"{name}.json"))
    result = solve(instance, time_limit=LIMITS.get(name, 30.0))  # proofs end sooner
    output = json.loads(json.dumps(result_to_json(result)))
    assert set(output) >= {"status", "objective", "bound", "seconds", "allocations", "metrics"}
    checked = evaluate(instance, result.allocations)
    assert checked.feasible, checked.violations[:5]
    assert output["objective"] == pytest.approx(checked.objective, rel=1e-12)
    assert all(a["quantity"] >= 1 for a in output["allocations"])
    if name in OPTIMA:
        assert result.status == "optimal"
        # The README rounds to 3 decimals; our optimum matches it to that precision.
        assert result.objective == pytest.approx(OPTIMA[name], abs=5e-4)
    if result.bound is not None:
        assert result.bound >= result.objective
