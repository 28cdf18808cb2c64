"""The command map (挂图作战): coverage per village, per county, unmet need, who contributes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, aliased

from web.models import (
    Allocation,
    AllocationRun,
    City,
    County,
    Need,
    Offer,
    Organization,
    Village,
)
from web.models import Kind as KindRow
from web.models.accounts import ORGANIZATION_KINDS
from web.services.delivery import overdue_clause
from web.services.mapping import Outline, Projection, district_map

LIVE_RUNS = ("committed", "published")
PERIODS = ("week", "year")
# Coverage bands, lowest first: (at least this share, colour).
BANDS = ((0.0, "#d73027"), (0.25, "#fc8d59"), (0.5, "#fee08b"), (0.75, "#91cf60"), (1.0, "#1a9850"))
NO_DATA = "#bdbdbd"
# 折合金额: a need's units at its kind's reference value (its category root's without a kind),
# the one way quantities of different kinds are added (as matcher's Catalogue.value_in_yuan).
ItemKind = aliased(KindRow, name="item_kind")
RootKind = aliased(KindRow, name="root_kind")
REF_VALUE = func.coalesce(ItemKind.ref_value, RootKind.ref_value, 0.0)


def valued(query: Select) -> Select:  # type: ignore[type-arg]
    """A query over Need joined to the kinds that value its units (REF_VALUE)."""
    return query.outerjoin(ItemKind, ItemKind.code == Need.item_code).outerjoin(
        RootKind, RootKind.code == Need.category_code
    )


@dataclass(frozen=True)
class DashboardFilter:
    """What the map shows: one county's code and one category's code, or all; and the period,
    "week" (the latest committed week's pledges) or "year" (every live pledge of its year)."""

    county: str | None = None
    category: str | None = None
    period: str = "week"


@dataclass(frozen=True)
class Dot:
    """A village on the map with its coverage (None when it has no verified need)."""

    village_id: int
    name: str
    county: str
    x: float
    y: float
    coverage: float | None
    colour: str


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: a label, a value and its share of the chart's longest bar."""

    label: str
    value: float
    share: float
    note: str = ""
    met: float = 0.0  # 折合金额 (元) behind a coverage share, when the bar is one
    wanted: float = 0.0


@dataclass(frozen=True)
class WeekPoint:
    """One committed week's delivery: pledges made and confirmed, their 折合金额 (元), villages
    reached."""

    week: str
    pledges: int
    confirmed: int
    value: float
    confirmed_value: float
    villages: int


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard page draws."""

    week: str | None
    run_status: str | None
    projection: Projection
    outlines: tuple[Outline, ...]
    dots: list[Dot]
    coverage_by_county: list[Bar]
    unmet_by_category: list[Bar]
    contributions_by_kind: list[Bar]
    overdue: int = 0
    weeks: list[WeekPoint] = field(default_factory=list)
    run_id: int | None = None
    coverage_by_city: list[Bar] = field(default_factory=list)  # empty with one city


def colour(coverage: float | None) -> str:
    """The dot colour of a coverage share."""
    if coverage is None:
        return NO_DATA
    chosen = BANDS[0][1]
    for floor, hex_colour in BANDS:
        if coverage >= floor:
            chosen = hex_colour
    return chosen


def latest_run(session: Session) -> AllocationRun | None:
    """The committed or published run of the latest week."""
    return session.scalars(
        select(AllocationRun)
        .where(AllocationRun.status.in_(LIVE_RUNS))
        .order_by(AllocationRun.week.desc(), AllocationRun.id.desc())
        .limit(1)
    ).first()


def _need_filter(query: Select, filters: DashboardFilter) -> Select:  # type: ignore[type-arg]
    """Restrict a query over Need (joined to Village) by the filters."""
    if filters.category:
        query = query.where(Need.category_code == filters.category)
    if filters.county:
        query = query.where(County.code == filters.county)
    return query


def _village_coverage(
    session: Session, run: AllocationRun | None, filters: DashboardFilter
) -> dict[int, tuple[float, float]]:
    """Per village: (折合金额 of verified needs, of what was pledged to them), none without a run.

    The pledges counted are those of the live runs of the run's week ("week": the weekly run
    and the week's manual pledges), or of every live run whose week is in its year ("year").
    """
    wanted = _need_filter(
        valued(select(Need.village_id, func.sum(Need.quantity * REF_VALUE)))
        .join(Village, Village.id == Need.village_id)
        .join(County, County.id == Village.county_id)
        .where(Need.verification == "verified", Need.status != "withdrawn")
        .group_by(Need.village_id),
        filters,
    )
    if run is None:
        return {}
    if filters.period == "year":
        year = run.week[:4]
        which = [AllocationRun.status.in_(LIVE_RUNS), AllocationRun.week.like(f"{year}-%")]
    else:
        which = [AllocationRun.status.in_(LIVE_RUNS), AllocationRun.week == run.week]
    totals = {v: (float(q or 0), 0.0) for v, q in session.execute(wanted)}
    met = _need_filter(
        valued(select(Need.village_id, func.sum(Allocation.quantity * REF_VALUE)))
        .join(Allocation, Allocation.need_id == Need.id)
        .join(AllocationRun, AllocationRun.id == Allocation.run_id)
        .join(Village, Village.id == Need.village_id)
        .join(County, County.id == Village.county_id)
        .where(
            *which,
            Allocation.status != "cancelled",
            Need.verification == "verified",
            Need.status != "withdrawn",
        )
        .group_by(Need.village_id),
        filters,
    )
    for village_id, value in session.execute(met):
        wanted_value = totals.get(village_id, (0.0, 0.0))[0]
        totals[village_id] = (wanted_value, float(value or 0))
    return totals


def _bars(values: list[tuple[str, float, str]]) -> list[Bar]:
    """Bars scaled to the largest value."""
    top = max((v for _, v, _ in values), default=0.0)
    return [Bar(label, value, value / top if top else 0.0, note) for label, value, note in values]


def _dots(
    session: Session,
    projection: Projection,
    coverage: dict[int, tuple[float, float]],
    county: str | None,
) -> list[Dot]:
    """The villages with coordinates, in the county asked for, as coloured dots."""
    query = (
        select(Village.id, Village.name, County.code, Village.lon, Village.lat)
        .join(County, County.id == Village.county_id)
        .where(Village.lon.is_not(None), Village.lat.is_not(None))
        .order_by(Village.code)
    )
    if county:
        query = query.where(County.code == county)
    dots = []
    for village_id, name, code, lon, lat in session.execute(query):
        wanted, met = coverage.get(village_id, (0.0, 0.0))
        share = min(met / wanted, 1.0) if wanted else None
        x, y = projection.point(lon, lat)
        dots.append(Dot(village_id, name, code, x, y, share, colour(share)))
    return dots


def _coverage_bars(
    session: Session, coverage: dict[int, tuple[float, float]], filters: DashboardFilter
) -> tuple[list[Bar], list[Bar]]:
    """Coverage of verified needs per city and per county, in 折合金额 (元).

    With villages in one city (Hezhou's case) the city bars are empty and the county bars are
    labelled by county alone; with several, counties are ordered by city and labelled
    "city county"."""
    rows = session.execute(
        select(Village.id, County.name, County.code, City.name)
        .join(County, County.id == Village.county_id)
        .outerjoin(City, City.id == County.city_id)
    ).all()
    several = len({city for *_, city in rows}) > 1
    counties: dict[tuple[str, str], list[float]] = {}
    cities: dict[str, list[float]] = {}
    for village_id, name, code, city in rows:
        if filters.county and code != filters.county:
            continue
        wanted, met = coverage.get(village_id, (0.0, 0.0))
        for pair in (
            counties.setdefault((city or "", name), [0.0, 0.0]),
            cities.setdefault(city or "", [0.0, 0.0]),
        ):
            pair[0] += wanted
            pair[1] += met

    def bar(label: str, wanted: float, met: float) -> Bar:
        share = min(met / wanted, 1.0) if wanted else 0.0
        return Bar(label, share, share, f"{met:.0f}/{wanted:.0f}", met=met, wanted=wanted)

    county_bars = [
        bar(f"{city} {name}" if several and city else name, wanted, met)
        for (city, name), (wanted, met) in sorted(counties.items())
    ]
    city_bars = [bar(c, w, m) for c, (w, m) in sorted(cities.items())] if several else []
    return city_bars, county_bars


def _unmet_bars(session: Session, filters: DashboardFilter) -> list[Bar]:
    """折合金额 (元) still wanted by open verified needs, per category (the label is the code):
    units of different kinds are never added, their values are."""
    query = _need_filter(
        valued(select(Need.category_code, func.sum((Need.quantity - Need.allocated) * REF_VALUE)))
        .join(Village, Village.id == Need.village_id)
        .join(County, County.id == Village.county_id)
        .where(Need.verification == "verified", Need.status == "open")
        .group_by(Need.category_code)
        .order_by(Need.category_code),
        filters,
    )
    return _bars([(code, float(value or 0), "") for code, value in session.execute(query)])


def _kind_bars(session: Session, filters: DashboardFilter) -> list[Bar]:
    """Estimated value and count of live pledges per kind of actor (the label is the kind)."""
    query = _need_filter(
        select(Organization.kind, func.sum(Allocation.value), func.count(Allocation.id))
        .join(Offer, Offer.organization_id == Organization.id)
        .join(Allocation, Allocation.offer_id == Offer.id)
        .join(AllocationRun, AllocationRun.id == Allocation.run_id)
        .join(Need, Need.id == Allocation.need_id)
        .join(Village, Village.id == Need.village_id)
        .join(County, County.id == Village.county_id)
        .where(AllocationRun.status.in_(LIVE_RUNS), Allocation.status != "cancelled")
        .group_by(Organization.kind),
        filters,
    )
    found = {kind: (float(value or 0), int(count)) for kind, value, count in session.execute(query)}
    return _bars(
        [(k, found.get(k, (0.0, 0))[0], str(found.get(k, (0.0, 0))[1])) for k in ORGANIZATION_KINDS]
    )


def _scoped(query: Select, filters: DashboardFilter, township_id: int | None) -> Select:  # type: ignore[type-arg]
    """A query over Allocation joined to Need, Village and County, under filters and scope."""
    query = _need_filter(query, filters)
    if township_id is not None:
        query = query.where(Village.township_id == township_id)
    return query


def _pledge_joins(query: Select) -> Select:  # type: ignore[type-arg]
    """Join a query from Allocation to its live run, need, village and county."""
    return (
        query.join(AllocationRun, AllocationRun.id == Allocation.run_id)
        .join(Need, Need.id == Allocation.need_id)
        .join(Village, Village.id == Need.village_id)
        .join(County, County.id == Village.county_id)
        .where(AllocationRun.status.in_(LIVE_RUNS))
    )


def overdue_count(
    session: Session,
    filters: DashboardFilter,
    *,
    township_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Overdue pledges of committed and published weeks under the filters (and township)."""
    query = _pledge_joins(select(func.count(Allocation.id)).select_from(Allocation))
    query = _scoped(query.where(overdue_clause(now)), filters, township_id)
    return int(session.scalar(query) or 0)


def week_over_week(
    session: Session, filters: DashboardFilter, *, township_id: int | None = None
) -> list[WeekPoint]:
    """Per committed or published week, oldest first: what was pledged and what confirmed."""
    live = Allocation.status != "cancelled"
    confirmed = Allocation.status == "confirmed"
    query = valued(
        _pledge_joins(
            select(
                AllocationRun.week,
                func.count(Allocation.id),
                func.sum(case((confirmed, 1), else_=0)),
                func.sum(Allocation.quantity * REF_VALUE),
                func.sum(case((confirmed, Allocation.quantity * REF_VALUE), else_=0.0)),
                func.count(func.distinct(Need.village_id)),
            ).select_from(Allocation)
        )
    ).where(live)
    query = _scoped(query, filters, township_id).group_by(AllocationRun.week)
    rows = session.execute(query.order_by(AllocationRun.week)).all()
    return [
        WeekPoint(week, int(n), int(c or 0), float(u or 0), float(cu or 0), int(v))
        for week, n, c, u, cu, v in rows
    ]


def dashboard(
    session: Session,
    filters: DashboardFilter,
    *,
    township_id: int | None = None,
    now: datetime | None = None,
) -> Dashboard:
    """The map and charts for the latest committed or published week (or its year, by
    filters.period), under the filters.

    township_id limits the overdue count and the week-over-week chart to that township's
    villages (a township officer's view); the map and the other charts show the whole city.
    """
    run = latest_run(session)
    projection, outlines = district_map()
    coverage = _village_coverage(session, run, filters)
    by_city, by_county = _coverage_bars(session, coverage, filters)
    return Dashboard(
        week=run.week if run else None,
        run_status=run.status if run else None,
        projection=projection,
        outlines=outlines,
        dots=_dots(session, projection, coverage, filters.county),
        coverage_by_county=by_county,
        coverage_by_city=by_city,
        unmet_by_category=_unmet_bars(session, filters),
        contributions_by_kind=_kind_bars(session, filters),
        overdue=overdue_count(session, filters, township_id=township_id, now=now),
        weeks=week_over_week(session, filters, township_id=township_id),
        run_id=run.id if run else None,
    )
