"""The public record: published pledges and totals, never a household, nothing unpublished."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.web.conftest import Auth
from tests.web.week_support import committed, memo_solver, user  # noqa: F401  (a fixture)
from web.extensions import db
from web.models import Allocation, Household, Need
from web.services.week import publish_run

pytestmark = pytest.mark.usefixtures("memo_solver")


def _households() -> list[tuple[str, str | None]]:
    return [(h.display_name, h.phone) for h in db.session.scalars(select(Household))]


def test_public_page_needs_no_login_and_shows_nothing_before_publishing(
    demo_app: Flask, client: FlaskClient
) -> None:
    with demo_app.app_context():
        run = committed()
        titles = {a.need.title for a in run.allocations if a.need.household_id is None}
        db.session.remove()
    html = client.get("/public").get_data(as_text=True)
    assert 'class="total-pledges">0<' in html
    assert not any(f"<td>{title}</td>" in html for title in titles)


def test_public_page_shows_published_allocations_and_no_household(
    demo_app: Flask, client: FlaskClient
) -> None:
    with demo_app.app_context():
        run = publish_run(db.session, committed().id, user("admin"))
        db.session.commit()  # services flush; the caller commits
        live = [a for a in run.allocations if a.status != "cancelled"]
        village_needs = [a.need for a in live if a.need.household_id is None]
        wishes = [a for a in live if a.need.household_id is not None]
        villages = {a.need.village_id for a in live}
        households = _households()
        wish_titles = [
            n.title for n in db.session.scalars(select(Need).where(Need.household_id.is_not(None)))
        ]
        pledge_count = db.session.query(Allocation).count()
        db.session.remove()
    assert live and households
    html = client.get("/public").get_data(as_text=True)
    assert f'class="total-pledges">{len(live):,}<' in html
    assert f'class="total-villages">{len(villages):,}<' in html
    assert len(live) == pledge_count
    for need in village_needs[:20]:
        assert need.title in html
    if wishes:
        assert "微心愿" in html
    for name, phone in households:
        assert name not in html
        assert not phone or phone not in html
    for title in wish_titles:
        assert f"<td>{title}</td>" not in html


@pytest.mark.parametrize("username", [None, "donor", "village", "township", "auditor", "admin"])
def test_public_page_is_open_to_everyone(
    client: FlaskClient, auth: Auth, username: str | None
) -> None:
    if username:
        auth.login(username)
    response = client.get("/public")
    assert response.status_code == 200
    assert "style=" not in response.get_data(as_text=True)
