"""Filtered, paginated lists of offers, needs, runs and pledges, limited to what a user may see.

Who sees what: administrators and auditors everything; a donor its organization's offers and
their pledges; a village committee its village's needs and their pledges; a township officer
the needs and pledges of its township's villages. Ordering is by id, so pages are stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session, selectinload

from web.models import (
    Allocation,
    AllocationRun,
    County,
    Need,
    Offer,
    Township,
    User,
    Village,
)
from web.models.aid import offer_counties, offer_villages
from web.services.villages import Page
from web.services.week_instance import WeekError, week_days

T = TypeVar("T")
SEES_ALL = ("admin", "auditor")


@dataclass(frozen=True)
class Filters:
    """Filters shared by the lists; each list uses those that apply to it."""

    county: str | None = None  # code or name
    township: str | None = None  # code or name
    village: str | None = None  # code, or id as text
    category: str | None = None
    status: str | None = None
    verification: str | None = None
    week: str | None = None
    organization_id: int | None = None


def _page(session: Session, query: Select[Any], model: Any, page: int, per_page: int) -> Page[T]:
    """One page of the query ordered by the model's id, with the total count."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(
        query.order_by(model.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(items=list(rows), total=total, page=page, per_page=per_page)


def _place(query: Select[Any], filters: Filters) -> Select[Any]:
    """Filter a query joined to Village by county, township and village."""
    if filters.county:
        county_ids = select(County.id).where(
            (County.code == filters.county) | (County.name == filters.county)
        )
        query = query.where(Village.county_id.in_(county_ids))
    if filters.township:
        township_ids = select(Township.id).where(
            (Township.code == filters.township) | (Township.name == filters.township)
        )
        query = query.where(Village.township_id.in_(township_ids))
    if filters.village:
        match = Village.code == filters.village
        if filters.village.isdigit() and len(filters.village) < 10:
            match = match | (Village.id == int(filters.village))
        query = query.where(match)
    return query


def offers(session: Session, user: User, filters: Filters, page: int, per_page: int) -> Page[Offer]:
    """Offers the user may see under the filters."""
    query = select(Offer).options(
        selectinload(Offer.organization), selectinload(Offer.counties), selectinload(Offer.villages)
    )
    if user.role not in SEES_ALL:
        query = query.where(Offer.organization_id == (user.organization_id or 0))
    if filters.organization_id is not None:
        query = query.where(Offer.organization_id == filters.organization_id)
    if filters.category:
        query = query.where(Offer.category_code == filters.category)
    if filters.status:
        query = query.where(Offer.status == filters.status)
    if filters.county:
        county_ids = select(County.id).where(
            (County.code == filters.county) | (County.name == filters.county)
        )
        offer_ids = select(offer_counties.c.offer_id).where(
            offer_counties.c.county_id.in_(county_ids)
        )
        query = query.where(Offer.id.in_(offer_ids))
    if filters.village:
        village_ids = select(Village.id).where(Village.code == filters.village)
        offer_ids = select(offer_villages.c.offer_id).where(
            offer_villages.c.village_id.in_(village_ids)
        )
        query = query.where(Offer.id.in_(offer_ids))
    if filters.week:
        monday, sunday = week_days(filters.week)
        query = query.where(Offer.valid_from <= sunday, Offer.valid_until >= monday)
    return _page(session, query, Offer, page, per_page)


def can_see_offer(user: User, offer: Offer) -> bool:
    """True for administrators and auditors, and for the offer's own organization."""
    return user.role in SEES_ALL or (
        user.organization_id is not None and offer.organization_id == user.organization_id
    )


def _need_scope(query: Select[Any], user: User) -> Select[Any]:
    """Limit a query joined to Village to the needs the user may see."""
    if user.role in SEES_ALL:
        return query
    if user.role == "village" and user.village_id is not None:
        return query.where(Village.id == user.village_id)
    if user.role == "township" and user.township_id is not None:
        return query.where(Village.township_id == user.township_id)
    return query.where(false())


def needs(session: Session, user: User, filters: Filters, page: int, per_page: int) -> Page[Need]:
    """Needs and micro-wishes the user may see under the filters."""
    query = (
        select(Need)
        .join(Village, Village.id == Need.village_id)
        .options(selectinload(Need.village).selectinload(Village.township))
    )
    query = _place(_need_scope(query, user), filters)
    if filters.category:
        query = query.where(Need.category_code == filters.category)
    if filters.status:
        query = query.where(Need.status == filters.status)
    if filters.verification:
        query = query.where(Need.verification == filters.verification)
    if filters.week:
        monday, _sunday = week_days(filters.week)
        query = query.where((Need.deadline.is_(None)) | (Need.deadline >= monday))
    return _page(session, query, Need, page, per_page)


def can_see_need(user: User, need: Need) -> bool:
    """True when the need lies within what the user may see."""
    if user.role in SEES_ALL:
        return True
    if user.role == "village":
        return user.village_id is not None and need.village_id == user.village_id
    if user.role == "township":
        return user.township_id is not None and need.village.township_id == user.township_id
    return False


def runs(session: Session, filters: Filters, page: int, per_page: int) -> Page[AllocationRun]:
    """Allocation runs under the week and status filters."""
    query = select(AllocationRun)
    if filters.week:
        week_days(filters.week)
        query = query.where(AllocationRun.week == filters.week)
    if filters.status:
        query = query.where(AllocationRun.status == filters.status)
    return _page(session, query, AllocationRun, page, per_page)


def _allocation_scope(query: Select[Any], user: User) -> Select[Any]:
    """Limit a pledge query to what concerns the user; only published runs outside the staff."""
    if user.role in SEES_ALL:
        return query
    query = query.where(AllocationRun.status == "published")
    if user.role == "donor" and user.organization_id is not None:
        return query.where(Offer.organization_id == user.organization_id)
    return _need_scope(query, user)


def _allocation_query(user: User) -> Select[Any]:
    query = (
        select(Allocation)
        .join(AllocationRun, AllocationRun.id == Allocation.run_id)
        .join(Offer, Offer.id == Allocation.offer_id)
        .join(Need, Need.id == Allocation.need_id)
        .join(Village, Village.id == Need.village_id)
        .options(
            selectinload(Allocation.run),
            selectinload(Allocation.offer).selectinload(Offer.organization),
            selectinload(Allocation.need).selectinload(Need.village),
        )
    )
    return _allocation_scope(query, user)


def allocations(
    session: Session, user: User, filters: Filters, page: int, per_page: int
) -> Page[Allocation]:
    """Pledges that concern the user under the filters."""
    query = _place(_allocation_query(user), filters)
    if filters.category:
        query = query.where(Need.category_code == filters.category)
    if filters.status:
        query = query.where(Allocation.status == filters.status)
    if filters.week:
        week_days(filters.week)
        query = query.where(AllocationRun.week == filters.week)
    if filters.organization_id is not None:
        query = query.where(Offer.organization_id == filters.organization_id)
    return _page(session, query, Allocation, page, per_page)


def visible_allocation(session: Session, user: User, allocation_id: int) -> Allocation:
    """The pledge if it concerns the user; LookupError otherwise (never reveal another's)."""
    found = session.scalars(
        _allocation_query(user).where(Allocation.id == allocation_id)
    ).first()
    if found is None:
        raise LookupError(allocation_id)
    return found


__all__ = ["Filters", "WeekError", "allocations", "needs", "offers", "runs"]
