"""The exit list (动态脱贫清单, public at village level), a village's public page (who is
responsible for it, its 十一有一低于 items with their evidence), and marking a village exited."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from seeds.checklist import CHECKLIST_ITEMS
from web import clock
from web.auth import roles_required
from web.caching import cached_page
from web.extensions import db
from web.i18n import is_english
from web.models import Village
from web.services.exit_list import ExitError, exit_list_page, mark_exited, village_exit_state
from web.services.pairing import responsibility
from web.services.villages import list_counties
from web.unit_of_work import unit_of_work
from web.views import confirming

exits = Blueprint("exits", __name__)


def exit_question(name: str) -> str:
    """What marking a village exited does, naming it."""
    return _(
        "Mark %(name)s as exited? It leaves the weekly allocation (its open needs are no longer "
        "allocated) and keeps its history; this cannot be undone here.",
        name=name,
    )


@exits.context_processor
def _helpers() -> dict[str, object]:
    names = {code: en if is_english() else zh for code, zh, en in CHECKLIST_ITEMS}
    return {"exit_question": exit_question, "checklist_names": names}


@exits.get("/exit-list")
@cached_page
def index() -> str:
    """Each county's villages nearest to exit and the map coloured by items met."""
    county = request.args.get("county") or None
    page = exit_list_page(db.session, county)
    return render_template(
        "exits/index.html", page=page, counties=list_counties(db.session), county=county
    )


@exits.get("/villages/<village_code>")
@cached_page
def village(village_code: str) -> str:
    """A village's public page: who is responsible for it and its exit checklist."""
    found = db.session.scalar(select(Village).where(Village.code == village_code))
    if found is None:
        abort(404)
    return render_template(
        "exits/village.html",
        village=found,
        who=responsibility(db.session, found.id, clock.today()),
        state=village_exit_state(db.session, found),
        form=FlaskForm(),
        show_phones=current_user.is_authenticated and current_user.role in ("admin", "auditor"),
    )


@exits.post("/admin/villages/<int:village_id>/exit")
@roles_required("admin")
def mark(village_id: int) -> Response:
    """Mark the village exited today, once the administrator confirmed it by name."""
    found = db.session.get(Village, village_id)
    if found is None:
        abort(404)
    back = redirect(url_for("exits.village", village_code=found.code))
    if not FlaskForm().validate_on_submit() or not confirming.confirmed(exit_question(found.name)):
        return back
    try:
        with unit_of_work():
            mark_exited(db.session, found, clock.today())
    except ExitError:
        flash(_("%(name)s was already marked exited.", name=found.name), "error")
        return back
    flash(_("%(name)s is marked exited; it leaves the weekly allocation.", name=found.name), "info")
    return back
