"""What the delivery pages show, as dataclasses the views render: a donor organization's
published pledges (with why each went where it went, and its offers that got nothing) and a
village's. Reads only; the delivery steps themselves are in web.services.delivery."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from web.models import Allocation, AllocationRun, Need, Offer
from web.services.explain import IdleReport, allocation_reasons, idle_offers
from web.services.kinds import request_catalogue


@dataclass(frozen=True)
class DonorPage:
    """A donor organization's pledges, newest first, why each went where it went, and its open
    offers that got nothing in the latest committed week."""

    allocations: list[Allocation]
    reasons: dict[int, list[str]]
    idle: IdleReport


@dataclass(frozen=True)
class VillagePage:
    """A village's pledges, newest first."""

    allocations: list[Allocation]


def _listing() -> Select[tuple[Allocation]]:
    """Published allocations newest first, with their offer, donor, need and village loaded."""
    return (
        select(Allocation)
        .join(AllocationRun, Allocation.run_id == AllocationRun.id)
        .where(AllocationRun.status == "published")
        .order_by(Allocation.id.desc())
        .options(
            selectinload(Allocation.run),
            selectinload(Allocation.offer).selectinload(Offer.organization),
            selectinload(Allocation.offer).selectinload(Offer.items),
            selectinload(Allocation.need).selectinload(Need.village),
            selectinload(Allocation.need).selectinload(Need.accepts),
        )
    )


def donor_query(organization_id: int | None) -> Select[tuple[Allocation]]:
    """A donor organization's published allocations (none for a donor without one)."""
    mine = Offer.organization_id == (organization_id or 0)
    return _listing().join(Offer, Allocation.offer_id == Offer.id).where(mine)


def village_query(village_id: int | None) -> Select[tuple[Allocation]]:
    """A village's published allocations (none for a committee without a village)."""
    mine = Need.village_id == (village_id or 0)
    return _listing().join(Need, Allocation.need_id == Need.id).where(mine)


def donor_page(session: Session, organization_id: int | None, lang: str) -> DonorPage:
    """The donor's allocations page in `lang` ("zh" or "en")."""
    catalogue = request_catalogue(session)
    allocations = list(session.scalars(donor_query(organization_id)).all())
    return DonorPage(
        allocations,
        {a.id: allocation_reasons(a, catalogue, lang) for a in allocations},
        idle_offers(session, organization_id or 0, catalogue, lang),
    )


def village_page(session: Session, village_id: int) -> VillagePage:
    """The village committee's allocations page."""
    return VillagePage(list(session.scalars(village_query(village_id)).all()))


def own_allocation(
    session: Session, query: Select[tuple[Allocation]], allocation_id: int
) -> Allocation | None:
    """The allocation if `query` (donor_query or village_query) holds it, else None."""
    return session.scalars(query.where(Allocation.id == allocation_id)).first()
