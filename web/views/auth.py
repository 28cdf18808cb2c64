"""Signing in and out."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from web import devices
from web.extensions import db
from web.forms import LoginForm
from web.models import User
from web.services.accounts import (
    authenticate,
    clear_failed_logins,
    end_sessions,
    login_attempt,
    login_buckets,
    note_failed_login,
)
from web.views.worklist import work_of

auth = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Return `target` if it is a path on this site, else the home page."""
    if target:
        parts = urlsplit(target)
        on_site = not parts.scheme and not parts.netloc
        if (
            on_site
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
        ):
            return target
    return url_for("public.home")


@auth.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    """Show the login form; sign in on valid credentials, unless too many attempts failed.

    Failed sign-ins count per username from one address (or from a device it signed in from
    before), per address, and per username from everywhere else (web.services.accounts
    .LoginBuckets); once a limit is reached the form answers 429 without looking at the
    password. Each attempt is counted before
    the password is looked at (and forgotten if it succeeds), so attempts sent at once cannot
    all slip under the limit.
    """
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data or ""
        principal = f"user:{username.strip().lower()}"
        known = devices.device_id() if devices.knows(principal) else None
        buckets = login_buckets(username, request.remote_addr, known)
        attempt = login_attempt(db.session, buckets)
        if not attempt.allowed:
            wait = attempt.retry_after
            minutes = max(1, math.ceil(wait / 60))
            message = _(
                "Too many failed sign-ins. Please wait %(minutes)s minutes and try again.",
                minutes=minutes,
            )
            response = make_response(render_template("login.html", form=form, limited=message))
            response.status_code = 429
            response.headers["Retry-After"] = str(wait)
            return response
        user = authenticate(db.session, username, form.password.data or "")
        if user is None:
            note_failed_login(db.session, username, buckets, attempt)
            db.session.commit()
            flash(_("Wrong username or password."), "error")  # the attempt stays counted
        else:
            session.clear()  # a fresh session at login: nothing carried over from before
            clear_failed_logins(db.session, buckets, attempt)
            user.last_login_at = datetime.now(UTC)
            db.session.commit()
            login_user(user)
            devices.remember(principal)
            wanted = request.args.get("next")
            work = work_of(user)
            if not wanted and work is not None:  # each role lands on its work (issue 23)
                if work.message and (work.count or user.role == "admin"):
                    flash(work.message, "info")
                return redirect(work.url)
            return redirect(safe_next(wanted))
    return render_template("login.html", form=form)


@auth.post("/logout")
@login_required
def logout() -> Response:
    """Sign out here and end this user's other sessions."""
    user = current_user._get_current_object()
    if isinstance(user, User):  # a household signs out at /h/logout
        end_sessions(user)
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("public.home"))
