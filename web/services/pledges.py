"""An administrator's manual pledge: some units of one offer to one need, outside the weekly run.

It follows the locking rules of web.services.locking (offer, then need, locked and re-read) and
the rules of the weekly run: the same category, a kind of the offer that covers the need's (spec
v1.1), the offer eligible for the need's village (matcher's eligibility: counties, paired
villages, distance, validity), the offer's minimum lot, indivisibility and village cap, and
never more than what remains of the offer or the need.
The pledge joins the week's committed run if there is one, otherwise the week's manual run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher import model as mm
from matcher.eligibility import Reason, check, km
from matcher.messages import message
from web.models import Allocation, AllocationRun, Need, Offer, User
from web.services.kinds import load_catalogue
from web.services.locking import begin_write, lock_rows
from web.services.notifications import notify, organization_members, village_committees
from web.services.organizations import unapproved
from web.services.week import WeekError, require_admin
from web.services.week_instance import need_key, offer_key

MANUAL = "manual"  # solver_status of the run that holds a week's manual pledges


class PledgeError(WeekError):
    """A manual pledge was refused; the message says why."""


def _matcher_offer(offer: Offer) -> mm.Offer:
    return mm.Offer(
        offer_key(offer.id),
        f"D{offer.organization_id}",
        offer.category_code,
        max(1, offer.remaining),
        max(1, min(offer.min_lot, offer.remaining)),
        offer.max_villages,
        offer.indivisible,
        frozenset(c.code for c in offer.counties),
        frozenset(v.code for v in offer.villages),
        offer.dispatch_lat,
        offer.dispatch_lon,
        offer.valid_until,
        items=frozenset(offer.item_codes),
    )


def _matcher_need(need: Need) -> tuple[mm.Need, mm.Village]:
    village = need.village
    return (
        mm.Need(
            need_key(need.id),
            village.code,
            need.category_code,
            max(1, need.remaining),
            need.urgency,
            need.verification == "verified",
            item=need.item_code,
            accepts=frozenset(need.accept_codes),
        ),
        mm.Village(
            village.code,
            village.county.code,
            max(1.0, village.poverty_weight),
            village.lat,
            village.lon,
        ),
    )


def refusals(session: Session, offer: Offer, need: Need, quantity: int, on: date) -> list[str]:
    """Every reason the pledge may not be made, read from the locked rows."""
    problems = []
    if offer.status != "open" or unapproved(session, [offer.organization_id]):
        problems.append(f"offer {offer.id} is not open to pledges")
    if need.status != "open":
        problems.append(f"need {need.id} is not open")
    if quantity > offer.remaining:
        problems.append(f"offer {offer.id} has only {offer.remaining} units left")
    if quantity > need.remaining:
        problems.append(f"need {need.id} wants only {need.remaining} more units")
    if offer.category_code != need.category_code:
        problems.append(f"offer {offer.id} and need {need.id} are of different categories")
    if need.item_code is None:
        problems.append(f"need {need.id} names no kind yet: its township must classify it first")
    if not offer.classified:
        problems.append(f"offer {offer.id} names no kind and is not general: classify it first")
    if problems:
        return problems
    matcher_need, village = _matcher_need(need)
    verdict = check(_matcher_offer(offer), matcher_need, village, on=on)
    # MIN_LOT / INDIVISIBLE are judged below against this pledge's own quantity.
    skip = (Reason.MIN_LOT, Reason.INDIVISIBLE)
    catalogue = load_catalogue(session)
    problems += [
        message(r, "en", catalogue=catalogue) for r in verdict.reasons if r.reason not in skip
    ]
    if quantity < min(offer.min_lot, offer.remaining):
        problems.append(f"offer {offer.id} goes in lots of at least {offer.min_lot}")
    if offer.indivisible and quantity != offer.remaining:
        problems.append(f"offer {offer.id} is indivisible: pledge all {offer.remaining} units")
    if offer.max_villages is not None:
        served_villages = _villages_of(session, offer.id)
        if need.village_id not in served_villages and len(served_villages) >= offer.max_villages:
            problems.append(f"offer {offer.id} already serves its {offer.max_villages} villages")
    return problems


def _villages_of(session: Session, offer_id: int) -> set[int]:
    """The villages the offer serves through live pledges."""
    query = (
        select(Need.village_id)
        .join(Allocation, Allocation.need_id == Need.id)
        .where(Allocation.offer_id == offer_id, Allocation.status != "cancelled")
    )
    return set(session.scalars(query))


def _run_for(session: Session, week: str, actor: User) -> AllocationRun:
    """The week's committed run, else its manual run (made on first use)."""
    run = session.scalar(select(AllocationRun).where(AllocationRun.committed_week == week))
    if run is None:
        run = session.scalar(
            select(AllocationRun)
            .where(AllocationRun.week == week, AllocationRun.solver_status == MANUAL)
            .order_by(AllocationRun.id)
            .limit(1)
        )
    if run is None:
        now = datetime.now(UTC)
        run = AllocationRun(
            week=week,
            status="committed",
            solver_status=MANUAL,
            policy={},
            metrics={"manual": True},
            created_by_id=actor.id,
            committed_at=now,
        )
        session.add(run)
    return run


def _notify(session: Session, allocation: Allocation, offer: Offer, need: Need) -> None:
    def text() -> str:
        return _(
            "Matched by hand by an administrator: %(offer)s → %(need)s, %(quantity)s",
            offer=offer.title, need=need.title, quantity=allocation.quantity,
        )  # fmt: skip

    users = organization_members(session, [offer.organization_id])
    users += village_committees(session, [need.village_id])
    for user in users:
        notify(session, user, "manual_pledge", text)


def pledge(
    session: Session,
    offer_id: int,
    need_id: int,
    quantity: int,
    actor: User,
    *,
    week: str | None = None,
    on: date | None = None,
) -> Allocation:
    """Pledge `quantity` units of an offer to a need, all or nothing; the caller commits."""
    try:
        require_admin(actor, "pledge an offer to a need")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise PledgeError(f"the quantity must be a whole number of at least 1, got {quantity}")
        today = on or datetime.now(UTC).date()
        year, number, _day = today.isocalendar()
        week = week or f"{year}-W{number:02d}"
        begin_write(session)
        offer = lock_rows(session, Offer, [offer_id]).get(offer_id)
        need = lock_rows(session, Need, [need_id]).get(need_id)
        if offer is None or need is None:
            missing = f"offer {offer_id}" if offer is None else f"need {need_id}"
            raise PledgeError(f"no {missing}")
        problems = refusals(session, offer, need, quantity, today)
        if problems:
            raise PledgeError("; ".join(problems))
        village = _matcher_need(need)[1]
        allocation = Allocation(
            run=_run_for(session, week, actor),
            offer_id=offer.id,
            need_id=need.id,
            quantity=quantity,
            km=round(km(_matcher_offer(offer), village), 1),
            value=0.0,
            status="pledged",
        )
        session.add(allocation)
        offer.allocated += quantity
        need.allocated += quantity
        _notify(session, allocation, offer, need)
        session.flush()
    except IntegrityError:
        session.rollback()
        raise PledgeError(f"the database refused the pledge of offer {offer_id}") from None
    return allocation
