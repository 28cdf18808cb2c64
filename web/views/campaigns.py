"""Campaigns (活动, issue 17): the administrator opens one; anyone follows its progress."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from matcher.categories import CATEGORIES
from web.auth import roles_required
from web.extensions import db
from web.forms import CampaignForm
from web.i18n import category_name
from web.models import Campaign
from web.services import gaps
from web.services.kinds import request_catalogue
from web.unit_of_work import unit_of_work
from web.views.kind_choices import kind_choices

campaigns = Blueprint("campaigns", __name__)


def _campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


@campaigns.get("/campaigns")
def index() -> str:
    """Every campaign, the latest first."""
    return render_template("claims/campaigns.html", campaigns=gaps.campaigns(db.session))


@campaigns.get("/campaigns/<int:campaign_id>")
def show(campaign_id: int) -> str:
    """One campaign and its progress (refreshed by web/static/js/campaign.js)."""
    campaign = _campaign(campaign_id)
    progress = gaps.campaign_progress(db.session, campaign, datetime.now(UTC))
    return render_template("claims/campaign.html", campaign=campaign, progress=progress)


@campaigns.get("/campaigns/<int:campaign_id>/progress.json")
def progress(campaign_id: int) -> Response:
    """The campaign's figures as JSON, for the page's live refresh."""
    campaign = _campaign(campaign_id)
    figures = gaps.campaign_progress(db.session, campaign, datetime.now(UTC))
    response = jsonify(figures.as_json())
    response.headers["Cache-Control"] = "no-cache"
    return response


def _form() -> CampaignForm:
    form = CampaignForm()
    form.categories.choices = [SelectChoice(c.code, category_name(c.code)) for c in CATEGORIES]
    form.kinds.choices = kind_choices(request_catalogue(db.session), parents=True)
    return form


@campaigns.route("/admin/campaigns", methods=["GET", "POST"])
@roles_required("admin")
def manage() -> Response | str:
    """The administrator's campaigns and the form to open one."""
    form = _form()
    if form.validate_on_submit():
        assert form.starts_on.data is not None and form.ends_on.data is not None
        try:
            with unit_of_work():
                campaign = gaps.open_campaign(
                    db.session, form.name.data or "", form.starts_on.data, form.ends_on.data,
                    categories=list(form.categories.data or []),
                    kinds=list(form.kinds.data or []),
                    wishes_only=bool(form.wishes_only.data),
                    description=form.description.data or "", actor_id=current_user.id,
                )  # fmt: skip
        except gaps.CampaignError as error:
            messages = {
                "ends_on": _("The campaign must end on or after the day it starts."),
                "kinds": _("Unknown kinds: %(codes)s", codes=error.message),
                "name": _("Give the campaign a name (at most 128 characters)."),
            }
            getattr(form, error.field).errors = [messages[error.field]]
        else:
            flash(_("Campaign opened."), "info")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template(
        "claims/campaigns_admin.html", form=form, campaigns=gaps.campaigns(db.session)
    )
