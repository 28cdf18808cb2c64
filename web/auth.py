"""Sessions and roles: how a signed-in user is loaded and how views demand a role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from web.extensions import db
from web.models import User
from web.services.households import HouseholdPrincipal, load_principal

F = TypeVar("F", bound=Callable[..., Any])


def load_user(user_id: str) -> User | HouseholdPrincipal | None:
    """Load the user from a session id "id:version"; an outdated version ends the session.

    A household's session id is "h:<household id>:<version>": it loads a HouseholdPrincipal,
    whose role "household" no roles_required view lets in.
    """
    if user_id.startswith("h:"):
        return load_principal(db.session, user_id)
    raw_id, _, raw_version = user_id.partition(":")
    if not raw_id.isdigit() or not raw_version.isdigit():
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or not user.active or user.session_version != int(raw_version):
        return None
    return user


def roles_required(*roles: str) -> Callable[[F], F]:
    """Let a view through only for signed-in users holding one of `roles`."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate
