"""A week cut into parts: the preview's coordinator, `duijie solve --distributed`, the faults.

The web tests cut the Hezhou demo week (DUIJIE_DISTRIBUTE_PAIRS=1: every week is cut) and
solve it without Redis (the coordinator solves the parts itself) and with one in-process RQ
worker (the coordinator is then the worker's job and must solve its own parts: no deadlock).
The last test is the real thing: two `duijie worker` processes on the test Redis serve the
parts of `duijie solve --distributed`, one is killed with SIGKILL in the middle of a part, and
the week still completes with every part solved, by both workers.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from benchmarks.province_gen import generate as generate_province
from optimizer import evaluate, load_instance
from tests.web.week.test_jobs import (  # noqa: F401  (async_jobs: a fixture)
    REDIS_TEST_URL,
    async_jobs,
    forget_queue,
    redis_or_skip,
    stored,
    wait_for,
)
from tests.web.week.test_week_pages import policy_form, run_id
from web.services import distributed_jobs, week

BIN = Path(sys.executable).parent

pytestmark = pytest.mark.usefixtures("english_commands")


@pytest.fixture
def cut_every_week(demo_app: Flask) -> Flask:
    demo_app.config["DUIJIE_DISTRIBUTE_PAIRS"] = 1
    return demo_app


def test_a_cut_week_is_previewed_part_by_part_and_the_page_says_so(
    client: FlaskClient, auth: Any, cut_every_week: Flask
) -> None:
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form(time_limit="30")))
    found = stored(cut_every_week, run)
    assert found.status == "preview", found.error
    spread = found.metrics["distributed"]
    assert spread["parts"] > 1
    assert spread["lost"] == [], [(p["key"], p["reason"]) for p in spread["lost"]][:3]
    assert len(spread["workers"]) == 1
    assert found.metrics["optimizer"]["parts"] == spread["parts"]
    assert found.output is not None and found.output["allocations"]
    assert found.objective is not None and found.objective > found.metrics["greedy"]["objective"]
    state = client.get(f"/admin/runs/{run}/progress").json
    assert state is not None and state["parts_done"] == state["parts_total"] == spread["parts"]
    page = client.get(f"/admin/runs/{run}")
    assert f"本周分成 {spread['parts']} 个部分" in page.text
    # Most of Hezhou's offers are city-wide: they were shared by the whole week's relaxation,
    # which gave the bound; the baseline was a job beside the parts.
    assert spread["wide_shared_by"] == "relaxation" and "按全周松弛解" in page.text
    assert found.bound is not None and found.objective <= found.bound
    assert found.metrics["greedy"]["objective"] > 0


def test_a_part_that_keeps_failing_is_given_nothing_and_named(
    client: FlaskClient, auth: Any, cut_every_week: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = distributed_jobs.solve_part
    broken: list[str] = []

    def flaky(payload: dict[str, Any]) -> dict[str, Any]:
        if payload["key"].startswith("education/") and (not broken or broken[0] == payload["key"]):
            broken[:1] = [payload["key"]]
            raise RuntimeError("the part's solver crashed")
        return real(payload)

    monkeypatch.setattr(distributed_jobs, "solve_part", flaky)
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form(time_limit="30")))
    found = stored(cut_every_week, run)
    assert found.status == "preview", found.error
    lost = found.metrics["distributed"]["lost"]
    assert broken and broken[0] in {p["key"] for p in lost}
    assert all("the part's solver crashed" in p["reason"] for p in lost)
    part = next(p for p in lost if p["key"] == broken[0])
    given = {a["need"] for a in found.output["allocations"]}  # type: ignore[index]
    assert part["need_ids"] and not set(part["need_ids"]) & given  # its needs got nothing ...
    assert given - {n for p in lost for n in p["need_ids"]}  # ... and the rest of the week stands
    page = client.get(f"/admin/runs/{run}")
    from web.i18n import category_name

    with cut_every_week.test_request_context():
        named = category_name("education")
    block = page.text[page.text.index("lost-parts") :]
    block = block[: block.index("</div>")]
    assert "个部分没有分到任何资源" in block and f"<li>{named} · " in block


def test_cancel_stops_the_parts_and_stores_nothing(
    client: FlaskClient,
    auth: Any,
    cut_every_week: Flask,
    async_jobs: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = distributed_jobs.solve_part
    solved: list[str] = []

    def slow(payload: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.3)
        solved.append(payload["key"])
        return real(payload)

    monkeypatch.setattr(distributed_jobs, "solve_part", slow)
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form(time_limit="60")))
    state = wait_for(client, run, lambda s: (s["parts_done"] or 0) >= 2)
    assert state["stage"] == "parts" and state["parts_total"] > 2
    assert state["stage_label"] == "计算进程正在分部分求解"
    page = client.get(f"/admin/runs/{run}")
    assert "已求解的部分" in page.text
    client.post(f"/admin/runs/{run}/cancel")
    state = wait_for(client, run, lambda s: s["done"])
    assert state["status"] == "cancelled"
    done = len(solved)
    time.sleep(1.0)
    assert len(solved) == done < state["parts_total"]  # no part is solved after the cancel
    found = stored(cut_every_week, run)
    assert found.output is None and found.input is None


def test_preview_time_limit_scales_with_the_week(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("admin")
    response = client.post("/admin/week", data=policy_form(time_limit="121"), follow_redirects=True)
    assert "120" in response.text and "/admin/runs/" not in response.request.path
    from web.extensions import db
    from web.jobs import max_time_limit

    with demo_app.app_context():
        assert max_time_limit(db.session) == 120  # the demo week: a city's, 120 s at most
        db.session.remove()


@pytest.mark.redis
@pytest.mark.xdist_group("redis")
def test_one_worker_serves_the_coordinator_and_its_parts(
    client: FlaskClient, auth: Any, cut_every_week: Flask
) -> None:
    """One RQ worker: the preview job is the coordinator; it solves its own parts."""
    from rq import Queue, SimpleWorker

    connection = redis_or_skip()
    name = f"duijie-test-{uuid.uuid4().hex[:8]}"
    cut_every_week.config.update(DUIJIE_REDIS_URL=REDIS_TEST_URL, DUIJIE_QUEUE=name)
    try:
        auth.login("admin")
        run = run_id(client.post("/admin/week", data=policy_form(time_limit="30")))
        with cut_every_week.app_context():
            queue = Queue(name, connection=connection)
            SimpleWorker([queue], connection=connection).work(burst=True)
        found = stored(cut_every_week, run)
        assert found.status == "preview", found.error
        spread = found.metrics["distributed"]
        assert spread["parts"] > 1 and spread["lost"] == []
        assert queue.count == 0  # every part it enqueued was taken (by itself)
    finally:
        forget_queue(connection, name)


# --- `duijie solve --distributed` ---


def solve_cli(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["solve", *args])


@pytest.fixture
def small_week(tmp_path: Path) -> Path:
    path = tmp_path / "week.json"
    data = generate_province(villages=60, needs=480, offers=120, seed=5)
    path.write_text(json.dumps(data, ensure_ascii=False))
    return path


def test_distributed_solve_without_redis_fails_in_one_line(
    demo_app: Flask, small_week: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.json"
    demo_app.config["DUIJIE_REDIS_URL"] = None
    done = solve_cli(demo_app, str(small_week), "--distributed", "--output", str(out))
    assert done.exit_code == 1 and done.stderr.count("\n") == 1
    assert "DUIJIE_REDIS_URL" in done.stderr and not out.exists()

    demo_app.config["DUIJIE_REDIS_URL"] = "redis://127.0.0.1:1/13"  # nothing listens there
    done = solve_cli(demo_app, str(small_week), "--distributed", "--output", str(out))
    assert done.exit_code == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "cannot be reached" in done.stderr and not out.exists()


@pytest.mark.redis
@pytest.mark.xdist_group("redis")
def test_distributed_solve_with_no_worker_listening_fails_at_once(
    demo_app: Flask, small_week: Path, tmp_path: Path
) -> None:
    redis_or_skip()
    name = f"duijie-test-{uuid.uuid4().hex[:8]}"
    demo_app.config.update(DUIJIE_REDIS_URL=REDIS_TEST_URL, DUIJIE_QUEUE=name)
    out = tmp_path / "out.json"
    start = time.monotonic()
    done = solve_cli(demo_app, str(small_week), "--distributed", "--output", str(out))
    assert done.exit_code == 1 and done.stderr.count("\n") == 1, done.stderr
    assert f"no worker listens on the queue '{name}'" in done.stderr
    assert time.monotonic() - start < 10 and not out.exists()
    assert redis_or_skip().llen(f"rq:queue:{name}") == 0  # nothing was enqueued


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def _kill_tree(pid: int) -> None:
    """SIGKILL a worker and its work horse (which leads its own process group): the worker
    first, as a machine lost would, so that it cannot see its horse die and mark the job
    failed (the horse's pid is read before, while it is still the worker's child)."""
    children = _children(pid)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGKILL)


def worker_env(tmp_path: Path, queue: str, **more: str) -> dict[str, str]:
    """The environment of `duijie worker` and `duijie solve` processes on the test Redis."""
    return {
        **os.environ,
        "DUIJIE_REDIS_URL": REDIS_TEST_URL,
        "DUIJIE_QUEUE": queue,
        "DUIJIE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DUIJIE_SECRET_KEY": "distributed-test",
        **more,
    }


def start_workers(env: dict[str, str], tmp_path: Path, names: list[str]) -> list[Any]:
    """Real `duijie worker` processes, each leading its own session (so its tree can be
    killed), logging to tmp_path/<name>.log."""
    return [
        subprocess.Popen(
            [str(BIN / "duijie"), "worker", "--name", name],
            env=env,
            cwd=tmp_path,
            stdout=open(tmp_path / f"{name}.log", "wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for name in names
    ]


def wait_for_workers(connection: Any, queue: str, count: int) -> None:
    from rq import Worker

    deadline = time.monotonic() + 120
    while len(Worker.all(connection=connection, queue=_queue(queue, connection))) < count:
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.xdist_group("redis")
def test_two_workers_solve_the_parts_and_a_killed_one_loses_nothing(tmp_path: Path) -> None:
    from rq import Worker
    from rq.job import Job

    connection = redis_or_skip()
    queue = f"duijie-test-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "week.json"
    path.write_text(json.dumps(generate_province(villages=300, needs=2400, offers=600, seed=1)))
    env = worker_env(tmp_path, queue, DUIJIE_PART_SECONDS="3")
    names = [f"{queue}-a", f"{queue}-b"]
    workers = start_workers(env, tmp_path, names)
    solver = None
    try:
        wait_for_workers(connection, queue, len(names))
        started = time.monotonic()
        solver = subprocess.Popen(
            [str(BIN / "duijie"), "solve", str(path), "--distributed", "--time-limit", "150",
             "--output", str(tmp_path / "out.json")],
            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        # Worker a, once it has solved a part, is killed in the middle of its next one.
        killed = None
        while killed is None and solver.poll() is None:
            found = Worker.find_by_key(f"rq:worker:{names[0]}", connection=connection)
            job_id = found.get_current_job_id() if found is not None else None
            if found is not None and found.successful_job_count >= 1 and job_id:
                job = Job.fetch(job_id, connection=connection)
                limit = float(job.args[0].get("time_limit") or 0)  # a part, not a bound
                if job.get_status() == "started" and limit >= 2:
                    _kill_tree(workers[0].pid)
                    killed = job_id
                    assert Job.fetch(job_id, connection=connection).get_status() == "started"
            time.sleep(0.05)
        assert killed is not None, "worker a never took a second part"
        _out, err = solver.communicate(timeout=200)
        wall = time.monotonic() - started
        assert solver.returncode == 0, err
        result = json.loads((tmp_path / "out.json").read_text())
        metrics = result["metrics"]
        assert metrics["parts"] == metrics["parts_solved"] > 1 and metrics["parts_lost"] == 0
        assert metrics["parts_retried"] >= 1 and metrics["workers"] == 2
        assert wall < 150 + 10
        instance = load_instance(str(path))
        from optimizer import Allocation

        checked = evaluate(
            instance,
            [Allocation(a["offer"], a["need"], a["quantity"]) for a in result["allocations"]],
        )
        assert checked.feasible and not checked.violations
        assert checked.objective == pytest.approx(result["objective"], rel=1e-6)
    finally:
        if solver is not None and solver.poll() is None:
            solver.kill()
        for process in workers:
            _kill_tree(process.pid)
            process.wait(timeout=10)
        forget_queue(connection, queue)


def _queue(name: str, connection: Any) -> Any:
    from rq import Queue

    return Queue(name, connection=connection)


def test_week_service_keeps_whole_weeks_below_the_threshold(demo_app: Flask) -> None:
    """With the default threshold the demo week is solved whole, as before."""
    from seeds.demo import WEEK
    from web.extensions import db
    from web.jobs import spread_for

    with demo_app.app_context():
        fields = week.solve_week(db.session, WEEK, None, time_limit=2, spread=spread_for())
        db.session.remove()
    assert "distributed" not in fields["metrics"]
    assert fields["output"]["solver"]["method"] != "distributed"


def test_allocate_cuts_a_large_week_and_says_how_its_parts_went(cut_every_week: Flask) -> None:
    from seeds.demo import WEEK

    done = cut_every_week.test_cli_runner().invoke(
        args=["allocate", "--week", WEEK, "--time-limit", "30"]
    )
    assert done.exit_code == 0, done.output
    parts = re.search(r"parts (\d+) / (\d+) solved by 1 worker\(s\), 0 retried", done.output)
    assert parts is not None, done.output
    assert int(parts.group(2)) > 1 and "Preview run" in done.output


def test_api_preview_takes_a_time_limit_within_the_weeks_cap(
    cut_every_week: Flask,
) -> None:
    from seeds.demo import WEEK
    from tests.web.test_api_helpers import Api

    api = Api(cut_every_week)
    refused = api.post("admin", "/runs", json={"week": WEEK, "time_limit": 121})
    assert refused.status_code == 422 and "at most 120 seconds" in refused.get_json()["detail"]
    started = api.post("admin", "/runs", json={"week": WEEK, "time_limit": 30})
    assert started.status_code == 202, started.get_json()
    run = api.get("admin", f"/runs/{started.get_json()['id']}").get_json()
    assert run["status"] == "preview" and run["progress"]["time_limit"] == 30.0
    assert run["progress"]["parts_total"] == run["metrics"]["distributed"]["parts"] > 1
