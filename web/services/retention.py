"""How long each table of events and keys is kept, and the pruning that keeps it so.

`duijie prune` (hourly: the systemd timer or the compose scheduler) deletes what is past its
retention. Each retention is a number of days, set by ``DUIJIE_RETAIN_<NAME>_DAYS``:

===================  =======  =====================================================================
name                 default  what goes
===================  =======  =====================================================================
throttle_event       2        rate-limit attempts (sign-in, PIN, submissions); the longest window
                              in use is one day
idempotency_record   7        stored answers to creates sent with an Idempotency-Key (a retry
                              comes within minutes); claims never answered (a crashed create)
outbox_email         90       e-mail already sent (pending e-mail is never pruned)
notification         365      in-app notices already read
api_token            180      tokens revoked, or expired, that long ago
household_code       30       one-time invitation codes expired that long ago (the hash is
                              cleared, the household stays)
household_event      730      a household's history shown to its committee (kept at least 180)
sign_in              2        staff sign-ins (the account page's list) unused that long: past any
                              idle timeout, and past the absolute lifetime (12 hours by default)
import_job           30       background imports of large sheets and their reports (the uploaded
                              file itself is deleted when its job ends)
wish_claim           730      claims on micro-wishes ended (received, expired, given back) that
                              long ago; holding claims are never pruned
===================  =======  =====================================================================

Never pruned: the audit trail (``audit_event``: a hash chain, and China's Cybersecurity Law,
art. 21, and MLPS 2.0 level 2 ask for at least six months of security records), and the data
itself (offers, needs, runs, pledges). Sessions are signed cookies; a staff session names its
``sign_in`` row, which goes at sign-out and, unused, by the retention above. Redis keys
(rate-limit windows, RQ job results) expire by their own TTL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from web.models import (
    ApiToken,
    HouseholdEvent,
    IdempotencyRecord,
    ImportJob,
    Notification,
    OutboxEmail,
    SignIn,
    ThrottleEvent,
    WishClaim,
)
from web.models.aid import Household
from web.models.base import utcnow
from web.services.idempotency import PENDING

DEFAULT_DAYS: dict[str, int] = {
    "throttle_event": 2,
    "idempotency_record": 7,
    "outbox_email": 90,
    "notification": 365,
    "api_token": 180,
    "household_code": 30,
    "household_event": 730,
    "sign_in": 2,
    "import_job": 30,
    "wish_claim": 730,
}
# Records a committee or an inspector may ask about: never kept less than six months.
MINIMUM_DAYS: dict[str, int] = {"household_event": 180}


class RetentionError(ValueError):
    """A retention setting that is not a whole number of days, or below its minimum."""


def retention_days(environ: Mapping[str, str]) -> dict[str, int]:
    """Each table's retention in days: DUIJIE_RETAIN_<NAME>_DAYS in `environ` (the caller's
    settings), else the default."""
    days: dict[str, int] = {}
    for name, default in DEFAULT_DAYS.items():
        variable = f"DUIJIE_RETAIN_{name.upper()}_DAYS"
        raw = environ.get(variable, "").strip()
        if not raw:
            days[name] = default
            continue
        if not raw.isdigit() or int(raw) < 1:
            raise RetentionError(
                f"{variable} must be a whole number of days (1 or more), not {raw!r}"
            )
        value = int(raw)
        minimum = MINIMUM_DAYS.get(name, 1)
        if value < minimum:
            raise RetentionError(f"{variable} is {value}: {name} is kept at least {minimum} days")
        days[name] = value
    return days


@dataclass(frozen=True)
class Rule:
    """Which rows of a table are past a cut-off moment, and how they go (delete or clear)."""

    model: type
    expired: Callable[[datetime], ColumnElement[bool]]
    clear: dict[str, None] | None = None  # set these columns to NULL instead of deleting


RULES: dict[str, Rule] = {
    "throttle_event": Rule(ThrottleEvent, lambda cut: ThrottleEvent.at < cut),
    "idempotency_record": Rule(
        IdempotencyRecord,
        lambda cut: or_(
            IdempotencyRecord.created_at < cut,
            # A claim never answered (its create crashed) frees its key after a day at most.
            and_(
                IdempotencyRecord.status_code == PENDING,
                IdempotencyRecord.created_at < utcnow() - timedelta(days=1),
            ),
        ),
    ),
    "outbox_email": Rule(
        OutboxEmail, lambda cut: and_(OutboxEmail.sent_at.is_not(None), OutboxEmail.sent_at < cut)
    ),
    "notification": Rule(
        Notification,
        lambda cut: and_(Notification.read_at.is_not(None), Notification.read_at < cut),
    ),
    "api_token": Rule(
        ApiToken,
        lambda cut: or_(
            and_(ApiToken.revoked_at.is_not(None), ApiToken.revoked_at < cut),
            and_(ApiToken.expires_at.is_not(None), ApiToken.expires_at < cut),
        ),
    ),
    "household_code": Rule(
        Household,
        lambda cut: and_(
            Household.invite_hash.is_not(None),
            Household.invite_expires_at.is_not(None),
            Household.invite_expires_at < cut,
        ),
        clear={"invite_hash": None, "invite_expires_at": None},
    ),
    "household_event": Rule(HouseholdEvent, lambda cut: HouseholdEvent.at < cut),
    "sign_in": Rule(SignIn, lambda cut: SignIn.seen_at < cut),
    "import_job": Rule(ImportJob, lambda cut: ImportJob.created_at < cut),
    "wish_claim": Rule(
        WishClaim, lambda cut: and_(WishClaim.ended_at.is_not(None), WishClaim.ended_at < cut)
    ),
}


def prune(
    session: Session, days: Mapping[str, int] | None = None, *, dry_run: bool = False
) -> dict[str, int]:
    """Delete (or clear) what is past each table's retention; how many rows, by name.

    `days` is each table's retention (see retention_days; the defaults when not given). The
    caller commits. With ``dry_run`` nothing changes: the counts say what would go.
    """
    days = dict(DEFAULT_DAYS if days is None else days)
    now = utcnow()
    counts: dict[str, int] = {}
    for name, rule in RULES.items():
        where = rule.expired(now - timedelta(days=days[name]))
        if dry_run:
            counts[name] = int(
                session.scalar(select(func.count()).select_from(rule.model).where(where)) or 0
            )
            continue
        if rule.clear is not None:
            result = session.execute(
                update(rule.model)
                .where(where)
                .values(**rule.clear)
                .execution_options(synchronize_session=False)
            )
        else:
            result = session.execute(
                delete(rule.model).where(where).execution_options(synchronize_session=False)
            )
        counts[name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    return counts
