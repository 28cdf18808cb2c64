"""In-app notifications: added in the caller's transaction, read on the user's pages."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import Notification, User


def notify(
    session: Session, user: User, kind: str, message: str, link: str | None = None
) -> Notification:
    """Add a notification for one user; the caller commits."""
    note = Notification(user_id=user.id, kind=kind, message=message, link=link)
    session.add(note)
    return note


def organization_members(session: Session, organization_ids: Iterable[int]) -> list[User]:
    """Active users of these organizations, by id."""
    query = select(User).where(User.organization_id.in_(list(organization_ids)), User.active)
    return list(session.scalars(query.order_by(User.id)))


def village_committees(session: Session, village_ids: Iterable[int]) -> list[User]:
    """Active village committee users of these villages, by id."""
    query = select(User).where(
        User.role == "village", User.village_id.in_(list(village_ids)), User.active
    )
    return list(session.scalars(query.order_by(User.id)))
