"""Escalation (issue 16): needs left unverified past a set number of days, and pledges left
undelivered past their date, flagged to their county office and shown on the city's board.

One home for these figures: the county's page, the city's board, the weekly bulletin and the
county's notice all read them from here. `now` and the number of days are passed in (the
setting DUIJIE_ESCALATE_VERIFY_DAYS, read by the boundary).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from web.models import (
    Allocation,
    AllocationRun,
    County,
    Need,
    Notification,
    Township,
    User,
    Village,
)
from web.services.delivery import as_utc, overdue_clause, overdue_reason
from web.services.notifications import notify
from web.services.translate import _

# Only published pledges reach donors and villages, so only they can be late, and only they are
# shown outside the city office.
LIVE_RUNS = ("published",)


@dataclass(frozen=True)
class StaleNeed:
    """A need waiting for its township's verification longer than the set number of days."""

    need_id: int
    title: str
    village: str
    township: str
    days: int


@dataclass(frozen=True)
class OverduePledge:
    """A pledge not dispatched, or not confirmed, past its date ('dispatch' or 'confirm')."""

    allocation_id: int
    week: str
    offer: str
    need: str
    village: str
    township: str
    quantity: int
    reason: str


@dataclass(frozen=True)
class CountyFlags:
    """One county's escalations, counted (the city's board)."""

    county_id: int
    code: str
    name: str
    stale_needs: int
    overdue_pledges: int


def stale_clause(now: datetime, days: int) -> ColumnElement[bool]:
    """SQL condition on Need: open, pending, and posted more than `days` days before `now`."""
    return and_(
        Need.status == "open",
        Need.verification == "pending",
        Need.created_at < now - timedelta(days=days),
    )


def stale_needs(session: Session, county_id: int, now: datetime, days: int) -> list[StaleNeed]:
    """The county's needs waiting for verification past `days` days, longest waiting first."""
    query = (
        select(Need.id, Need.title, Need.created_at, Village.name, Township.name)
        .join(Village, Village.id == Need.village_id)
        .join(Township, Township.id == Village.township_id)
        .where(Village.county_id == county_id, stale_clause(now, days))
        .order_by(Need.created_at, Need.id)
    )
    return [
        StaleNeed(need_id, title, village, township, (now - (as_utc(created) or now)).days)
        for need_id, title, created, village, township in session.execute(query)
    ]


def _overdue_query(now: datetime) -> Any:
    return (
        select(Allocation, AllocationRun.committed_at, Village.name, Township.name)
        .join(AllocationRun, AllocationRun.id == Allocation.run_id)
        .join(Need, Need.id == Allocation.need_id)
        .join(Village, Village.id == Need.village_id)
        .join(Township, Township.id == Village.township_id)
        .where(AllocationRun.status.in_(LIVE_RUNS), overdue_clause(now))
    )


def overdue_pledges(session: Session, county_id: int, now: datetime) -> list[OverduePledge]:
    """The county's pledges of published runs past their date, oldest first."""
    query = _overdue_query(now).where(Village.county_id == county_id).order_by(Allocation.id)
    rows = []
    for allocation, committed_at, village, township in session.execute(query):
        rows.append(
            OverduePledge(
                allocation.id, allocation.run.week, allocation.offer.title,
                allocation.need.title, village, township, allocation.quantity,
                overdue_reason(allocation, committed_at, now) or "dispatch",
            )
        )  # fmt: skip
    return rows


def stale_counts(session: Session, now: datetime, days: int, by: Any) -> dict[int, int]:
    """Stale needs counted by a Village column (county_id or township_id)."""
    query = (
        select(by, func.count(Need.id))
        .join(Village, Village.id == Need.village_id)
        .where(stale_clause(now, days))
        .group_by(by)
    )
    return {key: int(count) for key, count in session.execute(query)}


def overdue_counts(session: Session, now: datetime, by: Any) -> dict[int, int]:
    """Overdue published pledges counted by a Village column (county_id or township_id): the
    same pledges as `overdue_pledges` lists."""
    query = (
        select(by, func.count(Allocation.id))
        .join(AllocationRun, AllocationRun.id == Allocation.run_id)
        .join(Need, Need.id == Allocation.need_id)
        .join(Village, Village.id == Need.village_id)
        .where(AllocationRun.status.in_(LIVE_RUNS), overdue_clause(now))
        .group_by(by)
    )
    return {key: int(count) for key, count in session.execute(query)}


def county_flags(session: Session, now: datetime, days: int) -> list[CountyFlags]:
    """Every county's count of stale needs and overdue pledges, by county code (city board)."""
    stale = stale_counts(session, now, days, Village.county_id)
    overdue = overdue_counts(session, now, Village.county_id)
    counties = session.execute(select(County.id, County.code, County.name).order_by(County.code))
    return [
        CountyFlags(cid, code, name, int(stale.get(cid, 0)), int(overdue.get(cid, 0)))
        for cid, code, name in counties
    ]


def notify_counties(session: Session, now: datetime, days: int, link: str) -> int:
    """Tell each active county office its escalations, once a day (a notice already sent
    today is not repeated); the caller commits. Returns how many notices were added."""
    sent = 0
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    flags = {f.county_id: f for f in county_flags(session, now, days)}
    officers = session.scalars(
        select(User).where(User.role == "county", User.active, User.county_id.is_not(None))
    )
    for officer in officers:
        flag = flags.get(officer.county_id or 0)
        if flag is None or not (flag.stale_needs or flag.overdue_pledges):
            continue
        already = session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == officer.id,
                Notification.kind == "escalation",
                Notification.created_at >= day_start,
            )
        )
        if already:
            continue

        def text(flag: CountyFlags = flag) -> str:
            return _(
                "Escalated to your county: %(needs)s needs wait for verification longer than "
                "%(days)s days; %(pledges)s pledges are overdue.",
                needs=flag.stale_needs, days=days, pledges=flag.overdue_pledges,
            )  # fmt: skip

        notify(session, officer, "escalation", text, link=link)
        sent += 1
    session.flush()
    return sent

