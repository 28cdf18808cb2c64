"""Delivery of pledges: who may dispatch, confirm and cancel, and what a cancel gives back."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from tests.web.week_support import committed, memo_solver, user  # noqa: F401  (memo_solver: a fixture)
from web.extensions import db
from web.models import Allocation, Need, Notification, Offer, User
from web.services.delivery import DeliveryError, cancel, confirm_receipt, dispatch, receive
from web.services.week import NotAllowed

pytestmark = pytest.mark.usefixtures("memo_solver")


def _people(allocation: Allocation) -> tuple[User, User]:
    """A member of the allocation's donor organization and its village's committee user."""
    donor = User(
        username="donor-of-pledge",
        password_hash="x",
        role="donor",
        organization_id=allocation.offer.organization_id,
    )
    village = User(
        username="village-of-pledge",
        password_hash="x",
        role="village",
        village_id=allocation.need.village_id,
    )
    db.session.add_all([donor, village])
    db.session.commit()
    return donor, village


def _outsiders(allocation: Allocation) -> tuple[User, User]:
    """A donor of another organization and a committee user of another village."""
    donor = db.session.scalars(
        select(User).where(
            User.role == "donor", User.organization_id != allocation.offer.organization_id
        )
    ).first()
    village = User(username="village-other", password_hash="x", role="village")
    other = db.session.scalars(
        select(Need.village_id).where(Need.village_id != allocation.need.village_id)
    ).first()
    village.village_id = other
    db.session.add(village)
    db.session.commit()
    assert donor is not None
    return donor, village


def _first_pledge() -> Allocation:
    """The run's first pledge."""
    return db.session.scalars(select(Allocation).order_by(Allocation.id)).first()  # type: ignore[return-value]


def test_only_the_donor_dispatches_and_only_the_village_confirms(demo_db: Flask) -> None:
    committed()
    pledge = _first_pledge()
    donor, village = _people(pledge)
    other_donor, other_village = _outsiders(pledge)

    for wrong in (other_donor, village, user("admin")):
        with pytest.raises(NotAllowed):
            dispatch(db.session, pledge.id, wrong)
    assert dispatch(db.session, pledge.id, donor).status == "dispatched"
    db.session.commit()  # services flush; the caller commits
    with pytest.raises(DeliveryError, match="is dispatched: cannot dispatch"):
        dispatch(db.session, pledge.id, donor)
    for wrong in (donor, other_village, user("admin")):
        with pytest.raises(NotAllowed):
            confirm_receipt(db.session, pledge.id, wrong, "收到", 5)
    with pytest.raises(DeliveryError, match="rating must be 1 to 5"):
        confirm_receipt(db.session, pledge.id, village, "收到", 6)
    assert receive(db.session, pledge.id, village).status == "received"
    db.session.commit()  # services flush; the caller commits
    done = confirm_receipt(db.session, pledge.id, village, " 已收到，谢谢 ", 5)
    db.session.commit()  # services flush; the caller commits

    assert done.status == "confirmed" and done.rating == 5 and done.receipt_note == "已收到，谢谢"
    assert done.dispatched_at and done.received_at and done.confirmed_at
    with pytest.raises(DeliveryError, match="cannot cancel"):
        cancel(db.session, pledge.id, user("admin"), "重复")


def test_cancel_returns_the_units_to_offer_and_need(demo_db: Flask) -> None:
    committed()
    pledge = _first_pledge()
    donor, village = _people(pledge)
    offer_before, need_before = pledge.offer.allocated, pledge.need.allocated
    dispatch(db.session, pledge.id, donor)
    db.session.commit()  # services flush; the caller commits

    with pytest.raises(NotAllowed):
        cancel(db.session, pledge.id, donor, "不需要了")
    with pytest.raises(DeliveryError, match="reason"):
        cancel(db.session, pledge.id, user("admin"), "  ")
    cancelled = cancel(db.session, pledge.id, user("admin"), "村里已由他方解决")
    db.session.commit()  # services flush; the caller commits

    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    offer, need = db.session.get(Offer, pledge.offer_id), db.session.get(Need, pledge.need_id)
    assert offer is not None and need is not None
    assert offer.allocated == offer_before - pledge.quantity
    assert need.allocated == need_before - pledge.quantity
    told = set(
        db.session.scalars(
            select(Notification.user_id).where(Notification.kind == "allocation_cancelled")
        )
    )
    assert {donor.id, village.id} <= told
    with pytest.raises(DeliveryError, match="is cancelled"):
        cancel(db.session, pledge.id, user("admin"), "again")
    with pytest.raises(DeliveryError, match="no allocation"):
        dispatch(db.session, 10**9, donor)
