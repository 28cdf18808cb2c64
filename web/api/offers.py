"""Offers: a donor lists, posts, reads, changes and withdraws its organization's offers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from flask_babel import force_locale
from pydantic import Field

from web import clock
from web.api.access import OFFER_READERS
from web.api.blueprint import ops
from web.api.kinds import KindCodes, checked, items_of, unit
from web.api.registry import ApiError, Call
from web.api.schemas import (
    CategoryCode,
    Id,
    Moment,
    Out,
    Page,
    Paging,
    ShortText,
    Strict,
    Week,
    count_of,
    description_of,
    page_of,
    ruled,
    title_of,
)
from web.extensions import db
from web.models import Offer
from web.services import listing
from web.services import offers as service
from web.services.inputs import LATITUDE, LONGITUDE, OfferFields
from web.services.kinds import OfferKinds, offer_kinds, request_catalogue

READERS = OFFER_READERS
# The field rules are web.services.inputs.OfferFields', as for the form and the sheet.
Title = title_of(OfferFields)
Description = description_of(OfferFields)
Quantity = count_of(OfferFields, "quantity")
MinLot = count_of(OfferFields, "min_lot")
MaxVillages = count_of(OfferFields, "max_villages")
WITHIN = "within Hezhou's wider region"
Latitude = Annotated[
    float,
    Field(description=WITHIN, json_schema_extra={"minimum": LATITUDE[0], "maximum": LATITUDE[1]}),
    ruled(OfferFields, "dispatch_lat"),
]
Longitude = Annotated[
    float,
    Field(description=WITHIN, json_schema_extra={"minimum": LONGITUDE[0], "maximum": LONGITUDE[1]}),
    ruled(OfferFields, "dispatch_lon"),
]
ValidUntil = Annotated[date, ruled(OfferFields, "valid_until")]
OfferStatus = Literal["open", "withdrawn", "closed"]


class OfferQuery(Paging):
    """Filters of the offer list."""

    category: CategoryCode | None = None
    status: OfferStatus | None = None
    county: ShortText | None = Field(None, description="a destination county, code or name")
    village: ShortText | None = Field(None, description="a destination village code")
    week: Week | None = Field(None, description="offers valid during this ISO week")
    organization_id: Id | None = None


class OfferIn(Strict):
    """A new offer. Status, allocated and remaining are the platform's, never the client's."""

    category: CategoryCode
    title: Title
    description: Description = ""
    quantity: Quantity
    items: KindCodes = Field(
        default_factory=list,
        description="the kinds it gives, of its category, all counted in one unit (GET /kinds); "
        "none and not general: recognised from the title (items_inferred true), or 422 naming "
        "items when they cannot be",
    )
    general: bool = Field(
        False, description="true: any need of its category, naming no kinds (the donor's choice)"
    )
    min_lot: MinLot = 1
    max_villages: MaxVillages | None = None
    indivisible: bool = False
    counties: Annotated[list[ShortText], Field(max_length=20)] = Field(
        default_factory=list, description="county codes it may go to; none means anywhere"
    )
    dispatch_lat: Latitude | None = None
    dispatch_lon: Longitude | None = None
    valid_from: date
    valid_until: ValidUntil
    confirm_duplicate: bool = Field(
        False, description="save even though an open offer of the organization looks the same"
    )


class OfferPatch(Strict):
    """Fields to change on an offer that has nothing allocated; absent fields stay."""

    category: CategoryCode = None  # type: ignore[assignment]
    title: Title = None
    description: Description = None
    quantity: Quantity = None
    items: KindCodes = Field(  # type: ignore[assignment]
        None,
        description="new kinds (a general offer then stops being general); [] to have them "
        "recognised from the title. Left out, the kinds stay (recognised again from a changed "
        "title if they were recognised before)",
    )
    general: bool = Field(  # type: ignore[assignment]
        None, description="true makes it general (its kinds are dropped), false names kinds"
    )
    min_lot: MinLot = None
    max_villages: MaxVillages | None = None
    indivisible: bool = None  # type: ignore[assignment]
    counties: Annotated[list[ShortText], Field(max_length=20)] = None  # type: ignore[assignment]
    dispatch_lat: Latitude | None = None
    dispatch_lon: Longitude | None = None
    valid_from: date = None  # type: ignore[assignment]
    valid_until: ValidUntil = None  # type: ignore[assignment]
    confirm_duplicate: bool = False


class OfferOut(Out):
    """An offer, with what is already pledged of it."""

    id: int
    organization_id: int
    organization: str
    category: str
    title: str
    description: str
    quantity: int
    allocated: int
    remaining: int
    items: list[str] = Field(description="the kinds it gives; empty when general")
    general: bool = Field(description="any need of its category, by the donor's choice")
    items_inferred: bool = Field(description="true when the platform recognised the kinds")
    unit: str = Field(description="the unit of quantity, allocated and remaining (Chinese)")
    min_lot: int
    max_villages: int | None
    indivisible: bool
    counties: list[str]
    village_ids: list[int]
    dispatch_lat: float | None
    dispatch_lon: float | None
    valid_from: date
    valid_until: date
    status: str
    created_at: Moment
    updated_at: Moment


OfferPage = Page[OfferOut]
OFFER_REFUSALS = {
    "not_approved": (403, "the organization is not approved to post offers"),
    "allocated": (409, "part of this offer is already allocated; it can no longer change"),
    "not_open": (409, "the offer is no longer open"),
}


def offer_json(offer: Offer) -> dict[str, Any]:
    """An offer as the API shows it."""
    counties = sorted(c.code for c in offer.counties)
    kinds = _kinds(offer, offer.item_codes, request_catalogue(db.session))
    return _offer_fields(
        offer, offer.organization.name, counties, sorted(v.id for v in offer.villages), kinds
    )


def listed_offer_json(listed: listing.ListedOffer, kinds: dict[str, Any]) -> dict[str, Any]:
    """An offer of a list as the API shows it, the same as offer_json."""
    return _offer_fields(
        listed.offer, listed.organization, listed.counties, listed.village_ids, kinds
    )


def _kinds(offer: Any, items: list[str], catalogue: Any) -> dict[str, Any]:
    """An offer's kind fields: its kinds (all of one unit), general, and that unit."""
    return {
        "items": items,
        "general": bool(offer.general),
        "items_inferred": bool(offer.items_inferred),
        "unit": unit(catalogue, items[0] if items else None, offer.category_code),
    }


def _offer_fields(
    offer: Any, organization: str, counties: list[str], village_ids: list[int],
    kinds: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """The API's fields from an offer's columns (an Offer or a row of its table)."""
    return {
        "id": offer.id,
        "organization_id": offer.organization_id,
        "organization": organization,
        "category": offer.category_code,
        "title": offer.title,
        "description": offer.description,
        "quantity": offer.quantity,
        "allocated": offer.allocated,
        "remaining": offer.quantity - offer.allocated,
        **kinds,
        "min_lot": offer.min_lot,
        "max_villages": offer.max_villages,
        "indivisible": offer.indivisible,
        "counties": counties,
        "village_ids": village_ids,
        "dispatch_lat": offer.dispatch_lat,
        "dispatch_lon": offer.dispatch_lon,
        "valid_from": offer.valid_from,
        "valid_until": offer.valid_until,
        "status": offer.status,
        "created_at": offer.created_at,
        "updated_at": offer.updated_at,
    }


def _refused(error: service.OfferError) -> ApiError:
    status, detail = OFFER_REFUSALS.get(error.code, (409, error.code))
    return ApiError(status, "Forbidden" if status == 403 else "Conflict", detail, code=error.code)


def _known_counties(codes: list[str]) -> tuple[str, ...]:
    """The county codes, or 422 naming the unknown ones."""
    known = {code for code, _name in service.county_choices(db.session)}
    unknown = sorted(set(codes) - known)
    if unknown:
        message = f"unknown county code: {', '.join(unknown)}"
        raise ApiError(
            422, "Unprocessable Content", message,
            errors=[{"field": "counties", "message": message}],
        )  # fmt: skip
    return tuple(dict.fromkeys(codes))


def _kinds_of(values: dict[str, Any], items: list[str], general: bool) -> OfferKinds:
    """The offer's kinds by the one rule (web.services.kinds.offer_kinds), or 422 naming items."""
    return checked(
        offer_kinds, request_catalogue(db.session), values["category"], items, general=general,
        title=values["title"], description=values["description"],
    )  # fmt: skip


def _input(values: dict[str, Any], kinds: OfferKinds) -> service.OfferInput:
    """The service's input from complete offer fields and the checked kinds."""
    return service.OfferInput(
        category=values["category"],
        title=values["title"],
        description=values["description"],
        quantity=values["quantity"],
        min_lot=values["min_lot"],
        max_villages=values["max_villages"],
        indivisible=values["indivisible"],
        county_codes=_known_counties(list(values["counties"])),
        dispatch_lat=values["dispatch_lat"],
        dispatch_lon=values["dispatch_lon"],
        valid_from=values["valid_from"],
        valid_until=values["valid_until"],
        items=kinds.items,
        general=kinds.general,
        items_inferred=kinds.inferred,
    )


def _no_duplicates(
    call: Call, data: service.OfferInput, confirmed: bool, exclude: int | None
) -> None:
    """409 listing the organization's open offers that look the same, unless confirmed."""
    if confirmed:
        return
    found = service.likely_duplicate_offers(db.session, call.actor, data, exclude_id=exclude)
    if found:
        raise ApiError(
            409, "Conflict",
            "an open offer of the organization looks the same; resend with confirm_duplicate",
            code="duplicate", duplicates=[d.offer.id for d in found],
        )  # fmt: skip


def _visible(call: Call, offer_id: int) -> Offer:
    """The offer if the caller may see it, else 404."""
    offer = db.session.get(Offer, offer_id)
    if offer is None or not listing.can_see_offer(db.session, call.actor, offer):
        raise ApiError(404, "Not Found", f"no offer {offer_id}")
    return offer


def _own(call: Call, offer_id: int) -> Offer:
    """The caller's organization's offer, else 404."""
    try:
        return service.get_own_offer(db.session, call.actor, offer_id)
    except LookupError:
        raise ApiError(404, "Not Found", f"no offer {offer_id}") from None


@ops.operation(
    "/offers", "GET", summary="List offers", tag="offers", roles=READERS, query=OfferQuery,
    response=OfferPage,
)  # fmt: skip
def list_offers(call: Call) -> dict[str, Any]:
    """A donor sees its organization's offers; administrators and auditors see all."""
    q: OfferQuery = call.query
    filters = listing.Filters(
        county=q.county, village=q.village, category=q.category, status=q.status, week=q.week,
        organization_id=q.organization_id,
    )  # fmt: skip
    result = listing.offers(db.session, call.actor, filters, q.page, q.per_page)
    catalogue = request_catalogue(db.session)
    items = items_of(o.offer.id for o in result.items)
    offers = [
        listed_offer_json(o, _kinds(o.offer, items.get(o.offer.id, []), catalogue))
        for o in result.items
    ]
    return page_of(offers, result.total, q)


@ops.operation(
    "/offers", "POST", summary="Post an offer", tag="offers", roles=("donor",), body=OfferIn,
    response=OfferOut, status=201, errors=(403, 409), idempotent=True,
)  # fmt: skip
def create_offer(call: Call) -> dict[str, Any]:
    """Post an offer for the caller's approved organization (409 if it looks like a duplicate)."""
    body: OfferIn = call.body
    values = body.model_dump()
    data = _input(values, _kinds_of(values, body.items, body.general))
    _no_duplicates(call, data, body.confirm_duplicate, None)
    try:
        offer = service.create_offer(db.session, call.actor, data)
    except service.OfferError as error:
        raise _refused(error) from None
    return offer_json(offer)


@ops.operation(
    "/offers/<int:offer_id>", "GET", summary="One offer", tag="offers", roles=READERS,
    response=OfferOut,
)  # fmt: skip
def get_offer(call: Call, offer_id: int) -> dict[str, Any]:
    """An offer of the caller's organization (any offer for administrators and auditors)."""
    return offer_json(_visible(call, offer_id))


def _patched_kinds(offer: Offer, body: OfferPatch, values: dict[str, Any]) -> OfferKinds:
    """The kinds of a changed offer: as sent; else kept (recognised again from a changed text
    when the platform recognised them)."""
    changed = body.model_fields_set
    if changed & {"items", "general"}:
        general = body.general if "general" in changed else False
        items = body.items if "items" in changed else [] if general else offer.item_codes
        return _kinds_of(values, items, general)
    if offer.items_inferred and changed & {"category", "title", "description"}:
        return _kinds_of(values, [], False)
    kinds = _kinds_of(values, offer.item_codes, offer.general)
    if offer.items_inferred and not kinds.inferred:  # still the platform's guess
        kinds = OfferKinds(kinds.items, kinds.general, inferred=True)
    return kinds


@ops.operation(
    "/offers/<int:offer_id>", "PATCH", summary="Change an offer", tag="offers",
    roles=("donor",), body=OfferPatch, response=OfferOut, errors=(403, 409),
)  # fmt: skip
def update_offer(call: Call, offer_id: int) -> dict[str, Any]:
    """Change an own offer while nothing of it is allocated; absent fields keep their value."""
    offer = _own(call, offer_id)
    body: OfferPatch = call.body
    values = {**offer_json(offer), **body.model_dump(exclude_unset=True)}
    problems = []
    for name in sorted(body.model_fields_set):
        nullable = name in {"max_villages", "dispatch_lat", "dispatch_lon"}
        if values[name] is None and not nullable:
            problems.append({"field": name, "message": "may not be null"})
    refused = {p["field"] for p in problems}
    merged = OfferFields(
        **{name: values[name] for name in OfferFields.names()},
        today=clock.today(), kept={"valid_until": offer.valid_until},
    )  # fmt: skip
    across = {"min_lot", "valid_until"}  # rules that read another field, which may have changed
    with force_locale("en"):
        for name, message in merged.problems().items():
            if name not in refused and (name in body.model_fields_set or name in across):
                problems.append({"field": name, "message": str(message)})
    if problems:
        detail = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        raise ApiError(422, "Unprocessable Content", detail, errors=problems)
    data = _input(values, _patched_kinds(offer, body, values))
    _no_duplicates(call, data, body.confirm_duplicate, offer.id)
    try:
        service.update_offer(db.session, call.actor, offer, data)
    except service.OfferError as error:
        raise _refused(error) from None
    return offer_json(offer)


@ops.operation(
    "/offers/<int:offer_id>/withdraw", "POST", summary="Withdraw an offer", tag="offers",
    roles=("donor",), response=OfferOut, errors=(403, 409),
)  # fmt: skip
def withdraw_offer(call: Call, offer_id: int) -> dict[str, Any]:
    """Withdraw an own open offer while nothing of it is allocated."""
    offer = _own(call, offer_id)
    try:
        service.withdraw_offer(db.session, call.actor, offer)
    except service.OfferError as error:
        raise _refused(error) from None
    return offer_json(offer)
