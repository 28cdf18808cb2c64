"""Per-process cache of figures that scan many rows (dashboard totals, ledger counts).

A cached value is keyed by what the caller asks for and by the data version: the latest
updated_at of needs, pledges and runs (each an index lookup, see the indexes of migration
b7c1a0ad0001) and the number of runs. Every insert or update of those rows moves the version
(the models' updated_at is set on insert and on every UPDATE, ORM or Core; nothing deletes
them), so a change made through any process is seen by the next request of every process.
The time-to-live only bounds what depends on the clock alone (overdue pledges).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from web.models import Allocation, AllocationRun, Need

T = TypeVar("T")
DEFAULT_TTL = 300.0  # only the overdue count depends on the clock (days)
MAX_ENTRIES = 512

_lock = threading.Lock()
_store: dict[Hashable, tuple[float, Any]] = {}
_computing = tuple(threading.Lock() for _ in range(32))


def data_version(session: Session) -> tuple[Any, ...]:
    """The latest change to needs, pledges and runs, in one cheap query."""
    row = session.execute(
        select(
            select(func.max(Need.updated_at)).scalar_subquery(),
            select(func.max(Allocation.updated_at)).scalar_subquery(),
            select(func.max(AllocationRun.updated_at)).scalar_subquery(),
            select(func.count(AllocationRun.id)).scalar_subquery(),
        )
    ).one()
    return tuple(row)


def cached(
    session: Session, key: Hashable, compute: Callable[[], T], ttl: float = DEFAULT_TTL
) -> T:
    """The value computed for the key at the current data version, computed when missing."""
    full = (key, session.get_bind().url.render_as_string(), data_version(session))
    with _lock:
        found = _store.get(full)
        if found is not None and found[0] > time.monotonic():
            return found[1]  # type: ignore[no-any-return]
    # One thread of the process computes a key at a time; the others wait and reuse its value.
    with _computing[hash(key) % len(_computing)]:
        with _lock:
            found = _store.get(full)
        if found is not None and found[0] > time.monotonic():
            return found[1]  # type: ignore[no-any-return]
        value = compute()
        now = time.monotonic()
        with _lock:
            if len(_store) >= MAX_ENTRIES:
                expired = [k for k, (expires, _) in _store.items() if expires <= now]
                for stale in expired or list(_store)[: MAX_ENTRIES // 2]:
                    _store.pop(stale, None)
            _store[full] = (now + ttl, value)
    return value


def clear() -> None:
    """Forget everything (tests)."""
    with _lock:
        _store.clear()
