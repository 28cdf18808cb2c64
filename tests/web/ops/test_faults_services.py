"""Faults of the services behind the app (issue 24): Redis going away during a preview, the
database restarting or dropping the connection in the middle of a request.

Each fault leaves nothing half-written, tells the person what happened in their language, and the
next request works once the service is back.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from tests.web.offers_needs.test_journey_donor import offer_form
from tests.web.test_api_helpers import Api, api  # noqa: F401  (fixture)
from tests.web.week.test_week_pages import policy_form
from web import jobs
from web.extensions import db
from web.models import Allocation, AllocationRun, AuditEvent, Offer, User
from web.services import distributed
from web.services import offers as offer_service

DEAD_REDIS = "redis://127.0.0.1:1/10"  # nothing listens on port 1


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        counts = {
            "allocations": db.session.scalar(select(func.count(Allocation.id))) or 0,
            "offers": db.session.scalar(select(func.count(Offer.id))) or 0,
            "audit events": db.session.scalar(select(func.count(AuditEvent.id))) or 0,
            "allocated": db.session.scalar(select(func.sum(Offer.allocated))) or 0,
        }
        db.session.remove()
    return counts


def test_redis_gone_during_a_preview_fails_the_run_clearly_and_stores_nothing(
    client: FlaskClient, auth: Any, demo_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job was handed out, then Redis went away while the week's parts were to be queued."""
    from redis import Redis

    dead = Redis.from_url(DEAD_REDIS, socket_connect_timeout=1, socket_timeout=1)

    def spread_to_dead_redis(app: Flask | None = None, on_parts: Any = None) -> Any:
        return distributed.Spread(
            connection=dead, queue_name="i24-dead", threshold=1, on_parts=on_parts
        )

    monkeypatch.setattr(jobs.preview, "spread_for", spread_to_dead_redis)
    auth.login("admin")
    before = _counts(demo_app)
    page = client.post("/admin/week", data=policy_form(), follow_redirects=True)
    assert page.status_code == 200
    with demo_app.app_context():
        run = db.session.scalars(select(AllocationRun)).one()
        run_id, status, reason, error = run.id, run.status, run.reason, run.error or ""
        db.session.remove()
    assert status == "failed", f"the run is {status}"
    assert reason == jobs.Reason.QUEUE_DOWN and error, error
    after = _counts(demo_app)  # the run's own audit events (preview asked, failed) aside:
    after.pop("audit events"), before.pop("audit events")
    assert after == before  # no pledge, no counter moved
    chinese = client.get(f"/admin/runs/{run_id}").text
    assert "无法连接任务队列" in chinese and "没有保存任何结果" in chinese, chinese[-3000:]
    english = client.get(f"/admin/runs/{run_id}?lang=en").text
    assert "The job queue could not be reached. Nothing was stored" in english
    # once Redis is back (here: the parts solved in this process), a retry works
    monkeypatch.undo()
    with demo_app.test_request_context():
        admin = db.session.scalars(select(User).where(User.username == "admin")).one()
        run = jobs.retry(db.session, run_id, admin)
        jobs.runner_of(demo_app).join()
        db.session.refresh(run)
        assert run.status == "preview", run.error
        db.session.remove()


def _cut_own_connection(session: Session, url: str) -> None:
    """Terminate this session's PostgreSQL backend from another connection, as a restart does."""
    pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    other = create_engine(url, poolclass=None)
    with other.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()


# an embedded SQLite database has no connection to drop
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_connection_dropped_mid_request_answers_503_writes_nothing_and_recovers(
    demo_app: Flask,
    auth: Any,
    client: FlaskClient,
    api: Api,  # noqa: F811
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = str(demo_app.config["SQLALCHEMY_DATABASE_URI"])
    original = offer_service.add_offer
    cut = {"armed": True}

    def add_then_lose_the_database(session: Session, organization: Any, data: Any) -> Offer:
        offer = original(session, organization, data)
        session.flush()  # the row is written inside the transaction
        if cut["armed"]:
            _cut_own_connection(session, url)  # the database restarts before the commit
        return offer

    monkeypatch.setattr(offer_service, "add_offer", add_then_lose_the_database)
    auth.login("donor")
    api.token("donor")  # made before counting: making it is an audited event of its own
    before = _counts(demo_app)
    page = client.post("/donor/offers/new", data=offer_form(title="断线时的冬衣"))
    assert page.status_code == 503
    assert "数据库暂时无法连接" in page.text and "没有保存任何内容" in page.text
    assert _counts(demo_app) == before  # nothing half-written

    answer = api.post(
        "donor",
        "/offers",
        json={
            "category": "goods",
            "title": "断线时的棉被",
            "quantity": 10,
            "valid_from": "2026-11-23",
            "valid_until": "2026-12-31",
        },
    )
    assert answer.status_code == 503, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["detail"].startswith("数据库暂时无法连接")  # the session's language
    assert _counts(demo_app) == before

    cut["armed"] = False  # the database is back: the very next requests work
    assert client.get("/donor/offers").status_code == 200
    saved = client.post("/donor/offers/new", data=offer_form(title="恢复后的冬衣"))
    assert saved.status_code == 302
    after = _counts(demo_app)
    assert after["offers"] == before["offers"] + 1
