"""What the audit trail records and how an event is hashed: the audited models, the masked and
skipped columns, the canonical JSON of a value, the chained HMAC. web.services.audit writes
events in this form, web.services.audit_verify checks them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.sql import ClauseElement

from web.models import (
    Allocation,
    AllocationRun,
    ApiToken,
    HelpRequest,
    Household,
    HouseholdCadre,
    Kind,
    Need,
    Offer,
    Organization,
    User,
    Village,
    VillagePairing,
    VillageResponsible,
)

GENESIS = "0" * 64
MASK = "changed"
COMPUTED = "(computed)"

# Audited model -> entity name in the trail.
ENTITIES: dict[type, str] = {
    Offer: "offer",
    Need: "need",
    User: "user",
    Organization: "organization",
    ApiToken: "api_token",
    Household: "household",
    HelpRequest: "help_request",
    AllocationRun: "run",
    Allocation: "allocation",
    # A village's status, exit year and figures (imports change them) weigh in the allocation.
    Village: "village",
    # The catalogue: a kind added, renamed, revalued or retired changes what fits what.
    Kind: "kind",
    # The pairing register (一帮一联): who supports a village, its leaders, a household's cadre.
    VillagePairing: "pairing",
    VillageResponsible: "responsible",
    HouseholdCadre: "household_cadre",
}
# Secrets and household personal data: the trail only says that they changed.
MASKED: dict[str, frozenset[str]] = {
    "user": frozenset({"password_hash"}),
    "api_token": frozenset({"token_hash"}),
    "household": frozenset({"display_name", "phone", "invite_hash", "pin_hash"}),
    "responsible": frozenset({"phone"}),
    "household_cadre": frozenset({"phone"}),
}
# Left out: bookkeeping, a run's bulky solver input/output/metrics and its live job progress.
SKIPPED: dict[str, frozenset[str]] = {
    "run": frozenset({"input", "output", "metrics", "progress"}),
    "api_token": frozenset({"last_used_at"}),
}
ALWAYS_SKIPPED = frozenset({"created_at", "updated_at"})

def plain(value: Any) -> Any:
    """A JSON value for a column value, the same whichever backend stored it."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, ClauseElement):
        return COMPUTED
    if isinstance(value, dict | list | tuple | str | int | float | bool) or value is None:
        return json.loads(json.dumps(value, default=str))
    return str(value)


def canonical(fields: dict[str, Any]) -> bytes:
    """The bytes an event's hash is taken over."""
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(
    *,
    prev_hash: str,
    at: datetime,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    key: bytes | None = None,
) -> str:
    """HMAC-SHA-256 under `key` (plain SHA-256 without one) of an event's fields, chained to
    the previous event through `prev_hash`."""
    fields = {
        "prev": prev_hash,
        "at": plain(at),
        "actor": actor_id,
        "action": action,
        "entity": entity,
        "id": entity_id,
        "before": before,
        "after": after,
    }
    if key is not None:
        return hmac.new(key, canonical(fields), hashlib.sha256).hexdigest()
    return hashlib.sha256(canonical(fields)).hexdigest()




# ---------------------------------------------------------------------------------------------
# An audited row's columns and values


def columns(obj: Any, entity: str) -> list[str]:
    skipped = ALWAYS_SKIPPED | SKIPPED.get(entity, frozenset())
    return [a.key for a in inspect(type(obj)).column_attrs if a.key not in skipped]


def collections(obj: Any) -> list[str]:
    """Many-to-many collections (an offer's counties and villages, a unit's paired villages)."""
    return [r.key for r in inspect(type(obj)).relationships if r.secondary is not None]


def ids(items: Any) -> list[Any]:
    return sorted(primary_key(item) for item in items)


def shown(entity: str, key: str, value: Any) -> Any:
    return MASK if key in MASKED.get(entity, frozenset()) else plain(value)


def primary_key(obj: Any) -> str:
    """The primary key as text (in after_flush a new row's identity is not yet set)."""
    identity = inspect(type(obj)).primary_key_from_instance(obj)
    return ",".join(str(part) for part in identity)
