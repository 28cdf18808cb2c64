"""The county office's pages (县区扶贫办, issue 16): its townships' verification queues, overdue
deliveries, villages at zero coverage and its share of a week's run, always within its own
county (a county officer never reads another county's rows). Pages and exports read these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from web.models import Allocation, AllocationRun, County, Need, Offer, Township, User, Village
from web.models.aid import offer_counties, offer_villages
from web.services.delivery import as_utc
from web.services.escalation import (
    LIVE_RUNS,
    OverduePledge,
    StaleNeed,
    overdue_pledges,
    stale_needs,
)
from web.services.villages import Page


def county_of(session: Session, user: User) -> County:
    """The county office's county; LookupError for an account bound to none."""
    county = session.get(County, user.county_id) if user.county_id is not None else None
    if county is None:
        raise LookupError("county")
    return county


@dataclass(frozen=True)
class QueueItem:
    """A pending need of the county, how many days it has waited, and whether escalated."""

    need: Need
    township: str
    days: int
    escalated: bool


@dataclass(frozen=True)
class TownshipQueue:
    """One township's queue: needs waiting, and those waiting past the set days."""

    code: str
    name: str
    pending: int
    stale: int


@dataclass(frozen=True)
class QueuePage:
    """The county's landing page: its townships' queues, one page of needs, its escalations."""

    county: County
    townships: list[TownshipQueue]
    needs: Page[QueueItem]
    stale: list[StaleNeed]
    overdue: list[OverduePledge]
    days: int
    township: str | None


def _pending(county_id: int) -> list[object]:
    return [Village.county_id == county_id, Need.verification == "pending", Need.status == "open"]


def _township_queues(
    session: Session, county_id: int, stale: list[StaleNeed]
) -> list[TownshipQueue]:
    counts = dict(
        session.execute(
            select(Township.id, func.count(Need.id))
            .join(Village, Village.township_id == Township.id)
            .join(Need, Need.village_id == Village.id)
            .where(*_pending(county_id))
            .group_by(Township.id)
        ).all()
    )
    late: dict[str, int] = {}
    for item in stale:
        late[item.township] = late.get(item.township, 0) + 1
    townships = session.execute(
        select(Township.id, Township.code, Township.name)
        .where(Township.county_id == county_id)
        .order_by(Township.code)
    )
    return [
        TownshipQueue(code, name, int(counts.get(tid, 0)), late.get(name, 0))
        for tid, code, name in townships
    ]


def queue_page(
    session: Session,
    county: County,
    *,
    now: datetime,
    days: int,
    township: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> QueuePage:
    """The county's pending needs (one township's with `township`, a code), longest waiting
    first, with the township counts and the escalations."""
    where = _pending(county.id)
    if township:
        where.append(Township.code == township)
    base = (
        select(Need, Township.name)
        .join(Village, Village.id == Need.village_id)
        .join(Township, Township.id == Village.township_id)
        .where(*where)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.options(selectinload(Need.village), selectinload(Need.item))
        .order_by(Need.created_at, Need.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = []
    for need, township_name in rows:
        waited = (now - (as_utc(need.created_at) or now)).days
        items.append(QueueItem(need, township_name, waited, waited >= days and waited > 0))
    stale = stale_needs(session, county.id, now, days)
    return QueuePage(
        county=county,
        townships=_township_queues(session, county.id, stale),
        needs=Page(items, int(total), page, per_page),
        stale=stale,
        overdue=overdue_pledges(session, county.id, now),
        days=days,
        township=township,
    )


@dataclass(frozen=True)
class ZeroVillage:
    """A village of the county with verified needs and nothing pledged in the week."""

    village_id: int
    code: str
    name: str
    township: str
    needs: int
    units: int


def zero_coverage(session: Session, county_id: int, week: str) -> list[ZeroVillage]:
    """The county's villages with open verified needs to which no published run of
    `week` pledged anything (cancelled pledges do not count), by code."""
    reached = (
        select(Need.village_id)
        .join(Allocation, Allocation.need_id == Need.id)
        .join(AllocationRun, AllocationRun.id == Allocation.run_id)
        .where(
            AllocationRun.week == week,
            AllocationRun.status.in_(LIVE_RUNS),
            Allocation.status != "cancelled",
        )
    )
    query = (
        select(Village.id, Village.code, Village.name, Township.name, func.count(Need.id),
               func.sum(Need.quantity - Need.allocated))
        .join(Township, Township.id == Village.township_id)
        .join(Need, Need.village_id == Village.id)
        .where(
            Village.county_id == county_id,
            Need.verification == "verified",
            Need.status == "open",
            Village.id.not_in(reached),
        )
        .group_by(Village.id, Village.code, Village.name, Township.name)
        .order_by(Village.code)
    )  # fmt: skip
    return [
        ZeroVillage(vid, code, name, township, int(count), int(units or 0))
        for vid, code, name, township, count, units in session.execute(query)
    ]


@dataclass(frozen=True)
class ShareRow:
    """What one run pledged to one village of the county."""

    village_id: int
    code: str
    name: str
    township: str
    pledges: int
    units: int
    value: float


@dataclass(frozen=True)
class RunShare:
    """The county's share of one run: per village, and against the whole run."""

    runs: list[AllocationRun]
    run: AllocationRun | None
    rows: list[ShareRow]
    value: float
    run_value: float

    @property
    def share(self) -> float | None:
        """The county's part of the run's value (None for a run of no value)."""
        return self.value / self.run_value if self.run_value else None


def county_runs(session: Session) -> list[AllocationRun]:
    """The published runs, newest week first (a county reads only its share of each)."""
    return list(
        session.scalars(
            select(AllocationRun)
            .where(AllocationRun.status.in_(LIVE_RUNS))
            .order_by(AllocationRun.week.desc(), AllocationRun.id.desc())
        )
    )


def run_share(session: Session, county_id: int, run_id: int | None) -> RunShare:
    """The county's share of the run `run_id` (the newest live run when None); a run that is
    not published reads as no run (LookupError), like another's item."""
    runs = county_runs(session)
    run = runs[0] if run_id is None and runs else None
    if run_id is not None:
        run = next((r for r in runs if r.id == run_id), None)
        if run is None:
            raise LookupError(run_id)
    if run is None:
        return RunShare(runs, None, [], 0.0, 0.0)
    live = (Allocation.run_id == run.id, Allocation.status != "cancelled")
    query = (
        select(Village.id, Village.code, Village.name, Township.name, func.count(Allocation.id),
               func.sum(Allocation.quantity), func.sum(Allocation.value))
        .join(Need, Need.id == Allocation.need_id)
        .join(Village, Village.id == Need.village_id)
        .join(Township, Township.id == Village.township_id)
        .where(*live, Village.county_id == county_id)
        .group_by(Village.id, Village.code, Village.name, Township.name)
        .order_by(Village.code)
    )  # fmt: skip
    rows = [
        ShareRow(vid, code, name, town, int(n), int(units or 0), float(value or 0))
        for vid, code, name, town, n, units, value in session.execute(query)
    ]
    run_value = session.scalar(select(func.sum(Allocation.value)).where(*live)) or 0.0
    return RunShare(runs, run, rows, sum(r.value for r in rows), float(run_value))


def offers_reaching(county_id: int) -> ColumnElement[bool]:
    """SQL condition on Offer: it names the county or one of its villages as a destination, or
    a published run pledged it to one of the county's villages."""
    named_county = select(offer_counties.c.offer_id).where(offer_counties.c.county_id == county_id)
    named_village = (
        select(offer_villages.c.offer_id)
        .join(Village, Village.id == offer_villages.c.village_id)
        .where(Village.county_id == county_id)
    )
    pledged = (
        select(Allocation.offer_id)
        .join(AllocationRun, AllocationRun.id == Allocation.run_id)
        .join(Need, Need.id == Allocation.need_id)
        .join(Village, Village.id == Need.village_id)
        .where(Village.county_id == county_id, AllocationRun.status == "published")
    )
    return Offer.id.in_(named_county) | Offer.id.in_(named_village) | Offer.id.in_(pledged)
