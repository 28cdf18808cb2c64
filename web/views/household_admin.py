"""The village committee's side of households asking for help: register and invite households,
print their slips, reset or revoke their sign-in, read their logs, and decide their requests
(accept as a micro-wish, merge into a village need, decline with a reason).

Every page is for role "village" and shows only the committee's own village (else 404).
"""

from __future__ import annotations

from pathlib import PurePosixPath

import segno
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.wrappers import Response
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from web.auth import roles_required
from web.extensions import db
from web.models import HelpRequest, Household, Need
from web.services import households as service
from web.services import needs as needs_service
from web.services import titles, uploads
from web.services.kinds import KindError, need_kind, request_catalogue
from web.services.pairing import household_cadre
from web.settings import invitation_key
from web.unit_of_work import unit_of_work
from web.views import confirming
from web.views.kind_choices import kind_choices, kind_label
from web.views.uploaded import upload_folder

household_admin = Blueprint("household_admin", __name__)
household_admin.context_processor(confirming.template_helpers)

SLIP_SESSION_KEY = "household_slip"


class HouseholdForm(FlaskForm):
    """A household as the committee registers it: the minimum."""

    display_name = StringField(
        _l("Display name"),
        validators=[DataRequired(_l("Please enter a display name.")), Length(max=32)],
    )
    people = StringField(_l("People in the household"), default="1")
    phone = StringField(_l("Phone (optional, for contact only)"), validators=[Length(max=20)])


class AcceptForm(FlaskForm):
    """The micro-wish the request becomes."""

    title = StringField(_l("Micro-wish title"), validators=[Length(max=200)])
    # Asked for when the title seems to name the household, its phone or ID card (issue 24).
    public_ok = BooleanField(_l("I have checked: this title may be shown publicly"))
    item = SelectField(_l("Item kind"), choices=[], validate_choice=False)
    quantity = StringField(_l("Quantity"))
    value = StringField(_l("Estimated value (yuan)"))


class MergeForm(FlaskForm):
    """The village need the request joins."""

    need = SelectField(_l("Village need"), choices=[], validate_choice=False)


class DeclineForm(FlaskForm):
    """Why the request is declined; the household reads it."""

    reason = TextAreaField(_l("Reason (the household will read it)"))


class ActionForm(FlaskForm):
    """A button: only the CSRF token."""


def _household(household_id: int) -> Household:
    try:
        return service.get_household(db.session, current_user, household_id)
    except LookupError:
        abort(404)


def _request(request_id: int) -> HelpRequest:
    try:
        return service.get_village_request(db.session, current_user, request_id)
    except LookupError:
        abort(404)


def _int(raw: str | None, maximum: int) -> int | None:
    text = (raw or "").strip()
    if not text.isdigit() or len(text) > 6:
        return None
    value = int(text)
    return value if 1 <= value <= maximum else None


def _number(raw: str | None) -> float | None:
    try:
        value = float((raw or "").strip())
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


# --- households --------------------------------------------------------------------------------


@household_admin.get("/village/households")
@roles_required("village")
def households() -> str:
    """The village's households and the state of their sign-in."""
    rows = service.village_households(db.session, current_user)
    return render_template(
        "village/households.html",
        households=rows,
        states={h.id: service.sign_in_state(h) for h in rows},
        waiting=service.waiting_count(db.session, int(current_user.village_id)),
    )


@household_admin.route("/village/households/new", methods=["GET", "POST"])
@roles_required("village")
def new_household() -> Response | str:
    """Register a household and print its invitation slip."""
    form = HouseholdForm()
    if form.validate_on_submit():
        people = _int(form.people.data, 30)
        if people is None:
            form.people.errors = [_("People: a whole number from 1 to 30.")]
        else:
            try:
                with unit_of_work():
                    household, code = service.register_household(
                        db.session,
                        current_user,
                        form.display_name.data or "",
                        people,
                        form.phone.data,
                        key=invitation_key(),
                    )
            except service.HouseholdError as error:
                target = {"name": form.display_name, "people": form.people}.get(
                    error.code, form.phone
                )
                target.errors = [
                    {
                        "name": _("Please enter a display name of at most 32 characters."),
                        "people": _("People: a whole number from 1 to 30."),
                    }.get(error.code, _("Phone: digits only, 5 to 20 of them."))
                ]
            else:
                session[SLIP_SESSION_KEY] = {"id": household.id, "code": code}
                flash(
                    _("Household registered. Print its slip now: the code is shown only once."),
                    "info",
                )
                return redirect(url_for("household_admin.slip", household_id=household.id))
    return render_template("village/households_new.html", form=form)


@household_admin.get("/village/households/<int:household_id>")
@roles_required("village")
def household_page(household_id: int) -> str:
    """One household: sign-in state, reset and revoke, its requests and its log."""
    household = _household(household_id)
    requests = [
        r for r in service.inbox(db.session, current_user) if r.household_id == household.id
    ]
    return render_template(
        "village/households_detail.html",
        household=household,
        state=service.sign_in_state(household),
        requests=requests,
        events=service.events(db.session, household.id),
        form=ActionForm(),
        cadre=household_cadre(db.session, household.id),
    )


def _qr_svg(url: str) -> Markup:
    """The QR code of `url` as inline SVG markup (no inline style: the CSP allows it)."""
    qr = segno.make(url, error="m")
    svg = qr.svg_inline(scale=5, svgclass="slip-qr", title=_("QR code of the sign-in page"))
    # Bandit B704 is silenced: segno escapes the title in its own SVG; the URL is ours.
    return Markup(svg)  # noqa: S704  # nosec B704


@household_admin.get("/village/households/<int:household_id>/slip")
@roles_required("village")
def slip(household_id: int) -> str:
    """The printable invitation slip: code, household number, QR code, instructions."""
    household = _household(household_id)
    pending = session.get(SLIP_SESSION_KEY)
    code = None
    if isinstance(pending, dict) and pending.get("id") == household.id:
        code = str(pending.get("code"))
    qr = None
    if code is not None:
        # The code rides in the fragment: browsers never send it, so no server log holds it.
        qr = _qr_svg(url_for("household.start", _external=True) + f"#code={code}")
    return render_template(
        "village/households_slip.html",
        household=household,
        code=service.format_code(code) if code else None,
        qr=qr,
        sign_in_url=url_for("household.start", _external=True),
        days=service.INVITE_DAYS,
        form=ActionForm(),
    )


@household_admin.post("/village/households/<int:household_id>/invite")
@roles_required("village")
def invite(household_id: int) -> Response:
    """A new invitation code (first invitation or reset): old PIN cleared, sessions ended."""
    household = _household(household_id)
    if ActionForm().validate_on_submit():
        with unit_of_work():
            code = service.invite(db.session, current_user, household, key=invitation_key())
        session[SLIP_SESSION_KEY] = {"id": household.id, "code": code}
        flash(_("New invitation code made; the old PIN no longer works. Print the slip."), "info")
        return redirect(url_for("household_admin.slip", household_id=household.id))
    return redirect(url_for("household_admin.household_page", household_id=household.id))


@household_admin.post("/village/households/<int:household_id>/revoke")
@roles_required("village")
def revoke(household_id: int) -> Response:
    """End the household's sign-in."""
    household = _household(household_id)
    if ActionForm().validate_on_submit():
        with unit_of_work():
            service.revoke(db.session, current_user, household)
        session.pop(SLIP_SESSION_KEY, None)
        flash(_("Sign-in revoked: the household can no longer sign in."), "info")
    return redirect(url_for("household_admin.household_page", household_id=household.id))


# --- the inbox ----------------------------------------------------------------------------------


@household_admin.get("/village/requests")
@roles_required("village")
def inbox() -> str:
    """Household requests: those waiting for a decision first."""
    return render_template(
        "village/households_inbox.html", requests=service.inbox(db.session, current_user)
    )


def _decide_page(
    request: HelpRequest,
    accept_form: AcceptForm | None = None,
    merge_form: MergeForm | None = None,
    decline_form: DeclineForm | None = None,
) -> str:
    suggested, others = service.merge_candidates(db.session, current_user, request)
    catalogue = request_catalogue(db.session)
    if accept_form is None:
        accept_form = AcceptForm(formdata=None)
        accept_form.title.data = request.what[:200]
        accept_form.quantity.data = str(request.quantity)
        # Pre-filled with the kind recognised from the household's words; the committee
        # confirms or changes it.
        accept_form.item.data = request.item_code or ""
    accept_form.item.choices = [SelectChoice("", _("Recognise it from the title"))] + [
        c
        for c in kind_choices(catalogue, parents=False)
        if (c.render_kw or {}).get("data-category") == request.category_code
    ]
    asked = catalogue.get(request.item_code) if request.item_code else None
    merge_form = merge_form or MergeForm(formdata=None)
    merge_form.need.choices = [(str(n.id), n.title) for n in suggested + others]
    view = service.describe(db.session, request, [])
    return render_template(
        "village/households_request.html",
        request=request,
        asked=kind_label(asked) if asked else None,
        state=view.state,
        suggested=suggested,
        others=others,
        accept_form=accept_form,
        merge_form=merge_form,
        decline_form=decline_form or DeclineForm(formdata=None),
        cap=needs_service.WISH_VALUE_CAP,
    )


@household_admin.get("/village/requests/<int:request_id>")
@roles_required("village")
def request_page(request_id: int) -> str:
    """One household request with the duplicate finder's suggestions and the three decisions."""
    return _decide_page(_request(request_id))


@household_admin.get("/village/requests/<int:request_id>/photo")
@roles_required("village")
def photo(request_id: int) -> Response:
    """The photo a household of this village sent with its request."""
    name = _request(request_id).photo_path
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


def _decided_already() -> None:
    flash(_("This request has already been decided."), "error")


@household_admin.post("/village/requests/<int:request_id>/accept")
@roles_required("village")
def accept(request_id: int) -> Response | str:
    """Accept the request as the household's micro-wish (the township verifies it next)."""
    request = _request(request_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        return _decide_page(request, accept_form=form)
    quantity = _int(form.quantity.data, service.MAX_QUANTITY)
    value = _number(form.value.data)
    cap = needs_service.WISH_VALUE_CAP
    if quantity is None:
        form.quantity.errors = [_("Quantity: a whole number from 1 to 99.")]
    if value is None or not 0 < value <= cap:
        form.value.errors = [
            _("A micro-wish is worth more than 0 and at most %(cap)s yuan.", cap=cap)
        ]
    if not (form.title.data or "").strip():
        form.title.errors = [_("Please give the micro-wish a title.")]
    else:
        household = db.session.get(Household, request.household_id)
        names = [household.display_name] if household is not None else []
        found = titles.personal_data_in(form.title.data or "", names)
        if found and not form.public_ok.data:
            form.title.errors = [titles.personal_data_message(found)]
            form.needs_public_ok = True  # the page asks for the confirmation
    kind = None
    if not form.title.errors:
        try:
            kind = need_kind(
                request_catalogue(db.session), request.category_code, form.item.data, (),
                title=form.title.data or "", description=request.what,
            )  # fmt: skip
        except KindError as error:
            form.item.errors = [error.message]
    if form.quantity.errors or form.value.errors or form.title.errors or form.item.errors:
        return _decide_page(request, accept_form=form)
    try:
        with unit_of_work():
            service.accept(
                db.session,
                current_user,
                request,
                title=form.title.data or "",
                quantity=quantity or 1,
                value=value or 0,
                kind=kind,
            )
    except service.HouseholdError as error:
        if error.code != "decided":
            form.value.errors = [_("This micro-wish could not be saved.")]
            return _decide_page(request, accept_form=form)
        _decided_already()
    else:
        flash(_("Accepted as a micro-wish; it waits for the township to verify it."), "info")
    return redirect(url_for("household_admin.inbox"))


@household_admin.post("/village/requests/<int:request_id>/merge")
@roles_required("village")
def merge(request_id: int) -> Response | str:
    """Count the request under an open village need."""
    request = _request(request_id)
    form = MergeForm()
    if form.validate_on_submit():
        raw = form.need.data or ""
        try:
            if not raw.isdigit():
                raise service.HouseholdError("need")
            with unit_of_work():
                service.merge(db.session, current_user, request, int(raw))
        except service.HouseholdError as error:
            if error.code == "kind":
                form.need.errors = [_merge_kind_message(request, int(raw))]
                return _decide_page(request, merge_form=form)
            if error.code != "decided":
                form.need.errors = [_("Please pick an open need of your village.")]
                return _decide_page(request, merge_form=form)
            _decided_already()
        else:
            flash(_("Merged into the village need."), "info")
    return redirect(url_for("household_admin.inbox"))


def _merge_kind_message(request: HelpRequest, need_id: int) -> str:
    """Why a request may not join a need of another kind, naming both kinds."""
    catalogue = request_catalogue(db.session)
    need = db.session.get(Need, need_id)
    asked = catalogue.get(request.item_code or "")
    has = catalogue.get(need.item_code or "") if need is not None else None
    return _(
        "The household asks for %(asked)s but this need is for %(need)s: aid of one kind is "
        "never counted for another. Pick a need of the same kind, or accept the request as a "
        "micro-wish.",
        asked=kind_label(asked) if asked else request.what,
        need=kind_label(has) if has else _("a kind not yet named"),
    )


@household_admin.post("/village/requests/<int:request_id>/decline")
@roles_required("village")
def decline(request_id: int) -> Response | str:
    """Decline the request with a reason the household reads."""
    request = _request(request_id)
    form = DeclineForm()
    if form.validate_on_submit():
        if not confirming.confirmed(confirming.decline_question()):
            return _decide_page(request, decline_form=form)
        try:
            with unit_of_work():
                service.decline(db.session, current_user, request, form.reason.data or "")
        except service.HouseholdError as error:
            if error.code != "decided":
                form.reason.errors = [_("Please give a reason of at most 300 characters.")]
                return _decide_page(request, decline_form=form)
            _decided_already()
        else:
            flash(_("Declined; the household sees your reason."), "info")
    return redirect(url_for("household_admin.inbox"))
