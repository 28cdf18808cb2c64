"""The weekly bulletin (周通报, issue 16): townships and counties side by side for one ISO week.

Per area: verification lead time (median and slowest, days from a need's posting to its
township's decision, for the needs decided that week), the share of its needs verified, the
deliveries confirmed that week, the pledges overdue now and the needs escalated now (the same
counts as the county's page and the city's board: web.services.escalation), the villages reached
by that week's published runs, and the receipt problems villages reported that week. The platform
records no complaints as such: a village's report of a problem with a delivery (wrong goods,
short, damaged, late) is what is counted. Counts are also given per village, so a county of 30
villages is compared fairly with one of 80.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone
from statistics import median
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from web.models import Allocation, AllocationRun, County, Need, Township, Village
from web.services.delivery import as_utc
from web.services.escalation import LIVE_RUNS, overdue_counts, stale_counts
from web.services.week_instance import week_days

CHINA = timezone(timedelta(hours=8))  # weeks run Monday to Sunday in Hezhou's time


@dataclass(frozen=True)
class AreaFigures:
    """One township's or county's week."""

    key: int
    code: str
    name: str
    county: str  # a township's county; a county's own name
    villages: int
    lead_median: float | None  # days
    lead_slowest: float | None
    verified_share: float | None
    confirmed: int
    overdue: int
    escalated: int
    reached: int
    problems: int

    def per_village(self, count: int) -> float | None:
        """A count divided by the area's villages (None for an area with none)."""
        return count / self.villages if self.villages else None

    @property
    def reached_share(self) -> float | None:
        """The share of the area's villages reached by the week's published runs."""
        return self.per_village(self.reached)


@dataclass(frozen=True)
class Bulletin:
    """The week's bulletin: its counties and its townships (one county's, or the city's)."""

    week: str
    monday: Any
    sunday: Any
    counties: list[AreaFigures]
    townships: list[AreaFigures]
    days: int


def _window(week: str) -> tuple[datetime, datetime, Any, Any]:
    monday, sunday = week_days(week)
    start = datetime.combine(monday, time(), CHINA).astimezone(UTC)
    return start, start + timedelta(days=7), monday, sunday


def _grouped(session: Session, query: Any) -> dict[int, int]:
    return {key: int(count or 0) for key, count in session.execute(query)}


def _lead_times(
    session: Session, by: Any, start: datetime, end: datetime
) -> dict[int, list[float]]:
    query = (
        select(by, Need.created_at, Need.verified_at)
        .join(Village, Village.id == Need.village_id)
        .where(Need.verified_at >= start, Need.verified_at < end)
    )
    out: dict[int, list[float]] = {}
    for key, created, decided in session.execute(query):
        created, decided = as_utc(created), as_utc(decided)
        if created is not None and decided is not None:
            days = max(0.0, (decided - created).total_seconds() / 86400)
            out.setdefault(key, []).append(days)
    return out


def _shares(session: Session, by: Any, end: datetime) -> dict[int, float]:
    """Per area: of the needs posted by the week's end (not withdrawn), the share verified."""
    posted = (Need.created_at < end, Need.status != "withdrawn")
    base = select(by, func.count(Need.id)).join(Village, Village.id == Need.village_id)
    total = _grouped(session, base.where(*posted).group_by(by))
    verified = _grouped(
        session,
        base.where(
            *posted,
            Need.verification == "verified",
            Need.verified_at.is_(None) | (Need.verified_at < end),
        ).group_by(by),
    )
    return {key: verified.get(key, 0) / n for key, n in total.items() if n}


def _pledge_counts(
    session: Session, by: Any, week: str, start: datetime, end: datetime
) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """Per area: pledges confirmed in the week, villages reached by the week's published runs,
    and receipt problems reported in the week."""
    base = (
        select(by, func.count(Allocation.id))
        .join(Need, Need.id == Allocation.need_id)
        .join(Village, Village.id == Need.village_id)
    )
    confirmed = _grouped(
        session,
        base.where(Allocation.confirmed_at >= start, Allocation.confirmed_at < end).group_by(by),
    )
    problems = _grouped(
        session,
        base.where(Allocation.problem_at >= start, Allocation.problem_at < end).group_by(by),
    )
    reached = _grouped(
        session,
        select(by, func.count(func.distinct(Village.id)))
        .select_from(Allocation)
        .join(AllocationRun, AllocationRun.id == Allocation.run_id)
        .join(Need, Need.id == Allocation.need_id)
        .join(Village, Village.id == Need.village_id)
        .where(
            AllocationRun.week == week,
            AllocationRun.status.in_(LIVE_RUNS),
            Allocation.status != "cancelled",
        )
        .group_by(by),
    )
    return confirmed, reached, problems


def _areas(
    session: Session, by: Any, areas: list[tuple[int, str, str, str]], week: str, now: datetime,
    days: int,
) -> list[AreaFigures]:
    start, end, _monday, _sunday = _window(week)
    villages = _grouped(session, select(by, func.count(Village.id)).group_by(by))
    leads = _lead_times(session, by, start, end)
    shares = _shares(session, by, end)
    confirmed, reached, problems = _pledge_counts(session, by, week, start, end)
    overdue = overdue_counts(session, now, by)
    escalated = stale_counts(session, now, days, by)
    out = []
    for key, code, name, county in areas:
        lead = leads.get(key, [])
        out.append(
            AreaFigures(
                key, code, name, county, villages.get(key, 0),
                median(lead) if lead else None, max(lead) if lead else None,
                shares.get(key), confirmed.get(key, 0), overdue.get(key, 0),
                escalated.get(key, 0), reached.get(key, 0), problems.get(key, 0),
            )
        )  # fmt: skip
    return out


def bulletin(
    session: Session, week: str, *, now: datetime, days: int, county_id: int | None = None
) -> Bulletin:
    """The week's bulletin for one county (its townships), or for the city (every county and
    township) when county_id is None. WeekError for a week that is not one."""
    _start, _end, monday, sunday = _window(week)
    counties = select(County.id, County.code, County.name, County.name).order_by(County.code)
    townships = (
        select(Township.id, Township.code, Township.name, County.name)
        .join(County, County.id == Township.county_id)
        .order_by(Township.code)
    )
    if county_id is not None:
        counties = counties.where(County.id == county_id)
        townships = townships.where(Township.county_id == county_id)
    county_rows = [tuple(r) for r in session.execute(counties)]
    township_rows = [tuple(r) for r in session.execute(townships)]
    return Bulletin(
        week=week,
        monday=monday,
        sunday=sunday,
        counties=_areas(session, Village.county_id, county_rows, week, now, days),  # type: ignore[arg-type]
        townships=_areas(session, Village.township_id, township_rows, week, now, days),  # type: ignore[arg-type]
        days=days,
    )
