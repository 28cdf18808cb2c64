"""The audit chain's keys (issue 24): kept outside the database, in a file beside the app.

Each event's hash is an HMAC-SHA-256 under the newest key, and names that key; whoever can
write the database but not read this file cannot rewrite events so that they verify. The file
(DUIJIE_AUDIT_KEY_FILE, by default ``audit_keys`` in the instance folder, created owner-only
on first use) holds one key a line: ``<id> <since> <hex secret>``, where `since` is how many
events the trail had when the key was made: every later event must be keyed. Rotating adds a
line (``duijie audit rotate-key``); old keys stay to verify the events they signed.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class AuditKey:
    """One key: its id, the trail's length when it was made, and its secret."""

    id: str
    since: int
    secret: bytes


def load(path: Path) -> list[AuditKey]:
    """The keys in the file, oldest first ([] when there is no file)."""
    if not path.exists():
        return []
    keys = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3 or not parts[1].isdigit():
            raise ValueError(f"{path}:{number}: expected '<id> <since> <hex secret>'")
        keys.append(AuditKey(parts[0], int(parts[1]), bytes.fromhex(parts[2])))
    return keys


def add(path: Path, since: int) -> AuditKey:
    """Make a new key, valid from event `since` on, and append it to the file (owner-only)."""
    keys = load(path)
    key = AuditKey(f"k{len(keys) + 1}", since, secrets.token_bytes(32))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(f"{key.id} {key.since} {key.secret.hex()}\n")
    return key


def current(path: Path, since: Callable[[], int]) -> AuditKey:
    """The newest key; the first one is made now (valid from event `since()` on) if there is
    none. Two processes making the first key at once agree on one: the file is created once."""
    keys = load(path)
    if keys:
        return keys[-1]
    key = AuditKey("k1", since(), secrets.token_bytes(32))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load(path)[-1]
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"{key.id} {key.since} {key.secret.hex()}\n")
    return key


# Each app's engine -> where its key file is (the app factory tells, see remember_key_file):
# every session bound to the engine, in a request, a thread or a job, signs with the same keys.
_KEY_FILES: WeakKeyDictionary[Any, Callable[[], Path]] = WeakKeyDictionary()


def remember_key_file(engine: Any, where: Callable[[], Path]) -> None:
    """Sessions bound to `engine` keep the chain's keys in the file `where()` names (the app's
    DUIJIE_AUDIT_KEY_FILE, read when an event is signed or the chain verified)."""
    _KEY_FILES[engine] = where


def key_file(session: Session | None = None) -> Path | None:
    """Where the chain's keys are kept for the engine `session` (by default the app's session)
    is bound to; None for a session of no app's engine."""
    if session is None:
        from web.extensions import db

        session = db.session  # type: ignore[assignment]
    try:
        where = _KEY_FILES.get(session.get_bind())  # type: ignore[union-attr]
    except Exception:  # an unbound session, or the app's session outside an app context
        return None
    return where() if where is not None else None
