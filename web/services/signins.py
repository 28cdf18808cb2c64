"""Sign-ins: the signed-in browsers of a staff account, listed so their holder can end them.

A sign-in row is made at each staff sign-in and named in the (signed) session cookie; the
session ends when its row is gone (web.sessions.enforce). Every sign-out and password change
ends all of an account's sessions (web.services.accounts.end_sessions), rows included; the
account page ends the others or all. Households sign in on shared phones with a PIN: their
sign-out already ends every session of the household, and they have no list.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from web.models import SignIn, User
from web.models.base import utcnow

AGENT_CHARS = 120


def agent_summary(raw: str) -> str:
    """A short description of the browser and system from a User-Agent header."""
    text = " ".join((raw or "").split())
    systems = (
        ("HarmonyOS", "HarmonyOS"),
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS", "macOS"),
        ("Linux", "Linux"),
    )
    browsers = (
        ("MicroMessenger", "WeChat"),
        ("Edg/", "Edge"),
        ("Chrome/", "Chrome"),
        ("Firefox/", "Firefox"),
        ("Safari/", "Safari"),
    )
    system = next((name for key, name in systems if key in text), "")
    browser = next((name for key, name in browsers if key in text), "")
    if system or browser:
        return " · ".join(filter(None, (browser, system)))
    return text[:AGENT_CHARS]


def start(session: Session, user: User, agent: str, address: str) -> SignIn:
    """A new sign-in of `user` from this browser; flushed so its id can go in the cookie."""
    now = utcnow()
    row = SignIn(
        user_id=user.id,
        created_at=now,
        seen_at=now,
        agent=agent_summary(agent)[:AGENT_CHARS],
        address=(address or "")[:64],
    )
    session.add(row)
    session.flush()
    return row


def active(session: Session, user: User, idle: timedelta, life: timedelta) -> list[SignIn]:
    """The account's sign-ins still within the idle timeout and lifetime, newest first."""
    now = utcnow()
    return list(
        session.scalars(
            select(SignIn)
            .where(
                SignIn.user_id == user.id,
                SignIn.seen_at >= now - idle,
                SignIn.created_at >= now - life,
            )
            .order_by(SignIn.seen_at.desc(), SignIn.id.desc())
        )
    )


def seen(row: SignIn, now: datetime) -> None:
    """Note a request of this sign-in (the caller limits how often)."""
    row.seen_at = now


def end_all(session: Session, user_id: int, keep: int | None = None) -> int:
    """Delete the account's sign-in rows (but `keep`); how many went. The caller commits."""
    query = delete(SignIn).where(SignIn.user_id == user_id)
    if keep is not None:
        query = query.where(SignIn.id != keep)
    result = session.execute(query.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
