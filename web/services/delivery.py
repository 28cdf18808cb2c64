"""Delivery of pledges: the donor dispatches, the village confirms receipt, an admin cancels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.orm import Session

from web.models import Allocation, AllocationRun, Need, Offer, User
from web.services.gap_closed import notify_gap_closed
from web.services.locking import begin_write, lock_rows
from web.services.notifications import notify, organization_members, village_committees
from web.services.uploads import Photo, UploadError
from web.services.week import NotAllowed, WeekError, require_admin

RECEIPT_PHOTOS = "receipt"  # the upload kind (sub-folder) of receipt photos
NOTE_MAX = 2000

__all__ = [
    "CONFIRM_OVERDUE_DAYS",
    "DISPATCH_OVERDUE_DAYS",
    "DeliveryError",
    "UploadError",
    "as_utc",
    "cancel",
    "confirm_receipt",
    "confirm_receipt_by_household",
    "dispatch",
    "may_see_delivery",
    "overdue_clause",
    "overdue_reason",
    "receive",
    "report_problem",
]


class DeliveryError(WeekError):
    """A pledge cannot move to the asked delivery state; the message says why."""


def _now() -> datetime:
    return datetime.now(UTC)


def _allocation(session: Session, allocation_id: int) -> Allocation:
    """The allocation, locked for update, or DeliveryError."""
    begin_write(session)  # SQLite: take the write lock before reading the state
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
    """Run `work` and flush it; the caller commits (or rolls back when it raises)."""
    allocation = work()
    session.flush()
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
    session: Session,
    allocation_id: int,
    actor: User,
    note: str = "",
    rating: int | None = None,
    *,
    photo: Photo | None = None,
) -> Allocation:
    """The village committee confirms receipt, with a note, a rating of 1 to 5 and a photo.

    The photo is checked and stored (Photo.save) inside the transaction: a bad file
    raises UploadError and confirms nothing, and a stored file is removed again when the
    transaction fails.
    """
    stored: list[str] = []

    def work() -> Allocation:
        allocation = _allocation(session, allocation_id)
        _require_village(allocation, actor)
        _require_state(allocation, ("pledged", "dispatched", "received"), "confirm receipt")
        if rating is not None and not 1 <= rating <= 5:
            raise DeliveryError(f"rating must be 1 to 5, got {rating}")
        if len(note) > NOTE_MAX:
            raise DeliveryError(f"the note is longer than {NOTE_MAX} characters")
        if photo is not None:
            stored.append(photo.save(RECEIPT_PHOTOS))
            allocation.photo_path = stored[-1]
            # Removed again if the caller's unit of work rolls back (web.unit_of_work).
            session.info.setdefault("undo_on_rollback", []).append(
                lambda name=stored[-1]: photo.forget(name)
            )
        now = _now()
        allocation.received_at = allocation.received_at or now
        allocation.confirmed_at = now
        allocation.status = "confirmed"
        allocation.receipt_note = note.strip()
        allocation.rating = rating
        notify_gap_closed(session, allocation.need)
        return allocation

    try:
        return _in_transaction(session, work)
    except Exception:
        session.rollback()
        for name in stored:
            assert photo is not None  # only a photo stores a file
            photo.forget(name)
        raise


def report_problem(session: Session, allocation_id: int, actor: User, note: str) -> Allocation:
    """The village committee reports a problem with a pledge; the donor's members are told."""

    def work() -> Allocation:
        allocation = _allocation(session, allocation_id)
        _require_village(allocation, actor)
        _require_state(
            allocation, ("pledged", "dispatched", "received", "confirmed"), "report a problem"
        )
        text = note.strip()
        if not text:
            raise DeliveryError("describe the problem in the note")
        if len(text) > NOTE_MAX:
            raise DeliveryError(f"the note is longer than {NOTE_MAX} characters")
        if allocation.problem_note == text:  # sent twice (a double tap): told once already
            return allocation
        allocation.problem_note = text
        allocation.problem_at = _now()
        pair = f"{allocation.offer.title} → {allocation.need.village.name}"

        def message() -> str:
            return _(
                "The village committee reports a problem with the match (%(pair)s): %(note)s",
                pair=pair, note=text,
            )  # fmt: skip

        for user in organization_members(session, [allocation.offer.organization_id]):
            notify(session, user, "allocation_problem", message, link="/donor/allocations")
        return allocation

    return _in_transaction(session, work)


def may_see_delivery(allocation: Allocation, user: User) -> bool:
    """Whether the user may see a pledge's receipt photo: the village's committee, the donor's
    members, administrators, auditors and the officers of the village's township."""
    if not user.active:
        return False
    village = allocation.need.village
    return (
        user.role in ("admin", "auditor")
        or (user.role == "village" and user.village_id == village.id)
        or (user.role == "donor" and user.organization_id == allocation.offer.organization_id)
        or (user.role == "township" and user.township_id == village.township_id)
    )


# Overdue pledges: not dispatched this many days after their run was committed, or dispatched
# (or received) but not confirmed this many days after dispatch. The one place these are set.
DISPATCH_OVERDUE_DAYS = 7
CONFIRM_OVERDUE_DAYS = 14
WAITING_CONFIRMATION = ("dispatched", "received")


def as_utc(moment: datetime | None) -> datetime | None:
    """A stored timestamp as UTC-aware (SQLite gives them back naive)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def overdue_reason(
    allocation: Allocation, committed_at: datetime | None, now: datetime | None = None
) -> str | None:
    """'dispatch' or 'confirm' when the pledge is overdue for that step, else None."""
    now = now or _now()
    committed = as_utc(committed_at)
    if allocation.status == "pledged":
        if committed is not None and now - committed > timedelta(days=DISPATCH_OVERDUE_DAYS):
            return "dispatch"
    elif allocation.status in WAITING_CONFIRMATION:
        sent = as_utc(allocation.dispatched_at or allocation.received_at)
        if sent is not None and now - sent > timedelta(days=CONFIRM_OVERDUE_DAYS):
            return "confirm"
    return None


def overdue_clause(now: datetime | None = None) -> ColumnElement[bool]:
    """SQL condition on Allocation joined to its AllocationRun: the pledge is overdue."""
    now = now or _now()
    sent = func.coalesce(Allocation.dispatched_at, Allocation.received_at)
    return or_(
        and_(
            Allocation.status == "pledged",
            AllocationRun.committed_at < now - timedelta(days=DISPATCH_OVERDUE_DAYS),
        ),
        and_(
            Allocation.status.in_(WAITING_CONFIRMATION),
            sent < now - timedelta(days=CONFIRM_OVERDUE_DAYS),
        ),
    )


def _release(session: Session, allocation: Allocation) -> None:
    """Give the pledged units back to the offer and the need, locking offer then need."""
    offer = lock_rows(session, Offer, [allocation.offer_id])[allocation.offer_id]
    need = lock_rows(session, Need, [allocation.need_id])[allocation.need_id]
    if offer.allocated < allocation.quantity or need.allocated < allocation.quantity:
        raise DeliveryError(f"allocation {allocation.id} is not counted on its offer and need")
    offer.allocated -= allocation.quantity
    need.allocated -= allocation.quantity


def _notify_cancel(session: Session, allocation: Allocation, reason: str) -> None:
    """Tell the donor's members and the village committee that a pledge was cancelled."""
    pair = f"{allocation.offer.title} → {allocation.need.title}, {allocation.quantity}"

    def text() -> str:
        return _("The match (%(pair)s) was cancelled: %(reason)s", pair=pair, reason=reason)

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


def confirm_receipt_by_household(
    session: Session, allocation_id: int, household_id: int
) -> Allocation:
    """The household whose own micro-wish a pledge serves confirms its receipt (issue 10).

    The household is the wish's recipient, so its word counts as the committee's confirmation
    would; the committee is told. The caller commits it with its own changes (the household's
    log entry).
    """

    def work() -> Allocation:
        allocation = _allocation(session, allocation_id)
        if allocation.need.household_id is None or allocation.need.household_id != household_id:
            raise NotAllowed("only the household of the micro-wish may confirm this delivery")
        _require_state(allocation, ("pledged", "dispatched", "received"), "confirm receipt")
        now = _now()
        allocation.received_at = allocation.received_at or now
        allocation.confirmed_at = now
        allocation.status = "confirmed"
        allocation.receipt_note = "农户本人确认收到"

        def text() -> str:
            return _(
                "Micro-wish “%(title)s”: the household confirmed receipt (match #%(id)s)",
                title=allocation.need.title, id=allocation.id,
            )  # fmt: skip

        for user in village_committees(session, [allocation.need.village_id]):
            notify(session, user, "household_receipt", text)
        notify_gap_closed(session, allocation.need)
        return allocation

    return _in_transaction(session, work)
