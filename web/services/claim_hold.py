"""Which micro-wishes a donor's claim holds out of the weekly run (issue 17), at a moment.

Apart from web.services.claims so that the week's instance (web.services.week_instance) can
ask it without importing the claims' notifications and locks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, or_, select

from web.models import WishClaim


def holding(now: datetime) -> ColumnElement[bool]:
    """Claims that hold their wish at `now`: dispatched, or claimed and not yet expired (a
    claim past its expiry holds nothing, whether or not `duijie claims` has marked it yet)."""
    return or_(
        WishClaim.status == "dispatched",
        and_(WishClaim.status == "claimed", WishClaim.expires_at > now),
    )


def held_need_ids(now: datetime) -> Select[tuple[int]]:
    """The ids of the micro-wishes a claim holds at `now`."""
    return select(WishClaim.need_id).where(holding(now))
