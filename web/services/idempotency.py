"""Idempotency-Key: a create retried with the same key gets the first answer back, once made."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from web.models import IdempotencyRecord

MAX_KEY_LENGTH = 128


class KeyReused(ValueError):
    """The key was used before by this user for a different request."""


@dataclass(frozen=True)
class Stored:
    """A stored answer to replay."""

    status_code: int
    body: str


def request_hash(method: str, path: str, body: bytes) -> str:
    """A fingerprint of the request a key was first used for."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def find(session: Session, user_id: int, key: str, fingerprint: str) -> Stored | None:
    """The stored answer for this user's key, None if new; KeyReused for a different request."""
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise KeyReused(key)
    return Stored(record.status_code, record.response_body)


def store(
    session: Session,
    user_id: int,
    key: str,
    *,
    method: str,
    path: str,
    fingerprint: str,
    status_code: int,
    body: str,
) -> None:
    """Keep the answer for the key; a concurrent first use keeps its own. Commits."""
    session.add(
        IdempotencyRecord(
            user_id=user_id,
            key=key,
            method=method,
            path=path[:256],
            request_hash=fingerprint,
            status_code=status_code,
            response_body=body,
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
