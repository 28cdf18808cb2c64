"""The pull side (issue 17): the public gap board and micro-wishes, "我来帮", and claims as the
donor and the village follow them."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from matcher.categories import CATEGORIES
from web.auth import roles_required
from web.extensions import db
from web.forms import DecisionForm
from web.i18n import is_english
from web.models import Campaign
from web.services import claims as service
from web.services import gaps
from web.unit_of_work import unit_of_work
from web.views.pagination import BadPagination, parse_pagination

claims = Blueprint("claims", __name__)
WISHES_PER_PAGE = 30


def now() -> datetime:
    """The moment claims are read and changed at."""
    return datetime.now(UTC)


def rules() -> service.ClaimRules:
    """The claim settings (DUIJIE_CLAIM_DAYS, DUIJIE_CLAIM_MAX_OPEN)."""
    config = current_app.config
    return service.ClaimRules(config["DUIJIE_CLAIM_DAYS"], config["DUIJIE_CLAIM_MAX_OPEN"])


def chosen_campaign() -> Campaign | None:
    """The campaign named by ?campaign= (404 when it names none)."""
    raw = request.args.get("campaign", "").strip()
    if not raw:
        return None
    fits = raw.isdigit() and int(raw) <= 2_147_483_647  # a database integer
    campaign = db.session.get(Campaign, int(raw)) if fits else None
    if campaign is None:
        abort(404)
    return campaign


def _page_number() -> int:
    try:
        number, _per_page = parse_pagination(request.args)
    except BadPagination as error:
        abort(400, str(error))
    return number


@claims.get("/gaps")
def board() -> str:
    """The gap board: verified needs still unmet, by county, township and category."""
    category = request.args.get("category", "").strip() or None
    if category is not None and category not in {c.code for c in CATEGORIES}:
        abort(400, _("Unknown category."))
    number = _page_number()
    page = gaps.gap_board(
        db.session, now(), campaign=chosen_campaign(), category=category,
        county=request.args.get("county", "").strip() or None,
        township=request.args.get("township", "").strip() or None, page=number,
    )  # fmt: skip
    return render_template(
        "claims/gaps.html", page=page, categories=CATEGORIES,
        checklist=gaps.checklist_names(is_english()), campaigns=gaps.campaigns(db.session),
    )  # fmt: skip


@claims.get("/gaps/<int:need_id>/help")
def help_gap(need_id: int) -> Response:
    """我来帮: a donor gets the offer form aimed at this gap; a visitor signs in (or registers)
    first and comes back here; a micro-wish goes to its claim page."""
    here = url_for("claims.help_gap", need_id=need_id)
    if not current_user.is_authenticated:
        flash(_("Sign in (or register) as a donor to help with this gap."), "info")
        return redirect(url_for("auth.login", next=here))
    gap = gaps.one_gap(db.session, need_id, now())
    if gap is None:
        flash(_("This gap has just been met or is no longer open."), "info")
        return redirect(url_for("claims.board"))
    if getattr(current_user, "role", None) != "donor":
        flash(_("Only a donor's account can offer help."), "error")
        return redirect(url_for("claims.board") + f"#gap-{need_id}")
    if gap.is_wish:
        return redirect(url_for("claims.wishes") + f"#wish-{need_id}")
    return redirect(url_for("donor.new_offer", need=need_id))


@claims.get("/wishes")
def wishes() -> str:
    """Micro-wishes open for claiming (category, kind, value and village only)."""
    campaign = chosen_campaign()
    rows = gaps.gap_rows(db.session, now(), campaign=campaign, wishes_only=True)
    pages = max(1, -(-len(rows) // WISHES_PER_PAGE))
    number = min(_page_number(), pages)
    shown = rows[(number - 1) * WISHES_PER_PAGE : number * WISHES_PER_PAGE]
    can_claim = current_user.is_authenticated and service.may_claim(current_user)
    return render_template(
        "claims/wishes.html", rows=shown, count=len(rows), page=number, pages=pages,
        campaign=campaign, campaigns=gaps.campaigns(db.session),
        can_claim=can_claim, form=DecisionForm(),
    )  # fmt: skip


@claims.post("/wishes/<int:need_id>/claim")
def claim(need_id: int) -> Response:
    """Claim one micro-wish for the donor's organization."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=url_for("claims.wishes") + f"#wish-{need_id}"))
    if getattr(current_user, "role", None) != "donor":
        abort(403)
    if not DecisionForm().validate_on_submit():
        abort(400)
    try:
        with unit_of_work():
            service.claim_wish(db.session, current_user, need_id, rules(), now())
    except service.ClaimError as error:
        flash(error.message, "error")
        return redirect(url_for("claims.wishes"))
    flash(
        _("Claimed. Send the gift and mark it dispatched within %(days)s days.",
          days=rules().days),
        "info",
    )  # fmt: skip
    return redirect(url_for("claims.donor_claims"))


@claims.get("/donor/claims")
@roles_required("donor")
def donor_claims() -> str:
    """The organization's claims and what to do next with each."""
    rows = service.donor_claims(db.session, current_user.organization_id or 0)
    return render_template(
        "claims/donor.html", rows=rows, at=now(), state_of=service.state_of,
        form=DecisionForm(), days=rules().days,
    )  # fmt: skip


def _step(action: str, claim_id: int, back: str) -> Response:
    if not DecisionForm().validate_on_submit():
        abort(400)
    work = {"dispatch": service.dispatch, "cancel": service.cancel, "receive": service.receive}
    try:
        with unit_of_work():
            work[action](db.session, current_user, claim_id, now())
    except service.ClaimError as error:
        if error.code == "not_yours":
            abort(404)
        flash(error.message, "error")
    else:
        done = {
            "dispatch": _("Marked as dispatched."),
            "cancel": _("Claim given back; the micro-wish is open again."),
            "receive": _("Receipt confirmed; the micro-wish is fulfilled."),
        }
        flash(done[action], "info")
    return redirect(url_for(back))


@claims.post("/donor/claims/<int:claim_id>/dispatch")
@roles_required("donor")
def dispatch(claim_id: int) -> Response:
    """The donor marks its claimed gift as sent."""
    return _step("dispatch", claim_id, "claims.donor_claims")


@claims.post("/donor/claims/<int:claim_id>/cancel")
@roles_required("donor")
def cancel(claim_id: int) -> Response:
    """The donor gives a claim back before sending."""
    return _step("cancel", claim_id, "claims.donor_claims")


@claims.get("/village/claims")
@roles_required("village")
def village_claims() -> str:
    """Claims on the village's micro-wishes; the committee confirms receipt."""
    rows = service.village_claims(db.session, current_user.village_id or 0)
    return render_template(
        "claims/village.html", rows=rows, at=now(), state_of=service.state_of, form=DecisionForm()
    )


@claims.post("/village/claims/<int:claim_id>/receive")
@roles_required("village")
def receive(claim_id: int) -> Response:
    """The committee confirms the claimed gift arrived."""
    return _step("receive", claim_id, "claims.village_claims")
