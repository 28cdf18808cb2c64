"""A donor is told when a gap it helped close is closed: the need fully pledged and every
pledge of it confirmed received (issue 17)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from tests.web.week_support import committed, memo_solver  # noqa: F401  (fixture)
from web.extensions import db
from web.models import Allocation, Need, Notification, Offer, User
from web.services import delivery
from web.unit_of_work import unit_of_work


def _told(organization_ids: set[int]) -> int:
    return int(
        db.session.scalar(
            select(func.count(Notification.id))
            .join(User, Notification.user_id == User.id)
            .where(Notification.kind == "gap_closed", User.organization_id.in_(organization_ids))
        )
        or 0
    )


def test_donors_are_told_when_the_last_pledge_of_a_filled_need_is_confirmed(
    demo_db: Flask,
    memo_solver: None,  # noqa: F811
) -> None:
    run = committed()
    need = (
        db.session.scalars(
            select(Need)
            .join(Allocation, Allocation.need_id == Need.id)
            .where(Allocation.run_id == run.id, Need.allocated >= Need.quantity)
            .group_by(Need.id)
            .having(func.count(Allocation.id) >= 2)
            .order_by(Need.id)
        ).first()
        or db.session.scalars(
            select(Need)
            .join(Allocation, Allocation.need_id == Need.id)
            .where(Allocation.run_id == run.id, Need.allocated >= Need.quantity)
            .order_by(Need.id)
        ).first()
    )
    assert need is not None
    pledges = db.session.scalars(select(Allocation).where(Allocation.need_id == need.id)).all()
    donors = {db.session.get(Offer, p.offer_id).organization_id for p in pledges}
    committee = User(username="gap-closed-village", password_hash="x", role="village",
                     village_id=need.village_id)  # fmt: skip
    db.session.add(committee)
    for n, organization_id in enumerate(sorted(donors)):  # a member to tell, for each donor
        db.session.add(User(username=f"gap-closed-donor-{n}", password_hash="x", role="donor",
                            organization_id=organization_id))  # fmt: skip
    db.session.commit()
    *first, last = pledges
    for pledge in first:
        with unit_of_work():
            delivery.confirm_receipt(db.session, pledge.id, committee, "到了", 5)
        assert _told(donors) == 0  # not closed while a pledge is still on its way
    with unit_of_work():
        delivery.confirm_receipt(db.session, last.id, committee, "都到了", 5)
    assert _told(donors) >= len(donors)
    message = db.session.scalars(
        select(Notification.message).where(Notification.kind == "gap_closed")
    ).first()
    assert message is not None and need.village.name in message
    if need.household is not None:
        assert need.household.display_name not in message
