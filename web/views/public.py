"""Pages anyone may see: the home page and the village list."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from web.caching import cached_page
from web.extensions import db
from web.services.villages import VillageFilter, list_counties, list_villages
from web.views.pagination import BadPagination, parse_pagination

public = Blueprint("public", __name__)


@public.get("/")
def home() -> Response:
    """Send visitors to the village list."""
    return redirect(url_for("public.villages"))


@public.get("/villages")
@cached_page
def villages() -> str:
    """The poor villages, filterable by county and name."""
    try:
        page, per_page = parse_pagination(request.args)
    except BadPagination as error:
        abort(400, str(error))
    filters = VillageFilter(county=request.args.get("county") or None, q=request.args.get("q"))
    result = list_villages(db.session, filters, page=page, per_page=per_page)
    return render_template(
        "villages.html", page=result, counties=list_counties(db.session), filters=filters
    )
