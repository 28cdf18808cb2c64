"""Personal access tokens for the API: created and shown once, stored only as a SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from web.models import ApiToken, User
from web.models.base import utcnow

TOKEN_PREFIX = "dj_"  # noqa: S105  (a marker, not a secret)
# How many leading characters are kept in clear, so a user can tell tokens apart.
SHOWN_CHARACTERS = 10
# last_used_at is refreshed at most this often, sparing a write on every request.
USE_RESOLUTION = timedelta(minutes=1)
# Reads note a token's use in this Redis hash (token hash -> ISO time), not in the database;
# `duijie prune` (hourly) writes the noted uses to last_used_at. Writes commit anyway.
USES_KEY = "duijie:api:token-uses"
SCOPES = ("read", "write")
DEFAULT_DAYS = 90  # a new token's lifetime unless another is chosen
MAX_DAYS = 365


class TokenError(ValueError):
    """A token operation was refused; `code` names the reason."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class NewToken:
    """A token just made: the secret is here and nowhere else, shown to the user once."""

    token: ApiToken
    secret: str


def digest(secret: str) -> str:
    """The SHA-256 hex digest stored for a token."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(
    session: Session, user: User, name: str, *, scope: str = "write", days: int = DEFAULT_DAYS
) -> NewToken:
    """Make a token for an active user, with a scope and a lifetime of 1 to MAX_DAYS days;
    the caller commits. The secret is returned once."""
    name = name.strip()
    if not name or len(name) > 64:
        raise TokenError("name")
    if scope not in SCOPES:
        raise TokenError("scope")
    if not 1 <= days <= MAX_DAYS:
        raise TokenError("days")
    if not user.active:
        raise TokenError("inactive")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, name=name, prefix=secret[:SHOWN_CHARACTERS], token_hash=digest(secret),
        scope=scope, expires_at=utcnow() + timedelta(days=days),
    )  # fmt: skip
    session.add(token)
    session.flush()
    return NewToken(token, secret)


def expired(token: ApiToken, now: datetime | None = None) -> bool:
    """Whether the token's lifetime is over (a token made before expiries never is)."""
    if token.expires_at is None:
        return False
    ends = token.expires_at
    if ends.tzinfo is None:  # SQLite hands back naive UTC
        ends = ends.replace(tzinfo=UTC)
    return (now or utcnow()) >= ends


def user_tokens(session: Session, user: User) -> Sequence[ApiToken]:
    """The user's tokens, live ones first, newest first."""
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
    )
    return session.scalars(query).all()


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens; LookupError for anyone else's; the caller commits."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise LookupError(token_id)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    return token


def authenticate(session: Session, secret: str, uses: Any = None) -> ApiToken | None:
    """The live token for a secret whose user is active, its last use noted; else None.

    With `uses` (a Redis client) the use is noted there, no database write; if Redis fails,
    in the database as without it: at most once a USE_RESOLUTION per token."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == digest(secret))
        .options(joinedload(ApiToken.user))  # one round trip: every API request comes here
    )
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    if expired(token, now):
        return None
    if uses is not None and _note_use(uses, token, now):
        return token
    last = token.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    if last is None or now - last > USE_RESOLUTION:
        token.last_used_at = now
        # commits mid-way: a token's use is noted even when the call it authenticates fails
        session.commit()
    return token


def _note_use(uses: Any, token: ApiToken, now: datetime) -> bool:
    """Note the token's use in Redis; False when Redis fails (then the database notes it)."""
    try:
        uses.hset(USES_KEY, token.token_hash, now.isoformat())
    except Exception:
        return False
    return True


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite hands back naive UTC
        return moment.replace(tzinfo=UTC)
    return moment


def pending_uses(uses: Any, tokens: Sequence[ApiToken]) -> dict[int, datetime]:
    """The uses noted in Redis and not yet written, by token id (empty if Redis fails)."""
    if uses is None or not tokens:
        return {}
    try:
        noted = uses.hmget(USES_KEY, [token.token_hash for token in tokens])
    except Exception:
        return {}
    return {
        token.id: datetime.fromisoformat(value.decode() if isinstance(value, bytes) else value)
        for token, value in zip(tokens, noted, strict=True)
        if value is not None
    }


def last_used(token: ApiToken, pending: Mapping[int, datetime]) -> datetime | None:
    """When the token was last used: the later of the stored and the pending use."""
    stored, noted = _aware(token.last_used_at), pending.get(token.id)
    if stored is None or (noted is not None and noted > stored):
        return noted
    return stored


def flush_uses(session: Session, uses: Any) -> tuple[int, str | None]:
    """Write the uses noted in Redis to last_used_at (never moving it back); the caller commits
    and then deletes the returned key. (How many tokens were updated, that key or None.)

    The noted uses are moved aside in one step, so uses noted meanwhile wait for the next
    flush; uses of tokens of another database sharing the Redis are put back."""
    import uuid

    moving = f"{USES_KEY}:flushing:{uuid.uuid4().hex}"
    try:
        uses.rename(USES_KEY, moving)
    except Exception as error:  # no use noted since the last flush
        if "no such key" in str(error).lower():
            return 0, None
        raise
    uses.expire(moving, 86400)  # a flush whose commit failed: gone within a day
    noted = {
        (key.decode() if isinstance(key, bytes) else key): datetime.fromisoformat(
            value.decode() if isinstance(value, bytes) else value
        )
        for key, value in uses.hgetall(moving).items()
    }
    found = session.scalars(select(ApiToken).where(ApiToken.token_hash.in_(noted))).all()
    updated = 0
    for token in found:
        when = noted.pop(token.token_hash)
        stored = _aware(token.last_used_at)
        if stored is None or when > stored:
            token.last_used_at, updated = when, updated + 1
    for token_hash, when in noted.items():  # another database's tokens
        uses.hsetnx(USES_KEY, token_hash, when.isoformat())
    session.flush()
    return updated, moving
