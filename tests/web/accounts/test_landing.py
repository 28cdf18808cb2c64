"""Issue 23: after sign-in each role lands on its work and is told how much waits; the menu
carries a small to-do count, and the signed-in name stands apart from the menu's links."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from web.extensions import db
from web.models import Need, User, Village


def _pending_for(app: Flask, username: str) -> int:
    with app.app_context():
        officer = db.session.scalars(select(User).where(User.username == username)).one()
        count = db.session.scalar(
            select(func.count(Need.id))
            .join(Village, Need.village_id == Village.id)
            .where(
                Village.township_id == officer.township_id,
                Need.verification == "pending",
                Need.status == "open",
            )
        )
        db.session.remove()
    return int(count or 0)


@pytest.mark.parametrize(
    ("username", "landing", "told"),
    [
        ("township", "/township/needs", "条需求等待您审核"),
        # Nothing is published in the demo: nothing to confirm or dispatch, nothing said.
        ("village", "/village/allocations", None),
        ("donor", "/donor/allocations", None),
        ("admin", "/admin/week", "本周（"),
        ("auditor", "/ledger", None),
    ],
)
def test_each_role_lands_on_its_work(
    client: FlaskClient, auth: Any, username: str, landing: str, told: str | None
) -> None:
    signed_in = auth.login(username)
    assert signed_in.status_code == 302 and signed_in.location.endswith(landing)
    page = client.get(signed_in.location)
    assert page.status_code == 200
    if told:
        assert told in page.text
    # The signed-in name is set apart from the menu's links.
    assert re.search(r'</nav>\s*<div class="account-menu">\s*<span class="who"', page.text)


def test_the_township_is_told_its_queue_and_the_menu_counts_it(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    waiting = _pending_for(demo_app, "township")
    assert waiting > 0
    page = client.get(auth.login("township").location).text
    assert f"{waiting:,} 条需求等待您审核" in page
    badge = re.search(r'class="todo"[^>]*>待办 <span class="badge">([\d,]+)</span>', page)
    assert badge is not None and badge.group(1) == f"{waiting:,}"


def test_a_sign_in_asked_for_by_a_page_returns_to_it(client: FlaskClient, auth: Any) -> None:
    asked = client.get("/ledger")
    assert asked.status_code == 302 and "/login" in asked.location
    login_page = client.get(asked.location).text
    assert "请先登录" in login_page and "Please log in" not in login_page
    back = client.post(
        asked.location, data={"username": "auditor", "password": "demo-auditor-2026"}
    )
    assert back.location.endswith("/ledger")


def test_the_administrator_is_told_this_weeks_published_state_in_words(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    from web import clock
    from web.models import AllocationRun

    with demo_app.app_context():
        week = clock.this_week()
        db.session.add(AllocationRun(week=week, status="published", committed_week=week))
        db.session.commit()
        db.session.remove()
    page = client.get(auth.login("admin").location).text
    # A state, not the ledger's column word 发布于 ("published at") left without its date.
    assert f"本周（{week}）：已发布给各村和捐赠方。" in page and "发布于。" not in page
