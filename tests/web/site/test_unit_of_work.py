"""The boundary commits once or rolls back: what a service flushed before it failed is never
written, on SQLite and PostgreSQL (the app fixtures run each test on both)."""

# ruff: noqa: F811  (the api fixture is imported by name)

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.web.test_api_helpers import Api, api  # noqa: F401  (fixture)
from web.extensions import db
from web.models import IdempotencyRecord, Offer, ThrottleEvent
from web.services import offers
from web.unit_of_work import unit_of_work

TITLE = "半途失败的冬衣 30 套"
OFFER = {
    "category": "goods",
    "title": TITLE,
    "quantity": 30,
    "valid_from": "2026-11-23",
    "valid_until": "2026-12-31",
}


def _rows(app: Flask, model: Any, *where: Any) -> int:
    """Rows as another connection sees them (only what was committed)."""
    with app.app_context(), Session(db.engine) as other:
        return int(other.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _fail_after_flushing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The offer service writes the offer and its kinds, flushes, then refuses."""
    add_offer = offers.add_offer

    def half_way(session: Session, organization: Any, data: Any) -> Offer:
        add_offer(session, organization, data)
        session.flush()
        raise offers.OfferError("not_approved")

    monkeypatch.setattr(offers, "add_offer", half_way)


def test_a_unit_of_work_commits_its_block_or_nothing(app: Flask) -> None:
    with app.app_context():
        with pytest.raises(RuntimeError), unit_of_work() as session:
            session.add(ThrottleEvent(bucket="uow:failed"))
            session.flush()
            raise RuntimeError("the work failed after flushing")
        assert _rows(app, ThrottleEvent, ThrottleEvent.bucket == "uow:failed") == 0
        with unit_of_work() as session:
            session.add(ThrottleEvent(bucket="uow:done"))
        assert _rows(app, ThrottleEvent, ThrottleEvent.bucket == "uow:done") == 1
        db.session.remove()


def test_an_api_create_refused_after_flushing_writes_nothing_and_frees_its_key(
    api: Api, demo_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = {"Idempotency-Key": "half-way-coats"}
    _fail_after_flushing(monkeypatch)
    refused = api.post("donor", "/offers", json=OFFER, headers=headers)
    assert refused.status_code == 403, refused.text
    assert _rows(demo_app, Offer, Offer.title == TITLE) == 0
    assert _rows(demo_app, IdempotencyRecord, IdempotencyRecord.key == "half-way-coats") == 0
    monkeypatch.undo()
    made = api.post("donor", "/offers", json=OFFER, headers=headers)
    assert made.status_code == 201, made.text
    assert _rows(demo_app, Offer, Offer.title == TITLE) == 1
    again = api.post("donor", "/offers", json=OFFER, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert _rows(demo_app, Offer, Offer.title == TITLE) == 1


def test_a_form_whose_service_fails_after_flushing_saves_nothing(
    client: FlaskClient, auth: Any, demo_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    form = {
        "category": "goods", "title": TITLE, "description": "全新", "quantity": "30",
        "min_lot": "10", "max_villages": "3", "counties": ["451102"],
        "valid_from": "2026-11-23", "valid_until": "2026-12-31", "confirm_duplicate": "y",
    }  # fmt: skip
    auth.login("donor")
    _fail_after_flushing(monkeypatch)
    page = client.post("/donor/offers/new", data=form, follow_redirects=True)
    assert "尚未通过审核" in page.text or "not been approved" in page.text
    # The page the donor sees next (same request flow) reads the database afresh: nothing.
    assert TITLE not in client.get("/donor/offers").text
    assert _rows(demo_app, Offer, Offer.title == TITLE) == 0
    monkeypatch.undo()
    client.post("/donor/offers/new", data=form)
    assert _rows(demo_app, Offer, Offer.title == TITLE) == 1
