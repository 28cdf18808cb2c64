"""Claims on micro-wishes (认领, issue 17): a vetted individual donor or enterprise claims one
open micro-wish; the claim holds the wish out of the weekly run until the village confirms
receipt. A claim not dispatched within its days expires and the wish returns to the pool.

Concurrency: the claimer's organization and the wish are locked (web.services.locking: the
organization, then the need) and re-read before the checks, so two claims on one wish queue
one behind the other and the second sees the first; a unique partial index on holding claims
(uq_wish_claim_holding) is the backstop: a claim that slips past still fails, as "taken".
Expiry is a state written by `duijie claims` (and `duijie prune`), and also read from the
time: a claim past its `expires_at` and not dispatched holds nothing, whether or not the job
has run yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from web.models import Need, Organization, User, Village, WishClaim
from web.services.claim_hold import held_need_ids, holding
from web.services.locking import begin_write, lock_rows
from web.services.notifications import notify

# Who may claim: a vetted (approved) individual donor or enterprise.
CLAIM_KINDS = ("individual", "enterprise")
REMIND_BEFORE = timedelta(days=1)

MESSAGES = {
    "not_allowed": _l("Only an approved individual donor or enterprise may claim a micro-wish."),
    "not_found": _l("There is no such micro-wish."),
    "not_open": _l("This micro-wish is no longer open for claiming."),
    "taken": _l("Someone else has just claimed this micro-wish. Please choose another one."),
    "limit": _l("Your organization already holds the most open claims allowed; fulfil one first."),
    "state": _l("This claim is not in a state that allows this step."),
    "not_yours": _l("This claim is not yours."),
}


class ClaimError(ValueError):
    """A claim or a step of it was refused; `code` names why (a key of MESSAGES)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        """The reason, in the reader's language."""
        return str(MESSAGES[self.code])


@dataclass(frozen=True)
class ClaimRules:
    """The settings of claims (DUIJIE_CLAIM_DAYS, DUIJIE_CLAIM_MAX_OPEN), passed in."""

    days: int = 14
    max_open: int = 3


def claimable(now: datetime) -> ColumnElement[bool]:
    """Micro-wishes a donor may claim at `now`: verified, open, classified, nothing allocated,
    not held by a claim."""
    return and_(
        Need.household_id.is_not(None),
        Need.status == "open",
        Need.verification == "verified",
        Need.item_code.is_not(None),
        Need.allocated == 0,
        Need.id.not_in(held_need_ids(now)),
    )


def may_claim(user: User) -> bool:
    """True for a donor of an approved individual or enterprise organization."""
    organization = user.organization
    return (
        user.role == "donor"
        and organization is not None
        and organization.vetting == "approved"
        and organization.kind in CLAIM_KINDS
    )


def _expire_stale(session: Session, now: datetime, need_id: int | None = None) -> int:
    """Mark claims past their expiry and not dispatched as expired; how many."""
    where = and_(WishClaim.status == "claimed", WishClaim.expires_at <= now)
    if need_id is not None:
        where = and_(where, WishClaim.need_id == need_id)
    result = session.execute(
        update(WishClaim)
        .where(where)
        .values(status="expired", ended_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def open_claims(session: Session, organization_id: int, now: datetime) -> int:
    """How many claims of the organization hold a wish at `now`."""
    query = select(func.count(WishClaim.id)).where(
        WishClaim.organization_id == organization_id, holding(now)
    )
    return int(session.scalar(query) or 0)


def claim_wish(
    session: Session, user: User, need_id: int, rules: ClaimRules, now: datetime
) -> WishClaim:
    """Claim one open micro-wish for the user's organization; the caller commits."""
    if not may_claim(user):
        raise ClaimError("not_allowed")
    assert user.organization_id is not None
    begin_write(session)
    lock_rows(session, Organization, [user.organization_id])
    need = lock_rows(session, Need, [need_id]).get(need_id)
    if need is None or need.household_id is None:
        raise ClaimError("not_found")
    open_wish = (
        need.status == "open"
        and need.verification == "verified"
        and need.item_code is not None
        and need.allocated == 0
    )
    if not open_wish:
        raise ClaimError("not_open")
    _expire_stale(session, now, need_id)
    if session.scalar(select(WishClaim.id).where(WishClaim.need_id == need_id, holding(now))):
        raise ClaimError("taken")
    if open_claims(session, user.organization_id, now) >= rules.max_open:
        raise ClaimError("limit")
    claim = WishClaim(
        need_id=need_id,
        organization_id=user.organization_id,
        user_id=user.id,
        status="claimed",
        expires_at=now + timedelta(days=rules.days),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(claim)
            session.flush()
    except IntegrityError:
        raise ClaimError("taken") from None
    return claim


def _own_claim(session: Session, user: User, claim_id: int) -> WishClaim:
    claim = session.get(WishClaim, claim_id)
    if claim is None or claim.organization_id != user.organization_id or user.role != "donor":
        raise ClaimError("not_yours")
    return claim


def dispatch(session: Session, user: User, claim_id: int, now: datetime) -> WishClaim:
    """The claiming donor says the gift is on its way (before the claim expires)."""
    begin_write(session)
    claim = _own_claim(session, user, claim_id)
    lock_rows(session, WishClaim, [claim.id])
    if claim.status != "claimed" or _aware(claim.expires_at) <= now:
        raise ClaimError("state")
    claim.status, claim.dispatched_at = "dispatched", now
    session.flush()
    return claim


def cancel(session: Session, user: User, claim_id: int, now: datetime) -> WishClaim:
    """The claiming donor gives the wish back before sending it."""
    begin_write(session)
    claim = _own_claim(session, user, claim_id)
    lock_rows(session, WishClaim, [claim.id])
    if claim.status != "claimed":
        raise ClaimError("state")
    claim.status, claim.ended_at = "cancelled", now
    session.flush()
    return claim


def receive(session: Session, user: User, claim_id: int, now: datetime) -> WishClaim:
    """The wish's village committee confirms receipt: the wish is fulfilled and closed, and the
    claiming donor is told."""
    begin_write(session)
    claim = session.get(WishClaim, claim_id)
    if claim is None or user.role != "village" or claim.need.village_id != user.village_id:
        raise ClaimError("not_yours")
    lock_rows(session, WishClaim, [claim.id])
    need = lock_rows(session, Need, [claim.need_id])[claim.need_id]
    if claim.status not in ("claimed", "dispatched") or (
        claim.status == "claimed" and _aware(claim.expires_at) <= now
    ):
        raise ClaimError("state")
    claim.status, claim.received_at, claim.ended_at = "received", now, now
    need.status = "closed"
    session.flush()
    village = need.village.name
    notify(
        session,
        claim.user,
        "claim_received",
        lambda: _("The micro-wish you claimed in %(village)s was received. Thank you!",
                  village=village),
        link="/donor/claims",
    )  # fmt: skip
    return claim


def expire_and_remind(session: Session, now: datetime) -> tuple[int, int]:
    """The claims job: expire claims past their days (the wishes return to the pool) and tell
    each donor a day before its claim expires (once). (expired, reminded); the caller commits."""
    expired = _expire_stale(session, now)
    due = session.scalars(
        select(WishClaim)
        .where(
            WishClaim.status == "claimed",
            WishClaim.reminded_at.is_(None),
            WishClaim.expires_at > now,
            WishClaim.expires_at <= now + REMIND_BEFORE,
        )
        .options(selectinload(WishClaim.need).selectinload(Need.village))
        .order_by(WishClaim.id)
    ).all()
    for claim in due:
        claim.reminded_at = now
        village = claim.need.village.name
        notify(
            session,
            claim.user,
            "claim_expiring",
            lambda village=village: _(
                "Your claim on a micro-wish in %(village)s expires within a day: mark it "
                "dispatched, or it returns to the pool.",
                village=village,
            ),
            link="/donor/claims",
        )
    session.flush()
    return expired, len(due)


def donor_claims(session: Session, organization_id: int) -> Sequence[WishClaim]:
    """The organization's claims, newest first, with each wish and its village."""
    query = (
        select(WishClaim)
        .where(WishClaim.organization_id == organization_id)
        .options(
            selectinload(WishClaim.need).selectinload(Need.village).selectinload(Village.township),
            selectinload(WishClaim.need).selectinload(Need.item),
        )
        .order_by(WishClaim.id.desc())
    )
    return session.scalars(query).all()


def village_claims(session: Session, village_id: int) -> Sequence[WishClaim]:
    """Claims on the village's micro-wishes, newest first."""
    query = (
        select(WishClaim)
        .join(Need, WishClaim.need_id == Need.id)
        .where(Need.village_id == village_id)
        .options(selectinload(WishClaim.need), selectinload(WishClaim.organization))
        .order_by(WishClaim.id.desc())
    )
    return session.scalars(query).all()


def state_of(claim: WishClaim, now: datetime) -> str:
    """The claim's state as read at `now`: a claimed one past its expiry reads as expired."""
    if claim.status == "claimed" and _aware(claim.expires_at) <= now:
        return "expired"
    return claim.status


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back: they are UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
