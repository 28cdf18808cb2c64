"""The honour roll (光荣榜, issue 17): donors ranked by what villages confirmed they received.

Only confirmed deliveries count: pledges the village confirmed (Allocation.status ==
"confirmed") and claimed micro-wishes the village received (WishClaim.status == "received");
a pledge, a claim, a dispatch or an arrival not yet confirmed by the village adds nothing. A
delivery belongs to the quarter and the year of its confirmation, in the platform's time
zone (Asia/Shanghai). Value is the quantity at the reference value of its kind (元, the
catalogue's ref_value), as on the dashboard. No household is named: the roll counts villages,
never households.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from web.models import Allocation, Need, Offer, Organization, WishClaim
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


def received_in(period: Period) -> Any:
    """SQL condition on WishClaim: the claimed micro-wish received by its village within the
    period."""
    start, end = period.bounds()
    return (
        (WishClaim.status == "received")
        & (WishClaim.received_at >= start)
        & (WishClaim.received_at < end)
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


def _totals(query: Select[Any], kind: str | None) -> Select[Any]:
    """The per-donor totals of a query over Need joined to its donor (Organization)."""
    if kind is not None:
        query = query.where(Organization.kind == kind)
    return query.group_by(
        Organization.id, Organization.name, Organization.kind, Organization.public_anonymous
    )


def _pledge_totals(period: Period, kind: str | None) -> Select[Any]:
    """Per donor: the value, count and units of its pledges confirmed in the period."""
    columns = (
        Organization.id, Organization.name, Organization.kind, Organization.public_anonymous,
        func.coalesce(func.sum(Allocation.quantity * REF_VALUE), 0.0).label("value"),
        func.count(Allocation.id).label("confirmations"),
        func.coalesce(func.sum(Allocation.quantity), 0).label("units"),
    )  # fmt: skip
    query = valued(
        select(*columns)
        .select_from(Allocation)
        .join(Offer, Offer.id == Allocation.offer_id)
        .join(Organization, Organization.id == Offer.organization_id)
        .join(Need, Need.id == Allocation.need_id)
    ).where(confirmed_in(period))
    return _totals(query, kind)


def _claim_totals(period: Period, kind: str | None) -> Select[Any]:
    """Per donor: the value, count and units of its claimed micro-wishes received in the
    period (a wish is given whole)."""
    columns = (
        Organization.id, Organization.name, Organization.kind, Organization.public_anonymous,
        func.coalesce(func.sum(Need.quantity * REF_VALUE), 0.0).label("value"),
        func.count(WishClaim.id).label("confirmations"),
        func.coalesce(func.sum(Need.quantity), 0).label("units"),
    )  # fmt: skip
    query = valued(
        select(*columns)
        .select_from(WishClaim)
        .join(Organization, Organization.id == WishClaim.organization_id)
        .join(Need, Need.id == WishClaim.need_id)
    ).where(received_in(period))
    return _totals(query, kind)


def villages_reached(
    session: Session, period: Period, organization_id: int | None = None
) -> dict[int, set[int]]:
    """Per donor, the villages its confirmed deliveries (pledges and received micro-wishes)
    reached in the period; one donor's only when `organization_id` is given."""
    pledged = (
        select(Offer.organization_id, Need.village_id)
        .join(Allocation, Allocation.offer_id == Offer.id)
        .join(Need, Need.id == Allocation.need_id)
        .where(confirmed_in(period))
    )
    claimed = (
        select(WishClaim.organization_id, Need.village_id)
        .join(Need, Need.id == WishClaim.need_id)
        .where(received_in(period))
    )
    if organization_id is not None:
        pledged = pledged.where(Offer.organization_id == organization_id)
        claimed = claimed.where(WishClaim.organization_id == organization_id)
    reached: dict[int, set[int]] = {}
    for query in (pledged, claimed):
        for donor, village in session.execute(query.distinct()):
            reached.setdefault(donor, set()).add(village)
    return reached


@dataclass
class _Sum:
    name: str
    kind: str
    public_anonymous: bool
    value: float = 0.0
    confirmations: int = 0
    units: int = 0


def _summed(session: Session, period: Period, kind: str | None) -> dict[int, _Sum]:
    sums: dict[int, _Sum] = {}
    for query in (_pledge_totals(period, kind), _claim_totals(period, kind)):
        for r in session.execute(query):
            total = sums.setdefault(r.id, _Sum(r.name, r.kind, bool(r.public_anonymous)))
            total.value += float(r.value)
            total.confirmations += int(r.confirmations)
            total.units += int(r.units)
    return sums


def ranking(
    session: Session, period: Period, kind: str | None = None, *, reveal: bool = False
) -> list[HonourRow]:
    """Donors with confirmed deliveries in the period, best first: by value, then villages
    reached, then confirmations (ties by the organization's id, so the order is stable).
    Anonymous donors' names are left out unless `reveal` (the office's own list)."""
    sums = _summed(session, period, kind)
    reached = villages_reached(session, period)
    found = sorted(
        sums.items(),
        key=lambda item: (
            -round(item[1].value, 2), -len(reached.get(item[0], ())), -item[1].confirmations,
            item[0],
        ),
    )  # fmt: skip
    rows = []
    for place, (donor, total) in enumerate(found, start=1):
        anonymous = shown_anonymously(total.kind, total.public_anonymous)
        rows.append(
            HonourRow(
                rank=place,
                organization_id=donor,
                name=total.name if reveal or not anonymous else None,
                anonymous=anonymous,
                kind=total.kind,
                value=round(total.value, 2),
                villages=len(reached.get(donor, ())),
                confirmations=total.confirmations,
                units=total.units,
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
