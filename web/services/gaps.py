"""The gap board (缺口榜, issue 17) and campaigns (活动): what verified needs are still unmet
after the latest committed week, by county, township and category, with no household's data.

A micro-wish appears only as 微心愿 with its category, kind and value: never its title,
description or household. A wish a donor's claim holds is not a gap.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from seeds.checklist import CHECKLIST_ITEMS
from web.models import AllocationRun, Campaign, County, Kind, Need, Township, Village, WishClaim
from web.services.claim_hold import held_need_ids


@dataclass(frozen=True)
class Gap:
    """One unmet verified need or micro-wish, as the public may see it."""

    need_id: int
    county: str
    township: str
    village_id: int
    village: str
    category: str
    item: str | None
    is_wish: bool
    title: str  # a village need's title; '' for a micro-wish (never shown)
    remaining: int
    urgency: int
    checklist_item: str | None
    value: float  # 折合金额, yuan


@dataclass(frozen=True)
class GapGroup:
    """The gaps of one county, township and category, with their count and value; `gaps`
    holds the most urgent ones shown (all of them once the board is filtered to the group)."""

    county: str
    township: str
    category: str
    gaps: list[Gap]
    count: int
    value: float

    @property
    def more(self) -> int:
        """Gaps of the group not shown on this page."""
        return self.count - len(self.gaps)


@dataclass(frozen=True)
class CountyTotal:
    """One county's gaps: how many, and their value."""

    county: str
    count: int
    value: float


GROUPS_PER_PAGE = 20
GAPS_PER_GROUP = 5


@dataclass(frozen=True)
class GapBoard:
    """The gap board's page model: a page of groups, and the totals by county."""

    week: str | None  # the latest committed week, the gaps are what it left
    groups: list[GapGroup]
    counties: list[str]
    by_county: list[CountyTotal]
    count: int
    total_value: float
    page: int = 1
    pages: int = 1
    campaign: Campaign | None = None
    county: str | None = None
    township: str | None = None
    category: str | None = None


def checklist_names(english: bool) -> dict[str, str]:
    """十一有一低于 item codes to their names."""
    return {code: (en if english else zh) for code, zh, en in CHECKLIST_ITEMS}


def campaign_scope(campaign: Campaign) -> ColumnElement[bool]:
    """The needs a campaign covers: its categories and kinds (a kind covers its sub-kinds),
    micro-wishes only when it says so."""
    parts: list[ColumnElement[bool]] = []
    if campaign.categories:
        parts.append(Need.category_code.in_(list(campaign.categories)))
    if campaign.kinds:
        parts.append(
            or_(
                *(
                    or_(Need.item_code == code, Need.item_code.like(f"{code}.%"))
                    for code in campaign.kinds
                )
            )
        )
    scope: ColumnElement[bool] = or_(*parts) if parts else and_(Need.id.is_not(None))
    if campaign.wishes_only:
        scope = and_(scope, Need.household_id.is_not(None))
    return scope


def unmet(now: datetime) -> ColumnElement[bool]:
    """Open, verified, classified needs with units still wanted, not held by a claim."""
    return and_(
        Need.status == "open",
        Need.verification == "verified",
        Need.item_code.is_not(None),
        Need.quantity > Need.allocated,
        Need.id.not_in(held_need_ids(now)),
    )


def latest_committed_week(session: Session) -> str | None:
    """The latest week whose run was committed."""
    return session.scalar(select(func.max(AllocationRun.committed_week)))


def _value(need: Need, kind: Kind | None) -> float:
    if need.household_id is not None and need.estimated_value is not None:
        return float(need.estimated_value)
    return round((kind.ref_value if kind else 0.0) * need.remaining, 2)


def gap_rows(
    session: Session,
    now: datetime,
    *,
    campaign: Campaign | None = None,
    county: str | None = None,
    category: str | None = None,
    wishes_only: bool = False,
) -> list[Gap]:
    """The unmet needs, most urgent first within county, township and village."""
    query = (
        select(Need, Kind, Village.name, Township.name, County.name, County.code)
        .join(Village, Need.village_id == Village.id)
        .join(Township, Village.township_id == Township.id)
        .join(County, Township.county_id == County.id)
        .outerjoin(Kind, Need.item_code == Kind.code)
        .where(unmet(now))
        .order_by(County.code, Township.code, Need.category_code, Need.urgency.desc(), Need.id)
    )
    if campaign is not None:
        query = query.where(campaign_scope(campaign))
    if county:
        query = query.where(or_(County.code == county, County.name == county))
    if category:
        query = query.where(Need.category_code == category)
    if wishes_only:
        query = query.where(Need.household_id.is_not(None))
    rows = []
    for need, kind, village, township, county_name, _code in session.execute(query):
        rows.append(
            Gap(
                need_id=need.id,
                county=county_name,
                township=township,
                village_id=need.village_id,
                village=village,
                category=need.category_code,
                item=need.item_code,
                is_wish=need.household_id is not None,
                title="" if need.household_id is not None else need.title,
                remaining=need.remaining,
                urgency=need.urgency,
                checklist_item=need.checklist_item,
                value=_value(need, kind),
            )
        )
    return rows


def gap_board(
    session: Session,
    now: datetime,
    *,
    campaign: Campaign | None = None,
    county: str | None = None,
    township: str | None = None,
    category: str | None = None,
    page: int = 1,
) -> GapBoard:
    """The gap board: gaps grouped by county, township and category, a page of groups at a
    time with each group's most urgent gaps (every gap once filtered to one township)."""
    rows = gap_rows(session, now, campaign=campaign, county=county, category=category)
    if township:
        rows = [g for g in rows if g.township == township]
    grouped: dict[tuple[str, str, str], list[Gap]] = defaultdict(list)
    counties: dict[str, list[Gap]] = defaultdict(list)
    for gap in rows:
        grouped[(gap.county, gap.township, gap.category)].append(gap)
        counties[gap.county].append(gap)
    keys = list(grouped)
    pages = max(1, -(-len(keys) // GROUPS_PER_PAGE))
    page = min(max(1, page), pages)
    shown = keys[(page - 1) * GROUPS_PER_PAGE : page * GROUPS_PER_PAGE]
    limit = None if township else GAPS_PER_GROUP
    groups = []
    for key in shown:
        members = grouped[key]
        best = sorted(members, key=lambda g: (-g.urgency, g.need_id))[:limit]
        value = round(sum(g.value for g in members), 2)
        groups.append(GapGroup(*key, gaps=best, count=len(members), value=value))
    return GapBoard(
        week=latest_committed_week(session),
        groups=groups,
        counties=list(session.scalars(select(County.name).order_by(County.code))),
        by_county=[
            CountyTotal(name, len(gs), round(sum(g.value for g in gs), 2))
            for name, gs in counties.items()
        ],
        count=len(rows),
        total_value=round(sum(g.value for g in rows), 2),
        page=page,
        pages=pages,
        campaign=campaign,
        county=county,
        township=township,
        category=category,
    )


def one_gap(session: Session, need_id: int, now: datetime) -> Gap | None:
    """One gap by its need's id (None when it is not an unmet verified need)."""
    query_rows = [g for g in _one(session, need_id, now)]
    return query_rows[0] if query_rows else None


def _one(session: Session, need_id: int, now: datetime) -> list[Gap]:
    need = session.get(Need, need_id)
    if need is None:
        return []
    rows = gap_rows(session, now, category=need.category_code)
    return [g for g in rows if g.need_id == need_id]


@dataclass(frozen=True)
class HelpTarget:
    """What a donor's offer aimed at one gap starts with (我来帮)."""

    need_id: int
    village: str
    village_code: str
    category: str
    item: str
    title: str
    remaining: int
    valid_from: date
    valid_until: date


def help_target(session: Session, need_id: int, today: date, now: datetime) -> HelpTarget | None:
    """The gap's village need as an offer's starting point; None for a micro-wish (claimed,
    not offered for) or a need that is no gap."""
    need = session.get(Need, need_id)
    gap = one_gap(session, need_id, now)
    if need is None or gap is None or gap.is_wish or need.item_code is None:
        return None
    kind = session.get(Kind, need.item_code)
    name = kind.name_zh if kind else need.item_code
    return HelpTarget(
        need_id=need.id, village=need.village.name, village_code=need.village.code,
        category=need.category_code, item=need.item_code,
        title=f"{name}（{need.village.name}）", remaining=need.remaining,
        valid_from=today, valid_until=today + timedelta(days=30),
    )  # fmt: skip


# Campaigns ------------------------------------------------------------------------------


class CampaignError(ValueError):
    """A campaign was refused; `field` names the bad field and `message` says why."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class CampaignProgress:
    """What a campaign covers and how far it has come (the page and its JSON)."""

    total: int  # verified needs in scope
    met: int  # closed, or filled by pledges
    claimed: int  # held by a claim now
    open: int  # still gaps
    value_total: float
    value_met: float

    @property
    def percent(self) -> int:
        return round(100 * self.met / self.total) if self.total else 0

    def as_json(self) -> dict[str, float | int]:
        return {
            "total": self.total,
            "met": self.met,
            "claimed": self.claimed,
            "open": self.open,
            "percent": self.percent,
            "value_total": self.value_total,
            "value_met": self.value_met,
        }


def open_campaign(
    session: Session,
    name: str,
    starts_on: date,
    ends_on: date,
    *,
    categories: list[str],
    kinds: list[str],
    wishes_only: bool,
    description: str = "",
    actor_id: int | None = None,
) -> Campaign:
    """Open a campaign; the caller commits."""
    name = name.strip()
    if not name or len(name) > 128:
        raise CampaignError("name", "name")
    if ends_on < starts_on:
        raise CampaignError("ends_on", "period")
    known = set(session.scalars(select(Kind.code).where(Kind.code.in_(kinds))))
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise CampaignError("kinds", ", ".join(unknown))
    campaign = Campaign(
        name=name, description=description.strip()[:1000], starts_on=starts_on, ends_on=ends_on,
        categories=list(categories), kinds=list(kinds), wishes_only=wishes_only,
        created_by_id=actor_id,
    )  # fmt: skip
    session.add(campaign)
    session.flush()
    return campaign


def campaigns(session: Session) -> list[Campaign]:
    """Every campaign, the latest first."""
    return list(session.scalars(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id)))


def campaign_progress(session: Session, campaign: Campaign, now: datetime) -> CampaignProgress:
    """The campaign's verified needs: how many are met, held by a claim, still open."""
    query = (
        select(Need, Kind)
        .outerjoin(Kind, Need.item_code == Kind.code)
        .where(
            campaign_scope(campaign),
            Need.verification == "verified",
            Need.status.in_(("open", "closed")),
        )
    )
    held = set(session.scalars(held_need_ids(now)))
    received = set(session.scalars(select(WishClaim.need_id).where(WishClaim.status == "received")))
    total = met = claimed = 0
    value_total = value_met = 0.0
    for need, kind in session.execute(query):
        whole = (
            float(need.estimated_value)
            if need.household_id is not None and need.estimated_value is not None
            else (kind.ref_value if kind else 0.0) * need.quantity
        )
        total += 1
        value_total += whole
        if need.id in received or need.allocated >= need.quantity or need.status == "closed":
            met += 1
            value_met += whole
        elif need.id in held:
            claimed += 1
    return CampaignProgress(
        total=total, met=met, claimed=claimed, open=total - met - claimed,
        value_total=round(value_total, 2), value_met=round(value_met, 2),
    )  # fmt: skip
