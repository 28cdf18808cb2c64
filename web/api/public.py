"""Public reads: villages, one village with its published pledges, totals, categories."""

from __future__ import annotations

from pydantic import Field
from sqlalchemy import select

from matcher.categories import CATEGORIES
from web.api.blueprint import ops
from web.api.kinds import item_name, unit
from web.api.registry import ApiError, Call
from web.api.schemas import Out, Page, Paging, ShortText, page_of
from web.extensions import db
from web.models import Allocation, AllocationRun, Need, Offer, Organization, Village
from web.models.accounts import shown_anonymously
from web.services.kinds import request_catalogue
from web.services.ledger import public_summary, published_count
from web.services.villages import VillageFilter, list_villages


class VillageQuery(Paging):
    """Filters of the village list."""

    county: ShortText | None = Field(None, description="county code or name")
    township: ShortText | None = Field(None, description="township code or name")
    q: ShortText | None = Field(None, description="part of the village name")


class VillageOut(Out):
    """A village's public facts (no household is ever named)."""

    id: int
    code: str
    name: str
    county: str
    county_code: str
    township: str
    township_code: str
    lat: float | None
    lon: float | None
    population: int
    poor_households: int
    poverty_incidence: float
    poverty_weight: float
    ethnic_minority: bool
    status: str
    exit_year: int | None


class PublicPledge(Out):
    """A published pledge to a village: a micro-wish shows only as such, with no household."""

    id: int
    week: str
    donor: str = Field(description="empty for an individual donor, who stays anonymous")
    donor_kind: str
    need: str | None = Field(description="the need's title; null for a household micro-wish")
    is_wish: bool
    category: str
    quantity: int
    item: str | None = Field(description="the need's kind")
    item_name: str | None = Field(description="the kind's Chinese name")
    unit: str = Field(description="the unit of quantity (Chinese): the kind's")
    status: str


class VillageDetail(VillageOut):
    """A village with the pledges of published runs made to it."""

    pledges: list[PublicPledge]


class Totals(Out):
    """What published runs pledged, in total."""

    published_runs: int
    pledges: int
    villages_reached: int
    by_category: dict[str, int]


class CategoryOut(Out):
    """A category of aid and its unit."""

    code: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str


class CategoryList(Out):
    """Every category of aid."""

    items: list[CategoryOut]


VillagePage = Page[VillageOut]


def village_json(village: Village) -> dict[str, object]:
    """The public fields of a village."""
    return {
        "id": village.id,
        "code": village.code,
        "name": village.name,
        "county": village.county.name,
        "county_code": village.county.code,
        "township": village.township.name,
        "township_code": village.township.code,
        "lat": village.lat,
        "lon": village.lon,
        "population": village.population,
        "poor_households": village.poor_households,
        "poverty_incidence": village.poverty_incidence,
        "poverty_weight": village.poverty_weight,
        "ethnic_minority": village.ethnic_minority,
        "status": village.status,
        "exit_year": village.exit_year,
    }


@ops.operation(
    "/villages", "GET", summary="List villages", tag="public", query=VillageQuery,
    response=VillagePage,
)  # fmt: skip
def list_villages_view(call: Call) -> dict[str, object]:
    """List the villages by official code; filter by county or township (code or name) or `q`."""
    query: VillageQuery = call.query
    filters = VillageFilter(county=query.county, township=query.township, q=query.q)
    result = list_villages(db.session, filters, page=query.page, per_page=query.per_page)
    return page_of([village_json(v) for v in result.items], result.total, query)


def _published_pledges(village_id: int) -> list[dict[str, object]]:
    """Pledges of published runs to the village, oldest first, without household data."""
    rows = db.session.execute(
        select(
            Allocation, AllocationRun.week, Organization.name, Organization.kind,
            Organization.public_anonymous, Need,
        )
        .join(AllocationRun, AllocationRun.id == Allocation.run_id)
        .join(Offer, Offer.id == Allocation.offer_id)
        .join(Organization, Organization.id == Offer.organization_id)
        .join(Need, Need.id == Allocation.need_id)
        .where(Need.village_id == village_id, AllocationRun.status == "published")
        .order_by(AllocationRun.week, Allocation.id)
    )
    catalogue = request_catalogue(db.session)
    return [
        {
            "id": allocation.id,
            "week": week,
            "donor": "" if shown_anonymously(kind, anonymous) else donor,
            "donor_kind": kind,
            "need": None if need.is_wish else need.title,
            "is_wish": need.is_wish,
            "category": need.category_code,
            "quantity": allocation.quantity,
            "item": need.item_code,
            "item_name": item_name(catalogue, need.item_code),
            "unit": unit(catalogue, need.item_code, need.category_code),
            "status": allocation.status,
        }
        for allocation, week, donor, kind, anonymous, need in rows
    ]


@ops.operation(
    "/villages/<int:village_id>", "GET", summary="One village", tag="public",
    response=VillageDetail,
)  # fmt: skip
def get_village_view(call: Call, village_id: int) -> dict[str, object]:
    """One village's public facts and the pledges published runs made to it."""
    village = db.session.get(Village, village_id)
    if village is None:
        raise ApiError(404, "Not Found", f"no village {village_id}")
    return {**village_json(village), "pledges": _published_pledges(village.id)}


@ops.operation("/totals", "GET", summary="Public totals", tag="public", response=Totals)
def totals_view(call: Call) -> dict[str, object]:
    """Totals of what published runs pledged (cancelled pledges left out)."""
    summary = public_summary(db.session)
    return {
        "published_runs": published_count(db.session),
        "pledges": summary.pledges,
        "villages_reached": summary.villages_reached,
        "by_category": summary.by_category,
    }


@ops.operation(
    "/categories", "GET", summary="Categories of aid", tag="public", response=CategoryList
)
def categories_view(call: Call) -> dict[str, object]:
    """The categories of aid with their units, in Chinese and English."""
    return {"items": [CategoryOut.model_validate(c) for c in CATEGORIES]}
