"""Background previews: progress while the job runs, cancel, dead jobs, retry, the runs table.

The jobs here run in the local thread runner (no Redis), made asynchronous where a test watches
a job in flight; the RQ path is exercised in-process at the end when Redis is reachable, and
end to end with gunicorn and `duijie worker` in test_deploy_stack.py.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from optimizer import Instance, Progress, Result
from seeds.demo import WEEK
from tests.web.week.test_week_pages import policy_form, run_id
from tests.web.week_support import memo_solver, user  # noqa: F401  (memo_solver: a fixture)
from web import jobs
from web.extensions import db
from web.models import Allocation, AllocationRun
from web.services import week

REDIS_TEST_URL = os.environ.get("DUIJIE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def slow_solver(gate: threading.Event) -> Callable[..., Result]:
    """A solve that reports a best objective and a bound, then waits for the gate or a stop.

    The real (memoised) solve follows; tests using it also take the memo_solver fixture.
    """
    inner = week.solve

    def run(instance: Instance, **options: Any) -> Result:
        progress = options.get("progress")
        should_stop = options.get("should_stop")
        if progress is not None:
            progress(Progress(0.2, 123.5, 456.5))
        deadline = time.monotonic() + 30
        while not gate.is_set() and time.monotonic() < deadline:
            if should_stop is not None and should_stop():
                break
            time.sleep(0.02)
        return inner(instance, time_limit=1.0)

    return run


@pytest.fixture
def async_jobs(demo_app: Flask) -> Iterator[threading.Event]:
    """Thread jobs that run while the request returns; the gate lets the slow solve finish."""
    gate = threading.Event()
    demo_app.config["DUIJIE_JOBS_SYNC"] = False
    runner = jobs.install_runner(demo_app)
    yield gate
    gate.set()
    runner.join(60)


def wait_for(client: FlaskClient, run: int, check: Callable[[dict[str, Any]], bool]) -> dict:
    """Poll the run's progress endpoint until `check` holds (60 s at most, on a busy machine)."""
    deadline = time.monotonic() + 60
    while True:
        response = client.get(f"/admin/runs/{run}/progress")
        assert response.status_code == 200
        state: dict[str, Any] = response.json  # type: ignore[assignment]
        if check(state) or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


def stored(app: Flask, run: int) -> AllocationRun:
    """The run as stored, detached."""
    with app.app_context():
        found = db.session.get(AllocationRun, run)
        assert found is not None
        db.session.expunge(found)
        db.session.remove()
    return found


@pytest.mark.usefixtures("memo_solver")
def test_preview_runs_in_background_with_live_progress(
    client: FlaskClient,
    auth: Any,
    demo_app: Flask,
    async_jobs: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(week, "solve", slow_solver(async_jobs))
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form(time_limit="5")))

    state = wait_for(client, run, lambda s: s["objective"] == 123.5)
    assert state["status"] == "running" and state["stage"] == "solving"
    assert state["bound"] == 456.5 and state["done"] is False
    assert state["stage_label"] == "优化器正在求解" and state["time_limit"] == 5.0

    page = client.get(f"/admin/runs/{run}")
    assert page.status_code == 200
    assert "<progress" in page.text and "123.5" in page.text and "456.5" in page.text
    assert "js/run-progress.js" in page.text and "<script>" not in page.text
    assert 'http-equiv="refresh"' in page.text  # without JavaScript the page reloads itself
    assert "取消计算" in page.text and "提交分配" not in page.text

    async_jobs.set()
    state = wait_for(client, run, lambda s: s["done"])
    assert state["status"] == "preview" and state["fraction"] == 1.0
    page = client.get(f"/admin/runs/{run}")
    assert "提交分配" in page.text and "<progress" not in page.text
    found = stored(demo_app, run)
    assert found.output is not None and found.finished_at is not None
    assert found.started_at is not None and found.job_id.startswith(f"thread-run-{run}-")


def test_progress_script_is_served(client: FlaskClient) -> None:
    script = client.get("/static/js/run-progress.js")
    assert script.status_code == 200
    assert b"data-progress-url" in script.data and b"location.replace" in script.data


@pytest.mark.usefixtures("memo_solver")
def test_cancel_stops_the_solver_and_stores_nothing(
    client: FlaskClient,
    auth: Any,
    demo_app: Flask,
    async_jobs: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(week, "solve", slow_solver(async_jobs))
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form()))
    wait_for(client, run, lambda s: s["stage"] == "solving")

    page = client.post(f"/admin/runs/{run}/cancel", follow_redirects=True)
    assert "正在取消" in page.text
    state = wait_for(client, run, lambda s: s["done"])
    assert state["status"] == "cancelled"
    found = stored(demo_app, run)
    assert found.output is None and found.input is None and found.cancel_requested

    page = client.get(f"/admin/runs/{run}")
    assert "已取消" in page.text and "重试" in page.text
    again = client.post(f"/admin/runs/{run}/cancel", follow_redirects=True)
    assert "无法完成分配" in again.text  # nothing left to cancel


def test_queued_run_is_cancelled_at_once_and_its_job_skips_it(demo_db: Flask) -> None:
    run = AllocationRun(week=WEEK, status="queued", policy={}, progress={"time_limit": 1.0})
    db.session.add(run)
    db.session.commit()
    jobs.request_cancel(db.session, run.id, user("admin"))
    assert jobs.preview_job(run.id, app=demo_db) == "skipped"
    db.session.refresh(run)
    assert run.status == "cancelled" and run.output is None and run.started_at is None


def dead_run(app: Flask, silent_for: float) -> int:
    """A run left 'running' by a worker that vanished `silent_for` seconds ago."""
    with app.app_context():
        run = AllocationRun(
            week=WEEK,
            status="running",
            policy={},
            created_by_id=user("admin").id,
            job_id="thread-run-lost",
            started_at=datetime.now(UTC),
            progress={"stage": "solving", "time_limit": 1.0, "heartbeat": time.time() - silent_for},
        )
        db.session.add(run)
        db.session.commit()
        found = run.id
        db.session.remove()
    return found


@pytest.mark.usefixtures("memo_solver")
def test_dead_worker_shows_failed_with_reason_and_retry_commits_once(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("admin")
    alive = dead_run(demo_app, silent_for=2)
    assert client.get(f"/admin/runs/{alive}/progress").json["status"] == "running"  # type: ignore[index]

    lost = dead_run(demo_app, silent_for=jobs.STALE_SECONDS + 5)
    state = client.get(f"/admin/runs/{lost}/progress").json
    assert state is not None and state["status"] == "failed" and state["done"]
    page = client.get(f"/admin/runs/{lost}")
    assert "计算进程已无响应" in page.text and "没有保存任何结果" in page.text
    assert "重试" in page.text
    found = stored(demo_app, lost)
    assert found.status == "failed" and found.reason == jobs.Reason.WORKER_LOST
    assert found.error and "no progress for" in found.error

    retried = run_id(client.post(f"/admin/runs/{lost}/retry"))
    assert retried != lost and stored(demo_app, retried).status == "preview"
    page = client.post(
        f"/admin/runs/{retried}/commit", data={"confirm": "yes"}, follow_redirects=True
    )
    assert "已提交" in page.text
    # A late second retry of the lost run is refused: the week can be committed only once.
    refused = client.post(f"/admin/runs/{lost}/retry", follow_redirects=True)
    assert "本周已提交分配，不能再次提交" in refused.text
    with demo_app.app_context():
        committed = db.session.scalar(
            select(func.count(AllocationRun.id)).where(AllocationRun.committed_week == WEEK)
        )
        assert committed == 1
        db.session.remove()


@pytest.mark.usefixtures("memo_solver")
def test_retry_refused_for_a_run_that_did_not_fail(client: FlaskClient, auth: Any) -> None:
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form()))
    page = client.post(f"/admin/runs/{run}/retry", follow_redirects=True)
    assert "无法完成分配" in page.text


def test_crashing_solver_fails_the_run_without_storing(
    client: FlaskClient, auth: Any, demo_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(instance: Instance, **options: Any) -> Result:
        raise MemoryError("solver ran out of memory")

    monkeypatch.setattr(week, "solve", crash)
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form()))
    page = client.get(f"/admin/runs/{run}")
    assert page.status_code == 200 and "优化器运行出错" in page.text
    found = stored(demo_app, run)
    assert found.status == "failed" and "MemoryError" in (found.error or "")
    assert found.output is None
    with demo_app.app_context():
        assert db.session.scalar(select(func.count(Allocation.id))) == 0
        db.session.remove()


def test_runs_table_is_paginated(client: FlaskClient, auth: Any, demo_app: Flask) -> None:
    with demo_app.app_context():
        for _ in range(25):
            db.session.add(AllocationRun(week=WEEK, status="cancelled", policy={}, progress={}))
        db.session.commit()
        newest = db.session.scalar(select(func.max(AllocationRun.id)))
        db.session.remove()
    auth.login("admin")
    first = client.get("/admin/week")
    assert "共 25 次计算" in first.text and "第 1 / 2 页" in first.text
    assert len(re.findall(r'href="/admin/runs/\d+"', first.text)) == 20
    assert f'href="/admin/runs/{newest}"' in first.text and "page=2" in first.text
    second = client.get("/admin/week?page=2")
    assert len(re.findall(r'href="/admin/runs/\d+"', second.text)) == 5
    assert f'href="/admin/runs/{newest}"' not in second.text
    assert client.get("/admin/week?page=0").status_code == 400
    assert client.get("/admin/week?page=abc").status_code == 400
    assert "这一页没有计算记录" in client.get("/admin/week?page=9").text


def test_unreachable_queue_fails_the_run_with_a_clear_message(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    demo_app.config["DUIJIE_REDIS_URL"] = "redis://127.0.0.1:1/15"  # nothing listens there
    jobs.install_runner(demo_app)
    auth.login("admin")
    page = client.post("/admin/week", data=policy_form(), follow_redirects=True)
    assert "无法连接任务队列" in page.text
    with demo_app.app_context():
        run = db.session.scalars(select(AllocationRun)).one()
        assert run.status == "failed" and run.reason == jobs.Reason.QUEUE_DOWN and run.error
        db.session.remove()


def redis_or_skip() -> Any:
    """A client on the test Redis (db 15); skipped when no Redis answers.

    Nothing is flushed: other test runs may share the Redis, so each test works in a queue of
    its own (`own_queue`) and removes only that queue's keys (`forget_queue`)."""
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.ConnectionError:
        if os.environ.get("DUIJIE_REQUIRE_SERVICES"):
            pytest.fail("DUIJIE_REQUIRE_SERVICES is set but Redis is not reachable")
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    return connection


def forget_queue(connection: Any, name: str) -> None:
    """Delete a test queue's keys and its jobs from Redis, leaving everything else."""
    from rq import Queue

    queue = Queue(name, connection=connection)
    registries = (
        queue.started_job_registry,
        queue.finished_job_registry,
        queue.failed_job_registry,
        queue.deferred_job_registry,
        queue.scheduled_job_registry,
        queue.canceled_job_registry,
    )
    job_ids = set(queue.get_job_ids())
    for registry in registries:
        job_ids.update(registry.get_job_ids())
    keys = [f"rq:job:{job_id}" for job_id in job_ids]
    keys += list(connection.scan_iter(match=f"rq:*{name}*"))
    if keys:
        connection.delete(*keys)


def own_queue(app: Flask) -> str:
    """Give the app a queue of its own: no other process on the shared Redis takes its jobs."""
    name = f"duijie-test-{uuid.uuid4().hex[:8]}"
    app.config["DUIJIE_QUEUE"] = name
    return name


@pytest.fixture
def rq_queue(demo_app: Flask) -> Iterator[tuple[Any, str]]:
    """The test Redis for the app's jobs, in a queue of its own whose keys go afterwards."""
    connection = redis_or_skip()
    demo_app.config["DUIJIE_REDIS_URL"] = REDIS_TEST_URL
    name = own_queue(demo_app)
    jobs.install_runner(demo_app)
    yield connection, name
    forget_queue(connection, name)


@pytest.mark.redis
@pytest.mark.xdist_group("redis")  # shares Redis db 15 with test_deploy_stack
@pytest.mark.usefixtures("memo_solver")
def test_rq_path_queues_then_a_worker_stores_the_preview(
    client: FlaskClient, auth: Any, demo_app: Flask, rq_queue: tuple[Any, str]
) -> None:
    from rq import Queue, SimpleWorker

    connection, name = rq_queue
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form()))
    page = client.get(f"/admin/runs/{run}")
    assert "排队等待计算进程" in page.text and "<progress" in page.text
    found = stored(demo_app, run)
    assert found.status == "queued" and found.job_id and found.job_id.startswith("duijie-")

    with demo_app.app_context():
        queue = Queue(name, connection=connection)
        assert queue.job_ids == [found.job_id]
        assert Queue(jobs.QUEUE_NAME, connection=connection).job_ids == []
        SimpleWorker([queue], connection=connection).work(burst=True)
        db.session.remove()
    state = client.get(f"/admin/runs/{run}/progress").json
    assert state is not None and state["status"] == "preview" and state["done"]
    demo_app.config["DUIJIE_COMMIT_WAIT_SECONDS"] = 0
    page = client.post(f"/admin/runs/{run}/commit", data={"confirm": "yes"}, follow_redirects=True)
    assert "提交中" in page.text  # the commit is a job too: queued for the worker
    with demo_app.app_context():
        SimpleWorker([queue], connection=connection).work(burst=True)
        db.session.remove()
    assert "已提交" in client.get(f"/admin/runs/{run}").text
    assert stored(demo_app, run).status == "committed"


@pytest.mark.redis
@pytest.mark.xdist_group("redis")
def test_a_queue_no_worker_reads_is_named_on_the_run_page(
    client: FlaskClient, auth: Any, rq_queue: tuple[Any, str]
) -> None:
    """A preview queued while no `duijie worker` runs would wait for ever: the page says so,
    and stops saying so once a worker listens on the queue."""
    from rq import Queue, SimpleWorker

    connection, name = rq_queue
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form()))
    page = client.get(f"/admin/runs/{run}")
    assert f"队列“{name}”现在没有计算进程在处理" in page.text
    warning = re.search(r'class="flash error no-worker"[^>]*>', page.text)
    assert warning is not None and "hidden" not in warning.group(0)
    state = client.get(f"/admin/runs/{run}/progress").json
    assert state is not None and state["no_worker"] and state["queue"] == name

    worker = SimpleWorker([Queue(name, connection=connection)], connection=connection)
    worker.register_birth()
    try:
        state = client.get(f"/admin/runs/{run}/progress").json
        assert state is not None and state["status"] == "queued" and not state["no_worker"]
        page = client.get(f"/admin/runs/{run}")
        assert re.search(r'class="flash error no-worker"[^>]*hidden', page.text)
    finally:
        worker.register_death()


@pytest.mark.usefixtures("memo_solver")
def test_without_redis_no_queue_warning_is_shown(client: FlaskClient, auth: Any) -> None:
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form()))
    state = client.get(f"/admin/runs/{run}/progress").json
    assert state is not None and state["no_worker"] is False


@pytest.mark.usefixtures("english_commands")
def test_worker_command_needs_redis(demo_app: Flask) -> None:
    demo_app.config["DUIJIE_REDIS_URL"] = None
    result = demo_app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "DUIJIE_REDIS_URL" in result.output
    demo_app.config["DUIJIE_REDIS_URL"] = "redis://127.0.0.1:1/15"
    result = demo_app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "cannot be reached" in result.output


@pytest.mark.usefixtures("memo_solver")
def test_job_status_changes_are_audited_as_the_administrator_who_started_it(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    from web.models import AuditEvent

    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form()))
    with demo_app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "run", AuditEvent.entity_id == str(run))
        ).all()
        statuses = [(e.after or {}).get("status") for e in events]
        assert "running" in statuses and "preview" in statuses, statuses
        assert {e.actor_id for e in events} == {user("admin").id}
        db.session.remove()


def test_the_queue_name_comes_from_duijie_queue(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from web.config import Settings

    monkeypatch.setenv("DUIJIE_SECRET_KEY", "queue-name-test")
    monkeypatch.delenv("DUIJIE_QUEUE", raising=False)
    assert Settings.from_env(tmp_path).flask_config()["DUIJIE_QUEUE"] == "duijie"
    monkeypatch.setenv("DUIJIE_QUEUE", " duijie-county-test ")
    assert Settings.from_env(tmp_path).flask_config()["DUIJIE_QUEUE"] == "duijie-county-test"
