"""A form sent twice at once (a double click, a retry on a slow line, two members of one
committee or company) saves one need or offer: the second request waits for the first and is
then shown the first as a likely duplicate, as it would be a minute later."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.web.week.test_concurrency import race
from web.extensions import db
from web.models import Need, Offer, User
from web.services import needs, offers

RACERS = 4


def _post_at_once(
    app: Flask,
    username: str,
    duplicates: Callable[[Session, User], list[Any]],
    create: Callable[[Session, User], Any],
) -> Counter[str]:
    """RACERS requests of one user, each checking for duplicates then saving as the page does;
    how many saved and how many were warned instead."""

    def posting(session: Session, actor: User) -> str:
        with app.app_context():
            if duplicates(session, actor):
                session.rollback()
                return "warned"
            create(session, actor)
            return "saved"

    url = str(app.config["SQLALCHEMY_DATABASE_URI"])
    return Counter(o.value for o in race(url, [("post", username, posting)] * RACERS))


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

    saved = _post_at_once(
        demo_app,
        "village",
        lambda session, actor: needs.duplicates_before_saving(session, actor, data),
        lambda session, actor: needs.create_need(session, actor, data),
    )

    assert saved == {"saved": 1, "warned": RACERS - 1}
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

    saved = _post_at_once(
        demo_app,
        "donor",
        lambda session, actor: offers.likely_duplicate_offers(session, actor, data),
        lambda session, actor: offers.create_offer(session, actor, data),
    )

    assert saved == {"saved": 1, "warned": RACERS - 1}
    assert _count(demo_app, Offer, title) == 1
