"""Delivery follow-up: donors dispatch their pledges, village committees confirm receipt."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from web.auth import roles_required
from web.extensions import db
from web.forms import DecisionForm, ReceiptForm
from web.models import Allocation, AllocationRun, Need, Offer
from web.services.delivery import confirm_receipt, dispatch
from web.services.week import WeekError
from web.views.week import status_labels

deliveries = Blueprint("deliveries", __name__)
deliveries.context_processor(status_labels)


def _listing() -> Select[tuple[Allocation]]:
    """Published allocations newest first, with their offer, donor, need and village loaded."""
    return (
        select(Allocation)
        .join(AllocationRun, Allocation.run_id == AllocationRun.id)
        .where(AllocationRun.status == "published")
        .order_by(Allocation.id.desc())
        .options(
            selectinload(Allocation.offer).selectinload(Offer.organization),
            selectinload(Allocation.need).selectinload(Need.village),
        )
    )


def _donor_query() -> Select[tuple[Allocation]]:
    """The current donor organization's allocations."""
    mine = Offer.organization_id == (current_user.organization_id or 0)
    return _listing().join(Offer, Allocation.offer_id == Offer.id).where(mine)


def _village_query() -> Select[tuple[Allocation]]:
    """The current village committee's allocations."""
    mine = Need.village_id == (current_user.village_id or 0)
    return _listing().join(Need, Allocation.need_id == Need.id).where(mine)


def _own(query: Select[tuple[Allocation]], allocation_id: int) -> Allocation:
    """The allocation if `query` holds it, else 404 (never reveal another's)."""
    found = db.session.scalars(query.where(Allocation.id == allocation_id)).first()
    if found is None:
        abort(404)
    return found


def _refused(error: WeekError) -> None:
    """Flash why the delivery service refused."""
    flash(_("This pledge cannot change now: %(reason)s", reason=str(error)), "error")


@deliveries.get("/donor/allocations")
@roles_required("donor")
def donor_allocations() -> str:
    """Where the organization's offers were allocated, and what is left to dispatch."""
    return render_template(
        "deliveries/donor.html",
        allocations=db.session.scalars(_donor_query()).all(),
        form=DecisionForm(),
    )


@deliveries.post("/donor/allocations/<int:allocation_id>/dispatch")
@roles_required("donor")
def dispatch_allocation(allocation_id: int) -> Response:
    """Mark one of the organization's pledges as sent."""
    _own(_donor_query(), allocation_id)
    try:
        dispatch(db.session, allocation_id, current_user)
    except WeekError as error:
        _refused(error)
    else:
        flash(_("Marked as dispatched; the village will confirm receipt."), "info")
    return redirect(url_for("deliveries.donor_allocations"))


@deliveries.get("/village/allocations")
@roles_required("village")
def village_allocations() -> str:
    """What was allocated to the village, and what is left to confirm."""
    if current_user.village_id is None:
        abort(403)
    return render_template(
        "deliveries/village.html",
        allocations=db.session.scalars(_village_query()).all(),
        form=ReceiptForm(),
    )


@deliveries.post("/village/allocations/<int:allocation_id>/confirm")
@roles_required("village")
def confirm_allocation(allocation_id: int) -> Response:
    """Confirm receipt of one of the village's pledges with a note and a rating."""
    _own(_village_query(), allocation_id)
    form = ReceiptForm()
    if not form.validate_on_submit():
        flash(_("Please choose a rating from 1 to 5."), "error")
        return redirect(url_for("deliveries.village_allocations"))
    try:
        confirm_receipt(
            db.session, allocation_id, current_user, form.note.data or "", int(form.rating.data)
        )
    except WeekError as error:
        _refused(error)
    else:
        flash(_("Receipt confirmed. Thank you."), "info")
    return redirect(url_for("deliveries.village_allocations"))
