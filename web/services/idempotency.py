"""Idempotency-Key: a create retried with the same key gets the first answer back, once made.

The key is claimed before the create runs: a record with no answer yet (status 0) is inserted in
the create's own transaction, so it commits with the create or not at all. A second request
with the same key, even one sent at the same moment, waits on the record's unique index until
the first commits, then finds the record: it replays the answer, or hears that the first is
still being answered (PENDING). Two requests with one key never create twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from web.models import IdempotencyRecord

MAX_KEY_LENGTH = 128
PENDING = 0  # the status of a claimed key whose answer is not stored yet


class KeyReused(ValueError):
    """The key was used before by this user for a different request."""


class KeyPending(RuntimeError):
    """A request with this key is being answered right now."""


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
    if record.status_code == PENDING:
        raise KeyPending(key)
    return Stored(record.status_code, record.response_body)


def claim(
    session: Session, user_id: int, key: str, *, method: str, path: str, fingerprint: str
) -> Stored | None:
    """Claim the key for the create about to run (not committed: it commits with the create).

    None when claimed; the stored answer when another request made it first (KeyPending while
    that one is still running, KeyReused when it was a different request).
    """
    record = IdempotencyRecord(
        user_id=user_id,
        key=key,
        method=method,
        path=path[:256],
        request_hash=fingerprint,
        status_code=PENDING,
        response_body="",
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError:  # the same key, committed by a request that got there first
        session.rollback()
        return find(session, user_id, key, fingerprint)
    return None


def store(session: Session, user_id: int, key: str, *, status_code: int, body: str) -> None:
    """Keep the answer on the claimed key (if the create rolled back, there is none); the caller
    commits it with the create."""
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )
    if record is not None and record.status_code == PENDING:
        record.status_code = status_code
        record.response_body = body
    session.flush()


def release(session: Session, user_id: int, key: str) -> None:
    """Give up a claim whose create failed, so that a retry runs it again (the caller rolled the
    create back and commits)."""
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id,
            IdempotencyRecord.key == key,
            IdempotencyRecord.status_code == PENDING,
        )
    )
