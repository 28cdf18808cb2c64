"""Administrator pages: vetting organizations and creating staff accounts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from web.auth import roles_required
from web.extensions import db
from web.forms import DecisionForm, StaffAccountForm
from web.services.accounts import reset_staff_password, set_staff_active
from web.services.organizations import (
    OrganizationError,
    create_staff_account,
    decide_vetting,
    list_organizations,
    list_staff,
)
from web.unit_of_work import unit_of_work

admin = Blueprint("admin", __name__, url_prefix="/admin")


@admin.get("/organizations")
@roles_required("admin")
def organizations() -> str:
    """Every organization, pending ones first, with vetting buttons."""
    return render_template(
        "admin/organizations.html",
        organizations=list_organizations(db.session),
        form=DecisionForm(),
    )


@admin.post("/organizations/<int:organization_id>/vetting")
@roles_required("admin")
def vet(organization_id: int) -> Response:
    """Approve, reject or suspend one organization."""
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                organization = decide_vetting(db.session, organization_id, form.decision.data or "")
        except LookupError:
            abort(404)
        except OrganizationError:
            abort(400)
        flash(
            _("%(name)s is now: %(state)s", name=organization.name, state=_(organization.vetting)),
            "info",
        )
    return redirect(url_for("admin.organizations"))


@admin.route("/accounts", methods=["GET", "POST"])
@roles_required("admin")
def accounts() -> Response | str:
    """Create village committee, township officer and auditor accounts."""
    form = StaffAccountForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                create_staff_account(
                    db.session, form.username.data or "", form.password.data or "",
                    form.role.data or "", form.display_name.data or "",
                    village_code=(form.village_code.data or "").strip(),
                    township_code=(form.township_code.data or "").strip(),
                    county_code=(form.county_code.data or "").strip(),
                )  # fmt: skip
        except OrganizationError as error:
            target = {
                "village": form.village_code, "township": form.township_code,
                "county": form.county_code,
            }.get(error.code, form.username)  # fmt: skip
            target.errors.append(
                {
                    "village": _("No poor village has this code."),
                    "township": _("No township has this code."),
                    "county": _("No county has this code."),
                }.get(error.code, _("This username is taken or not allowed."))
            )
        else:
            flash(_("Account created."), "info")
            return redirect(url_for("admin.accounts"))
    return render_template(
        "admin/accounts.html", form=form, staff=list_staff(db.session), decision=DecisionForm()
    )


@admin.post("/accounts/<int:user_id>")
@roles_required("admin")
def account_decision(user_id: int) -> Response | str:
    """Suspend, restore or reset the password of one staff account."""
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    decision = form.decision.data or ""
    try:
        if decision in ("suspend", "restore"):
            with unit_of_work():
                user = set_staff_active(db.session, user_id, decision == "restore")
            flash(
                _("%(name)s can sign in again.", name=user.username)
                if user.active
                else _("%(name)s is suspended and signed out.", name=user.username),
                "info",
            )
            return redirect(url_for("admin.accounts"))
        if decision == "reset":
            with unit_of_work():
                user, password = reset_staff_password(db.session, user_id)
            response = make_response(
                render_template("admin/password_reset.html", user=user, password=password)
            )
            response.headers["Cache-Control"] = "no-store"  # the password is shown only once
            return response
    except LookupError:
        abort(404)
    abort(400)
