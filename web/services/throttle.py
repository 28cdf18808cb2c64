"""Rate limits counted in the database, so every web process and worker sees the same counts.

A bucket names what is limited and for whom, e.g. ``login:ip:203.0.113.9`` or
``household-pin:42``.

Sign-in and other guessable secrets go through :func:`attempt`: the attempt is recorded and
committed first, then counted together with the earlier attempts in its buckets, and refused
(and its record deleted) when that count is over the limit. However many attempts arrive at the
same moment, at most ``limit`` per window get as far as the password; checking first and
recording afterwards let every simultaneous attempt pass the check before any was recorded.
A failure's record stays; after a success the caller calls :func:`forget` or :func:`clear`.

:func:`check` and :func:`record` remain for limits counted under a lock the caller already holds
(a household's submissions, under its row lock) or where a few too many do no harm.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from web.models import ThrottleEvent
from web.models.base import utcnow
from web.services.locking import begin_write

# Attempts are kept a day (the longest window in use); about one attempt in this many deletes
# the older ones (an indexed DELETE), so the table holds about a day of attempts.
PRUNE_EVERY = 100
# First key of the PostgreSQL advisory locks that order one bucket's attempts ("th").
_ADVISORY_CLASS = 0x7468


@dataclass(frozen=True)
class Verdict:
    """Whether one more attempt is allowed now, and if not, after how many seconds."""

    allowed: bool
    retry_after: int
    count: int


@dataclass(frozen=True)
class Attempt:
    """An attempt recorded against its buckets; allowed to go on, or refused (and forgotten).

    ``counts`` is, per bucket, how many attempts within the window this one makes (itself
    included); ``events`` are the ids of its records (none once refused).
    """

    allowed: bool
    retry_after: int
    counts: dict[str, int] = field(default_factory=dict)
    events: tuple[int, ...] = ()


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every moment stored here is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def _wait(oldest: datetime, window: timedelta) -> int:
    free_at = _aware(oldest) + window
    return max(1, int((free_at - utcnow()).total_seconds()) + 1)


def check(session: Session, bucket: str, limit: int, window: timedelta) -> Verdict:
    """Count the bucket's attempts within the window; refuse once ``limit`` is reached.

    Not for checking a secret: attempts made at once all pass before any is recorded. Use
    :func:`attempt` there.
    """
    since = utcnow() - window
    count, oldest = session.execute(
        select(func.count(ThrottleEvent.id), func.min(ThrottleEvent.at)).where(
            ThrottleEvent.bucket == bucket, ThrottleEvent.at > since
        )
    ).one()
    if count < limit:
        return Verdict(True, 0, count)
    return Verdict(False, _wait(oldest, window), count)


def record(session: Session, bucket: str) -> None:
    """Count one attempt against the bucket; the caller commits."""
    session.add(ThrottleEvent(bucket=bucket))


def _order_bucket_writes(session: Session, buckets: Iterable[str]) -> None:
    """Make one bucket's attempts commit in the order of their ids, until this transaction ends.

    SQLite: the database's write lock (one writer at a time). PostgreSQL: an advisory lock per
    bucket, taken in a fixed order, held only while the attempt is inserted and committed. The
    ranks :func:`attempt` counts are then exact: every earlier id is committed, and visible.
    """
    begin_write(session)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    for bucket in sorted(set(buckets)):
        key = int.from_bytes(hashlib.sha256(bucket.encode()).digest()[:4], "big", signed=True)
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :key)"), {"cls": _ADVISORY_CLASS, "key": key}
        )


def attempt(
    session: Session,
    limits: Mapping[str, int],
    window: timedelta,
    windows: Mapping[str, timedelta] | None = None,
) -> Attempt:
    """Record one attempt against each bucket (bucket -> limit), commit, then count it in.

    Every bucket counts within `window`, or within its own entry of `windows` (a longer window
    with a higher limit makes the wait grow as failures go on).

    Refused when, in any bucket, this attempt and the earlier ones within the window are more
    than the limit: its records are then deleted again (a refused attempt checks nothing and
    does not prolong the wait) and ``retry_after`` says how long the longest wait is.
    Commits the session: call it before changing anything else.
    """
    if not limits:
        return Attempt(True, 0)
    # commits mid-way: end any read transaction, so the write lock below is taken afresh
    session.commit()
    _order_bucket_writes(session, limits)
    if secrets.randbelow(PRUNE_EVERY) == 0:
        prune(session)  # the retention: about one attempt in PRUNE_EVERY clears the old ones
    events = {bucket: ThrottleEvent(bucket=bucket) for bucket in limits}
    session.add_all(events.values())
    session.flush()
    ids = {bucket: int(event.id) for bucket, event in events.items()}
    # commits mid-way: the attempt counts even when the request it guards fails or is refused
    session.commit()
    counts: dict[str, int] = {}
    wait = 0
    for bucket, limit in limits.items():
        span = (windows or {}).get(bucket, window)
        count, oldest = session.execute(
            select(func.count(ThrottleEvent.id), func.min(ThrottleEvent.at)).where(
                ThrottleEvent.bucket == bucket,
                ThrottleEvent.at > utcnow() - span,
                ThrottleEvent.id <= ids[bucket],
            )
        ).one()
        counts[bucket] = int(count)
        if count > limit:
            wait = max(wait, _wait(oldest, span))
    if wait:
        forget(session, ids.values())
        session.commit()  # commits mid-way: a refused attempt is forgotten for good
        return Attempt(False, wait, counts)
    return Attempt(True, 0, counts, tuple(ids.values()))


def forget(session: Session, events: Attempt | Iterable[int]) -> None:
    """Delete an attempt's records (it succeeded: it was no failure); the caller commits."""
    ids = list(events.events if isinstance(events, Attempt) else events)
    if ids:
        session.execute(delete(ThrottleEvent).where(ThrottleEvent.id.in_(ids)))


def clear(session: Session, bucket: str) -> None:
    """Forget a bucket's attempts (after a successful sign-in, say); the caller commits."""
    session.execute(delete(ThrottleEvent).where(ThrottleEvent.bucket == bucket))


def prune(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete attempts older than any window in use; returns how many went."""
    result = session.execute(delete(ThrottleEvent).where(ThrottleEvent.at < utcnow() - older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
