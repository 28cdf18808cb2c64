"""Needs and micro-wishes: a village committee posts and keeps its own; its township verifies."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from flask_babel import force_locale
from pydantic import Field

from seeds.checklist import CHECKLIST_CODES
from web.api.access import NEED_READERS, NEED_VERIFIERS
from web.api.blueprint import ops
from web.api.kinds import KindCode, KindCodes, accepts_of, checked, kind_fields
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
    count_of,
    description_of,
    page_of,
    ruled,
    title_of,
)
from web.extensions import db
from web.models import Need
from web.services import listing
from web.services import needs as service
from web.services.inputs import URGENCY, NeedFields
from web.services.kinds import NeedKind, need_kind, request_catalogue

READERS = NEED_READERS
ChecklistCode = Literal[CHECKLIST_CODES]  # type: ignore[valid-type]
# The field rules are web.services.inputs.NeedFields', as for the forms and the sheet.
Title = title_of(NeedFields)
Description = description_of(NeedFields)
Quantity = count_of(NeedFields, "quantity")
Urgency = Annotated[
    int,
    Field(
        description="5 very urgent ... 1 can wait",
        json_schema_extra={"minimum": URGENCY[0], "maximum": URGENCY[1]},
    ),
    ruled(NeedFields, "urgency"),
]
WishValue = Annotated[
    float,
    Field(
        description="estimated value in whole yuan",
        json_schema_extra={"minimum": 1, "maximum": service.WISH_VALUE_CAP},
    ),
    ruled(NeedFields, "estimated_value", wish=True),
]
Deadline = Annotated[date, ruled(NeedFields, "deadline")]
Evidence = Annotated[
    str, Field(description="a micro-wish's verification note (required for one)"),
    ruled(NeedFields, "evidence"),
]  # fmt: skip
NeedStatus = Literal["open", "withdrawn", "closed"]
Verification = Literal["pending", "verified", "rejected"]


class NeedQuery(Paging):
    """Filters of the need list."""

    county: ShortText | None = Field(None, description="county code or name")
    township: ShortText | None = Field(None, description="township code or name")
    village: ShortText | None = Field(None, description="village code or id")
    category: CategoryCode | None = None
    status: NeedStatus | None = None
    verification: Verification | None = None
    week: Week | None = Field(None, description="needs still wanted in this ISO week")


class NeedIn(Strict):
    """A new need; with household_id a household's micro-wish (微心愿), with its value."""

    category: CategoryCode
    title: Title
    description: Description = ""
    quantity: Quantity
    item: KindCode | None = Field(
        None,
        description="its kind, of its category (GET /kinds); left out, the platform recognises "
        "it from the title and answers item_inferred true, or 422 naming item when it cannot",
    )
    accepts: KindCodes = Field(
        default_factory=list, description="alternative kinds it also takes, of its category"
    )
    urgency: Urgency = 3
    deadline: Deadline | None = None
    checklist_item: ChecklistCode | None = None
    household_id: Id | None = Field(None, description="a household of the committee's village")
    estimated_value: WishValue | None = Field(None, description="required for a micro-wish")
    evidence: Evidence = ""
    confirm_duplicate: bool = False


class NeedPatch(Strict):
    """Fields to change on a need that has nothing allocated; absent fields stay."""

    category: CategoryCode = None  # type: ignore[assignment]
    title: Title = None
    description: Description = None
    quantity: Quantity = None
    item: KindCode | None = Field(
        None,
        description="a new kind; null to have it recognised from the title. Left out, the kind "
        "stays (recognised again from a changed title if it was recognised before)",
    )
    accepts: KindCodes = Field(  # type: ignore[assignment]
        None, description="the alternative kinds; left out, they stay"
    )
    urgency: Urgency = None  # type: ignore[assignment]
    deadline: Deadline | None = None
    checklist_item: ChecklistCode | None = None
    confirm_duplicate: bool = False


class Decision(Strict):
    """A township officer's verification of a need; a rejection needs a reason."""

    decision: Literal["verify", "reject"]
    reason: LongText = ""


class NeedOut(Out):
    """A need or micro-wish; the household is named by id only, never by name or phone."""

    id: int
    village_id: int
    village_code: str
    village: str
    township_code: str
    category: str
    title: str
    description: str
    quantity: int
    allocated: int
    remaining: int
    item: str | None = Field(description="its kind; null only for an old need not yet classified")
    item_name: str | None = Field(description="the kind's Chinese name")
    unit: str = Field(description="the unit of quantity, allocated and remaining (Chinese)")
    accepts: list[str] = Field(description="alternative kinds it also takes")
    item_inferred: bool = Field(description="true when the platform recognised the kind")
    urgency: int
    deadline: date | None
    checklist_item: str | None
    evidence: str
    verification: str
    verification_note: str
    status: str
    is_wish: bool
    household_id: int | None
    estimated_value: float | None
    created_at: Moment
    updated_at: Moment


NeedPage = Page[NeedOut]
NEED_REFUSALS = {
    "locked": (409, "aid is already allocated to this need, or it is not open; it cannot change"),
    "household": (422, "household_id: no such household in the committee's village"),
    "no_village": (403, "the account is not tied to a village"),
    "reason": (422, "reason: a rejection needs a reason"),
    "value_cap": (422, f"estimated_value: at most {service.WISH_VALUE_CAP} yuan"),
}


def need_json(need: Need) -> dict[str, Any]:
    """A need as the API shows it."""
    village = need.village
    kinds = _kinds(need, need.accept_codes, request_catalogue(db.session))
    return _need_fields(need, village.code, village.name, village.township.code, kinds)


def listed_need_json(listed: listing.ListedNeed, kinds: dict[str, Any]) -> dict[str, Any]:
    """A need of a list as the API shows it, the same as need_json."""
    need = listed.need
    return _need_fields(need, listed.village_code, listed.village, listed.township_code, kinds)


def _kinds(need: Any, accepts: list[str], catalogue: Any) -> dict[str, Any]:
    """A need's kind fields: its kind, the kind's name and unit, its alternatives."""
    return {
        **kind_fields(catalogue, need.item_code, need.category_code),
        "accepts": accepts,
        "item_inferred": bool(need.item_inferred),
    }


def _need_fields(
    need: Any, village_code: str, village: str, township_code: str, kinds: dict[str, Any]
) -> dict[str, Any]:
    """The API's fields from a need's columns (a Need or a row of its table)."""
    return {
        "id": need.id,
        "village_id": need.village_id,
        "village_code": village_code,
        "village": village,
        "township_code": township_code,
        "category": need.category_code,
        "title": need.title,
        "description": need.description,
        "quantity": need.quantity,
        "allocated": need.allocated,
        "remaining": need.quantity - need.allocated,
        **kinds,
        "urgency": need.urgency,
        "deadline": need.deadline,
        "checklist_item": need.checklist_item,
        "evidence": need.evidence,
        "verification": need.verification,
        "verification_note": need.verification_note,
        "status": need.status,
        "is_wish": need.household_id is not None,
        "household_id": need.household_id,
        "estimated_value": need.estimated_value,
        "created_at": need.created_at,
        "updated_at": need.updated_at,
    }


def _refused(error: service.NeedError) -> ApiError:
    status, detail = NEED_REFUSALS.get(error.code, (409, error.code))
    title = {403: "Forbidden", 409: "Conflict", 422: "Unprocessable Content"}[status]
    errors = None
    if status == 422:
        field, _, message = detail.partition(": ")
        errors = [{"field": field, "message": message}]
    return ApiError(status, title, detail, errors=errors, code=error.code)


def _input(values: dict[str, Any], kind: NeedKind) -> service.NeedInput:
    """The service's input from complete need fields and the checked kind."""
    return service.NeedInput(
        category=values["category"],
        title=values["title"],
        description=values["description"],
        quantity=values["quantity"],
        urgency=values["urgency"],
        deadline=values["deadline"],
        checklist_item=values["checklist_item"],
        household_id=values.get("household_id"),
        evidence=values.get("evidence", ""),
        estimated_value=values.get("estimated_value"),
        item=kind.item,
        accepts=kind.accepts,
        item_inferred=kind.inferred,
    )


def _kind_of(values: dict[str, Any], item: str | None, accepts: list[str]) -> NeedKind:
    """The need's kind by the one rule (web.services.kinds.need_kind), or 422 naming the field."""
    return checked(
        need_kind, request_catalogue(db.session), values["category"], item, accepts,
        title=values["title"], description=values["description"],
    )  # fmt: skip


def _no_duplicates(
    call: Call, data: service.NeedInput, confirmed: bool, exclude: int | None
) -> None:
    """409 listing the village's open needs that look the same, unless confirmed."""
    if confirmed:
        return
    found = service.duplicates_before_saving(db.session, call.actor, data, exclude_id=exclude)
    if found:
        raise ApiError(
            409, "Conflict",
            "an open need of the village looks the same; resend with confirm_duplicate",
            code="duplicate", duplicates=[n.id for n in found],
        )  # fmt: skip


def _visible(call: Call, need_id: int) -> Need:
    need = db.session.get(Need, need_id)
    if need is None or not listing.can_see_need(call.actor, need):
        raise ApiError(404, "Not Found", f"no need {need_id}")
    return need


def _own(call: Call, need_id: int) -> Need:
    try:
        return service.get_village_need(db.session, call.actor, need_id)
    except LookupError:
        raise ApiError(404, "Not Found", f"no need {need_id}") from None


@ops.operation(
    "/needs", "GET", summary="List needs", tag="needs", roles=READERS, query=NeedQuery,
    response=NeedPage,
)  # fmt: skip
def list_needs(call: Call) -> dict[str, Any]:
    """A committee sees its village's needs, a township officer its villages'; staff see all."""
    q: NeedQuery = call.query
    filters = listing.Filters(
        county=q.county, township=q.township, village=q.village, category=q.category,
        status=q.status, verification=q.verification, week=q.week,
    )  # fmt: skip
    result = listing.needs(db.session, call.actor, filters, q.page, q.per_page)
    catalogue = request_catalogue(db.session)
    accepts = accepts_of(n.need.id for n in result.items)
    items = [
        listed_need_json(n, _kinds(n.need, accepts.get(n.need.id, []), catalogue))
        for n in result.items
    ]
    return page_of(items, result.total, q)


def _wish_evidence(evidence: str) -> None:
    """A micro-wish's note, by the need rules (web.services.inputs): 422 naming `evidence`."""
    with force_locale("en"):
        message = NeedFields(evidence=evidence, wish=True).problem("evidence")
        if message is not None:
            raise ApiError(
                422, "Unprocessable Content", f"evidence: {message}",
                errors=[{"field": "evidence", "message": str(message)}],
            )  # fmt: skip


@ops.operation(
    "/needs", "POST", summary="Post a need or micro-wish", tag="needs", roles=("village",),
    body=NeedIn, response=NeedOut, status=201, errors=(403, 409), idempotent=True,
)  # fmt: skip
def create_need(call: Call) -> dict[str, Any]:
    """Post a need for the committee's village; it waits for the township to verify it."""
    body: NeedIn = call.body
    if (body.household_id is None) != (body.estimated_value is None):
        message = "a micro-wish names both household_id and estimated_value; a need neither"
        raise ApiError(
            422, "Unprocessable Content", message,
            errors=[{"field": "estimated_value", "message": message}],
        )  # fmt: skip
    if body.household_id is not None:
        _wish_evidence(body.evidence)
    if call.actor.village_id is None:
        raise _refused(service.NeedError("no_village"))
    values = body.model_dump()
    data = _input(values, _kind_of(values, body.item, body.accepts))
    _no_duplicates(call, data, body.confirm_duplicate, None)
    try:
        need = service.create_need(db.session, call.actor, data)
    except service.NeedError as error:
        db.session.rollback()
        raise _refused(error) from None
    return need_json(need)


@ops.operation(
    "/needs/<int:need_id>", "GET", summary="One need", tag="needs", roles=READERS,
    response=NeedOut,
)  # fmt: skip
def get_need(call: Call, need_id: int) -> dict[str, Any]:
    """A need the caller may see."""
    return need_json(_visible(call, need_id))


@ops.operation(
    "/needs/<int:need_id>", "PATCH", summary="Change a need", tag="needs", roles=("village",),
    body=NeedPatch, response=NeedOut, errors=(409,),
)  # fmt: skip
def update_need(call: Call, need_id: int) -> dict[str, Any]:
    """Change an own need while nothing is allocated; it goes back to pending verification."""
    need = _own(call, need_id)
    body: NeedPatch = call.body
    values = {**need_json(need), **body.model_dump(exclude_unset=True)}
    values["household_id"] = need.household_id
    values["estimated_value"] = None  # kept as it is: the service does not change it
    changed = body.model_fields_set
    # Left out, the kind stays; one the platform recognised is recognised again from new text.
    recognise_again = need.item_inferred and bool(changed & {"category", "title", "description"})
    item = values["item"] if "item" in changed or not recognise_again else None
    kind = _kind_of(values, item, values["accepts"])
    if "item" not in changed and not recognise_again and need.item_inferred:
        kind = NeedKind(kind.item, kind.accepts, inferred=True)  # still the platform's guess
    data = _input(values, kind)
    _no_duplicates(call, data, body.confirm_duplicate, need.id)
    try:
        service.update_need(db.session, need, data)
    except service.NeedError as error:
        raise _refused(error) from None
    return need_json(need)


@ops.operation(
    "/needs/<int:need_id>/withdraw", "POST", summary="Withdraw a need", tag="needs",
    roles=("village",), response=NeedOut, errors=(409,),
)  # fmt: skip
def withdraw_need(call: Call, need_id: int) -> dict[str, Any]:
    """Withdraw an own open need while nothing is allocated to it."""
    need = _own(call, need_id)
    try:
        service.withdraw_need(db.session, need)
    except service.NeedError as error:
        raise _refused(error) from None
    return need_json(need)


@ops.operation(
    "/needs/<int:need_id>/verify", "POST", summary="Verify or reject a need", tag="needs",
    roles=NEED_VERIFIERS, body=Decision, response=NeedOut, errors=(409,),
)  # fmt: skip
def verify_need(call: Call, need_id: int) -> dict[str, Any]:
    """A township officer verifies or rejects an open need of a village in its township; a
    county office one of its county's (when the township is stuck)."""
    try:
        need = service.get_verifiable_need(db.session, call.actor, need_id)
    except LookupError:
        raise ApiError(404, "Not Found", f"no need {need_id}") from None
    body: Decision = call.body
    try:
        service.verify_need(db.session, need, approve=body.decision == "verify", reason=body.reason)
    except service.NeedError as error:
        raise _refused(error) from None
    return need_json(need)
