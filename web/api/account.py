"""The caller's own account, so a script can check its token and role."""

from __future__ import annotations

from web.api.access import ACCOUNT_ROLES
from web.api.blueprint import ops
from web.api.registry import Call
from web.api.schemas import Out
from web.models import User

ROLES = ACCOUNT_ROLES


class Me(Out):
    """Who the token acts as."""

    id: int
    username: str
    display_name: str
    role: str
    organization_id: int | None
    village_id: int | None
    township_id: int | None
    county_id: int | None


@ops.operation("/me", "GET", summary="Who am I", tag="account", roles=ROLES, response=Me)
def me(call: Call) -> User:
    """The account the token acts as, with its role and the organization, village or township."""
    return call.actor
