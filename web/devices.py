"""A browser's device cookie: which accounts and households have signed in from it (issue 24).

Sign-in limits are counted per device (or address) and account first, and account-wide only
for devices the account has not signed in from before. A stranger guessing from anywhere
soon meets the account-wide limit, while the owner's own phone or browser, which carries this
cookie from an earlier sign-in, still gets its own few tries: nobody can keep an account or a
household locked out for everyone. The cookie is signed with the app's secret key, so it
cannot be made up; it holds a random device id and the sign-ins seen, nothing personal.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, Response, current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "duijie_device"
MAX_AGE = 365 * 24 * 3600
MAX_KNOWN = 20  # sign-ins remembered per device (the oldest fall off)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="duijie-device")


def _load() -> dict[str, Any]:
    if "device" not in g:
        data: dict[str, Any] = {}
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                loaded = _serializer().loads(raw)
            except BadSignature:
                loaded = None
            if isinstance(loaded, dict) and isinstance(loaded.get("id"), str):
                data = {"id": loaded["id"][:32], "known": list(loaded.get("known", []))}
        g.device = data
    return g.device  # type: ignore[no-any-return]


def device_id() -> str | None:
    """This browser's device id, if it carries a (validly signed) device cookie."""
    return _load().get("id")


def knows(principal: str) -> bool:
    """Whether `principal` ("user:<name>" or "household:<id>") signed in from this device."""
    return principal in _load().get("known", [])


def remember(principal: str) -> None:
    """Note a successful sign-in of `principal` on this device (a new device gets an id)."""
    data = _load()
    if "id" not in data:
        data.update(id=secrets.token_urlsafe(12), known=[])
    known = [p for p in data["known"] if p != principal] + [principal]
    data["known"] = known[-MAX_KNOWN:]
    g.device_changed = True


def _send(response: Response) -> Response:
    if g.get("device_changed") and "device" in g:
        response.set_cookie(
            COOKIE,
            _serializer().dumps(g.device),
            max_age=MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("DUIJIE_HTTPS")) or request.is_secure,
        )
    return response


def init_app(app: Flask) -> None:
    """Send the device cookie back whenever a sign-in changed it."""
    app.after_request(_send)
