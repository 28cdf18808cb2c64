"""The county office (县区扶贫办, issue 16): its townships' queues, escalations, zero-coverage
villages, its share of a run, exports and the weekly bulletin; and the city's bulletin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from matcher.weeks import current_week
from web import clock
from web.auth import roles_required
from web.extensions import db
from web.forms import VerifyForm
from web.models import County
from web.models.base import utcnow
from web.services import county_pages as pages
from web.services import needs as needs_service
from web.services.bulletin import bulletin
from web.services.county_exports import EXPORTS, export_table
from web.services.escalation import county_flags
from web.services.sheets.exporters import table_bytes
from web.services.week_instance import WeekError, week_days
from web.unit_of_work import unit_of_work
from web.views.pagination import BadPagination, parse_pagination

county = Blueprint("county", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIMETYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}


def _days() -> int:
    return int(current_app.config.get("DUIJIE_ESCALATE_VERIFY_DAYS") or 7)


def _county() -> County:
    try:
        return pages.county_of(db.session, current_user)
    except LookupError:
        abort(404)


def _week() -> str:
    """The week asked for (?week=), checked; this week by default."""
    week = (request.args.get("week") or "").strip() or clock.this_week()
    try:
        week_days(week)
    except WeekError:
        abort(400, _("Not an ISO week like 2026-W48: %(week)s", week=week))
    return week


@county.get("/county")
@roles_required("county")
def queue() -> str:
    """The county's verification queues, its escalations and overdue deliveries."""
    try:
        page, per_page = parse_pagination(request.args)
    except BadPagination as error:
        abort(400, str(error))
    township = (request.args.get("township") or "").strip() or None
    model = pages.queue_page(
        db.session, _county(), now=utcnow(), days=_days(), township=township, page=page,
        per_page=per_page,
    )  # fmt: skip
    return render_template("county/queue.html", page=model, form=VerifyForm())


@county.post("/county/needs/<int:need_id>/verify")
@roles_required("county")
def verify(need_id: int) -> Response:
    """Verify or send back one need of the county when its township is stuck (the township's
    own rules: a rejection needs a reason, a changed or closed need is refused)."""
    try:
        need = needs_service.get_county_need(db.session, current_user, need_id)
    except LookupError:
        abort(404)
    form = VerifyForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                needs_service.verify_need(
                    db.session, need, approve=form.decision.data == "verify",
                    reason=form.reason.data or "", seen=form.seen.data or None,
                )  # fmt: skip
        except needs_service.NeedError as error:
            flash(_refusal(error.code), "error")
        else:
            flash(_("Verified.") if need.verification == "verified" else _("Rejected."), "info")
    return redirect(url_for("county.queue"))


def _refusal(code: str) -> str:
    if code == "locked":
        return _(
            "This need is no longer open (the village withdrew it), or aid is already allocated "
            "to it: it cannot be verified or rejected now."
        )
    if code == "changed":
        return _(
            "The village changed this need after this page was opened: read it again below, "
            "then decide."
        )
    return _("Please give a reason when rejecting a need.")


@county.get("/county/villages")
@roles_required("county")
def zero_coverage() -> str:
    """The county's villages with verified needs that the week's published runs left out."""
    week = _week()
    rows = pages.zero_coverage(db.session, _county().id, week)
    return render_template("county/villages.html", rows=rows, week=week, county=_county())


@county.get("/county/share")
@roles_required("county")
def share() -> str:
    """The county's share of a published run (?run=id; the newest by default)."""
    run_id = request.args.get("run", type=int)
    try:
        model = pages.run_share(db.session, _county().id, run_id)
    except LookupError:
        abort(404)
    return render_template("county/share.html", share=model, county=_county())


@county.get("/county/export/<list_name>.<fmt>")
@roles_required("county")
def export(list_name: str, fmt: str) -> Response:
    """One of the county's lists as CSV or XLSX (queue, overdue, villages, share)."""
    if list_name not in EXPORTS or fmt not in MIMETYPES:
        abort(404)
    args: dict[str, Any] = {
        "now": utcnow(), "days": _days(), "week": _week(),
        "run_id": request.args.get("run", type=int),
    }  # fmt: skip
    try:
        table = export_table(db.session, _county(), list_name, **args)
    except LookupError:
        abort(404)
    body = table_bytes(table, f".{fmt}", sheet_title=list_name)
    name = f"county-{_county().code}-{list_name}.{fmt}"
    disposition = {"Content-Disposition": f"attachment; filename={name}"}
    return Response(body, mimetype=MIMETYPES[fmt], headers=disposition)


@county.get("/county/bulletin")
@roles_required("county")
def county_bulletin() -> str:
    """The county's weekly bulletin: its townships side by side."""
    model = bulletin(db.session, _week(), now=utcnow(), days=_days(), county_id=_county().id)
    return render_template("county/bulletin.html", bulletin=model, scope=_county().name,
                           endpoint="county.county_bulletin", flags=None)  # fmt: skip


@county.get("/admin/bulletin")
@roles_required("admin")
def city_bulletin() -> str:
    """The city's board: every county's escalations, and the weekly bulletin of counties and
    townships side by side."""
    now = utcnow()
    model = bulletin(db.session, _week(), now=now, days=_days())
    return render_template("county/bulletin.html", bulletin=model, scope=_("the city"),
                           endpoint="county.city_bulletin",
                           flags=county_flags(db.session, now, _days()))  # fmt: skip


def weeks_before(week: str, count: int = 8) -> list[str]:
    """The week and the `count` - 1 weeks before it, newest first (the week selector)."""
    monday, _sunday = week_days(week)
    return [current_week(monday - timedelta(weeks=n)) for n in range(count)]


county.add_app_template_global(weeks_before, "weeks_before")
