"""Claims on micro-wishes (issue 17): the claim holds the wish out of the week, expires, is
limited per donor, never names the household, and is confirmed by the village."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from tests.web.test_api_helpers import Api
from web.extensions import db
from web.models import Need, Notification, User, WishClaim
from web.services.claims import ClaimError, ClaimRules, claim_wish, expire_and_remind
from web.services.week_instance import build_week_instance, need_key

WEEK = "2026-W48"


def _wish(app: Flask, village_user: str | None = None) -> int:
    """An open, verified, classified micro-wish with nothing allocated (of the village's)."""
    with app.app_context():
        query = select(Need.id).where(
            Need.household_id.is_not(None), Need.status == "open",
            Need.verification == "verified", Need.item_code.is_not(None), Need.allocated == 0,
        )  # fmt: skip
        if village_user is not None:
            user = db.session.scalar(select(User).where(User.username == village_user))
            assert user is not None
            query = query.where(Need.village_id == user.village_id)
        wish = db.session.scalar(query.order_by(Need.id))
        assert wish is not None
        return int(wish)


def _in_week(app: Flask, need_id: int) -> bool:
    with app.app_context():
        instance, _maps = build_week_instance(db.session, WEEK)
        return need_key(need_id) in {n["id"] for n in instance["needs"]}


def test_api_claim_holds_the_wish_and_a_second_donor_gets_409(demo_app: Flask) -> None:
    api = Api(demo_app)
    wish = _wish(demo_app)
    assert _in_week(demo_app, wish)
    first = api.post("donor", f"/wishes/{wish}/claims")
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["status"] == "claimed"
    assert not _in_week(demo_app, wish)  # the week's instance leaves the held wish out
    second = api.post("donor-person", f"/wishes/{wish}/claims")
    assert second.status_code == 409
    assert second.mimetype == "application/problem+json"
    body = second.get_json()
    assert body["code"] == "taken" and body["detail"]
    # Neither answer names the household.
    with demo_app.app_context():
        household = db.session.get(Need, wish).household.display_name
    assert household not in first.get_data(as_text=True)
    assert household not in second.get_data(as_text=True)


def test_only_approved_individuals_and_enterprises_claim(demo_app: Flask) -> None:
    api = Api(demo_app)
    wish = _wish(demo_app)
    assert api.post("village", f"/wishes/{wish}/claims").status_code == 403
    assert api.post(None, f"/wishes/{wish}/claims").status_code == 401
    assert api.post("donor", "/wishes/999999/claims").status_code == 404


def test_expired_claim_returns_the_wish_to_the_pool(demo_app: Flask) -> None:
    wish = _wish(demo_app)
    with demo_app.app_context():
        donor = db.session.scalar(select(User).where(User.username == "donor"))
        assert donor is not None
        claim = claim_wish(db.session, donor, wish, ClaimRules(days=3), datetime.now(UTC))
        claim.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
        claim_id = claim.id
    # Read from the time: back in the week before any job has run.
    assert _in_week(demo_app, wish)
    runner = demo_app.test_cli_runner()
    result: Result = runner.invoke(args=["claims"])
    assert result.exit_code == 0, result.output
    with demo_app.app_context():
        assert db.session.get(WishClaim, claim_id).status == "expired"
        person = db.session.scalar(select(User).where(User.username == "donor-person"))
        assert person is not None
        again = claim_wish(db.session, person, wish, ClaimRules(), datetime.now(UTC))
        assert again.status == "claimed"


def test_a_donor_holds_at_most_the_set_number_of_claims(demo_app: Flask) -> None:
    with demo_app.app_context():
        donor = db.session.scalar(select(User).where(User.username == "donor-person"))
        assert donor is not None
        wishes = db.session.scalars(
            select(Need.id).where(
                Need.household_id.is_not(None), Need.status == "open",
                Need.verification == "verified", Need.item_code.is_not(None),
                Need.allocated == 0,
            ).order_by(Need.id).limit(3)
        ).all()  # fmt: skip
        rules = ClaimRules(days=14, max_open=2)
        now = datetime.now(UTC)
        claim_wish(db.session, donor, wishes[0], rules, now)
        claim_wish(db.session, donor, wishes[1], rules, now)
        with pytest.raises(ClaimError) as refused:
            claim_wish(db.session, donor, wishes[2], rules, now)
        assert refused.value.code == "limit"


def test_claim_journey_on_pages_and_notifications(demo_app: Flask) -> None:
    wish = _wish(demo_app, "village")
    donor = demo_app.test_client()
    donor.post("/login", data={"username": "donor-person", "password": "demo-donor-person-2026"})
    claimed = donor.post(f"/wishes/{wish}/claim", follow_redirects=True)
    assert claimed.status_code == 200
    page = claimed.get_data(as_text=True)
    with demo_app.app_context():
        need = db.session.get(Need, wish)
        household, title = need.household.display_name, need.title
        claim = db.session.scalar(select(WishClaim).where(WishClaim.need_id == wish))
        assert claim is not None and claim.status == "claimed"
        claim_id = claim.id
    assert household not in page
    assert household not in donor.get("/wishes").get_data(as_text=True)
    # A day before it expires the donor is reminded, once.
    with demo_app.app_context():
        row = db.session.get(WishClaim, claim_id)
        row.expires_at = datetime.now(UTC) + timedelta(hours=20)
        db.session.commit()
        assert expire_and_remind(db.session, datetime.now(UTC)) == (0, 1)
        assert expire_and_remind(db.session, datetime.now(UTC)) == (0, 0)
        db.session.commit()
    assert donor.post(f"/donor/claims/{claim_id}/dispatch").status_code == 302
    village = demo_app.test_client()
    village.post("/login", data={"username": "village", "password": "demo-village-2026"})
    listed = village.get("/village/claims").get_data(as_text=True)
    assert title in listed  # the committee knows its own household's wish
    # Another village's committee cannot confirm it.
    assert village.post(f"/village/claims/{claim_id}/receive").status_code == 302
    with demo_app.app_context():
        row = db.session.get(WishClaim, claim_id)
        assert row.status == "received"
        assert db.session.get(Need, wish).status == "closed"
        person = db.session.scalar(select(User).where(User.username == "donor-person"))
        kinds = set(
            db.session.scalars(select(Notification.kind).where(Notification.user_id == person.id))
        )
    assert {"claim_expiring", "claim_received"} <= kinds
    assert not _in_week(demo_app, wish)
