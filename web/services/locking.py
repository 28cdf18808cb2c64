"""Row locks for every change to offer.allocated and need.allocated, in one fixed order.

The order is: the allocation run or allocation being changed (if any), then offers by id, then
needs by id. Every path that moves units (commit of a run, cancellation of a pledge, a manual
pledge) follows it, so two of them can never wait on each other in a cycle, and each re-reads
the locked rows (populate_existing) and re-checks the remaining quantities under the lock.

PostgreSQL takes the row locks with SELECT ... FOR UPDATE. SQLite has no row locks; there the
transaction starts with BEGIN IMMEDIATE, which takes the database's single write lock before
anything is read, so writers queue one behind the other (for up to the engine's 30 s timeout)
instead of updating counters they read before another writer committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

M = TypeVar("M")


def begin_write(session: Session) -> None:
    """On SQLite, take the database write lock now (BEGIN IMMEDIATE); nothing on PostgreSQL."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw: Any = connection.connection.dbapi_connection
    # Already inside a real SQLite transaction that wrote something: the write lock is held.
    if not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_rows(session: Session, model: type[M], ids: Iterable[int]) -> dict[int, M]:
    """Rows of `model` by id, locked FOR UPDATE in id order and read afresh from the database."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = (
        select(model)
        .where(model.id.in_(wanted))  # type: ignore[attr-defined]
        .order_by(model.id)  # type: ignore[attr-defined]
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.id: row for row in session.scalars(query)}  # type: ignore[attr-defined]


def relock(session: Session, row: Any) -> None:
    """Lock one row and read it afresh (SQLite: take the write lock), before a change that
    depends on its state: an offer or need's `allocated`, a request's or household's status.

    An edit or withdrawal allowed only while nothing is allocated must see the counter as the
    weekly commit and manual pledges leave it, not as it was when the page loaded it.
    """
    begin_write(session)
    lock_rows(session, type(row), [row.id])
