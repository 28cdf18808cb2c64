"""Filtered, paginated lists of offers, needs, runs and pledges, limited to what a user may see.

Who sees what: administrators and auditors everything; a donor its organization's offers and
their pledges; a village committee its village's needs and their pledges; a township officer
the needs and pledges of its township's villages; a county office (issue 16) the needs and
published pledges of its county's villages and the offers reaching them, exactly what its pages
show. Ordering is by id, so pages are stable.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Integer, Select, any_, cast, false, func, null, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.types import ARRAY

from web.models import (
    Allocation,
    AllocationRun,
    County,
    Need,
    Offer,
    Organization,
    Township,
    User,
    Village,
)
from web.models.aid import offer_counties, offer_villages
from web.services.county_pages import offers_reaching
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


@dataclass(frozen=True)
class ListedOffer:
    """An offer as its list shows it: the offer's columns, its donor and its destinations."""

    offer: Row[Any]  # the columns of the offer table, by name
    organization: str
    counties: list[str]  # codes, sorted
    village_ids: list[int]  # sorted


@dataclass(frozen=True)
class ListedNeed:
    """A need as its list shows it: the need's columns and the names of its place."""

    need: Row[Any]  # the columns of the need table, by name
    village_code: str
    village: str
    township_code: str


def _page(session: Session, query: Select[Any], model: Any, page: int, per_page: int) -> Page[T]:
    """One page of the query ordered by the model's id, with the total count."""
    rows = session.scalars(
        query.order_by(model.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    counting = select(func.count()).select_from(query.order_by(None).subquery())
    total = _total(session, counting, len(rows), page, per_page)
    return Page(items=list(rows), total=total, page=page, per_page=per_page)


def _total(session: Session, counting: Select[Any], shown: int, page: int, per_page: int) -> int:
    """The count query's answer, asked only when the page shown does not tell it already."""
    if 0 < shown < per_page or (page == 1 and shown == 0):
        return (page - 1) * per_page + shown  # the last page: nothing lies beyond it
    return session.scalar(counting) or 0


def among(session: Session, column: Any, ids: list[int]) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL as one array parameter, one statement for any length."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(cast(ids, ARRAY(Integer)))  # type: ignore[no-any-return]
    return column.in_(ids)  # type: ignore[no-any-return]


def _ids_named(session: Session, model: Any, name: str) -> list[int]:
    """Ids of the counties or townships whose code or name is `name` (usually one, or none)."""
    query = select(model.id).where((model.code == name) | (model.name == name))
    return list(session.scalars(query))


@dataclass(frozen=True)
class _Place:
    """The place filters with county and township names already read as ids."""

    county_ids: list[int] | None
    township_ids: list[int] | None
    village: str | None


def _resolved_place(session: Session, filters: Filters) -> _Place | None:
    """The place filters as ids (the planner then sees constants); None if a name is unknown."""
    county_ids = township_ids = None
    if filters.county:
        county_ids = _ids_named(session, County, filters.county)
        if not county_ids:
            return None
    if filters.township:
        township_ids = _ids_named(session, Township, filters.township)
        if not township_ids:
            return None
    return _Place(county_ids, township_ids, filters.village)


def _place(query: Select[Any], place: _Place) -> Select[Any]:
    """Filter a query joined to Village by county, township and village."""
    if place.county_ids is not None:
        query = query.where(Village.county_id.in_(place.county_ids))
    if place.township_ids is not None:
        query = query.where(Village.township_id.in_(place.township_ids))
    if place.village:
        match = Village.code == place.village
        if place.village.isdigit() and len(place.village) < 10:
            match = match | (Village.id == int(place.village))
        query = query.where(match)
    return query


def _offer_filter(session: Session, user: User, filters: Filters) -> list[Any] | None:
    """The conditions on Offer for the user and the filters; None when a named place is unknown."""
    where: list[Any] = []
    if user.role == "county":
        where.append(offers_reaching(user.county_id or 0))
    elif user.role not in SEES_ALL:
        where.append(Offer.organization_id == (user.organization_id or 0))
    if filters.organization_id is not None:
        where.append(Offer.organization_id == filters.organization_id)
    if filters.category:
        where.append(Offer.category_code == filters.category)
    if filters.status:
        where.append(Offer.status == filters.status)
    if filters.county:
        county_ids = _ids_named(session, County, filters.county)
        if not county_ids:
            return None
        offer_ids = select(offer_counties.c.offer_id).where(
            offer_counties.c.county_id.in_(county_ids)
        )
        where.append(Offer.id.in_(offer_ids))
    if filters.village:
        village_ids = select(Village.id).where(Village.code == filters.village)
        offer_ids = select(offer_villages.c.offer_id).where(
            offer_villages.c.village_id.in_(village_ids)
        )
        where.append(Offer.id.in_(offer_ids))
    if filters.week:
        monday, sunday = week_days(filters.week)
        where.extend((Offer.valid_from <= sunday, Offer.valid_until >= monday))
    return where


def _destinations(
    session: Session, offer_ids: list[int]
) -> tuple[dict[int, list[str]], dict[int, list[int]]]:
    """The county codes and village ids each offer may go to, in one statement, sorted."""
    counties: dict[int, list[str]] = defaultdict(list)
    villages: dict[int, list[int]] = defaultdict(list)
    if not offer_ids:
        return counties, villages
    by_county = (
        select(offer_counties.c.offer_id, County.code, cast(null(), Integer).label("village_id"))
        .join(County, County.id == offer_counties.c.county_id)
        .where(among(session, offer_counties.c.offer_id, offer_ids))
    )
    by_village = select(
        offer_villages.c.offer_id, cast(null(), County.code.type), offer_villages.c.village_id
    ).where(among(session, offer_villages.c.offer_id, offer_ids))
    for offer_id, county, village_id in session.execute(by_county.union_all(by_village)):
        if county is not None:
            counties[offer_id].append(county)
        else:
            villages[offer_id].append(village_id)
    for codes in counties.values():
        codes.sort()
    for ids in villages.values():
        ids.sort()
    return counties, villages


def offers(
    session: Session, user: User, filters: Filters, page: int, per_page: int
) -> Page[ListedOffer]:
    """Offers the user may see under the filters, as plain rows (nothing loaded per offer)."""
    where = _offer_filter(session, user, filters)
    if where is None:
        return Page(items=[], total=0, page=page, per_page=per_page)
    query = (
        select(*Offer.__table__.columns, Organization.name.label("organization_name"))
        .join(Organization, Organization.id == Offer.organization_id)
        .where(*where)
    )
    rows = session.execute(
        query.order_by(Offer.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    counted = select(func.count()).select_from(Offer).where(*where)
    total = _total(session, counted, len(rows), page, per_page)
    counties, villages = _destinations(session, [r.id for r in rows])
    items = [
        ListedOffer(r, r.organization_name, counties.get(r.id, []), villages.get(r.id, []))
        for r in rows
    ]
    return Page(items=items, total=total, page=page, per_page=per_page)


def can_see_offer(session: Session, user: User, offer: Offer) -> bool:
    """True for administrators and auditors, for the offer's own organization, and for a county
    office the offer reaches."""
    if user.role == "county":
        reaches = select(Offer.id).where(Offer.id == offer.id, offers_reaching(user.county_id or 0))
        return session.scalar(reaches) is not None
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
    if user.role == "county" and user.county_id is not None:
        return query.where(Village.county_id == user.county_id)
    return query.where(false())


def needs(
    session: Session, user: User, filters: Filters, page: int, per_page: int
) -> Page[ListedNeed]:
    """Needs and micro-wishes the user may see under the filters, as plain rows."""
    place = _resolved_place(session, filters)
    if place is None:
        return Page(items=[], total=0, page=page, per_page=per_page)
    where = _need_filter(filters)
    query = (
        select(
            *Need.__table__.columns,
            Village.code.label("village_code"),
            Village.name.label("village_name"),
            Township.code.label("township_code"),
        )
        .join(Village, Village.id == Need.village_id)
        .join(Township, Township.id == Village.township_id)
        .where(*where)
    )
    query = _place(_need_scope(query, user), place)
    rows = session.execute(
        query.order_by(Need.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    counting = select(func.count()).select_from(Need).join(Village, Village.id == Need.village_id)
    counting = _place(_need_scope(counting.where(*where), user), place)
    total = _total(session, counting, len(rows), page, per_page)
    items = [ListedNeed(r, r.village_code, r.village_name, r.township_code) for r in rows]
    return Page(items=items, total=total, page=page, per_page=per_page)


def _need_filter(filters: Filters) -> list[Any]:
    """The conditions on Need itself under the filters."""
    where: list[Any] = []
    if filters.category:
        where.append(Need.category_code == filters.category)
    if filters.status:
        where.append(Need.status == filters.status)
    if filters.verification:
        where.append(Need.verification == filters.verification)
    if filters.week:
        monday, _sunday = week_days(filters.week)
        where.append((Need.deadline.is_(None)) | (Need.deadline >= monday))
    return where


def can_see_need(user: User, need: Need) -> bool:
    """True when the need lies within what the user may see."""
    if user.role in SEES_ALL:
        return True
    if user.role == "village":
        return user.village_id is not None and need.village_id == user.village_id
    if user.role == "township":
        return user.township_id is not None and need.village.township_id == user.township_id
    if user.role == "county":
        return user.county_id is not None and need.village.county_id == user.county_id
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
    place = _resolved_place(session, filters)
    if place is None:
        return Page(items=[], total=0, page=page, per_page=per_page)
    query = _place(_allocation_query(user), place)
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
    found = session.scalars(_allocation_query(user).where(Allocation.id == allocation_id)).first()
    if found is None:
        raise LookupError(allocation_id)
    return found


__all__ = ["Filters", "WeekError", "allocations", "needs", "offers", "runs"]
