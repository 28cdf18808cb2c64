"""Per-process cache of what is costly to compute from many rows: figures and whole pages.

A cached value is keyed by what the caller asks for and by the **data version**: the id and
hash of the latest audit event. Every change to the audited models (offers, needs, villages,
households, accounts, organizations, runs, pledges; ORM flushes and bulk UPDATE/DELETE alike, see
``web.services.audit``) appends an event in the same transaction, and events are appended under
a lock held until COMMIT, so their ids grow in commit order. A change committed by any process
therefore moves the version that every process reads at its next request, and nothing cached
at an older version is served again. Reading the version is one primary-key lookup.

The time-to-live bounds only what follows the clock alone (overdue pledges, the current week).
One thread per process computes a key while the others wait for its result, so 32 clients
arriving on a cold cache render a page once, not 32 times. The lock is the key's own: a page
being rendered may compute figures under their keys (a page key never waits for another page
key), so no two threads can wait on each other. Entries are bounded in number and
in bytes; the oldest go first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import AuditEvent

T = TypeVar("T")
DEFAULT_TTL = 300.0  # figures: only the overdue count depends on the clock (days)
MAX_ENTRIES = 2048
MAX_BYTES = 64 * 1024 * 1024  # what the cached pages may hold per process

_lock = threading.Lock()
_store: OrderedDict[Hashable, tuple[float, Any, int]] = OrderedDict()
_bytes = 0
_computing: dict[Hashable, list[Any]] = {}  # key -> [its lock, threads using it]


def data_version(session: Session) -> tuple[int, str]:
    """The latest audit event's id and hash: it moves with every committed change.

    The hash, not the id alone: it names the whole history before it (the events are chained),
    so a database restored from a backup, or recreated from a template as the tests do, never
    passes for another one at the same event id.
    """
    row = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return (0, "") if row is None else (int(row[0]), str(row[1]))


def _size(value: Any) -> int:
    """Bytes a value holds: a stored page says so itself; figures are counted as small."""
    size = getattr(value, "size", None)
    return size if isinstance(size, int) else 256


def _get(full: Hashable) -> tuple[bool, Any]:
    with _lock:
        found = _store.get(full)
        if found is None:
            return False, None
        if found[0] <= time.monotonic():
            _drop(full)
            return False, None
        _store.move_to_end(full)
        return True, found[1]


def _drop(full: Hashable) -> None:
    global _bytes
    gone = _store.pop(full, None)
    if gone is not None:
        _bytes -= gone[2]


def _put(full: Hashable, value: Any, ttl: float) -> None:
    global _bytes
    size = _size(value)
    with _lock:
        _drop(full)
        _store[full] = (time.monotonic() + ttl, value, size)
        _bytes += size
        while _store and (len(_store) > MAX_ENTRIES or _bytes > MAX_BYTES):
            _drop(next(iter(_store)))


def cached(
    session: Session,
    key: Hashable,
    compute: Callable[[], T],
    ttl: float = DEFAULT_TTL,
    *,
    keep: Callable[[T], bool] | None = None,
    version: tuple[int, str] | None = None,
) -> T:
    """The value computed for the key at the current data version, computed when missing.

    `keep` decides whether a computed value may be stored (a page that set a cookie may not);
    `version` is the data version when the caller has already read it.
    """
    if version is None:
        version = data_version(session)
    full = (key, session.get_bind().url.render_as_string(), version)
    hit, value = _get(full)
    if hit:
        return value  # type: ignore[no-any-return]
    # One thread of the process computes a key at a time; the others wait and reuse its value.
    with _lock:
        entry = _computing.setdefault(full, [threading.Lock(), 0])
        entry[1] += 1
    try:
        with entry[0]:
            hit, value = _get(full)
            if hit:
                return value  # type: ignore[no-any-return]
            value = compute()
            if keep is None or keep(value):
                _put(full, value, ttl)
        return value
    finally:
        with _lock:
            entry[1] -= 1
            if entry[1] == 0:
                _computing.pop(full, None)


def clear() -> None:
    """Forget everything (tests)."""
    global _bytes
    with _lock:
        _store.clear()
        _bytes = 0
