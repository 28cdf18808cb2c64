"""The public JSON API, version 1."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from werkzeug.wrappers import Response

from web.errors import problem
from web.extensions import db
from web.models import Village
from web.services.villages import VillageFilter, list_villages
from web.views.pagination import BadPagination, parse_pagination

api = Blueprint("api", __name__)


def village_json(village: Village) -> dict[str, Any]:
    """The public fields of a village."""
    return {
        "id": village.id,
        "code": village.code,
        "name": village.name,
        "county": village.county.name,
        "county_code": village.county.code,
        "township": village.township.name,
        "township_code": village.township.code,
        "lat": village.lat,
        "lon": village.lon,
        "population": village.population,
        "poor_households": village.poor_households,
        "poverty_incidence": village.poverty_incidence,
        "poverty_weight": village.poverty_weight,
        "ethnic_minority": village.ethnic_minority,
        "status": village.status,
        "exit_year": village.exit_year,
    }


@api.get("/villages")
def villages() -> Response | dict[str, Any]:
    """List villages: filter by county or township (code or name) and name fragment `q`."""
    try:
        page, per_page = parse_pagination(request.args)
    except BadPagination as error:
        return problem(400, "Bad Request", str(error))
    filters = VillageFilter(
        county=request.args.get("county") or None,
        township=request.args.get("township") or None,
        q=request.args.get("q") or None,
    )
    result = list_villages(db.session, filters, page=page, per_page=per_page)
    return {
        "items": [village_json(v) for v in result.items],
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "pages": result.pages,
    }
