"""The command map (挂图作战) for administrators, townships and auditors."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from web import clock
from web.auth import roles_required
from web.caching import cached_page
from web.extensions import db
from web.services import page_cache
from web.services.dashboard import BANDS, NO_DATA, PERIODS, DashboardFilter, dashboard
from web.services.ledger import ledger_scope
from web.services.mapping import tiles
from web.services.pairing import unpaired_count
from web.services.villages import list_counties

dashboard_pages = Blueprint("dashboard", __name__)


@dashboard_pages.get("/dashboard")
@roles_required("admin", "township", "auditor")
@cached_page
def index() -> str:
    """The map of villages coloured by the latest week's (or its year's) coverage, and the
    summary charts. An unknown period falls back to the week."""
    period = request.args.get("period") or "week"
    filters = DashboardFilter(
        county=request.args.get("county") or None,
        category=request.args.get("category") or None,
        period=period if period in PERIODS else "week",
    )
    today = clock.today()
    board = page_cache.cached(
        db.session,
        ("dashboard", filters, ledger_scope(current_user)),
        lambda: dashboard(db.session, filters, township_id=ledger_scope(current_user)),
    )
    return render_template(
        "dashboard/index.html",
        board=board,
        tiles=tiles(board.projection, current_app.config.get("DUIJIE_MAP_TILE_URL")),
        filters=filters,
        counties=list_counties(db.session),
        bands=BANDS,
        no_data=NO_DATA,
        # the villages nobody is paired with (一帮一联), for the city's administrators
        unpaired=None if current_user.role == "township" else unpaired_count(db.session, today),
    )
