"""How long a signed-in session lasts: an idle timeout and an absolute lifetime (issue 24).

The session cookie is signed, so the two moments it carries cannot be changed by its holder:
``_born`` (when it signed in) and ``_seen`` (its last request, refreshed at most once a
minute). A session unused for longer than the idle timeout, or older than its lifetime, is
emptied before anything reads the signed-in user: a copied cookie stops working on its own.
Staff and households have their own limits (web.config: DUIJIE_IDLE_MINUTES and the rest); a
session without both moments (made before this rule, or planted) is treated as expired.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from flask import Flask, current_app, flash, g, request, session
from flask_babel import gettext as _
from flask_login import user_logged_in

BORN = "_born"
SEEN = "_seen"
REFRESH_SECONDS = 60  # the last-seen moment is rewritten at most this often
KEPT = ("lang",)  # what an expired session keeps: the chosen language


def stamp(store: MutableMapping[str, Any], now: float | None = None) -> None:
    """Mark a session as signed in now (called on every sign-in)."""
    moment = int(time.time() if now is None else now)
    store[BORN] = moment
    store[SEEN] = moment


def limits(household: bool) -> tuple[int, int]:
    """(idle seconds, lifetime seconds) for a staff or a household session."""
    config = current_app.config
    if household:
        idle, life = config["DUIJIE_HOUSEHOLD_IDLE_MINUTES"], config["DUIJIE_HOUSEHOLD_MAX_HOURS"]
    else:
        idle, life = config["DUIJIE_IDLE_MINUTES"], config["DUIJIE_SESSION_MAX_HOURS"]
    return int(idle) * 60, int(life) * 3600


def expired(store: MutableMapping[str, Any], now: float) -> bool:
    """Whether the signed-in session in `store` is past its idle timeout or lifetime."""
    born, seen = store.get(BORN), store.get(SEEN)
    if not isinstance(born, int) or not isinstance(seen, int):
        return True
    idle, life = limits(str(store.get("_user_id", "")).startswith("h:"))
    return now - seen > idle or now - born > life or seen > now + REFRESH_SECONDS


def enforce() -> None:
    """Before each request: end an expired session, else note that it was used."""
    if "_user_id" not in session:
        return
    now = time.time()
    if expired(session, now):
        kept = {key: session[key] for key in KEPT if key in session}
        session.clear()
        session.update(kept)
        g.session_expired = True
        if not request.path.startswith(("/api/", "/static/")):
            flash(_("You were signed out after a time without use. Please sign in again."), "info")
        return
    if now - session[SEEN] >= REFRESH_SECONDS:
        session[SEEN] = int(now)


def _on_sign_in(sender: Flask, user: object, **extra: object) -> None:
    stamp(session)


def init_app(app: Flask) -> None:
    """Check every request's session first, before any other hook can load the user."""
    app.before_request_funcs.setdefault(None, []).insert(0, enforce)
    user_logged_in.connect(_on_sign_in, app)
