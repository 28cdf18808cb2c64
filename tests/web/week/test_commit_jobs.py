"""Committing a preview as a background job: the page, a commit in flight, refusals, dead jobs, RQ.

The commit job runs `commit_run` (one all-or-nothing transaction); the run's status stays
"preview" until that transaction sets "committed", and the job's state lives in `progress`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.web.week.test_jobs import (  # noqa: F401
    REDIS_TEST_URL,
    async_jobs,
    forget_queue,
    own_queue,
    redis_or_skip,
    stored,
    wait_for,
)
from tests.web.week.test_week_pages import policy_form, run_id
from tests.web.week_support import memo_solver, user  # noqa: F401  (memo_solver: a fixture)
from web import jobs
from web.extensions import db
from web.models import Allocation, AllocationRun, Offer
from web.services import week
from web.services.week_instance import row_id

pytestmark = pytest.mark.usefixtures("memo_solver")


def pledges(app: Flask, run: int) -> tuple[int, int]:
    """The run's allocation rows and their units, as stored."""
    with app.app_context():
        count, units = db.session.execute(
            select(
                func.count(Allocation.id), func.coalesce(func.sum(Allocation.quantity), 0)
            ).where(Allocation.run_id == run)
        ).one()
        db.session.remove()
    return int(count), int(units)


def planned(found: AllocationRun) -> tuple[int, int]:
    """The preview's allocation lines and their units."""
    items = (found.output or {})["allocations"]
    return len(items), sum(int(a["quantity"]) for a in items)


def all_pledges(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(Allocation.id))) or 0
        db.session.remove()
    return count


def test_commit_through_the_page_runs_as_a_job_and_pledges_the_preview(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form()))
    response = client.post(f"/admin/runs/{run}/commit", data={"confirm": "yes"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/runs/{run}")
    page = client.get(response.headers["Location"])
    assert "已提交：分配已成为认捐" in page.text and "发布" in page.text
    assert "<progress" not in page.text and "提交失败" not in page.text

    found = stored(demo_app, run)
    assert found.status == "committed" and found.committed_week == found.week
    assert (found.progress or {})["stage"] == "committed"
    assert str((found.progress or {})["commit_job"]).startswith(f"thread-commit-{run}-")
    assert pledges(demo_app, run) == planned(found) and planned(found)[0] > 0
    state = client.get(f"/admin/runs/{run}/progress").json
    assert state is not None and state["done"] and state["status"] == "committed"


def test_second_commit_while_one_is_in_flight_is_refused(
    client: FlaskClient,
    auth: Any,
    demo_app: Flask,
    async_jobs: threading.Event,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = week.commit_run
    calls: list[int] = []

    def gated(session: Any, run_id: int, actor: Any) -> AllocationRun:
        calls.append(run_id)
        async_jobs.wait(30)
        return real(session, run_id, actor)

    monkeypatch.setattr(week, "commit_run", gated)
    demo_app.config["DUIJIE_COMMIT_WAIT_SECONDS"] = 0
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form()))
    assert wait_for(client, run, lambda s: s["done"])["status"] == "preview"

    first = client.post(f"/admin/runs/{run}/commit", data={"confirm": "yes"}, follow_redirects=True)
    assert "正在提交：认捐保存后本页会显示结果" in first.text
    state = wait_for(client, run, lambda s: bool(calls))
    assert state["status"] == "preview" and state["stage"] == "committing"
    assert state["done"] is False and state["stage_label"] == "提交中"
    page = client.get(f"/admin/runs/{run}")
    assert "<progress" in page.text and "提交中" in page.text and "js/run-progress.js" in page.text
    assert "提交分配" not in page.text and "取消计算" not in page.text

    second = client.post(
        f"/admin/runs/{run}/commit", data={"confirm": "yes"}, follow_redirects=True
    )
    assert "这份预览正在提交中，请等待提交完成" in second.text
    assert stored(demo_app, run).status == "preview" and all_pledges(demo_app) == 0

    async_jobs.set()
    state = wait_for(client, run, lambda s: s["done"])
    assert state["status"] == "committed" and state["fraction"] == 1.0
    jobs.runner_of(demo_app).join(60)
    assert calls == [run]  # the refused request started no second job
    page = client.get(f"/admin/runs/{run}")
    assert "发布" in page.text and "<progress" not in page.text
    assert pledges(demo_app, run) == planned(stored(demo_app, run))


def test_stale_commit_leaves_the_preview_with_the_reason_and_nothing_pledged(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form()))
    offer_id = row_id((stored(demo_app, run).output or {})["allocations"][0]["offer"])
    with demo_app.app_context():
        offer = db.session.get(Offer, offer_id)
        assert offer is not None
        offer.quantity += 1  # the donor changed the offer after the preview
        db.session.commit()
        db.session.remove()

    page = client.post(f"/admin/runs/{run}/commit", data={"confirm": "yes"}, follow_redirects=True)
    assert "预览之后捐赠或需求已有变化，请重新预览本周分配" in page.text
    assert "提交失败，没有生成任何认捐" in page.text and "StaleRun" in page.text
    assert "提交分配" in page.text and "<progress" not in page.text  # it can be committed again
    found = stored(demo_app, run)
    assert found.status == "preview" and found.committed_week is None
    assert (found.progress or {})["stage"] == "commit_failed"
    assert all_pledges(demo_app) == 0
    with demo_app.app_context():
        offer = db.session.get(Offer, offer_id)
        assert offer is not None and offer.allocated == 0
        db.session.remove()
    state = client.get(f"/admin/runs/{run}/progress").json
    assert state is not None and state["done"] and state["stage_label"] == "提交失败"
    assert "StaleRun" in (state["commit_error"] or "")


def test_a_silent_commit_job_is_a_failed_commit_that_can_be_retried(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form()))

    def in_flight(silent_for: float) -> None:
        """The run as a commit job left it that went quiet `silent_for` seconds ago."""
        with demo_app.app_context():
            found = db.session.get(AllocationRun, run)
            assert found is not None
            found.progress = {
                **(found.progress or {}),
                "stage": "committing",
                "commit_job": "thread-commit-lost",
                "commit_started": time.time() - silent_for,
                "heartbeat": time.time() - silent_for,
            }
            db.session.commit()
            db.session.remove()

    in_flight(silent_for=2)
    state = client.get(f"/admin/runs/{run}/progress").json
    assert state is not None and state["stage"] == "committing" and not state["done"]
    refused = client.post(
        f"/admin/runs/{run}/commit", data={"confirm": "yes"}, follow_redirects=True
    )
    assert "这份预览正在提交中" in refused.text

    in_flight(silent_for=jobs.STALE_SECONDS + 5)
    state = client.get(f"/admin/runs/{run}/progress").json
    assert state is not None and state["done"] and state["status"] == "preview"
    assert state["stage"] == "commit_failed"
    assert state["commit_reason"] == jobs.Reason.WORKER_LOST and state["commit_error"]
    page = client.get(f"/admin/runs/{run}")
    assert "执行提交的计算进程已无响应" in page.text and "可以重新提交" in page.text
    assert "提交分配" in page.text
    assert stored(demo_app, run).status == "preview" and all_pledges(demo_app) == 0

    page = client.post(f"/admin/runs/{run}/commit", data={"confirm": "yes"}, follow_redirects=True)
    assert "已提交：分配已成为认捐" in page.text
    assert pledges(demo_app, run) == planned(stored(demo_app, run))


def test_a_crashing_commit_job_pledges_nothing_and_says_so(
    client: FlaskClient, auth: Any, demo_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(session: Any, run_id: int, actor: Any) -> AllocationRun:
        raise OSError("the database connection was lost")

    real = week.commit_run
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form()))
    monkeypatch.setattr(week, "commit_run", crash)
    page = client.post(f"/admin/runs/{run}/commit", data={"confirm": "yes"}, follow_redirects=True)
    assert page.status_code == 200
    assert "提交没有完成，没有生成任何认捐，可以重新提交" in page.text and "提交分配" in page.text
    found = stored(demo_app, run)
    assert found.status == "preview" and all_pledges(demo_app) == 0
    assert (found.progress or {})["commit_reason"] == jobs.Reason.COMMIT_CRASHED
    assert "OSError" in str((found.progress or {})["commit_error"])
    monkeypatch.setattr(week, "commit_run", real)
    page = client.post(f"/admin/runs/{run}/commit", data={"confirm": "yes"}, follow_redirects=True)
    assert "已提交：分配已成为认捐" in page.text


def test_a_commit_job_the_run_no_longer_waits_for_is_skipped(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("admin")
    run = run_id(client.post("/admin/week", data=policy_form()))
    with demo_app.app_context():
        found = db.session.get(AllocationRun, run)
        assert found is not None
        found.progress = {**(found.progress or {}), "stage": "committing"}
        found.progress = {**found.progress, "commit_job": "thread-commit-new"}
        db.session.commit()
        admin_id = user("admin").id
        db.session.remove()
    # A late job of an earlier request (taken for dead, then superseded) does nothing.
    assert jobs.commit_job(run, admin_id, "thread-commit-old", app=demo_app) == "skipped"
    assert jobs.commit_job(999999, admin_id, "thread-commit-old", app=demo_app) == "skipped"
    assert stored(demo_app, run).status == "preview" and all_pledges(demo_app) == 0
    assert jobs.commit_job(run, admin_id, "thread-commit-new", app=demo_app) == "committed"
    assert pledges(demo_app, run) == planned(stored(demo_app, run))


@pytest.mark.redis
@pytest.mark.xdist_group("redis")  # shares Redis db 15 with test_jobs and test_deploy_stack
def test_rq_worker_commits_the_queued_commit_and_a_lost_one_can_be_committed_again(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    from rq import Queue, SimpleWorker
    from rq.job import Job

    connection = redis_or_skip()
    demo_app.config["DUIJIE_REDIS_URL"] = REDIS_TEST_URL
    demo_app.config["DUIJIE_COMMIT_WAIT_SECONDS"] = 0
    name = own_queue(demo_app)
    jobs.install_runner(demo_app)
    try:
        auth.login("admin")
        run = run_id(client.post("/admin/week", data=policy_form()))
        queue = Queue(name, connection=connection)
        with demo_app.app_context():
            SimpleWorker([queue], connection=connection).work(burst=True)
            db.session.remove()
        assert stored(demo_app, run).status == "preview"

        page = client.post(
            f"/admin/runs/{run}/commit", data={"confirm": "yes"}, follow_redirects=True
        )
        assert "提交中" in page.text and "<progress" in page.text
        found = stored(demo_app, run)
        commit_job = str((found.progress or {})["commit_job"])
        assert found.status == "preview" and commit_job.startswith(f"duijie-commit-{run}-")
        assert queue.job_ids == [commit_job]
        refused = client.post(
            f"/admin/runs/{run}/commit", data={"confirm": "yes"}, follow_redirects=True
        )
        assert "这份预览正在提交中" in refused.text and queue.job_ids == [commit_job]

        # Redis loses the job (flushed, evicted): the commit is shown failed, the preview stays.
        Job.fetch(commit_job, connection=connection).delete()
        state = client.get(f"/admin/runs/{run}/progress").json
        assert state is not None and state["done"] and state["stage"] == "commit_failed"
        assert state["commit_reason"] == jobs.Reason.JOB_LOST and state["commit_error"]
        page = client.get(f"/admin/runs/{run}")
        assert (
            "提交没有完成，没有生成任何认捐，可以重新提交" in page.text and "提交分配" in page.text
        )
        assert stored(demo_app, run).status == "preview" and all_pledges(demo_app) == 0

        again = client.post(
            f"/admin/runs/{run}/commit", data={"confirm": "yes"}, follow_redirects=True
        )
        assert "正在提交：认捐保存后本页会显示结果" in again.text, again.text[-3000:]
        commit_job = str((stored(demo_app, run).progress or {})["commit_job"])
        assert queue.job_ids == [commit_job]
        with demo_app.app_context():
            SimpleWorker([queue], connection=connection).work(burst=True)
            db.session.remove()
        state = client.get(f"/admin/runs/{run}/progress").json
        assert state is not None and state["status"] == "committed" and state["done"]
        page = client.get(f"/admin/runs/{run}")
        assert "发布" in page.text and "<progress" not in page.text
        assert pledges(demo_app, run) == planned(stored(demo_app, run))
    finally:
        forget_queue(connection, name)
