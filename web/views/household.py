"""A household's own pages (/h/): sign in with the invitation code and a PIN, ask for help,
follow each request, confirm that help arrived. Made for a small phone: big targets, few words.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import PurePosixPath
from typing import Any, TypeVar

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.wrappers import Response
from wtforms import PasswordField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from web import devices
from web.extensions import db
from web.services import households as service
from web.services import uploads
from web.settings import invitation_key
from web.unit_of_work import unit_of_work
from web.views.uploaded import photo_from, upload_folder

household = Blueprint("household", __name__)

F = TypeVar("F", bound=Callable[..., Any])
INVITE_SESSION_KEY = "household_invite"


class InviteForm(FlaskForm):
    """The one-time invitation code from the slip."""

    code = StringField(_l("Invitation code"), validators=[DataRequired(), Length(max=32)])


class PinForm(FlaskForm):
    """A new PIN, typed twice."""

    pin = PasswordField(_l("New PIN (4 to 6 digits)"))
    pin2 = PasswordField(_l("The same PIN again"))


class SignInForm(FlaskForm):
    """Household number and PIN."""

    number = StringField(_l("Household number"), validators=[DataRequired(), Length(max=9)])
    pin = PasswordField(_l("PIN"), validators=[DataRequired(), Length(max=6)])


class AskForm(FlaskForm):
    """What the household asks for: a kind (picked from pictures), what, how many, a photo."""

    category = RadioField(
        _l("What kind of help"), choices=list(service.HOUSEHOLD_CATEGORIES), validate_choice=False
    )
    what = TextAreaField(_l("What do you need?"))
    quantity = StringField(_l("How many"), default="1")
    photo = FileField(_l("Photo (optional)"))


class ActionForm(FlaskForm):
    """A button: only the CSRF token."""


def _is_household() -> bool:
    return bool(
        current_user.is_authenticated and getattr(current_user, "role", None) == "household"
    )


def household_required(view: F) -> F:
    """Let only a signed-in household through; anyone else goes to the household sign-in."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not _is_household():
            return redirect(url_for("household.start"))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


# What a household's session may open besides its own pages: public pages and signing out.
OPEN_TO_HOUSEHOLDS = (
    "household.",
    "public.",
    "transparency.",
    "exits.index",
    "exits.village",
    "honours.roll",
    "honours.check_form",
    "honours.check_page",
    "dashboard.index",
    "health.",
    "auth.",
    "donor.register",
    "static",
)


@household.before_app_request
def keep_households_to_their_pages() -> None:
    """A household session opens only household and public pages: 403 elsewhere, including
    pages that only ask for a signed-in user (the account page, API tokens)."""
    endpoint = request.endpoint
    if endpoint is None or getattr(current_user, "role", None) != "household":
        return
    if not any(endpoint == p or endpoint.startswith(p) for p in OPEN_TO_HOUSEHOLDS):
        abort(403)


def _ip() -> str:
    return request.remote_addr or "unknown"


def _minutes(seconds: int) -> int:
    return max(1, (seconds + 59) // 60)


def _sign_in_message(error: service.HouseholdError) -> str:
    messages = {
        "bad_code": _(
            "This invitation code is not right. Check it, or ask your village committee."
        ),
        "expired_code": _(
            "This invitation code has expired. Ask your village committee for a new one."
        ),
        "wrong_pin": _("Wrong household number or PIN."),
        "pin_format": _("The PIN must be 4 to 6 digits."),
        "pin_trivial": _(
            "This PIN is too easy to guess (repeated or running digits, a year, the household "
            "number). Please choose another."
        ),
    }
    if error.code == "locked":
        return _(
            "Too many wrong tries. Please try again in %(minutes)s minutes.",
            minutes=_minutes(error.retry_after),
        )
    return messages.get(error.code, _("Sign-in failed. Please try again."))


def _start_page(
    invite_form: InviteForm | None = None, sign_in_form: SignInForm | None = None
) -> str:
    invite_form = invite_form or InviteForm(formdata=None)
    if not invite_form.code.data and request.args.get("code"):
        invite_form.code.data = service.normalise_code(request.args["code"])[:16]
    return render_template(
        "household/start.html",
        invite_form=invite_form,
        sign_in_form=sign_in_form or SignInForm(formdata=None),
        has_code=bool(invite_form.code.data),
    )


@household.get("/household/")
def legacy() -> Response:
    """Another name for the household's sign-in page (the QR code's ?code= is kept)."""
    return redirect(url_for("household.start", **request.args))


@household.get("/h/")
def start() -> Response | str:
    """Sign in with household number and PIN, or for the first time with the invitation code."""
    if _is_household():
        return redirect(url_for("household.home"))
    return _start_page()


@household.post("/h/invite")
def invite() -> Response | str:
    """Check the invitation code; then the household sets its PIN."""
    form = InviteForm()
    if not form.validate_on_submit():
        return _start_page(invite_form=form)
    try:
        with unit_of_work():
            found = service.redeem_invitation(
                db.session, form.code.data or "", _ip(), key=invitation_key()
            )
    except service.HouseholdError as error:
        flash(_sign_in_message(error), "error")
        return _start_page(invite_form=form)
    session[INVITE_SESSION_KEY] = {"id": found.id, "hash": found.invite_hash}
    return redirect(url_for("household.pin"))


@household.route("/h/pin", methods=["GET", "POST"])
def pin() -> Response | str:
    """Set the PIN, using the invitation code just checked (once)."""
    pending = session.get(INVITE_SESSION_KEY)
    if not isinstance(pending, dict) or "id" not in pending:
        flash(_("First type the invitation code from your slip."), "error")
        return _start_page()
    form = PinForm()
    if form.validate_on_submit():
        if (form.pin.data or "") != (form.pin2.data or ""):
            form.pin2.errors = [_("The two PINs are not the same.")]
        else:
            try:
                with unit_of_work():
                    principal = service.set_pin(
                        db.session, int(pending["id"]), str(pending["hash"]), form.pin.data or ""
                    )
            except service.HouseholdError as error:
                if error.code not in ("pin_format", "pin_trivial"):
                    session.pop(INVITE_SESSION_KEY, None)
                    flash(_sign_in_message(error), "error")
                    return redirect(url_for("household.start"))
                form.pin.errors = [_sign_in_message(error)]
            else:
                lang = session.get("lang")
                session.clear()  # a fresh session at sign-in
                if lang:
                    session["lang"] = lang
                login_user(principal)
                devices.remember(f"household:{principal.household_id}")
                flash(
                    _("Your PIN is set. Next time sign in with household number %(number)s.",
                      number=principal.household_id),
                    "info",
                )  # fmt: skip
                return redirect(url_for("household.home"))
    return render_template("household/pin.html", form=form, number=pending["id"])


@household.post("/h/login")
def login() -> Response | str:
    """Sign in with household number and PIN (rate-limited per household and per address)."""
    form = SignInForm()
    if not form.validate_on_submit():
        return _start_page(sign_in_form=form)
    try:
        number = (form.number.data or "").strip()
        known = devices.device_id() if devices.knows(f"household:{number}") else None
        with unit_of_work():
            principal = service.sign_in(db.session, number, form.pin.data or "", _ip(), known)
    except service.HouseholdError as error:
        flash(_sign_in_message(error), "error")
        return _start_page(sign_in_form=form)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(principal)
    devices.remember(f"household:{principal.household_id}")
    return redirect(url_for("household.home"))


@household.post("/h/logout")
def logout() -> str:
    """Sign out (a page saying so, with the way back in): the household's sessions end on the
    server too, so a copy of this phone's cookie no longer signs anyone in."""
    if _is_household():
        with unit_of_work():
            service.sign_out(db.session, current_user.household_id)
        logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return render_template("household/signed_out.html")


@household.get("/h/home")
@household_required
def home() -> str:
    """The household's requests with their state, and the big "ask for help" button."""
    views = service.household_requests(db.session, current_user.household_id)
    open_count = sum(1 for v in views if v.state in service.STEPS[:-1])
    return render_template(
        "household/home.html",
        views=views,
        can_ask=open_count < service.MAX_OPEN_REQUESTS,
        max_open=service.MAX_OPEN_REQUESTS,
        number=current_user.household_id,
    )


def _ask_message(error: service.HouseholdError) -> str:
    return {
        "category": _("Please pick a kind of help."),
        "what": _("Please say what you need, in at most 200 characters."),
        "quantity": _("How many: a number from 1 to 99."),
        "too_many_open": _(
            "You already have %(count)s requests in progress. Please wait until one is done.",
            count=service.MAX_OPEN_REQUESTS,
        ),
        "too_many_today": _(
            "You have asked %(count)s times today. Please try again tomorrow.",
            count=service.SUBMISSIONS_PER_DAY,
        ),
    }.get(error.code, _("This request could not be sent."))


@household.route("/h/ask", methods=["GET", "POST"])
@household_required
def ask() -> Response | str:
    """Ask for help: pick a kind from pictures, say what and how many, add a photo if wished."""
    form = AskForm()
    if form.is_submitted() and form.validate():
        raw_quantity = (form.quantity.data or "").strip()
        quantity = int(raw_quantity) if raw_quantity.isdigit() and len(raw_quantity) < 4 else 0
        photo = photo_from(form.photo.data)
        try:
            with unit_of_work():
                service.submit_request(
                    db.session,
                    current_user.household_id,
                    form.category.data or "",
                    form.what.data or "",
                    quantity,
                    photo,
                )
        except service.HouseholdError as error:
            target = {"category": form.category, "what": form.what, "quantity": form.quantity}
            if error.code in target:
                target[error.code].errors = [_ask_message(error)]
            else:
                flash(_ask_message(error), "error")
                return redirect(url_for("household.home"))
        except uploads.UploadError as error:
            form.photo.errors = [
                _("The photo could not be saved. Please try again later.")
                if "not stored" in str(error)
                else _(
                    "This photo cannot be used: send a JPG, PNG or WebP picture of at most 5 MB."
                )
            ]
        else:
            flash(_("Sent. Your village committee will look at it."), "info")
            return redirect(url_for("household.home"))
    elif form.is_submitted():
        flash(_("This request could not be sent."), "error")
    return render_template("household/ask.html", form=form, kinds=service.HOUSEHOLD_CATEGORIES)


def _own(request_id: int) -> service.RequestView:
    try:
        return service.own_request(db.session, current_user.household_id, request_id)
    except LookupError:
        abort(404)


@household.get("/h/requests/<int:request_id>")
@household_required
def request_page(request_id: int) -> str:
    """One request: its steps so far and what the household can do now."""
    return render_template("household/request.html", view=_own(request_id), form=ActionForm())


@household.get("/h/requests/<int:request_id>/photo")
@household_required
def photo(request_id: int) -> Response:
    """The photo the household sent with its own request."""
    name = _own(request_id).request.photo_path
    if not name:
        abort(404)
    try:
        path = upload_folder().path_of(name)
    except uploads.UploadError:
        abort(404)
    if not path.is_file():
        abort(404)
    mimetype = uploads.MIMETYPES.get(PurePosixPath(name).suffix, "application/octet-stream")
    return send_file(path, mimetype=mimetype, max_age=0)


@household.post("/h/requests/<int:request_id>/withdraw")
@household_required
def withdraw(request_id: int) -> Response:
    """Withdraw an own request (before the committee decides, or before help is arranged)."""
    _own(request_id)
    if ActionForm().validate_on_submit():
        try:
            with unit_of_work():
                service.withdraw_request(db.session, current_user.household_id, request_id)
        except service.HouseholdError:
            flash(_("This request can no longer be withdrawn."), "error")
        else:
            flash(_("Withdrawn."), "info")
    return redirect(url_for("household.request_page", request_id=request_id))


@household.post("/h/requests/<int:request_id>/confirm")
@household_required
def confirm(request_id: int) -> Response:
    """Say that the help arrived."""
    _own(request_id)
    if ActionForm().validate_on_submit():
        try:
            with unit_of_work():
                service.confirm_arrival(db.session, current_user.household_id, request_id)
        except service.HouseholdError:
            flash(_("There is nothing to confirm for this request yet."), "error")
        else:
            flash(_("Thank you. We have noted that the help arrived."), "info")
    return redirect(url_for("household.request_page", request_id=request_id))
