"""Delivery of pledges: the donor dispatches, the village confirms receipt, an admin cancels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import Allocation, Need, Offer, User
from web.services.notifications import notify, organization_members, village_committees
from web.services.week import NotAllowed, WeekError, require_admin


class DeliveryError(WeekError):
    """A pledge cannot move to the asked delivery state; the message says why."""


def _now() -> datetime:
    return datetime.now(UTC)


def _allocation(session: Session, allocation_id: int) -> Allocation:
    """The allocation, locked for update, or DeliveryError."""
    allocation = session.get(
        Allocation, allocation_id, with_for_update=True, populate_existing=True
    )
    if allocation is None:
        raise DeliveryError(f"no allocation {allocation_id}")
    return allocation


def _require_state(allocation: Allocation, allowed: tuple[str, ...], action: str) -> None:
    """Raise DeliveryError unless the allocation is in one of the allowed states."""
    if allocation.status not in allowed:
        raise DeliveryError(
            f"allocation {allocation.id} is {allocation.status}: cannot {action} "
            f"(only from {' or '.join(allowed)})"
        )


def _require_donor(allocation: Allocation, actor: User) -> None:
    """Raise NotAllowed unless the actor belongs to the offer's organization."""
    if not actor.active or actor.organization_id != allocation.offer.organization_id:
        raise NotAllowed("only a member of the donor organization may dispatch this pledge")


def _require_village(allocation: Allocation, actor: User) -> None:
    """Raise NotAllowed unless the actor is the need's village committee."""
    if (
        not actor.active
        or actor.role != "village"
        or actor.village_id != allocation.need.village_id
    ):
        raise NotAllowed("only the village committee of the need may confirm this delivery")


def _in_transaction(session: Session, work: Callable[[], Allocation]) -> Allocation:
    """Run `work` and commit, or roll back and re-raise."""
    try:
        allocation = work()
        session.flush()
    except Exception:
        session.rollback()
        raise
    session.commit()
    return allocation


def dispatch(session: Session, allocation_id: int, actor: User) -> Allocation:
    """The donor marks a pledge as sent."""

    def work() -> Allocation:
        allocation = _allocation(session, allocation_id)
        _require_donor(allocation, actor)
        _require_state(allocation, ("pledged",), "dispatch")
        allocation.status = "dispatched"
        allocation.dispatched_at = _now()
        return allocation

    return _in_transaction(session, work)


def receive(session: Session, allocation_id: int, actor: User) -> Allocation:
    """The village committee marks a pledge as arrived."""

    def work() -> Allocation:
        allocation = _allocation(session, allocation_id)
        _require_village(allocation, actor)
        _require_state(allocation, ("pledged", "dispatched"), "mark as received")
        allocation.status = "received"
        allocation.received_at = _now()
        return allocation

    return _in_transaction(session, work)


def confirm_receipt(
    session: Session, allocation_id: int, actor: User, note: str = "", rating: int | None = None
) -> Allocation:
    """The village committee confirms receipt, with a note and a rating of 1 to 5."""

    def work() -> Allocation:
        allocation = _allocation(session, allocation_id)
        _require_village(allocation, actor)
        _require_state(allocation, ("pledged", "dispatched", "received"), "confirm receipt")
        if rating is not None and not 1 <= rating <= 5:
            raise DeliveryError(f"rating must be 1 to 5, got {rating}")
        now = _now()
        allocation.received_at = allocation.received_at or now
        allocation.confirmed_at = now
        allocation.status = "confirmed"
        allocation.receipt_note = note.strip()
        allocation.rating = rating
        return allocation

    return _in_transaction(session, work)


def _release(session: Session, allocation: Allocation) -> None:
    """Give the pledged units back to the offer and the need, locking offer then need."""
    offer = session.scalars(
        select(Offer)
        .where(Offer.id == allocation.offer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    need = session.scalars(
        select(Need)
        .where(Need.id == allocation.need_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    offer.allocated -= allocation.quantity
    need.allocated -= allocation.quantity


def _notify_cancel(session: Session, allocation: Allocation, reason: str) -> None:
    """Tell the donor's members and the village committee that a pledge was cancelled."""
    pair = f"{allocation.offer.title} → {allocation.need.title}，{allocation.quantity}"
    text = f"对接（{pair}）已取消：{reason}"
    users = organization_members(session, [allocation.offer.organization_id])
    users += village_committees(session, [allocation.need.village_id])
    for user in users:
        notify(session, user, "allocation_cancelled", text)


def cancel(session: Session, allocation_id: int, actor: User, reason: str) -> Allocation:
    """An administrator cancels an undelivered pledge; its units return to offer and need."""

    def work() -> Allocation:
        require_admin(actor, "cancel a pledge")
        if not reason.strip():
            raise DeliveryError("a reason is required to cancel a pledge")
        allocation = _allocation(session, allocation_id)
        _require_state(allocation, ("pledged", "dispatched"), "cancel")
        _release(session, allocation)
        allocation.status = "cancelled"
        allocation.cancelled_at = _now()
        _notify_cancel(session, allocation, reason.strip())
        return allocation

    return _in_transaction(session, work)
