"""The kind picker's helper: the kind recognised from a title, for pre-filling forms."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from matcher.categories import CATEGORY_CODES
from matcher.recognize import THRESHOLD, recognize
from web.auth import roles_required
from web.extensions import db
from web.services.kinds import request_catalogue
from web.views.kind_choices import kind_label

kinds = Blueprint("kinds", __name__)


@kinds.get("/kinds/guess")
@roles_required("donor", "village", "township", "admin")
def guess() -> Response:
    """The likely kinds of a title within a category, best first, with the confident one named."""
    title = (request.args.get("title") or "")[:200]
    category = request.args.get("category") or None
    if category not in CATEGORY_CODES:
        category = None
    catalogue = request_catalogue(db.session).active()
    guesses = recognize(title, "", catalogue, category)[:3]
    return jsonify(
        best=next((g.code for g in guesses if g.confidence >= THRESHOLD), None),
        kinds=[
            {"code": g.code, "label": kind_label(catalogue[g.code]), "confidence": g.confidence}
            for g in guesses
        ],
    )
