"""The ledger (台账) of pledges, and the public summary of published allocations."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from matcher.categories import BY_CODE
from matcher.kinds import Catalogue
from web.models import (
    Allocation,
    AllocationRun,
    City,
    County,
    Need,
    Offer,
    Organization,
    Township,
    User,
    Village,
)
from web.models.accounts import shown_anonymously
from web.security import spreadsheet_rows
from web.services import page_cache
from web.services.dashboard import REF_VALUE, ItemKind, RootKind
from web.services.delivery import overdue_clause, overdue_reason
from web.services.listing import among
from web.services.villages import several_cities


@dataclass(frozen=True)
class LedgerFilter:
    """Which pledges to list: by county code, category code, delivery state and week."""

    county: str | None = None
    category: str | None = None
    state: str | None = None
    week: str | None = None
    overdue: bool = False


@dataclass(frozen=True)
class LedgerRow:
    """One pledge as the ledger shows it."""

    id: int
    week: str
    run_status: str
    offer: str
    donor: str
    donor_kind: str
    county: str
    township: str
    village: str
    need: str
    is_wish: bool
    category: str
    quantity: int
    state: str
    pledged_at: datetime
    dispatched_at: datetime | None
    received_at: datetime | None
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    overdue: str | None = None  # 'dispatch' or 'confirm' when overdue for that step
    problem_note: str | None = None
    rating: int | None = None
    item: str | None = None  # the need's kind: the quantity is in its unit
    unit_zh: str = ""  # that unit in Chinese (the category root's without a kind), for exports


@dataclass(frozen=True)
class LedgerPage:
    """One page of the ledger, with the total under the filters."""

    rows: list[LedgerRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))


def _ledger_query(
    filters: LedgerFilter, township_id: int | None, now: datetime | None = None
) -> Select:  # type: ignore[type-arg]
    """The pledges of committed and published runs under the filters, oldest first."""
    town = aliased(Township)
    query = (
        select(
            Allocation.id,
            Allocation.quantity,
            Allocation.status,
            Allocation.created_at,
            Allocation.dispatched_at,
            Allocation.received_at,
            Allocation.confirmed_at,
            Allocation.cancelled_at,
            Allocation.problem_note,
            Allocation.rating,
            AllocationRun.week,
            AllocationRun.status.label("run_status"),
            Offer.title.label("offer"),
            Organization.name.label("donor"),
            Organization.kind.label("donor_kind"),
            County.name.label("county"),
            town.name.label("township"),
            Village.name.label("village"),
            Need.title.label("need"),
            Need.household_id,
            Need.category_code,
            Need.item_code,
            func.coalesce(ItemKind.unit_zh, RootKind.unit_zh).label("unit_zh"),
            AllocationRun.committed_at,
        )
        .join(AllocationRun, AllocationRun.id == Allocation.run_id)
        .join(Offer, Offer.id == Allocation.offer_id)
        .join(Organization, Organization.id == Offer.organization_id)
        .join(Need, Need.id == Allocation.need_id)
        .join(Village, Village.id == Need.village_id)
        .join(town, town.id == Village.township_id)
        .join(County, County.id == Village.county_id)
        .outerjoin(ItemKind, ItemKind.code == Need.item_code)
        .outerjoin(RootKind, RootKind.code == Need.category_code)
        .where(AllocationRun.status.in_(("committed", "published")))
        .order_by(AllocationRun.week, Allocation.id)
    )
    if township_id is not None:
        query = query.where(Village.township_id == township_id)
    if filters.county:
        query = query.where(County.code == filters.county)
    if filters.category:
        query = query.where(Need.category_code == filters.category)
    if filters.state:
        query = query.where(Allocation.status == filters.state)
    if filters.week:
        query = query.where(AllocationRun.week == filters.week)
    if filters.overdue:
        query = query.where(overdue_clause(now))
    return query


def ledger_scope(actor: User) -> int | None:
    """The township a user's ledger is limited to; None for the whole city."""
    if actor.role == "township":
        # A township account without a township sees nothing rather than everything.
        return actor.township_id if actor.township_id is not None else -1
    return None


def _row(r: Any, now: datetime | None) -> LedgerRow:
    """A result row of the ledger query as a LedgerRow."""
    return LedgerRow(
        id=r.id,
        week=r.week,
        run_status=r.run_status,
        offer=r.offer,
        donor=r.donor,
        donor_kind=r.donor_kind,
        county=r.county,
        township=r.township,
        village=r.village,
        need=r.need,
        is_wish=r.household_id is not None,
        category=r.category_code,
        quantity=r.quantity,
        state=r.status,
        pledged_at=r.created_at,
        dispatched_at=r.dispatched_at,
        received_at=r.received_at,
        confirmed_at=r.confirmed_at,
        cancelled_at=r.cancelled_at,
        overdue=overdue_reason(r, r.committed_at, now),  # the row has the pledge's dates
        problem_note=r.problem_note,
        rating=r.rating,
        item=r.item_code,
        unit_zh=r.unit_zh or "",
    )


def ledger_rows(
    session: Session, filters: LedgerFilter, actor: User, *, now: datetime | None = None
) -> list[LedgerRow]:
    """Every pledge the actor may see under the filters, in one query."""
    rows = session.execute(_ledger_query(filters, ledger_scope(actor), now))
    return [_row(r, now) for r in rows]


def ledger_page(
    session: Session,
    filters: LedgerFilter,
    actor: User,
    page: int = 1,
    per_page: int = 50,
    *,
    now: datetime | None = None,
) -> LedgerPage:
    """One page of the pledges the actor may see under the filters, and their total.

    The ledger runs week by week, and within a week by pledge id; the pledges of each run are
    counted once per data version, so a page is read from the one or two weeks it spans
    through the (run_id, status, id) index, never by ordering every pledge.
    """
    scope = ledger_scope(actor)
    weeks = _ledger_runs(session, filters)
    counts = _run_counts(session, filters, scope, weeks, now)
    chosen: list[int] = []
    skip = (page - 1) * per_page
    for _week, runs in weeks:
        in_week = sum(counts.get(run, 0) for run in runs)
        if skip >= in_week:
            skip -= in_week
            continue
        ids = _narrowed(select(Allocation.id), filters, scope, now)
        ids = ids.where(Allocation.run_id.in_(runs)).order_by(Allocation.id)
        chosen.extend(session.scalars(ids.limit(per_page - len(chosen)).offset(skip)))
        skip = 0
        if len(chosen) >= per_page:
            break
    rows = []
    if chosen:
        found = _ledger_query(filters, scope, now).where(among(session, Allocation.id, chosen))
        rows = [_row(r, now) for r in session.execute(found)]
    return LedgerPage(rows, sum(counts.values()), page, per_page)


def _run_counts(
    session: Session,
    filters: LedgerFilter,
    township_id: int | None,
    weeks: list[tuple[str, list[int]]],
    now: datetime | None,
) -> dict[int, int]:
    """How many pledges of each run lie under the filters (runs with none left out)."""
    counting = _narrowed(select(Allocation.run_id, func.count()), filters, township_id, now)
    runs = [run for _week, week_runs in weeks for run in week_runs]
    counting = counting.where(Allocation.run_id.in_(runs)).group_by(Allocation.run_id)
    if now is not None:
        return dict(session.execute(counting).all())
    # The count reads every matching pledge: cached per data version.
    key = ("ledger-counts", filters, township_id)
    return page_cache.cached(session, key, lambda: dict(session.execute(counting).all()))


def _ledger_runs(session: Session, filters: LedgerFilter) -> list[tuple[str, list[int]]]:
    """The committed and published runs under the week filter, by week in the ledger's order."""
    query = (
        select(AllocationRun.week, AllocationRun.id)
        .where(AllocationRun.status.in_(("committed", "published")))
        .order_by(AllocationRun.week, AllocationRun.id)
    )
    if filters.week:
        query = query.where(AllocationRun.week == filters.week)
    weeks: dict[str, list[int]] = {}
    for week, run_id in session.execute(query):
        weeks.setdefault(week, []).append(run_id)
    return list(weeks.items())


def _narrowed(
    query: Select,  # type: ignore[type-arg]
    filters: LedgerFilter,
    township_id: int | None,
    now: datetime | None,
) -> Select:  # type: ignore[type-arg]
    """A query on pledges under the filters, joining needs and places only to filter.

    Ordering every pledge joined to all its names took a second at 50,000 pledges; the pledges
    of a run alone come from the (run_id, status, id) index in a few milliseconds.
    """
    if township_id is not None or filters.county or filters.category:
        query = query.join(Need, Need.id == Allocation.need_id)
    if township_id is not None or filters.county:
        query = query.join(Village, Village.id == Need.village_id)
    if township_id is not None:
        query = query.where(Village.township_id == township_id)
    if filters.county:
        county_ids = select(County.id).where(County.code == filters.county)
        query = query.where(Village.county_id.in_(county_ids))
    if filters.category:
        query = query.where(Need.category_code == filters.category)
    if filters.state:
        query = query.where(Allocation.status == filters.state)
    if filters.overdue:
        query = query.join(AllocationRun, AllocationRun.id == Allocation.run_id)
        query = query.where(overdue_clause(now))
    return query


def ledger_weeks(session: Session) -> list[str]:
    """Weeks that have a committed or published run, latest first."""
    query = (
        select(AllocationRun.week)
        .where(AllocationRun.status.in_(("committed", "published")))
        .distinct()
        .order_by(AllocationRun.week.desc())
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class PublicPledge:
    """A published pledge as anyone may see it: no household is named."""

    week: str
    donor: str
    donor_kind: str
    village: str
    county: str
    need: str | None  # None for a micro-wish: shown only as 微心愿
    category: str
    quantity: int
    state: str
    item: str | None = None  # the need's kind: the quantity is in its unit


@dataclass
class PublicSummary:
    """Published allocations grouped by village and by donor, with totals."""

    pledges: int = 0
    villages_reached: int = 0
    by_category: dict[str, int] = field(default_factory=dict)  # the API's (units, as before)
    # 折合金额 (元) per category: units of different kinds are never added on the page.
    value_by_category: dict[str, float] = field(default_factory=dict)
    by_kind: dict[str, int] = field(default_factory=dict)  # units, each in its kind's unit
    by_village: dict[str, list[PublicPledge]] = field(default_factory=dict)
    by_donor: dict[str, list[PublicPledge]] = field(default_factory=dict)


def _public_donor(name: str, kind: str, public_anonymous: bool = False) -> str:
    """An individual donor, or one that chose to, stays anonymous in public (爱心人士)."""
    return "" if shown_anonymously(kind, public_anonymous) else name


def _public_query() -> Select[Any]:
    """Published runs' pledges that were not cancelled, with what the public summary names."""
    return (
        select(
            AllocationRun.week,
            Organization.name,
            Organization.kind,
            Organization.public_anonymous,
            Village.name,
            County.name,
            City.name,
            Need.title,
            Need.household_id,
            Need.category_code,
            Allocation.quantity,
            Allocation.status,
            Need.village_id,
            Need.item_code,
            REF_VALUE,
        )
        .join(AllocationRun, AllocationRun.id == Allocation.run_id)
        .join(Offer, Offer.id == Allocation.offer_id)
        .join(Organization, Organization.id == Offer.organization_id)
        .join(Need, Need.id == Allocation.need_id)
        .join(Village, Village.id == Need.village_id)
        .join(County, County.id == Village.county_id)
        .outerjoin(City, City.id == County.city_id)
        .outerjoin(ItemKind, ItemKind.code == Need.item_code)
        .outerjoin(RootKind, RootKind.code == Need.category_code)
        .where(AllocationRun.status == "published", Allocation.status != "cancelled")
        .order_by(City.name, County.name, Village.name, AllocationRun.week, Allocation.id)
    )


def public_summary(session: Session) -> PublicSummary:
    """What published runs pledged, never naming a household; cancelled pledges left out."""
    summary = PublicSummary()
    by_city = several_cities(session)  # villages then listed as 市 县 村
    by_category: dict[str, int] = defaultdict(int)
    value_by_category: dict[str, float] = defaultdict(float)
    by_kind: dict[str, int] = defaultdict(int)
    villages: set[int] = set()
    for row in session.execute(_public_query()):
        pledge, city, vid, ref_value = _public_pledge(row)
        category, qty = pledge.category, pledge.quantity
        place = f"{pledge.county} {pledge.village}"
        if by_city and city:
            place = f"{city} {place}"
        summary.by_village.setdefault(place, []).append(pledge)
        summary.by_donor.setdefault(pledge.donor or pledge.donor_kind, []).append(pledge)
        by_category[category] += qty
        value_by_category[category] += qty * float(ref_value or 0)
        by_kind[pledge.item or category] += qty
        villages.add(vid)
        summary.pledges += 1
    summary.villages_reached = len(villages)
    summary.by_category = dict(sorted(by_category.items()))
    summary.value_by_category = dict(sorted(value_by_category.items()))
    summary.by_kind = dict(sorted(by_kind.items()))
    summary.by_donor = dict(sorted(summary.by_donor.items()))
    return summary


def _public_pledge(row: Any) -> tuple[PublicPledge, str | None, int, Any]:
    """A row of _public_query as a pledge the public may see (a household's need unnamed), with
    the village's city, the village's id and the kind's reference value."""
    (
        week, donor, kind, anonymous, village, county, city, title, household_id, category, qty,
        state, vid, item, ref_value,
    ) = row  # fmt: skip
    pledge = PublicPledge(
        week=week,
        donor=_public_donor(donor, kind, anonymous),
        donor_kind=kind,
        village=village,
        county=county,
        need=None if household_id is not None else title,
        category=category,
        quantity=qty,
        state=state,
        item=item,
    )
    return pledge, city, vid, ref_value


def published_count(session: Session) -> int:
    """Number of published runs."""
    query = select(func.count(AllocationRun.id)).where(AllocationRun.status == "published")
    return session.scalar(query) or 0


STATE_NAMES = {
    "pledged": "已认捐",
    "dispatched": "已发货",
    "received": "已收到",
    "confirmed": "已确认收货",
    "cancelled": "已取消",
}
EXPORT_HEADERS = (
    "编号", "周次", "捐赠方", "主体类型", "捐赠项目", "县区", "乡镇", "村", "需求", "类别",
    "品类", "品类编码", "数量", "单位", "折合金额（元）", "状态", "认捐时间", "发货时间",
    "收到时间", "确认时间", "取消时间", "逾期", "评分", "问题反馈",
)  # fmt: skip
OVERDUE_NAMES = {"dispatch": "逾期未发货", "confirm": "逾期未确认收货"}


def _when(moment: datetime | None) -> str:
    """A timestamp as the ledger prints it (UTC, to the minute)."""
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def _yuan(value: float) -> int | float:
    """折合金额 as a sheet shows it: whole yuan without decimals, else to the fen."""
    return int(value) if float(value).is_integer() else round(value, 2)


WISH_LABEL = "微心愿："


def _need_label(row: LedgerRow) -> str:
    """The need's title, a micro-wish marked once (a committee may have written the mark itself)."""
    if row.is_wish and not row.need.startswith(WISH_LABEL):
        return WISH_LABEL + row.need
    return row.need


def export_table(rows: list[LedgerRow], catalogue: Catalogue) -> list[list[str | int | float]]:
    """The ledger as a header row and one row per pledge, for CSV and Excel: each quantity in
    its kind's unit, and its 折合金额 (quantity × the kind's reference value, in 元)."""
    table: list[list[str | int | float]] = [list(EXPORT_HEADERS)]
    for r in rows:
        category = BY_CODE.get(r.category)
        kind = catalogue.get(r.item) if r.item else None
        unit = catalogue.unit_of(r.item, r.category)
        table.append(
            [
                r.id,
                r.week,
                r.donor,
                r.donor_kind,
                r.offer,
                r.county,
                r.township,
                r.village,
                _need_label(r),
                category.name_zh if category else r.category,
                kind.name_zh if kind else "",
                r.item or "",
                r.quantity,
                unit.unit_zh if unit else "",
                _yuan(catalogue.value_in_yuan(r.item, r.category, r.quantity)),
                STATE_NAMES.get(r.state, r.state),
                _when(r.pledged_at),
                _when(r.dispatched_at),
                _when(r.received_at),
                _when(r.confirmed_at),
                _when(r.cancelled_at),
                OVERDUE_NAMES.get(r.overdue or "", ""),
                r.rating or "",
                r.problem_note or "",
            ]
        )
    return table


def ledger_csv(rows: list[LedgerRow], catalogue: Catalogue) -> bytes:
    """The ledger as CSV in UTF-8 with a byte-order mark, so Excel reads the Chinese."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(spreadsheet_rows(export_table(rows, catalogue)))
    return buffer.getvalue().encode("utf-8-sig")


def ledger_xlsx(rows: list[LedgerRow], catalogue: Catalogue) -> bytes:
    """The ledger as an Excel workbook with one sheet."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "台账"
    for line in spreadsheet_rows(export_table(rows, catalogue)):
        sheet.append(line)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
