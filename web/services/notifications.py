"""In-app notifications: added in the caller's transaction, read on the user's pages.

notify() only records what happened: the notice, and in ``session.info[NOTICES]`` that it is to
be mailed. The boundary's commit (web.unit_of_work.mail_on_commit, installed by create_app)
then calls :func:`mail_recorded` with the mail settings from the app's configuration, so each
notice to a user with an e-mail address is queued in the outbox in the same transaction
(``duijie send-mail`` sends it), and a notice rolled back is never mailed. This module reads
no settings.

A notice is written in its recipient's language (``User.locale``, web.i18n.user_locale), not the
language of whoever caused it: callers pass a function that writes the message, called once per
recipient under that recipient's locale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from web.i18n import user_locale
from web.models import Notification, User
from web.services.outbox import MailSettings, queue_email

# session.info key: the notices of the open transaction still to be mailed at its commit.
NOTICES = "notices_to_mail"


@dataclass(frozen=True)
class RecordedNotice:
    """A notice added in this transaction, with what its mail is written from."""

    note: Notification
    user: User
    text: str
    link: str | None


def notify(
    session: Session,
    user: User,
    kind: str,
    message: Callable[[], str] | str,
    link: str | None = None,
) -> Notification:
    """Add a notification for one user and record it to be mailed; the caller commits.

    ``message`` writes the text (through gettext); it is called in the user's language. A
    plain string is sent as it is (text someone typed). Its e-mail is queued when the caller's
    transaction commits, if mail is configured then (:func:`mail_recorded`).
    """
    with force_locale(user_locale(user)):
        text = message() if callable(message) else message
    note = Notification(user_id=user.id, kind=kind, message=text, link=link)
    session.add(note)
    session.info.setdefault(NOTICES, []).append(RecordedNotice(note, user, text, link))
    return note


def mail_recorded(session: Session, mail: MailSettings | None) -> int:
    """Queue the e-mail of each notice recorded in this transaction (and still in it: a notice
    a savepoint rolled back is not mailed), in its reader's language; how many were queued.

    Called by the boundary as it commits, with the app's mail settings (None: mail is off, the
    records are dropped). Flushes nothing itself: the commit that calls it writes the rows.
    """
    recorded: list[RecordedNotice] = session.info.pop(NOTICES, [])
    if mail is None:
        return 0
    queued = 0
    for notice in recorded:
        if notice.note not in session:
            continue
        with force_locale(user_locale(notice.user)):
            body = mail_body(notice.text, notice.link, mail.base_url)
            queued += queue_email(session, notice.user, notice.text, body, mail) is not None
    return queued


def forget_recorded(session: Session) -> None:
    """Drop the notices recorded to be mailed: their transaction ended without a commit."""
    session.info.pop(NOTICES, None)


def mail_body(message: str, link: str | None, base_url: str | None) -> str:
    """The e-mail text of a notice: the message, where to see it, and why it was sent.

    ``base_url`` is the platform's configured address (never a request's Host header, which a
    sender controls); without it the mail names the page to open after signing in.
    """
    lines = [message, ""]
    if link:
        base = base_url or ""
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
