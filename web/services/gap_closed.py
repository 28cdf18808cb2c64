"""Telling donors that a gap they helped close is closed (issue 17): a need fully pledged whose
every live pledge is confirmed received."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import Allocation, Need, Offer
from web.services.notifications import notify, organization_members


def notify_gap_closed(session: Session, need: Need) -> int:
    """When the need is fully pledged and every live (not cancelled) pledge of it confirmed,
    tell the members of each donor that gave to it; how many were told. The household is
    never named: the need by its kind and village only."""
    if need.allocated < need.quantity:
        return 0
    session.flush()
    pledges = session.execute(
        select(Allocation.status, Offer.organization_id)
        .join(Offer, Allocation.offer_id == Offer.id)
        .where(Allocation.need_id == need.id, Allocation.status != "cancelled")
    ).all()
    if not pledges or any(status != "confirmed" for status, _org in pledges):
        return 0
    kind = need.item.name_zh if need.item is not None else need.category_code
    village = need.village.name
    members = organization_members(session, sorted({org for _status, org in pledges}))
    for user in members:
        notify(
            session,
            user,
            "gap_closed",
            lambda: _(
                "A gap you helped close is closed: %(kind)s for %(village)s has all arrived.",
                kind=kind,
                village=village,
            ),
            link="/donor/allocations",
        )
    return len(members)
