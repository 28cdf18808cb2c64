"""A form sent twice at once (a double click, a retry on a slow line, two members of one
committee or company) saves one need or offer: the second request waits for the first and is
then shown the first as a likely duplicate, as it would be a minute later."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.web.test_concurrency import race
from web.extensions import db
from web.models import Need, Offer, User
from web.services import needs, offers

RACERS = 4


def _count(app: Flask, model: Any, title: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(func.count(model.id)).where(model.title == title))
        db.session.remove()
    return int(found or 0)


def test_a_need_posted_twice_at_once_is_saved_once(demo_app: Flask) -> None:
    title = "村小学操场硬化"
    data = needs.NeedInput(
        category="infrastructure",
        title=title,
        description="操场是泥地，下雨天学生无法上体育课",
        quantity=1,
        urgency=4,
        deadline=None,
    )

    def posting(session: Session, actor: User) -> str:
        with demo_app.app_context():
            if needs.duplicates_before_saving(session, actor, data):
                session.rollback()
                return "warned"
            needs.create_need(session, actor, data)
            return "saved"

    outcomes = race(
        str(demo_app.config["SQLALCHEMY_DATABASE_URI"]), [("post", "village", posting)] * RACERS
    )

    assert Counter(o.value for o in outcomes) == {"saved": 1, "warned": RACERS - 1}, outcomes
    assert _count(demo_app, Need, title) == 1


def test_an_offer_posted_twice_at_once_is_saved_once(demo_app: Flask) -> None:
    title = "冬季棉被二百床"
    data = offers.OfferInput(
        category="goods",
        title=title,
        description="新棉被，每床四斤",
        quantity=200,
        min_lot=10,
        max_villages=None,
        indivisible=False,
        county_codes=(),
        dispatch_lat=None,
        dispatch_lon=None,
        valid_from=date(2026, 11, 1),
        valid_until=date(2027, 2, 28),
    )

    def posting(session: Session, actor: User) -> str:
        with demo_app.app_context():
            if offers.likely_duplicate_offers(session, actor, data):
                session.rollback()
                return "warned"
            offers.create_offer(session, actor, data)
            return "saved"

    outcomes = race(
        str(demo_app.config["SQLALCHEMY_DATABASE_URI"]), [("post", "donor", posting)] * RACERS
    )

    assert Counter(o.value for o in outcomes) == {"saved": 1, "warned": RACERS - 1}, outcomes
    assert _count(demo_app, Offer, title) == 1
