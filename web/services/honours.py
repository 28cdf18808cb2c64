"""The honour roll (光荣榜, issue 17): donors ranked by what villages confirmed they received.

Only confirmed deliveries count (Allocation.status == "confirmed"): a pledge, a dispatch or an
arrival not yet confirmed by the village adds nothing. A delivery belongs to the quarter and
the year of its confirmation, in the platform's time zone (Asia/Shanghai). Value is the
quantity at the reference value of its kind (元, the catalogue's ref_value), as on the
dashboard. No household is named: the roll counts villages, never households.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, distinct, func, select
from sqlalchemy.orm import Session

from web.models import Allocation, Need, Offer, Organization
from web.models.accounts import ORGANIZATION_KINDS, shown_anonymously
from web.services.dashboard import REF_VALUE, valued

ZONE = ZoneInfo("Asia/Shanghai")
FIRST_YEAR = 2020  # the selector's earliest year


class PeriodError(ValueError):
    """A period asked for in the address cannot be read; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Period:
    """A year, or one quarter (1-4) of it."""

    year: int
    quarter: int | None = None

    @property
    def first_month(self) -> int:
        return 1 if self.quarter is None else 3 * self.quarter - 2

    def bounds(self) -> tuple[datetime, datetime]:
        """The period's start and end (exclusive) as UTC instants, from Shanghai's calendar."""
        start = datetime(self.year, self.first_month, 1, tzinfo=ZONE)
        if self.quarter is None or self.quarter == 4:
            end = datetime(self.year + 1, 1, 1, tzinfo=ZONE)
        else:
            end = datetime(self.year, self.first_month + 3, 1, tzinfo=ZONE)
        return start.astimezone(UTC), end.astimezone(UTC)

    @property
    def label(self) -> str:
        """2026 or 2026Q3 (language-neutral)."""
        return f"{self.year}" if self.quarter is None else f"{self.year}Q{self.quarter}"


def parse_period(year: str | None, quarter: str | None, today: date) -> Period:
    """The period of `?year=&quarter=`: this year when none is given; PeriodError when the
    year is not a number from FIRST_YEAR to next year, or the quarter not 1 to 4."""
    year_text, quarter_text = (year or "").strip(), (quarter or "").strip()
    chosen = today.year
    if year_text:
        if not year_text.isdigit() or not FIRST_YEAR <= int(year_text) <= today.year + 1:
            raise PeriodError("year", f"year must be {FIRST_YEAR} to {today.year + 1}")
        chosen = int(year_text)
    if not quarter_text:
        return Period(chosen)
    if quarter_text not in ("1", "2", "3", "4"):
        raise PeriodError("quarter", "quarter must be 1, 2, 3 or 4")
    return Period(chosen, int(quarter_text))


def confirmed_in(period: Period) -> Any:
    """SQL condition on Allocation: confirmed by its village within the period."""
    start, end = period.bounds()
    return (
        (Allocation.status == "confirmed")
        & (Allocation.confirmed_at >= start)
        & (Allocation.confirmed_at < end)
    )


@dataclass(frozen=True)
class HonourRow:
    """One donor's place on the roll. `name` is None when it appears as 爱心人士 (unless the
    roll was read for the office, `reveal=True`); `anonymous` says whether it so appears."""

    rank: int
    organization_id: int
    name: str | None
    anonymous: bool
    kind: str
    value: float
    villages: int
    confirmations: int
    units: int


@dataclass(frozen=True)
class HonourRoll:
    """The honour roll of a period, optionally of one kind of donor."""

    period: Period
    kind: str | None
    rows: list[HonourRow]
    years: list[int]
    total_value: float
    total_confirmations: int


def _ranking_query(period: Period, kind: str | None) -> Select[Any]:
    value = func.coalesce(func.sum(Allocation.quantity * REF_VALUE), 0.0)
    query = valued(
        select(
            Organization.id,
            Organization.name,
            Organization.kind,
            Organization.public_anonymous,
            value.label("value"),
            func.count(distinct(Need.village_id)).label("villages"),
            func.count(Allocation.id).label("confirmations"),
            func.coalesce(func.sum(Allocation.quantity), 0).label("units"),
        )
        .select_from(Allocation)
        .join(Offer, Offer.id == Allocation.offer_id)
        .join(Organization, Organization.id == Offer.organization_id)
        .join(Need, Need.id == Allocation.need_id)
    ).where(confirmed_in(period))
    if kind is not None:
        query = query.where(Organization.kind == kind)
    return query.group_by(
        Organization.id, Organization.name, Organization.kind, Organization.public_anonymous
    )


def ranking(
    session: Session, period: Period, kind: str | None = None, *, reveal: bool = False
) -> list[HonourRow]:
    """Donors with confirmed deliveries in the period, best first: by value, then villages
    reached, then confirmations (ties by the organization's id, so the order is stable).
    Anonymous donors' names are left out unless `reveal` (the office's own list)."""
    found = sorted(
        session.execute(_ranking_query(period, kind)),
        key=lambda r: (-round(float(r.value), 2), -r.villages, -r.confirmations, r.id),
    )
    rows = []
    for place, r in enumerate(found, start=1):
        anonymous = shown_anonymously(r.kind, r.public_anonymous)
        rows.append(
            HonourRow(
                rank=place,
                organization_id=r.id,
                name=r.name if reveal or not anonymous else None,
                anonymous=anonymous,
                kind=r.kind,
                value=round(float(r.value), 2),
                villages=int(r.villages),
                confirmations=int(r.confirmations),
                units=int(r.units),
            )
        )
    return rows


def honour_roll(session: Session, period: Period, kind: str | None, today: date) -> HonourRoll:
    """The page model of /honours. An unknown kind is treated as every kind."""
    kind = kind if kind in ORGANIZATION_KINDS else None
    rows = ranking(session, period, kind)
    return HonourRoll(
        period=period,
        kind=kind,
        rows=rows,
        years=list(range(today.year, FIRST_YEAR - 1, -1)),
        total_value=round(sum(r.value for r in rows), 2),
        total_confirmations=sum(r.confirmations for r in rows),
    )
