"""Donor offers: posting with a duplicate check, listing, editing and withdrawing one's own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matcher.dedupe import DUPLICATE_THRESHOLD, OfferText, offer_score
from web.models import County, Offer, Organization, User, Village
from web.services.kinds import kinds_by_code
from web.services.locking import begin_write, lock_rows, relock
from web.services.organizations import can_post_offers
from web.services.pairing import default_villages


class OfferError(ValueError):
    """An offer change was refused; `code` names the reason (not_approved, allocated, ...)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class OfferInput:
    """An offer as entered in the form, already checked field by field."""

    category: str
    title: str
    description: str
    quantity: int
    min_lot: int
    max_villages: int | None
    indivisible: bool
    county_codes: tuple[str, ...]
    dispatch_lat: float | None
    dispatch_lon: float | None
    valid_from: date
    valid_until: date
    # Its kinds, checked by web.services.kinds.offer_kinds: none only when general.
    items: tuple[str, ...] = ()
    general: bool = False
    items_inferred: bool = False
    # The villages it may go to, as chosen on the form (a paired unit's own villages, prefilled);
    # a gap's village (我来帮, issue 17); None: not chosen (the API, an import): a paired
    # unit's villages unless it names counties.
    village_codes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class OfferDuplicate:
    """An open offer of the same organization that the new one likely repeats."""

    offer: Offer
    score: float


def _text(offer_id: str, donor: str, data: OfferInput | Offer) -> OfferText:
    """The matcher's view of an offer or of an offer being entered."""
    category = data.category if isinstance(data, OfferInput) else data.category_code
    return OfferText(
        offer_id, donor, category, data.title, data.description, data.quantity,
        data.valid_from, data.valid_until,
    )  # fmt: skip


def own_offers(session: Session, user: User) -> Sequence[Offer]:
    """The offers of the user's organization, newest first."""
    query = (
        select(Offer)
        .where(Offer.organization_id == user.organization_id)
        .options(selectinload(Offer.items))  # the list names each offer's kinds
        .order_by(Offer.created_at.desc(), Offer.id.desc())
        .options(selectinload(Offer.items))
    )
    return session.scalars(query).all()


def get_own_offer(session: Session, user: User, offer_id: int) -> Offer:
    """The offer if it belongs to the user's organization; LookupError otherwise."""
    offer = session.get(Offer, offer_id)
    if (
        offer is None
        or user.organization_id is None
        or offer.organization_id != user.organization_id
    ):
        raise LookupError(offer_id)
    return offer


def likely_duplicate_offers(
    session: Session, user: User, data: OfferInput, exclude_id: int | None = None
) -> list[OfferDuplicate]:
    """Open offers of the same organization that look like the one being entered, best first.

    As for needs, the check and the create or edit that follows it are one transaction: the
    organization's row is locked here until that commits, so a double click's second request
    waits and then sees the first's offer.
    """
    begin_write(session)
    if user.organization_id is not None:
        lock_rows(session, Organization, [user.organization_id])
    donor = str(user.organization_id)
    candidate = _text("new", donor, data)
    found = []
    for offer in own_offers(session, user):
        if offer.status != "open" or offer.id == exclude_id:
            continue
        score = offer_score(candidate, _text(str(offer.id), donor, offer))
        if score >= DUPLICATE_THRESHOLD:
            found.append(OfferDuplicate(offer, round(score, 1)))
    return sorted(found, key=lambda d: -d.score)


def _apply(session: Session, offer: Offer, data: OfferInput) -> None:
    """Copy the entered fields onto the offer, with its destinations."""
    offer.category_code = data.category
    offer.title = data.title.strip()
    offer.description = data.description.strip()
    offer.quantity = data.quantity
    offer.min_lot = data.min_lot
    offer.max_villages = data.max_villages
    offer.indivisible = data.indivisible
    offer.dispatch_lat = data.dispatch_lat
    offer.dispatch_lon = data.dispatch_lon
    offer.valid_from = data.valid_from
    offer.valid_until = data.valid_until
    offer.items = kinds_by_code(session, data.items)
    offer.general = data.general and not data.items
    offer.items_inferred = data.items_inferred and bool(data.items)
    codes = list(data.county_codes)
    offer.counties = list(session.scalars(select(County).where(County.code.in_(codes))))
    # A paired unit's offer goes to its villages in the register (web.services.pairing) unless
    # it names counties or the donor chose otherwise on the form.
    if data.village_codes is not None:
        chosen = list(data.village_codes)
        offer.villages = list(session.scalars(select(Village).where(Village.code.in_(chosen))))
    elif codes:
        offer.villages = []
    else:
        offer.villages = default_villages(offer.organization, data.valid_from, data.valid_until)


def add_offer(session: Session, organization: Organization, data: OfferInput) -> Offer:
    """A new open offer of the organization with its kinds, added to the session; the caller
    checks the donor may post and commits (a form one at a time, an import all rows at once)."""
    offer = Offer(organization=organization, allocated=0, status="open")
    _apply(session, offer, data)
    session.add(offer)
    return offer


def create_offer(session: Session, user: User, data: OfferInput) -> Offer:
    """Post an offer for the user's approved organization; the caller commits."""
    if not can_post_offers(user):
        raise OfferError("not_approved")
    assert user.organization is not None
    offer = add_offer(session, user.organization, data)
    session.flush()
    return offer


def _check_changeable(user: User, offer: Offer) -> None:
    """Refuse changes once anything is allocated, or when the offer is not open."""
    if not can_post_offers(user):
        raise OfferError("not_approved")
    if offer.allocated != 0:
        raise OfferError("allocated")
    if offer.status != "open":
        raise OfferError("not_open")


def update_offer(session: Session, user: User, offer: Offer, data: OfferInput) -> Offer:
    """Change an own offer while nothing of it is allocated; the caller commits."""
    relock(session, offer)
    _check_changeable(user, offer)
    _apply(session, offer, data)
    session.flush()
    return offer


def withdraw_offer(session: Session, user: User, offer: Offer) -> Offer:
    """Withdraw an own offer while nothing of it is allocated; the caller commits."""
    relock(session, offer)
    _check_changeable(user, offer)
    offer.status = "withdrawn"
    session.flush()
    return offer


def county_choices(session: Session) -> list[tuple[str, str]]:
    """(code, name) of every county, for the destination checkboxes."""
    return [(c.code, c.name) for c in session.scalars(select(County).order_by(County.code))]
