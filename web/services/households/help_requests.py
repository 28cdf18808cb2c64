"""The household's help requests: filed within limits, followed in six plain steps, withdrawn,
and the arrival of help confirmed."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.categories import CATEGORY_CODES
from web.models import Allocation, HelpRequest, Household, HouseholdEvent, Need
from web.services import delivery, throttle, uploads
from web.services.households.base import (
    HOUSEHOLD_CATEGORIES,
    MAX_OPEN_REQUESTS,
    MAX_QUANTITY,
    MAX_WHAT,
    SUBMISSION_WINDOW,
    SUBMISSIONS_PER_DAY,
    HouseholdError,
    log,
)
from web.services.kinds import load_catalogue, recognise
from web.services.locking import begin_write, lock_rows
from web.services.titles import title_problem

# --- the household's side: requests ------------------------------------------------------------

# The six plain steps a request goes through, as the household sees them.
STEPS = ("received", "accepted", "verified", "allocated", "on_its_way", "delivered")


@dataclass
class RequestView:
    """A help request with its state in plain terms, derived from its need and allocations."""

    request: HelpRequest
    state: str
    allocations: list[Allocation] = field(default_factory=list)
    can_withdraw: bool = False
    can_confirm: bool = False
    reported_arrival: bool = False

    @property
    def step(self) -> int:
        """How far along the six steps the request is (0-based), or -1 off the path."""
        return STEPS.index(self.state) if self.state in STEPS else -1


def _allocations_by_need(session: Session, need_ids: list[int]) -> dict[int, list[Allocation]]:
    if not need_ids:
        return {}
    rows = session.scalars(
        select(Allocation)
        .where(Allocation.need_id.in_(need_ids), Allocation.status != "cancelled")
        .order_by(Allocation.id)
    ).all()
    found: dict[int, list[Allocation]] = {}
    for row in rows:
        found.setdefault(row.need_id, []).append(row)
    return found


def _reported(session: Session, request: HelpRequest) -> bool:
    query = select(HouseholdEvent.id).where(
        HouseholdEvent.household_id == request.household_id,
        HouseholdEvent.kind == "arrival_reported",
        HouseholdEvent.detail == f"#{request.id}",
    )
    return session.scalar(query.limit(1)) is not None


def describe(session: Session, request: HelpRequest, allocations: list[Allocation]) -> RequestView:
    """Where the request stands: one of STEPS, or declined, withdrawn, rejected (township)."""
    view = RequestView(request, request.status, allocations)
    need = request.need
    if request.status == "received":
        view.can_withdraw = True
        return view
    if request.status in ("declined", "withdrawn") or need is None:
        return view
    if need.status == "withdrawn":
        view.state = "withdrawn"
        return view
    statuses = {a.status for a in allocations}
    if statuses and statuses <= {"received", "confirmed"}:
        view.state = "delivered"
    elif statuses & {"dispatched", "received"}:
        view.state = "on_its_way"
    elif "pledged" in statuses:
        view.state = "allocated"
    elif need.verification == "verified":
        view.state = "verified"
    elif need.verification == "rejected":
        view.state = "rejected"
    else:
        view.state = "accepted"
    own_wish = request.status == "accepted" and need.household_id == request.household_id
    if own_wish:
        view.can_confirm = bool(statuses & {"pledged", "dispatched", "received"})
        view.can_withdraw = need.allocated == 0 and need.status == "open"
    else:
        view.reported_arrival = _reported(session, request)
        view.can_confirm = bool(allocations) and not view.reported_arrival
    return view


def household_requests(session: Session, household_id: int) -> list[RequestView]:
    """The household's own requests, newest first, each with its state."""
    requests = session.scalars(
        select(HelpRequest)
        .where(HelpRequest.household_id == household_id)
        .order_by(HelpRequest.id.desc())
    ).all()
    allocations = _allocations_by_need(session, [r.need_id for r in requests if r.need_id])
    return [describe(session, r, allocations.get(r.need_id or 0, [])) for r in requests]


def own_request(session: Session, household_id: int, request_id: int) -> RequestView:
    """One of the household's own requests; LookupError for anyone else's (the page says 404)."""
    request = session.get(HelpRequest, request_id)
    if request is None or request.household_id != household_id:
        raise LookupError(request_id)
    allocations = _allocations_by_need(session, [request.need_id] if request.need_id else [])
    return describe(session, request, allocations.get(request.need_id or 0, []))


def open_request_count(session: Session, household_id: int) -> int:
    """Requests still waiting for the committee, the township or their help to arrive."""
    views = household_requests(session, household_id)
    return sum(1 for v in views if v.state in STEPS[:-1])


def _checked_request(category: str, what: str, quantity: int) -> str:
    """The request's text, stripped; HouseholdError naming the field that is not right."""
    if category not in HOUSEHOLD_CATEGORIES or category not in CATEGORY_CODES:
        raise HouseholdError("category")
    text = (what or "").strip()
    if not text or len(text) > MAX_WHAT or title_problem(text) is not None:
        raise HouseholdError("what")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise HouseholdError("quantity")
    return text


def submit_request(
    session: Session,
    household_id: int,
    category: str,
    what: str,
    quantity: int,
    photo: uploads.Photo | None = None,
) -> HelpRequest:
    """File a help request for the household, within its limits; the caller commits.

    Refused (HouseholdError) for an unknown kind, empty or long text, a quantity out of range,
    MAX_OPEN_REQUESTS open requests already, SUBMISSIONS_PER_DAY within a day, or (UploadError)
    a photo that is not one. Nothing is kept of a refused request.
    """
    household = session.get(Household, household_id)
    if household is None or not household.sign_in_enabled:
        raise HouseholdError("no_household")
    text = _checked_request(category, what, quantity)
    # Requests sent at once (a double tap, a retry on a slow line) are counted one after the
    # other: the household's row is locked (SQLite: the write lock) until this one commits.
    begin_write(session)
    lock_rows(session, Household, [household_id])
    if open_request_count(session, household_id) >= MAX_OPEN_REQUESTS:
        log(session, household_id, "submission_refused", "open_limit")
        session.commit()  # commits mid-way: the refusal is raised, yet it stays in the log
        raise HouseholdError("too_many_open")
    bucket = f"household-submit:{household_id}"
    verdict = throttle.check(session, bucket, SUBMISSIONS_PER_DAY, SUBMISSION_WINDOW)
    if not verdict.allowed:
        log(session, household_id, "submission_refused", "daily_limit")
        session.commit()  # commits mid-way: the refusal is raised, yet it stays in the log
        raise HouseholdError("too_many_today", verdict.retry_after)
    # Its kind, recognised from the household's words within its category (None when unsure:
    # the committee names it on accepting).
    item_code = recognise(load_catalogue(session), category, text, "")
    photo_path = photo.save("help_request") if photo is not None else None
    try:
        request = HelpRequest(
            household_id=household_id,
            village_id=household.village_id,
            category_code=category,
            item_code=item_code,
            what=text,
            quantity=quantity,
            photo_path=photo_path,
            status="received",
        )
        session.add(request)
        throttle.record(session, bucket)
        session.flush()
        log(session, household_id, "request_submitted", f"#{request.id}")
    except Exception:
        if photo is not None and photo_path:
            photo.forget(photo_path)
        raise
    return request


def withdraw_request(session: Session, household_id: int, request_id: int) -> HelpRequest:
    """Withdraw an own request not yet decided, or an own micro-wish nothing is pledged to."""
    # Locked and read afresh: the committee's decision and the weekly commit's pledges to the
    # wish wait for this, or this sees them (the request's row, then its need's).
    begin_write(session)
    locked = lock_rows(session, HelpRequest, [request_id]).get(request_id)
    if locked is not None and locked.need_id is not None:
        lock_rows(session, Need, [locked.need_id])
    view = own_request(session, household_id, request_id)
    if not view.can_withdraw:
        raise HouseholdError("cannot_withdraw")
    request = view.request
    if request.need is not None:
        request.need.status = "withdrawn"
    request.status = "withdrawn"
    log(session, household_id, "request_withdrawn", f"#{request.id}")
    session.flush()
    return request


def confirm_arrival(session: Session, household_id: int, request_id: int) -> RequestView:
    """The household says its help arrived.

    For its own micro-wish the household is the recipient, so its word confirms receipt of
    every open pledge to the wish (delivery.confirm_receipt_by_household), as the committee's
    confirmation would (the committee is told). For a request merged into a village need, the
    pledge is the village's: the household's word is logged for the committee, which confirms
    the village's receipt itself.

    The request's row is locked and read afresh first: a double tap confirms and logs once.
    """
    begin_write(session)
    lock_rows(session, HelpRequest, [request_id])
    view = own_request(session, household_id, request_id)
    if not view.can_confirm:
        session.rollback()
        raise HouseholdError("cannot_confirm")
    request = view.request
    if request.status == "accepted":
        log(session, household_id, "delivery_confirmed", f"#{request.id}")
        try:
            for allocation in view.allocations:
                if allocation.status in ("pledged", "dispatched", "received"):
                    delivery.confirm_receipt_by_household(session, allocation.id, household_id)
        except delivery.WeekError:
            raise HouseholdError("cannot_confirm") from None
    else:
        log(session, household_id, "arrival_reported", f"#{request.id}")
    session.flush()
    return own_request(session, household_id, request_id)
