"""The pairing register's pages (一帮一联): the administrator's register with the villages
nobody is paired with, and a paired unit's own page of what reached its villages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from web import clock
from web.auth import roles_required
from web.caching import cached_page
from web.extensions import db
from web.services.pairing import register_page, unit_page

pairing = Blueprint("pairing", __name__)


@pairing.get("/admin/pairing")
@roles_required("admin", "auditor")
@cached_page
def register() -> str:
    """The register's figures, by county, and the villages still on the list nobody is paired
    with today; the import and export of the whole plan."""
    page = register_page(db.session, clock.today())
    return render_template("pairing/register.html", page=page)


@pairing.get("/donor/pairing")
@roles_required("donor")
@cached_page
def unit() -> str:
    """A paired unit's villages today and the confirmed deliveries that reached them."""
    organization = current_user.organization
    page = unit_page(db.session, organization, clock.today()) if organization else None
    return render_template("pairing/unit.html", page=page)
