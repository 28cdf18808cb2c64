"""Journey 1, donor: register an organization, post, list, edit and withdraw offers."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from matcher.categories import CATEGORIES
from web import clock
from web.auth import roles_required
from web.caching import cached_page
from web.extensions import db
from web.forms import DecisionForm, OfferForm, RegisterOrganizationForm
from web.i18n import category_name
from web.models import Offer
from web.services import offers as service
from web.services.gaps import HelpTarget, help_target
from web.services.kinds import KindError, offer_kinds, request_catalogue
from web.services.organizations import OrganizationError, can_post_offers, register_organization
from web.services.pairing import current_villages
from web.unit_of_work import unit_of_work
from web.views import confirming
from web.views.auth import safe_next
from web.views.kind_choices import kind_choices

donor = Blueprint("donor", __name__)
MAX_ID = 2_147_483_647  # the largest id a database integer holds
donor.context_processor(confirming.template_helpers)


def _refusal(code: str) -> str:
    """The message shown when the offer service refuses a change."""
    messages = {
        "not_approved": _(
            "Your organization has not been approved yet; offers open after vetting."
        ),
        "allocated": _("Part of this offer is already allocated; it can no longer be changed."),
        "not_open": _("This offer is no longer open."),
    }
    return str(messages.get(code, code))


def _offer_form(offer: Offer | None = None) -> OfferForm:
    """The offer form with its choices filled in (and the offer's values on a first GET)."""
    form = OfferForm(obj=offer) if offer is not None else OfferForm()
    form.kept = {"valid_until": offer.valid_until} if offer is not None else {}
    form.category.choices = [SelectChoice(c.code, category_name(c.code)) for c in CATEGORIES]
    form.counties.choices = [
        SelectChoice(code, name) for code, name in service.county_choices(db.session)
    ]
    form.items.choices = kind_choices(request_catalogue(db.session), parents=True)
    paired = current_villages(db.session, current_user.organization_id or 0, clock.today())
    form.villages.choices = [SelectChoice(v.code, v.name) for v in paired]
    if offer is None and paired and not form.is_submitted():
        form.villages.data = [v.code for v in paired]  # a paired unit's villages by default
    if offer is not None and not form.is_submitted():
        form.villages.data = [v.code for v in offer.villages]
        form.category.data = offer.category_code
        form.items.data = offer.item_codes
        form.counties.data = [c.code for c in offer.counties]
        for name in ("quantity", "min_lot", "max_villages", "dispatch_lat", "dispatch_lon"):
            value = getattr(offer, name)
            getattr(form, name).data = "" if value is None else str(value)
    return form


def prefill(form: OfferForm, target: HelpTarget) -> None:
    """The offer form aimed at one gap: its category and kind, the units still wanted, and
    limited to its village (so the next week's run can give it only there)."""
    form.category.data = target.category
    form.items.data = [target.item]
    form.title.data = target.title
    form.quantity.data = str(target.remaining)
    form.min_lot.data = "1"
    form.valid_from.data = target.valid_from
    form.valid_until.data = target.valid_until
    form.gap_villages.data = target.village_code


def _chosen_villages(form: OfferForm) -> tuple[str, ...] | None:
    """The villages the offer is limited to: a gap's village (我来帮), else the paired villages
    ticked on the form; None when the form did not show them (a paired unit's default applies)."""
    gap = tuple(c for c in (form.gap_villages.data or "").split(",") if c.strip())
    if gap:
        return gap
    if form.villages.choices and form.villages_shown.raw_data:
        return tuple(form.villages.data or ())
    return None


def _input(form: OfferForm) -> service.OfferInput | None:
    """The validated form as the service's input; None with the kind's error on the form."""

    def number(raw: str | None) -> str:
        return (raw or "").strip()

    category = form.category.data or ""
    try:
        kinds = offer_kinds(
            request_catalogue(db.session), category, form.items.data,
            general=bool(form.general.data), title=form.title.data or "",
            description=form.description.data or "",
        )  # fmt: skip
    except KindError as error:
        form.items.errors = [error.message]
        return None
    lat, lon = number(form.dispatch_lat.data), number(form.dispatch_lon.data)
    max_villages = number(form.max_villages.data)
    return service.OfferInput(
        category=category,
        title=form.title.data or "",
        description=form.description.data or "",
        quantity=int(number(form.quantity.data)),
        min_lot=int(number(form.min_lot.data) or 1),
        max_villages=int(max_villages) if max_villages else None,
        indivisible=bool(form.indivisible.data),
        county_codes=tuple(form.counties.data or ()),
        dispatch_lat=float(lat) if lat else None,
        dispatch_lon=float(lon) if lon else None,
        valid_from=form.valid_from.data,
        valid_until=form.valid_until.data,
        items=kinds.items,
        general=kinds.general,
        items_inferred=kinds.inferred,
        village_codes=_chosen_villages(form),
    )


def _own_offer(offer_id: int) -> Offer:
    """The current user's organization's offer, or 404 (never reveal another's)."""
    try:
        return service.get_own_offer(db.session, current_user, offer_id)
    except LookupError:
        abort(404)


@donor.route("/register", methods=["GET", "POST"])
def register() -> Response | str:
    """Let an organization register itself; it then waits for vetting."""
    form = RegisterOrganizationForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                register_organization(
                    db.session, form.name.data or "", form.kind.data or "",
                    form.username.data or "", form.password.data or "",
                )  # fmt: skip
        except OrganizationError as error:
            if error.code == "account":
                form.username.errors.append(_("This username is taken or not allowed."))
            else:
                form.name.errors.append(_("Please check the organization name and kind."))
        else:
            flash(
                _("Registered. An administrator will vet your organization; sign in to follow it."),
                "info",
            )
            # Back to what the visitor came for (a gap's 我来帮), on this site only.
            wanted = request.args.get("next")
            back = wanted if wanted and safe_next(wanted) == wanted else None
            return redirect(url_for("auth.login", next=back))
    return render_template("donor/register.html", form=form)


@donor.get("/donor/offers")
@roles_required("donor")
@cached_page
def offers() -> str:
    """The organization's offers with what remains of each."""
    return render_template(
        "donor/offers.html",
        offers=service.own_offers(db.session, current_user),
        organization=current_user.organization,
        can_post=can_post_offers(current_user),
        form=DecisionForm(),
    )


def _save(form: OfferForm, offer: Offer | None) -> Response | None:
    """Save the offer unless a likely duplicate needs confirming first; None to re-show the form."""
    data = _input(form)
    if data is None:
        return None
    duplicates = service.likely_duplicate_offers(
        db.session, current_user, data, exclude_id=offer.id if offer else None
    )
    if duplicates and not form.confirm_duplicate.data:
        form.duplicates = duplicates
        return None
    try:
        if offer is None:
            with unit_of_work():
                service.create_offer(db.session, current_user, data)
            flash(_("Offer saved."), "info")
        else:
            with unit_of_work():
                service.update_offer(db.session, current_user, offer, data)
            flash(_("Offer updated."), "info")
    except service.OfferError as error:
        flash(_refusal(error.code), "error")
    return redirect(url_for("donor.offers"))


@donor.route("/donor/offers/new", methods=["GET", "POST"])
@roles_required("donor")
def new_offer() -> Response | str:
    """Post an offer, warning first about a near-identical open one."""
    if not can_post_offers(current_user):
        return render_template("donor/not_approved.html", message=_refusal("not_approved"))
    form = _offer_form()
    target = None
    wanted = request.args.get("need", "")
    if wanted.isdigit() and int(wanted) <= MAX_ID:
        target = help_target(db.session, int(wanted), clock.today(), datetime.now(UTC))
        if target is not None and not form.is_submitted():
            prefill(form, target)
    if form.validate_on_submit() and (done := _save(form, None)) is not None:
        return done
    return render_template("donor/offer_form.html", form=form, offer=None, target=target)


@donor.route("/donor/offers/<int:offer_id>/edit", methods=["GET", "POST"])
@roles_required("donor")
def edit_offer(offer_id: int) -> Response | str:
    """Edit an own offer while nothing of it is allocated."""
    offer = _own_offer(offer_id)
    if offer.allocated != 0 or offer.status != "open":
        flash(_refusal("allocated" if offer.allocated else "not_open"), "error")
        return redirect(url_for("donor.offers"))
    form = _offer_form(offer)
    if form.validate_on_submit() and (done := _save(form, offer)) is not None:
        return done
    return render_template("donor/offer_form.html", form=form, offer=offer)


@donor.post("/donor/offers/<int:offer_id>/withdraw")
@roles_required("donor")
def withdraw_offer(offer_id: int) -> Response:
    """Withdraw an own offer while nothing of it is allocated."""
    offer = _own_offer(offer_id)
    if DecisionForm().validate_on_submit() and confirming.confirmed(
        confirming.withdraw_question(offer.title)
    ):
        try:
            with unit_of_work():
                service.withdraw_offer(db.session, current_user, offer)
            flash(_("Offer withdrawn."), "info")
        except service.OfferError as error:
            flash(_refusal(error.code), "error")
    return redirect(url_for("donor.offers"))
