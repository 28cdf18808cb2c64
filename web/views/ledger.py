"""The ledger (台账) of pledges, on screen and as CSV or Excel, with the same filters."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from web.auth import roles_required
from web.extensions import db
from web.models.allocation import DELIVERY_STATES
from web.services.ledger import LedgerFilter, ledger_csv, ledger_rows, ledger_weeks, ledger_xlsx
from web.services.villages import list_counties

ledger = Blueprint("ledger", __name__)
LEDGER_ROLES = ("admin", "auditor", "township")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters() -> LedgerFilter:
    """The ledger filters from the query string."""
    args = request.args
    return LedgerFilter(
        county=args.get("county") or None,
        category=args.get("category") or None,
        state=args.get("state") or None,
        week=args.get("week") or None,
    )


def _download(body: bytes, mimetype: str, name: str) -> Response:
    """A file download response."""
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"}
    )


@ledger.get("/ledger")
@roles_required(*LEDGER_ROLES)
def index() -> str:
    """Every pledge the user may see, filterable by county, category, state and week."""
    filters = _filters()
    return render_template(
        "ledger/index.html",
        rows=ledger_rows(db.session, filters, current_user),
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
    return _download(ledger_csv(rows), "text/csv; charset=utf-8", "ledger.csv")


@ledger.get("/ledger.xlsx")
@roles_required(*LEDGER_ROLES)
def as_xlsx() -> Response:
    """The filtered ledger as an Excel workbook."""
    rows = ledger_rows(db.session, _filters(), current_user)
    return _download(ledger_xlsx(rows), XLSX, "ledger.xlsx")
