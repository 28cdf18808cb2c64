"""Public transparency: what published weeks pledged, to which villages, from which donors."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.caching import cached_page
from web.extensions import db
from web.services.ledger import public_summary

transparency = Blueprint("transparency", __name__)


@transparency.get("/public")
@cached_page
def index() -> str:
    """Published allocations by village and by donor, with totals; no household is named."""
    return render_template("transparency/index.html", summary=public_summary(db.session))
