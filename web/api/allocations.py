"""Pledges (allocations): list what concerns the caller; dispatch, receive, confirm, cancel."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from matcher.kinds import Catalogue
from web.api.access import PLEDGE_READERS
from web.api.blueprint import ops
from web.api.kinds import kind_fields
from web.api.registry import ApiError, Call
from web.api.schemas import (
    CategoryCode,
    Id,
    LongText,
    Moment,
    Out,
    Page,
    Paging,
    ShortText,
    Strict,
    Week,
    page_of,
)
from web.extensions import db
from web.models import Allocation, User
from web.services import delivery, listing
from web.services.kinds import request_catalogue
from web.services.week import NotAllowed, WeekError

READERS = PLEDGE_READERS
DeliveryStatus = Literal["pledged", "dispatched", "received", "confirmed", "cancelled"]


class AllocationQuery(Paging):
    """Filters of the pledge list."""

    county: ShortText | None = Field(None, description="county code or name")
    township: ShortText | None = Field(None, description="township code or name")
    village: ShortText | None = Field(None, description="village code or id")
    category: CategoryCode | None = None
    status: DeliveryStatus | None = None
    week: Week | None = None
    organization_id: Id | None = None


class Receipt(Strict):
    """A village committee's confirmation of receipt."""

    note: LongText = ""
    rating: Annotated[int, Field(ge=1, le=5)] | None = None


class Cancellation(Strict):
    """An administrator's reason to cancel a pledge."""

    reason: Annotated[LongText, Field(min_length=1)]


class AllocationOut(Out):
    """A pledge of units of one offer to one need, and where its delivery stands."""

    id: int
    run_id: int
    week: str
    run_status: str
    offer_id: int
    offer: str
    organization_id: int
    organization: str
    need_id: int
    need: str
    is_wish: bool
    village_id: int
    village: str
    category: str
    quantity: int
    item: str | None = Field(description="the need's kind (null: a need not yet classified)")
    item_name: str | None = Field(description="the kind's Chinese name")
    unit: str = Field(description="the unit of quantity (Chinese): the kind's")
    km: float
    value: float
    status: str
    dispatched_at: Moment | None
    received_at: Moment | None
    confirmed_at: Moment | None
    cancelled_at: Moment | None
    receipt_note: str
    rating: int | None


AllocationPage = Page[AllocationOut]


def allocation_json(allocation: Allocation, catalogue: Catalogue | None = None) -> dict[str, Any]:
    """A pledge as the API shows it, its quantity in the unit of the need's kind."""
    offer, need = allocation.offer, allocation.need
    catalogue = catalogue or request_catalogue(db.session)
    return {
        "id": allocation.id,
        "run_id": allocation.run_id,
        "week": allocation.run.week,
        "run_status": allocation.run.status,
        "offer_id": offer.id,
        "offer": offer.title,
        "organization_id": offer.organization_id,
        "organization": offer.organization.name,
        "need_id": need.id,
        "need": need.title,
        "is_wish": need.is_wish,
        "village_id": need.village_id,
        "village": need.village.name,
        "category": need.category_code,
        "quantity": allocation.quantity,
        **kind_fields(catalogue, need.item_code, need.category_code),
        "km": allocation.km,
        "value": allocation.value,
        "status": allocation.status,
        "dispatched_at": allocation.dispatched_at,
        "received_at": allocation.received_at,
        "confirmed_at": allocation.confirmed_at,
        "cancelled_at": allocation.cancelled_at,
        "receipt_note": allocation.receipt_note,
        "rating": allocation.rating,
    }


def _visible(user: User, allocation_id: int) -> Allocation:
    try:
        return listing.visible_allocation(db.session, user, allocation_id)
    except LookupError:
        raise ApiError(404, "Not Found", f"no allocation {allocation_id}") from None


def _step(call: Call, allocation_id: int, action: Any, *args: Any) -> dict[str, Any]:
    """Run one delivery step on a pledge the caller can see; 403 or 409 when refused."""
    _visible(call.actor, allocation_id)
    try:
        allocation = action(db.session, allocation_id, call.actor, *args)
    except NotAllowed as error:
        raise ApiError(403, "Forbidden", str(error)) from None
    except WeekError as error:
        raise ApiError(409, "Conflict", str(error)) from None
    return allocation_json(allocation)


@ops.operation(
    "/allocations", "GET", summary="List pledges", tag="allocations", roles=READERS,
    query=AllocationQuery, response=AllocationPage,
)  # fmt: skip
def list_allocations(call: Call) -> dict[str, Any]:
    """Pledges that concern the caller: a donor's offers', a village's or township's needs'
    (published runs only); administrators and auditors see every run's."""
    q: AllocationQuery = call.query
    filters = listing.Filters(
        county=q.county, township=q.township, village=q.village, category=q.category,
        status=q.status, week=q.week, organization_id=q.organization_id,
    )  # fmt: skip
    result = listing.allocations(db.session, call.actor, filters, q.page, q.per_page)
    catalogue = request_catalogue(db.session)
    return page_of([allocation_json(a, catalogue) for a in result.items], result.total, q)


@ops.operation(
    "/allocations/<int:allocation_id>", "GET", summary="One pledge", tag="allocations",
    roles=READERS, response=AllocationOut,
)  # fmt: skip
def get_allocation(call: Call, allocation_id: int) -> dict[str, Any]:
    """A pledge that concerns the caller."""
    return allocation_json(_visible(call.actor, allocation_id))


@ops.operation(
    "/allocations/<int:allocation_id>/dispatch", "POST", summary="Mark a pledge sent",
    tag="allocations", roles=("donor",), response=AllocationOut, errors=(409,),
)  # fmt: skip
def dispatch_allocation(call: Call, allocation_id: int) -> dict[str, Any]:
    """The donor marks its pledge as dispatched (from pledged)."""
    return _step(call, allocation_id, delivery.dispatch)


@ops.operation(
    "/allocations/<int:allocation_id>/receive", "POST", summary="Mark a pledge arrived",
    tag="allocations", roles=("village",), response=AllocationOut, errors=(409,),
)  # fmt: skip
def receive_allocation(call: Call, allocation_id: int) -> dict[str, Any]:
    """The village committee marks its pledge as received (from pledged or dispatched)."""
    return _step(call, allocation_id, delivery.receive)


@ops.operation(
    "/allocations/<int:allocation_id>/confirm", "POST", summary="Confirm receipt",
    tag="allocations", roles=("village",), body=Receipt, response=AllocationOut, errors=(409,),
)  # fmt: skip
def confirm_allocation(call: Call, allocation_id: int) -> dict[str, Any]:
    """The village committee confirms receipt, with a note and a rating of 1 to 5."""
    body: Receipt = call.body
    return _step(call, allocation_id, delivery.confirm_receipt, body.note, body.rating)


@ops.operation(
    "/allocations/<int:allocation_id>/cancel", "POST", summary="Cancel a pledge",
    tag="allocations", roles=("admin",), body=Cancellation, response=AllocationOut,
    errors=(409,),
)  # fmt: skip
def cancel_allocation(call: Call, allocation_id: int) -> dict[str, Any]:
    """An administrator cancels an undelivered pledge; its units return to offer and need."""
    body: Cancellation = call.body
    if not body.reason.strip():
        message = "a reason is required to cancel a pledge"
        raise ApiError(
            422, "Unprocessable Content", message, errors=[{"field": "reason", "message": message}]
        )
    return _step(call, allocation_id, delivery.cancel, body.reason)
