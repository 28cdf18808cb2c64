"""Each role's work (issue 23): where a sign-in lands, what it is told there, and the small
"to do" count in the menu.

- county office: the needs of its county waiting for verification (its townships' queues);
- township officer: the needs of its township waiting for verification;
- village committee: deliveries sent to it that wait for its confirmation of receipt;
- donor: published pledges of its offers still to dispatch;
- administrator: this week's allocation (organizations waiting for vetting are counted);
- auditor: the ledger (nothing to do).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from web import clock
from web.extensions import db
from web.i18n import format_number
from web.models import Allocation, AllocationRun, Need, Offer, Organization, Village


@dataclass(frozen=True)
class Work:
    """A role's landing page, its count of things to do and the sentence saying so."""

    url: str
    count: int
    message: str


def _published_allocations() -> Any:
    return (
        select(func.count(Allocation.id))
        .join(AllocationRun, Allocation.run_id == AllocationRun.id)
        .where(AllocationRun.status == "published")
    )


def _count(query: Any) -> int:
    return int(db.session.scalar(query) or 0)


def work_of(user: Any) -> Work | None:
    """The user's work, or None for a role with no landing page of its own."""
    role = getattr(user, "role", None)
    if role == "county":
        return _county_work(user)
    if role == "township":
        count = _count(
            select(func.count(Need.id))
            .join(Village, Need.village_id == Village.id)
            .where(
                Village.township_id == (user.township_id or 0),
                Need.verification == "pending",
                Need.status == "open",
            )
        )
        message = _(
            "%(count)s needs are waiting for your verification.", count=format_number(count)
        )
        return Work(url_for("village.review"), count, message)
    if role == "village":
        count = _count(
            _published_allocations()
            .join(Need, Allocation.need_id == Need.id)
            .where(
                Need.village_id == (user.village_id or 0),
                Allocation.status.in_(("dispatched", "received")),
            )
        )
        message = _(
            "%(count)s deliveries sent to your village wait for you to confirm their receipt.",
            count=format_number(count),
        )
        return Work(url_for("deliveries.village_allocations"), count, message)
    if role == "donor":
        count = _count(
            _published_allocations()
            .join(Offer, Allocation.offer_id == Offer.id)
            .where(
                Offer.organization_id == (user.organization_id or 0),
                Allocation.status == "pledged",
            )
        )
        message = _(
            "%(count)s pledges are waiting for you to dispatch them.", count=format_number(count)
        )
        return Work(url_for("deliveries.donor_allocations"), count, message)
    if role == "admin":
        return _admin_work()
    if role == "auditor":
        return Work(url_for("ledger.index"), 0, "")
    return None


def _county_work(user: Any) -> Work:
    """The county office's queue: the needs of its county's townships waiting for verification."""
    count = _count(
        select(func.count(Need.id))
        .join(Village, Need.village_id == Village.id)
        .where(
            Village.county_id == (user.county_id or 0),
            Need.verification == "pending",
            Need.status == "open",
        )
    )
    message = _(
        "%(count)s needs of your county's townships are waiting for verification.",
        count=format_number(count),
    )
    return Work(url_for("county.queue"), count, message)


def _admin_work() -> Work:
    """This week's state for the administrator; the count is the organizations to vet plus
    one while this week's allocation is not published."""
    week = clock.this_week()
    statuses = set(
        db.session.scalars(select(AllocationRun.status).where(AllocationRun.week == week))
    )
    vetting = _count(select(func.count(Organization.id)).where(Organization.vetting == "pending"))
    if "published" in statuses:
        state, open_step = _("published to the villages and donors"), 0
    elif "committed" in statuses:
        state, open_step = _("committed, not yet published"), 1
    elif "preview" in statuses:
        state, open_step = _("previewed, not yet committed"), 1
    else:
        state, open_step = _("no allocation yet"), 1
    message = _(
        "This week (%(week)s): %(state)s. Organizations waiting for vetting: %(vetting)s.",
        week=week,
        state=state,
        vetting=format_number(vetting),
    )
    return Work(url_for("week.plan"), vetting + open_step, message)


def menu_helpers() -> dict[str, Any]:
    """`todo()` for the menu: the signed-in user's Work (computed once per page, on use)."""
    cache: dict[str, Work | None] = {}

    def todo() -> Work | None:
        if "work" not in cache:
            signed_in = current_user.is_authenticated
            cache["work"] = work_of(current_user) if signed_in else None
        return cache["work"]

    return {"todo": todo}
