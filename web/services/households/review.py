"""The committee's inbox: a household's request accepted as a micro-wish, merged into a village
need, or declined with a reason."""

from __future__ import annotations

from dataclasses import fields, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matcher.kinds import covers
from web.models import HelpRequest, Need, User
from web.models.base import utcnow
from web.services import needs as needs_service
from web.services.households.base import (
    MAX_QUANTITY,
    MAX_REASON,
    HouseholdError,
    _require_committee,
    log,
)
from web.services.kinds import NeedKind
from web.services.locking import relock
from web.services.titles import title_problem

# --- the committee's inbox ---------------------------------------------------------------------


def inbox(session: Session, actor: User) -> list[HelpRequest]:
    """The village's household requests: undecided first (oldest first), then the rest."""
    village_id = _require_committee(actor)
    query = select(HelpRequest).where(HelpRequest.village_id == village_id)
    rows = list(session.scalars(query.order_by(HelpRequest.id.desc())).all())
    waiting = sorted((r for r in rows if r.status == "received"), key=lambda r: r.id)
    return waiting + [r for r in rows if r.status != "received"]


def waiting_count(session: Session, village_id: int) -> int:
    """How many household requests wait for the committee."""
    query = select(func.count(HelpRequest.id)).where(
        HelpRequest.village_id == village_id, HelpRequest.status == "received"
    )
    return int(session.scalar(query) or 0)


def get_village_request(session: Session, actor: User, request_id: int) -> HelpRequest:
    """A request of the committee's own village; LookupError otherwise."""
    village_id = _require_committee(actor)
    request = session.get(HelpRequest, request_id)
    if request is None or request.village_id != village_id:
        raise LookupError(request_id)
    return request


def merge_candidates(
    session: Session, actor: User, request: HelpRequest
) -> tuple[list[Need], list[Need]]:
    """Open village needs the request could join: the duplicate finder's suggestions first,
    then the village's other open needs of the same category."""
    village_id = _require_committee(actor)
    data = needs_service.NeedInput(
        category=request.category_code,
        title=request.what,
        description="",
        quantity=request.quantity,
        urgency=3,
        deadline=None,
    )
    suggested = [n for n in needs_service.duplicate_needs(session, actor, data) if not n.is_wish]
    shown = {n.id for n in suggested}
    others = [
        n
        for n in needs_service.village_needs(session, village_id)
        if n.status == "open"
        and not n.is_wish
        and n.category_code == request.category_code
        and n.id not in shown
    ]
    return suggested, others


def _undecided_of(session: Session, actor: User, request: HelpRequest) -> None:
    """Refuse unless the request is the committee's own and undecided, as it stands now: the
    request's row is locked and read afresh, so a second click, another committee member or the
    household's withdrawal at the same moment finds it decided."""
    if request.village_id != _require_committee(actor):
        raise LookupError(request.id)
    relock(session, request)
    if request.status != "received":
        raise HouseholdError("decided")


def _decide(request: HelpRequest, actor: User, status: str) -> None:
    request.status = status
    request.decided_by_id = actor.id
    request.decided_at = utcnow()


def accept(
    session: Session,
    actor: User,
    request: HelpRequest,
    *,
    title: str,
    quantity: int,
    value: float,
    kind: NeedKind | None = None,
) -> Need:
    """Turn the request into the household's micro-wish, pending the township; the caller
    commits the wish, the decision and the log entry as one.

    The estimated value (元) must lie within needs.WISH_VALUE_CAP. `kind` is the kind the
    committee confirmed (checked by kinds.need_kind); the request keeps it too.
    """
    if not 0 < value <= needs_service.WISH_VALUE_CAP:
        raise HouseholdError("value")
    if title_problem(title) is not None:
        raise HouseholdError("title")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise HouseholdError("quantity")
    _undecided_of(session, actor, request)
    data = needs_service.NeedInput(
        category=request.category_code,
        title=title.strip(),
        description=request.what,
        quantity=quantity,
        urgency=3,
        deadline=None,
        household_id=request.household_id,
        evidence=f"农户自己提出（求助 #{request.id}），村委会受理；估值 {value:g} 元",
        item=kind.item if kind else None,
        accepts=kind.accepts if kind else (),
        item_inferred=kind.inferred if kind else False,
    )
    if "estimated_value" in {f.name for f in fields(data)}:
        data = replace(data, estimated_value=value)  # type: ignore[call-arg]
    _decide(request, actor, "accepted")
    if kind is not None:
        request.item_code = kind.item
    log(session, request.household_id, "request_accepted", f"#{request.id}")
    need = needs_service.create_need(session, actor, data)
    need.estimated_value = value
    request.need = need
    session.flush()
    return need


def merge_fits(need: Need, request: HelpRequest) -> bool:
    """True when the need's kind or one it accepts covers the kind the household asked for (the
    offer_fits rule: a request whose kind is not known yet fits any need of its category)."""
    if request.item_code is None:
        return True
    wanted = ([need.item_code] if need.item_code else []) + need.accept_codes
    return any(covers(code, request.item_code) for code in wanted)


def merge(session: Session, actor: User, request: HelpRequest, need_id: int) -> Need:
    """Count the request under an open village need (not a wish); the caller commits."""
    _undecided_of(session, actor, request)
    try:
        need = needs_service.get_village_need(session, actor, need_id)
    except LookupError:
        raise HouseholdError("need") from None
    if need.status != "open" or need.is_wish:
        raise HouseholdError("need")
    if not merge_fits(need, request):
        raise HouseholdError("kind")
    _decide(request, actor, "merged")
    request.need = need
    log(session, request.household_id, "request_merged", f"#{request.id}")
    session.flush()
    return need


def decline(session: Session, actor: User, request: HelpRequest, reason: str) -> HelpRequest:
    """Decline the request with a reason the household will read; the caller commits."""
    text = (reason or "").strip()
    if not text or len(text) > MAX_REASON:
        raise HouseholdError("reason")
    _undecided_of(session, actor, request)
    _decide(request, actor, "declined")
    request.decline_reason = text
    log(session, request.household_id, "request_declined", f"#{request.id}")
    session.flush()
    return request
