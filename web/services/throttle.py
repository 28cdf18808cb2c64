"""Rate limits counted in the database, so every web process and worker sees the same counts.

A bucket names what is limited and for whom, e.g. ``login:ip:203.0.113.9`` or
``household-pin:42``. Callers ask :func:`check` before the attempt and :func:`record` the
attempts that count (for sign-in, the failed ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from web.models import ThrottleEvent
from web.models.base import utcnow


@dataclass(frozen=True)
class Verdict:
    """Whether one more attempt is allowed now, and if not, after how many seconds."""

    allowed: bool
    retry_after: int
    count: int


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every moment stored here is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def check(session: Session, bucket: str, limit: int, window: timedelta) -> Verdict:
    """Count the bucket's attempts within the window; refuse once ``limit`` is reached."""
    since = utcnow() - window
    count, oldest = session.execute(
        select(func.count(ThrottleEvent.id), func.min(ThrottleEvent.at)).where(
            ThrottleEvent.bucket == bucket, ThrottleEvent.at > since
        )
    ).one()
    if count < limit:
        return Verdict(True, 0, count)
    free_at = _aware(oldest) + window
    wait = max(1, int((free_at - utcnow()).total_seconds()) + 1)
    return Verdict(False, wait, count)


def record(session: Session, bucket: str) -> None:
    """Count one attempt against the bucket; the caller commits."""
    session.add(ThrottleEvent(bucket=bucket))


def clear(session: Session, bucket: str) -> None:
    """Forget a bucket's attempts (after a successful sign-in, say); the caller commits."""
    session.execute(delete(ThrottleEvent).where(ThrottleEvent.bucket == bucket))


def prune(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete attempts older than any window in use; returns how many went."""
    result = session.execute(delete(ThrottleEvent).where(ThrottleEvent.at < utcnow() - older_than))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
