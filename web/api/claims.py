"""Claims on micro-wishes (认领, issue 17): a vetted individual donor or enterprise claims one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app
from pydantic import Field

from web.api.blueprint import ops
from web.api.registry import ApiError, Call
from web.api.schemas import Moment, Out
from web.extensions import db
from web.models import WishClaim
from web.services import claims as service


class ClaimOut(Out):
    """A claim on a micro-wish: never the household, only the wish's kind and village."""

    id: int
    wish_id: int
    village: str
    category: str
    item: str | None = Field(description="the wish's kind")
    quantity: int
    status: str = Field(description="claimed, dispatched, received, expired or cancelled")
    expires_at: Moment = Field(description="dispatch before this, or the wish returns to the pool")


def claim_json(claim: WishClaim) -> dict[str, Any]:
    """A claim as the API shows it."""
    need = claim.need
    return {
        "id": claim.id,
        "wish_id": need.id,
        "village": need.village.name,
        "category": need.category_code,
        "item": need.item_code,
        "quantity": need.quantity,
        "status": claim.status,
        "expires_at": claim.expires_at,
    }


STATUS = {"not_allowed": 403, "not_found": 404}


@ops.operation(
    "/wishes/<int:wish_id>/claims", "POST", summary="Claim a micro-wish", tag="claims",
    roles=("donor",), response=ClaimOut, status=201, errors=(403, 409), idempotent=True,
)  # fmt: skip
def claim_wish(call: Call, wish_id: int) -> dict[str, Any]:
    """An approved individual donor or enterprise claims one open micro-wish: 201 for the
    claim; 409 when another donor holds it, it is no longer open, or the organization holds
    the most open claims allowed."""
    config = current_app.config
    rules = service.ClaimRules(config["DUIJIE_CLAIM_DAYS"], config["DUIJIE_CLAIM_MAX_OPEN"])
    try:
        claim = service.claim_wish(db.session, call.actor, wish_id, rules, datetime.now(UTC))
    except service.ClaimError as error:
        status = STATUS.get(error.code, 409)
        title = {403: "Forbidden", 404: "Not Found"}.get(status, "Conflict")
        raise ApiError(status, title, error.message, code=error.code) from None
    return claim_json(claim)
