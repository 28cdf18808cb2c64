"""A week where most offers are province-wide, cut into parts by the product's coordinator.

The coordinator first solves each category's transport relaxation of the whole week (as jobs
on the queue, or itself without Redis); its units per region share the wide offers among the
parts, and its sum is the run's first bound. After the parts, the bound is computed again with
fairness priced from the merged solution, which is tighter. A week of local donors, or one whose
relaxation is not in within its share of the time, is shared by unmet demand as before.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from benchmarks.province_gen import generate as generate_province
from optimizer import Allocation, evaluate, load_instance, parse_instance
from optimizer.decompose import bound_part, bound_payloads, combine_bounds
from tests.web.week.test_distributed import (
    BIN,
    _kill_tree,
    start_workers,
    wait_for_workers,
    worker_env,
)
from tests.web.week.test_jobs import forget_queue, redis_or_skip
from web.services import distributed


def _wide_week(seed: int = 4, **size: int) -> dict[str, Any]:
    size = {"villages": 120, "needs": 960, "offers": 240, **size}
    return generate_province(seed=seed, wide=0.6, **size)


def _relaxation_bound(instance: Any) -> float:
    """The bound of the relaxation the coordinator runs first (fairness at half the penalty)."""
    half = {v.id: instance.policy.fairness_penalty / 2 for v in instance.villages}
    found = combine_bounds(instance, [bound_part(p) for p in bound_payloads(instance, half)])
    assert found is not None
    return found


def test_a_wide_week_is_shared_by_the_relaxation_and_bounded_by_it() -> None:
    instance = parse_instance(_wide_week())
    assert distributed.wide_share(instance) > 0.5
    out = distributed.solve_distributed(instance, time_limit=30, connection=None)
    result = out.result
    assert result.settings["wide_offers_shared_by"] == "relaxation"
    assert evaluate(instance, result.allocations).feasible and not out.lost
    assert result.bound is not None and result.objective <= result.bound
    assert result.bound == pytest.approx(_relaxation_bound(instance), rel=1e-9)
    assert result.metrics["wide_offers"] > 0 and result.metrics["relax_seconds"] > 0


def test_local_donors_and_a_late_relaxation_are_shared_by_demand(monkeypatch: Any) -> None:
    local = parse_instance(generate_province(villages=120, needs=960, offers=240, seed=4))
    assert distributed.wide_share(local) < distributed.RELAX_WIDE_SHARE
    out = distributed.solve_distributed(local, time_limit=20, connection=None)
    assert out.result.settings["wide_offers_shared_by"] == "demand"
    assert out.result.metrics["relax_seconds"] == 0

    # No time for the relaxation: it is dropped and the week is still solved, every part in.
    monkeypatch.setattr(distributed, "RELAX_TIME_SHARE", 0.0)
    wide = parse_instance(_wide_week())
    out = distributed.solve_distributed(wide, time_limit=20, connection=None)
    assert out.result.settings["wide_offers_shared_by"] == "demand"
    assert evaluate(wide, out.result.allocations).feasible and not out.lost
    assert out.result.objective > 0


def test_the_relaxation_gives_more_than_sharing_by_demand(monkeypatch: Any) -> None:
    """The point of the relaxation: on a wide week the same time buys a better week."""
    instance = parse_instance(_wide_week(seed=7, villages=150, needs=1200, offers=300))
    shared = distributed.solve_distributed(instance, time_limit=40, connection=None)
    monkeypatch.setattr(distributed, "RELAX_WIDE_SHARE", 2.0)  # never relaxed
    by_demand = distributed.solve_distributed(instance, time_limit=40, connection=None)
    assert by_demand.result.settings["wide_offers_shared_by"] == "demand"
    assert shared.result.objective > by_demand.result.objective


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.xdist_group("redis")
def test_two_workers_relax_solve_and_tighten_the_bound_of_a_wide_week(tmp_path: Path) -> None:
    connection = redis_or_skip()
    queue = f"duijie-test-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "week.json"
    path.write_text(json.dumps(_wide_week(villages=200, needs=1600, offers=400)))
    env = worker_env(tmp_path, queue)
    workers = start_workers(env, tmp_path, [f"{queue}-a", f"{queue}-b"])
    try:
        wait_for_workers(connection, queue, 2)
        started = time.monotonic()
        done = subprocess.run(
            [str(BIN / "duijie"), "solve", str(path), "--distributed", "--time-limit", "60",
             "--output", str(tmp_path / "out.json")],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert time.monotonic() - started < 60 + 10
        result = json.loads((tmp_path / "out.json").read_text())
        assert result["solver"]["wide_offers_shared_by"] == "relaxation"
        metrics = result["metrics"]
        assert metrics["workers"] == 2 and metrics["parts_lost"] == 0
        instance = load_instance(str(path))
        checked = evaluate(
            instance,
            [Allocation(a["offer"], a["need"], a["quantity"]) for a in result["allocations"]],
        )
        assert checked.feasible
        # The bound priced from the solution is in, and tighter than the relaxation's.
        relaxation = _relaxation_bound(instance)
        assert checked.objective <= result["bound"] < relaxation - 1e-6 * relaxation
    finally:
        for process in workers:
            _kill_tree(process.pid)
            process.wait(timeout=10)
        forget_queue(connection, queue)


def test_the_baseline_is_a_job_beside_the_parts_within_the_time_limit() -> None:
    """A cut week's first-come-first-served baseline runs as one more job while the parts are
    solved (a province's baseline takes minutes: after the limit it would overrun it)."""
    from optimizer import solve_greedy

    instance = parse_instance(_wide_week())
    started = time.monotonic()
    out = distributed.solve_distributed(
        instance, time_limit=20, connection=None, with_greedy=True
    )
    assert time.monotonic() - started < 20 + 1
    assert out.greedy is not None and out.greedy.method == "greedy"
    assert out.greedy.allocations == solve_greedy(instance).allocations
    assert out.result.objective > out.greedy.objective
