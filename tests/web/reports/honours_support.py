"""Deliveries made for the honour roll and certificate tests: pledges of chosen organizations to
chosen villages, in a chosen state, confirmed at a chosen moment."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from web.extensions import db
from web.models import Allocation, AllocationRun, Need, Offer, Organization, User
from web.services.kinds import load_catalogue

_weeks = itertools.count()


@dataclass
class Donor:
    organization: Organization
    username: str | None


def donor(username: str) -> Donor:
    """The organization of a demo donor account."""
    member = db.session.scalars(select(User).where(User.username == username)).one()
    assert member.organization is not None
    return Donor(member.organization, username)


def other_organization(kind: str, *exclude: int) -> Organization:
    """A demo organization of the kind, not one of `exclude`."""
    found = db.session.scalars(
        select(Organization)
        .where(Organization.kind == kind, Organization.id.not_in(exclude or (0,)))
        .where(Organization.id.in_(select(Offer.organization_id)))
        .order_by(Organization.id)
    ).first()
    assert found is not None, f"the demo has no {kind}"
    return found


def needs_in_villages(count: int, *, wish: bool = False) -> list[Need]:
    """One need in each of `count` different villages (micro-wishes when `wish`)."""
    query = select(Need).where(
        Need.household_id.is_not(None) if wish else Need.household_id.is_(None)
    )
    chosen: dict[int, Need] = {}
    for need in db.session.scalars(query.order_by(Need.id)):
        chosen.setdefault(need.village_id, need)
        if len(chosen) == count:
            break
    assert len(chosen) == count
    return list(chosen.values())


def same_kind_needs(count: int) -> list[Need]:
    """Needs of one kind (not micro-wishes), each in a different village."""
    by_kind: dict[tuple[str, str | None], dict[int, Need]] = {}
    query = select(Need).where(Need.household_id.is_(None)).order_by(Need.id)
    for need in db.session.scalars(query):
        found = by_kind.setdefault((need.category_code, need.item_code), {})
        found.setdefault(need.village_id, need)
        if len(found) == count:
            return list(found.values())
    raise AssertionError(f"no kind with needs in {count} villages")


def unit_value(need: Need) -> float:
    """The reference value (元) of one unit of the need's kind."""
    kind = load_catalogue(db.session).unit_of(need.item_code, need.category_code)
    assert kind is not None
    return float(kind.ref_value)


def deliver(
    organization: Organization,
    need: Need,
    quantity: int,
    *,
    status: str = "confirmed",
    at: datetime = datetime(2026, 11, 10, 4, 0, tzinfo=UTC),
) -> Allocation:
    """A pledge of the organization's first offer to the need, in the state given."""
    offer = db.session.scalars(
        select(Offer).where(Offer.organization_id == organization.id).order_by(Offer.id)
    ).first()
    assert offer is not None, f"{organization.name} has no offer in the demo"
    run = AllocationRun(week=f"2025-W{next(_weeks) % 52 + 1:02d}", status="published")
    allocation = Allocation(
        run=run, offer_id=offer.id, need_id=need.id, quantity=quantity, status=status,
        confirmed_at=at if status == "confirmed" else None,
        received_at=at if status in ("received", "confirmed") else None,
    )  # fmt: skip
    db.session.add_all([run, allocation])
    db.session.flush()
    return allocation
