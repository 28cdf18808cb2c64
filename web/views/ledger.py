"""The ledger (台账) of pledges, on screen and as CSV or Excel, with the same filters."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from web.auth import roles_required
from web.caching import cached_page
from web.extensions import db
from web.models.allocation import DELIVERY_STATES
from web.services.delivery import CONFIRM_OVERDUE_DAYS, DISPATCH_OVERDUE_DAYS
from web.services.kinds import request_catalogue
from web.services.ledger import (
    LedgerFilter,
    ledger_csv,
    ledger_page,
    ledger_rows,
    ledger_weeks,
    ledger_xlsx,
)
from web.services.villages import MAX_PER_PAGE, list_counties
from web.views.pagination import BadPagination, parse_pagination

ledger = Blueprint("ledger", __name__)
LEDGER_ROLES = ("admin", "auditor", "township")
DEFAULT_PER_PAGE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters() -> LedgerFilter:
    """The ledger filters from the query string."""
    args = request.args
    return LedgerFilter(
        county=args.get("county") or None,
        category=args.get("category") or None,
        state=args.get("state") or None,
        week=args.get("week") or None,
        overdue=args.get("overdue") in ("1", "on", "true", "y"),
    )


def _query(filters: LedgerFilter) -> dict[str, str]:
    """The filters as query-string arguments, for links that keep them."""
    found = {
        "county": filters.county or "",
        "category": filters.category or "",
        "state": filters.state or "",
        "week": filters.week or "",
        "overdue": "1" if filters.overdue else "",
    }
    return {key: value for key, value in found.items() if value}


def _download(body: bytes, mimetype: str, name: str) -> Response:
    """A file download response."""
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"}
    )


@ledger.get("/ledger")
@roles_required(*LEDGER_ROLES)
@cached_page
def index() -> str:
    """Every pledge the user may see, filterable by county, category, state and week."""
    filters = _filters()
    try:
        page, per_page = parse_pagination(request.args, DEFAULT_PER_PAGE)
    except BadPagination:
        abort(
            400,
            _(
                "page and per_page must be whole numbers of at least 1, per_page at most %(max)s.",
                max=MAX_PER_PAGE,
            ),
        )
    return render_template(
        "ledger/index.html",
        result=ledger_page(db.session, filters, current_user, page, per_page),
        query=_query(filters),
        dispatch_days=DISPATCH_OVERDUE_DAYS,
        confirm_days=CONFIRM_OVERDUE_DAYS,
        filters=filters,
        counties=list_counties(db.session),
        weeks=ledger_weeks(db.session),
        states=DELIVERY_STATES,
    )


@ledger.get("/ledger.csv")
@roles_required(*LEDGER_ROLES)
def as_csv() -> Response:
    """The filtered ledger as CSV (UTF-8 with BOM)."""
    rows = ledger_rows(db.session, _filters(), current_user)
    return _download(
        ledger_csv(rows, request_catalogue(db.session)), "text/csv; charset=utf-8", "ledger.csv"
    )


@ledger.get("/ledger.xlsx")
@roles_required(*LEDGER_ROLES)
def as_xlsx() -> Response:
    """The filtered ledger as an Excel workbook."""
    rows = ledger_rows(db.session, _filters(), current_user)
    return _download(ledger_xlsx(rows, request_catalogue(db.session)), XLSX, "ledger.xlsx")
