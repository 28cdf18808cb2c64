"""Delivery follow-up: donors dispatch their pledges, village committees confirm receipt."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask import request as http
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select
from werkzeug.wrappers import Response

from web.auth import roles_required
from web.extensions import db
from web.forms import DecisionForm, ReceiptForm
from web.i18n import is_english
from web.models import Allocation
from web.services.delivery import (
    CONFIRM_OVERDUE_DAYS,
    DISPATCH_OVERDUE_DAYS,
    UploadError,
    confirm_receipt,
    dispatch,
    may_see_delivery,
    overdue_reason,
    report_problem,
)
from web.services.delivery_pages import (
    donor_page,
    donor_query,
    own_allocation,
    village_page,
    village_query,
)
from web.services.uploads import MIMETYPES
from web.services.week import WeekError
from web.unit_of_work import unit_of_work
from web.views.uploaded import photo_from, upload_folder
from web.views.week import status_labels

deliveries = Blueprint("deliveries", __name__)
deliveries.context_processor(status_labels)
PHOTO_ROLES = ("admin", "auditor", "township", "village", "donor")


@deliveries.context_processor
def overdue_helpers() -> dict[str, object]:
    """`overdue(allocation)` for the delivery pages: 'dispatch', 'confirm' or None."""

    def overdue(allocation: Allocation, now: datetime | None = None) -> str | None:
        return overdue_reason(allocation, allocation.run.committed_at, now)

    return {
        "overdue": overdue,
        "dispatch_days": DISPATCH_OVERDUE_DAYS,
        "confirm_days": CONFIRM_OVERDUE_DAYS,
    }


def _donor_query() -> Select[tuple[Allocation]]:
    """The current donor organization's allocations."""
    return donor_query(current_user.organization_id)


def _village_query() -> Select[tuple[Allocation]]:
    """The current village committee's allocations."""
    return village_query(current_user.village_id)


def _own(query: Select[tuple[Allocation]], allocation_id: int) -> Allocation:
    """The allocation if `query` holds it, else 404 (never reveal another's)."""
    found = own_allocation(db.session, query, allocation_id)
    if found is None:
        abort(404)
    return found


def _refused(error: WeekError) -> None:
    """Flash why the delivery service refused."""
    flash(_("This pledge cannot change now: %(reason)s", reason=str(error)), "error")


def _photo_refused(error: UploadError) -> None:
    """Flash why the photo was refused, in the user's language; nothing was confirmed."""
    text = str(error)
    if "empty" in text:
        reason = _("the file is empty")
    elif "larger" in text:
        reason = _("the file is larger than 5 MB")
    elif "not stored" in text:
        reason = _("the server could not store it; please try again later")
    else:
        reason = _("the file is not a JPEG, PNG or WebP photo")
    message = _("The photo was not accepted (%(reason)s); nothing was confirmed.", reason=reason)
    flash(message, "error")


@deliveries.get("/donor/allocations")
@roles_required("donor")
def donor_allocations() -> str:
    """Where the organization's offers were allocated, and what is left to dispatch."""
    shown = donor_page(db.session, current_user.organization_id, "en" if is_english() else "zh")
    return render_template(
        "deliveries/donor.html",
        allocations=shown.allocations,
        reasons=shown.reasons,
        idle=shown.idle,
        form=DecisionForm(),
    )


@deliveries.post("/donor/allocations/<int:allocation_id>/dispatch")
@roles_required("donor")
def dispatch_allocation(allocation_id: int) -> Response:
    """Mark one of the organization's pledges as sent."""
    _own(_donor_query(), allocation_id)
    try:
        with unit_of_work():
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
        allocations=village_page(db.session, current_user.village_id).allocations,
        form=ReceiptForm(),
        problem_form=DecisionForm(),
    )


@deliveries.post("/village/allocations/<int:allocation_id>/confirm")
@roles_required("village")
def confirm_allocation(allocation_id: int) -> Response:
    """Confirm receipt of one of the village's pledges with a note, a rating and a photo."""
    _own(_village_query(), allocation_id)
    form = ReceiptForm()
    if not form.validate_on_submit():
        flash(_("Please choose a rating from 1 to 5."), "error")
        return redirect(url_for("deliveries.village_allocations"))
    photo = photo_from(http.files.get("photo"))
    try:
        with unit_of_work():
            confirm_receipt(
                db.session,
                allocation_id,
                current_user,
                form.note.data or "",
                int(form.rating.data),
                photo=photo,
            )
    except UploadError as error:
        _photo_refused(error)
    except WeekError as error:
        _refused(error)
    else:
        flash(_("Receipt confirmed. Thank you."), "info")
    return redirect(url_for("deliveries.village_allocations"))


@deliveries.post("/village/allocations/<int:allocation_id>/problem")
@roles_required("village")
def report_allocation_problem(allocation_id: int) -> Response:
    """Report a problem with one of the village's pledges; the donor is told."""
    _own(_village_query(), allocation_id)
    form = DecisionForm()
    note = (form.reason.data or "").strip() if form.validate_on_submit() else ""
    if not note:
        flash(_("Please describe the problem (at most 2000 characters)."), "error")
        return redirect(url_for("deliveries.village_allocations"))
    try:
        with unit_of_work():
            report_problem(db.session, allocation_id, current_user, note)
    except WeekError as error:
        _refused(error)
    else:
        flash(_("Problem reported; the donor and the city office can see it."), "info")
    return redirect(url_for("deliveries.village_allocations"))


@deliveries.get("/allocations/<int:allocation_id>/photo")
@roles_required(*PHOTO_ROLES)
def receipt_photo(allocation_id: int) -> Response:
    """A receipt photo, only for those who may see that pledge; 404 for everyone else."""
    allocation = db.session.get(Allocation, allocation_id)
    if (
        allocation is None
        or not allocation.photo_path
        or not may_see_delivery(allocation, current_user)
    ):
        abort(404)
    try:
        path = upload_folder().path_of(allocation.photo_path)
    except UploadError:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=MIMETYPES[path.suffix], max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
