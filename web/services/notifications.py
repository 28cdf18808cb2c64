"""In-app notifications: added in the caller's transaction, read on the user's pages.

When mail is configured, each notice to a user with an e-mail address is also queued in the
outbox in the same transaction (``duijie send-mail`` sends it).

A notice is written in its recipient's language (``User.locale``, web.i18n.user_locale), not the
language of whoever caused it: callers pass a function that writes the message, called once per
recipient under that recipient's locale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from web.i18n import user_locale
from web.models import Notification, User
from web.services.outbox import queue_email


def notify(
    session: Session,
    user: User,
    kind: str,
    message: Callable[[], str] | str,
    link: str | None = None,
) -> Notification:
    """Add a notification for one user (and its e-mail when mail is on); the caller commits.

    ``message`` writes the text (through gettext); it is called in the user's language. A
    plain string is sent as it is (text someone typed).
    """
    with force_locale(user_locale(user)):
        text = message() if callable(message) else message
        note = Notification(user_id=user.id, kind=kind, message=text, link=link)
        session.add(note)
        queue_email(session, user, text, _mail_body(text, link))
    return note


def _mail_body(message: str, link: str | None) -> str:
    """The e-mail text of a notice: the message, where to see it, and why it was sent."""
    lines = [message, ""]
    if link:
        # The configured address, never the request's Host header (which a sender controls).
        base = (current_app.config.get("DUIJIE_BASE_URL") or "") if has_app_context() else ""
        where = (
            f"{base.rstrip('/')}{link}"
            if base
            else _("sign in to the platform and open %(link)s", link=link)
        )
        lines += [_("Details: %(where)s", where=where), ""]
    lines.append(_("This notice was sent by the Hezhou social aid matching platform (duijie);"))
    lines.append(_("to receive no more e-mail, delete your e-mail address on the My account page."))
    return "\n".join(lines)


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
