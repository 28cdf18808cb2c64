"""Reading villages: filtered, paginated lists with stable ordering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from web.models import City, County, Township, Village

T = TypeVar("T")
MAX_PER_PAGE = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the size of the whole list."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the whole list takes."""
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class VillageFilter:
    """Which villages to list: by county or township code, or a name fragment."""

    county: str | None = None
    township: str | None = None
    q: str | None = None


def list_villages(
    session: Session, filters: VillageFilter, page: int = 1, per_page: int = 50
) -> Page[Village]:
    """Return one page of villages ordered by code, with county and township loaded."""
    query = select(Village)
    if filters.county:
        query = query.join(County, Village.county_id == County.id).where(
            (County.code == filters.county) | (County.name == filters.county)
        )
    if filters.township:
        query = query.join(Township, Village.township_id == Township.id).where(
            (Township.code == filters.township) | (Township.name == filters.township)
        )
    if filters.q:
        query = query.where(Village.name.contains(filters.q))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.options(joinedload(Village.county), joinedload(Village.township))
        .order_by(Village.code)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(items=list(rows), total=total, page=page, per_page=per_page)


def list_counties(session: Session) -> list[County]:
    """All counties ordered by code."""
    return list(session.scalars(select(County).order_by(County.code)))


def village_counts_by_county(session: Session) -> dict[str, int]:
    """Number of villages per county name."""
    rows = session.execute(
        select(County.name, func.count(Village.id))
        .join(Village, Village.county_id == County.id)
        .group_by(County.name)
    )
    return {name: count for name, count in rows}


def several_cities(session: Session) -> bool:
    """Whether the villages served lie in more than one city: pages then group by city before
    county (a one-city deployment such as Hezhou's shows counties only, as it always has)."""
    cities = session.scalar(
        select(func.count(func.distinct(County.city_id))).join(
            Village, Village.county_id == County.id
        )
    )
    return (cities or 0) > 1


def city_of_county(session: Session) -> dict[str, str]:
    """Each county's name -> its city's name ("" for a county without a city)."""
    rows = session.execute(
        select(County.name, City.name).outerjoin(City, City.id == County.city_id)
    )
    return {county: city or "" for county, city in rows}
