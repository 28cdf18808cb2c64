"""E-mail through an outbox: queued in the transaction of what it announces, sent later.

:func:`queue_email` adds an :class:`OutboxEmail` row in the caller's transaction, so a notice
is mailed exactly when what it announces was committed. ``duijie send-mail`` then calls
:func:`send_pending`, which sends each pending row over SMTP and marks it sent, or counts the
attempt and keeps the error; a failed message stays pending for the next run, never lost.

Runs may overlap (cron on one machine or several, on SQLite or PostgreSQL): before sending,
a run claims the message with one compare-and-set UPDATE, committed before the SMTP
conversation, that counts the attempt in SQL and leaves a "sending since <time>" marker in
``last_error``; it only succeeds when ``attempts`` is still what the run read, so of runs
reading the same row exactly one wins and the others skip it. A marker younger than
:data:`CLAIM_SECONDS` means another run is sending the message; an older one means that run
was killed mid-send, and the message is tried again (it may then arrive twice: whether the
server took it is not known).

Mail is configured by ``DUIJIE_SMTP_URL`` (``smtp://host:port``, ``smtps://`` for implicit
TLS, optionally ``user:password@``) and ``DUIJIE_MAIL_FROM``; without both nothing is queued.
This module never reads them: a boundary builds :class:`MailSettings` from the app's
configuration (:func:`mail_settings`) and passes it in.
"""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from web.models import OutboxEmail, User
from web.models.base import utcnow

MAX_ERROR_LENGTH = 2000
# A run's claim on a message it is sending: far longer than one message takes (every SMTP
# step is bounded by the run's timeout), so a live run's claim is never taken for dead.
CLAIM_PREFIX = "sending since "
CLAIM_SECONDS = 15 * 60


class MailConfigError(ValueError):
    """DUIJIE_SMTP_URL cannot be used; the message says why."""


@dataclass(frozen=True)
class MailSettings:
    """Where mail goes out and from whom, and the platform's address for links in it."""

    smtp_url: str
    sender: str
    # The configured address (DUIJIE_BASE_URL), never a request's Host header.
    base_url: str | None = None


def mail_settings(config: Mapping[str, Any]) -> MailSettings | None:
    """The mail settings in an app's configuration (the boundary passes it), None when mail is
    not configured (DUIJIE_SMTP_URL and DUIJIE_MAIL_FROM both needed)."""
    url, sender = config.get("DUIJIE_SMTP_URL"), config.get("DUIJIE_MAIL_FROM")
    if not (url and sender):
        return None
    return MailSettings(str(url), str(sender), config.get("DUIJIE_BASE_URL") or None)


def subject_prefix() -> str:
    """What every subject starts with, in the current language (the recipient's: notify)."""
    from flask_babel import gettext as _

    return _("[duijie] ")


def queue_email(
    session: Session, user: User, subject: str, body: str, mail: MailSettings | None
) -> OutboxEmail | None:
    """Queue a mail to the user in the caller's transaction; the caller commits.

    Returns None (and queues nothing) when mail is not configured (`mail` None) or the user has
    no address.
    """
    if not user.email or mail is None:
        return None
    first_line = subject.strip().splitlines()[0] if subject.strip() else ""
    if len(first_line) > 60:
        first_line = first_line[:59] + "…"
    email = OutboxEmail(
        to_address=user.email,
        subject=(subject_prefix() + first_line)[:200],
        body=body,
        attempts=0,
    )
    session.add(email)
    return email


def pending_count(session: Session) -> int:
    """Messages not yet sent."""
    query = select(func.count(OutboxEmail.id)).where(OutboxEmail.sent_at.is_(None))
    return int(session.scalar(query) or 0)


@dataclass
class SendReport:
    """What one send run did."""

    sent: int = 0
    failed: int = 0
    stopped: str | None = None  # why the run stopped early (the server could not be reached)


def _parse(url: str) -> SplitResult:
    """The SMTP URL's parts; MailConfigError when it is not smtp:// or smtps:// with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailConfigError("DUIJIE_SMTP_URL must look like smtp://host:port")
    return parts


def _connect(url: str, timeout: float) -> smtplib.SMTP:
    """An SMTP connection as the URL says, logged in when it names a user."""
    parts = _parse(url)
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    connection: smtplib.SMTP
    if parts.scheme == "smtps":
        connection = smtplib.SMTP_SSL(parts.hostname, port, timeout=timeout)
    else:
        connection = smtplib.SMTP(parts.hostname, port, timeout=timeout)
        connection.ehlo()
        if connection.has_extn("starttls"):
            connection.starttls()
            connection.ehlo()
    if parts.username:
        connection.login(unquote(parts.username), unquote(parts.password or ""))
    return connection


def _message(email: OutboxEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = sender
    message["To"] = email.to_address
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=f"duijie-outbox-{email.id}")
    message.set_content(email.body)
    return message


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]


def _claim_marker(now: datetime) -> str:
    return f"{CLAIM_PREFIX}{now.isoformat(timespec='seconds')} (no outcome recorded yet)"


def _claimed_by_another_run(last_error: str | None, now: datetime) -> bool:
    """Whether last_error is a claim younger than CLAIM_SECONDS (its run is still sending)."""
    if not last_error or not last_error.startswith(CLAIM_PREFIX):
        return False
    try:
        since = datetime.fromisoformat(last_error[len(CLAIM_PREFIX) :].split(" ", 1)[0])
    except ValueError:
        return False
    return since.tzinfo is not None and now - since < timedelta(seconds=CLAIM_SECONDS)


def _claim(session: Session, email_id: int, attempts_read: int) -> bool:
    """Count an attempt and mark the message as being sent by this run, if no run did since.

    Committed before anything is sent, so a run reading the row afterwards sees the claim.
    """
    claimed = session.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.id == email_id,
            OutboxEmail.sent_at.is_(None),
            OutboxEmail.attempts == attempts_read,
        )
        .values(attempts=OutboxEmail.attempts + 1, last_error=_claim_marker(utcnow()))
        .execution_options(synchronize_session=False)
    )
    # commits mid-way: the claim must be seen by other runs before the SMTP conversation starts
    session.commit()
    return bool(claimed.rowcount)  # type: ignore[attr-defined]


def _record(session: Session, email_id: int, attempts: int, error: str | None) -> None:
    """Store the outcome of this run's attempt: sent (error None) or pending with the error."""
    if error is None:
        query = update(OutboxEmail).values(sent_at=utcnow(), last_error=None)
    else:  # the error only replaces this run's own claim
        query = update(OutboxEmail).values(last_error=error)
        query = query.where(OutboxEmail.attempts == attempts)
    session.execute(
        query.where(OutboxEmail.id == email_id, OutboxEmail.sent_at.is_(None)).execution_options(
            synchronize_session=False
        )
    )
    # commits mid-way: a sent message is marked at once, so no later failure sends it again
    session.commit()


def _next_pending(session: Session, after_id: int) -> OutboxEmail | None:
    """The oldest pending message after `after_id`, read afresh (locked on PostgreSQL, where a
    row another run holds is skipped: that run takes it)."""
    return session.scalar(
        select(OutboxEmail)
        .where(OutboxEmail.sent_at.is_(None), OutboxEmail.id > after_id)
        .order_by(OutboxEmail.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def send_pending(
    session: Session, url: str, sender: str, *, limit: int = 500, timeout: float = 10.0
) -> SendReport:
    """Send pending mail, oldest first, committing after each message.

    A message is marked sent only after the server accepted it; a refused message keeps its
    error and stays pending. When the server cannot be reached the run stops at once, leaving
    the error on the message it was trying. Each message is claimed (and its attempt counted)
    before it is sent, so overlapping runs never send the same message twice.
    """
    _parse(url)
    report = SendReport()
    connection: smtplib.SMTP | None = None
    last_id = 0
    try:
        while report.sent + report.failed < limit:
            email = _next_pending(session, last_id)
            if email is None:
                break
            last_id, attempts = email.id, email.attempts
            if _claimed_by_another_run(email.last_error, utcnow()):
                session.rollback()
                continue
            message = _message(email, sender)
            if not _claim(session, last_id, attempts):
                continue  # another run claimed it (or sent it) since it was read
            attempts += 1
            try:
                if connection is None:
                    connection = _connect(url, timeout)
            except (OSError, smtplib.SMTPException) as error:
                report.failed += 1
                report.stopped = _describe(error)
                _record(session, last_id, attempts, report.stopped)
                break
            try:
                connection.send_message(message)
            except smtplib.SMTPServerDisconnected as error:
                report.failed += 1
                connection = None
                _record(session, last_id, attempts, _describe(error))
            except (OSError, smtplib.SMTPException) as error:
                report.failed += 1
                _record(session, last_id, attempts, _describe(error))
            else:
                report.sent += 1
                _record(session, last_id, attempts, None)
    finally:
        session.rollback()
        if connection is not None:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                connection.close()
    return report
