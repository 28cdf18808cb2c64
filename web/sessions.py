"""How long a signed-in session lasts: an idle timeout and an absolute lifetime (issue 24).

The session cookie is signed, so the two moments it carries cannot be changed by its holder:
``_born`` (when it signed in) and ``_seen`` (its last request, refreshed at most once a
minute). A session unused for longer than the idle timeout, or older than its lifetime, is
emptied before anything reads the signed-in user: a copied cookie stops working on its own.
Staff and households have their own limits (web.config: DUIJIE_IDLE_MINUTES and the rest); a
session without both moments (made before this rule, or planted) is treated as expired.

A staff session also names its sign-in row (``_sid``, web.services.signins): when the row is
gone (ended from the account page, or by a sign-out elsewhere) the session is emptied the same
way. The row's last-seen moment follows ``_seen``.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any, Literal

from flask import Flask, current_app, flash, g, request, session
from flask_babel import gettext as _
from flask_login import user_logged_in

from web.extensions import db
from web.models import SignIn, User
from web.services import signins

BORN = "_born"
SEEN = "_seen"
SID = "_sid"
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
        _end(_("You were signed out after a time without use. Please sign in again."))
        return
    row = _sign_in()
    if row is False:
        _end(_("This session was signed out from your account page. Please sign in again."))
        return
    if now - session[SEEN] >= REFRESH_SECONDS:
        session[SEEN] = int(now)
        if row is not None:
            signins.seen(row, datetime.fromtimestamp(now, UTC))
            db.session.commit()


def _end(message: str) -> None:
    """Empty the session but its language, and tell a person why."""
    kept = {key: session[key] for key in KEPT if key in session}
    session.clear()
    session.update(kept)
    g.session_expired = True
    if not request.path.startswith(("/api/", "/static/")):
        flash(message, "info")


def _sign_in() -> SignIn | Literal[False] | None:
    """This staff session's sign-in row; None for a session without one (a household's, or one
    made before sign-ins were listed); False when its row was ended."""
    sid = session.get(SID)
    user_id = str(session.get("_user_id", ""))
    if sid is None or user_id.startswith("h:"):
        return None
    row = db.session.get(SignIn, sid) if isinstance(sid, int) else None
    if row is None or str(row.user_id) != user_id.partition(":")[0]:
        return False
    return row


def _on_sign_in(sender: Flask, user: object, **extra: object) -> None:
    stamp(session)
    if not isinstance(user, User):
        return
    row = _sign_in()
    if not row:  # a fresh sign-in; signing in again after "sign out everywhere else" keeps it
        row = signins.start(
            db.session,
            user,
            request.headers.get("User-Agent", ""),
            request.remote_addr or "",
        )
        db.session.commit()
    session[SID] = row.id


def init_app(app: Flask) -> None:
    """Check every request's session first, before any other hook can load the user."""
    app.before_request_funcs.setdefault(None, []).insert(0, enforce)
    user_logged_in.connect(_on_sign_in, app)
