"""The audit trail: every change to the audited models writes a hash-chained AuditEvent.

Nothing in the services calls this module. A listener on every ORM session's ``after_flush``
turns the rows a flush inserts, updates or deletes into events, inserted on the same connection
in the same transaction: a rolled-back transaction leaves no event, a committed change always
has one. Who acted is the actor set with :func:`acting_as` (the CLI, background jobs), else the
user Flask-Login loaded for the request, else nobody (the system: seeding, migrations).

Each event's hash is SHA-256 over a canonical JSON of its fields and the previous event's hash.
Events are collected at each flush (and at each bulk UPDATE/DELETE statement) and chained just
before COMMIT: on PostgreSQL a transaction-level advisory lock is taken before the head is read,
so two transactions never chain onto the same head, and as it is the last lock a transaction
takes it cannot deadlock with row locks; SQLite lets one writer at a time, and the transaction
has already written when the head is read. The table refuses UPDATE and DELETE (a trigger installed
by migration a0d17e000001 and, for databases made with ``create_all``, by the DDL below).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DDL, event, func, insert, inspect, select, text, tuple_
from sqlalchemy.orm import ORMExecuteState, Session

from web.models import AllocationRun, AuditEvent, User
from web.services import audit_keys
from web.services.audit_format import (
    ALWAYS_SKIPPED,
    ENTITIES,
    GENESIS,
    SKIPPED,
    collections,
    columns,
    event_hash,
    ids,
    plain,
    primary_key,
    shown,
)
from web.services.audit_keys import key_file, remember_key_file
from web.services.audit_verify import Verdict, head, verify

# The trail's public face: callers import these from here.
__all__ = [
    "ENTITIES",
    "GENESIS",
    "Verdict",
    "acting_as",
    "event_hash",
    "head",
    "key_file",
    "plain",
    "remember_key_file",
    "verify",
]

# Key of the PostgreSQL advisory lock that serialises appends to the chain ("duijie audit").
ADVISORY_KEY = 0x6475696A6961

_actor: ContextVar[User | int | None] = ContextVar("duijie_audit_actor", default=None)


@contextmanager
def acting_as(actor: User | int | None) -> Iterator[None]:
    """Attribute the changes made inside the block to `actor` (a User or a user id).

    The CLI and background jobs use it, where no one is signed in.
    """
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def _current_actor() -> tuple[int | None, str | None]:
    """The acting user's id, and a label when the actor is not a user account (a household)."""
    explicit = _actor.get()
    if explicit is not None:
        return (explicit if isinstance(explicit, int) else explicit.id), None
    from flask import g, has_request_context

    if not has_request_context():
        return None, None
    # Only a user Flask-Login already loaded: loading one here would query inside the flush.
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None, None
    if isinstance(user, User):
        return user.id, None
    household_id = getattr(user, "household_id", None)
    if household_id is not None:
        return None, f"household {household_id}"  # a household signed in with its PIN
    return None, f"{getattr(user, 'role', 'unknown')} {user.get_id()}"


# ---------------------------------------------------------------------------------------------
# Turning a flush into events


def _signing_key(session: Session) -> audit_keys.AuditKey | None:
    path = key_file(session)
    if path is None:
        return None

    def count() -> int:
        connection = session.connection()
        return int(connection.execute(select(func.count(AuditEvent.id))).scalar() or 0)

    return audit_keys.current(path, count)


def _created(obj: Any, entity: str) -> dict[str, Any]:
    state = inspect(obj)
    after = {}
    for key in columns(obj, entity):
        value = state.dict.get(key)
        if value is not None:
            after[key] = shown(entity, key, value)
    for key in collections(obj):
        added = state.attrs[key].history.added or state.dict.get(key) or []
        if added:
            after[key] = ids(added)
    return after


def _changed(obj: Any, entity: str) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in columns(obj, entity):
        history = state.attrs[key].history
        if not history.added:
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0]
        if plain(old) == plain(new) and history.deleted:
            continue
        before[key] = shown(entity, key, old)
        after[key] = shown(entity, key, new)
    for key in collections(obj):
        history = state.attrs[key].history
        if history.added or history.deleted:
            before[key] = ids([*history.unchanged, *history.deleted])
            after[key] = ids([*history.unchanged, *history.added])
    return before, after


def _deleted(obj: Any, entity: str) -> dict[str, Any]:
    state = inspect(obj)
    return {
        key: shown(entity, key, state.dict[key])
        for key in columns(obj, entity)
        if state.dict.get(key) is not None
    }


def _action(entity: str, verb: str, after: dict[str, Any] | None) -> str:
    """`offer.create`, `allocation.dispatched` (a status change names the new status)..."""
    if verb == "update" and after and isinstance(after.get("status"), str):
        return f"{entity}.{after['status']}"
    return f"{entity}.{verb}"


def _lock_chain(session: Session) -> None:
    """Serialise appends on PostgreSQL until this transaction ends."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_KEY})


def _head(session: Session) -> str:
    """The hash of the newest event (the genesis value on an empty trail)."""
    connection = session.connection()
    latest = connection.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar()
    return latest or GENESIS


def _after_flush(session: Session, _context: Any) -> None:
    rows: list[tuple[str, str, str, dict[str, Any] | None, dict[str, Any] | None]] = []
    for obj in session.new:
        entity = ENTITIES.get(type(obj))
        if entity:
            after = _created(obj, entity)
            rows.append((_action(entity, "create", None), entity, primary_key(obj), None, after))
    for obj in session.dirty:
        entity = ENTITIES.get(type(obj))
        if entity and session.is_modified(obj, include_collections=True):
            before, after = _changed(obj, entity)
            if after:
                action = _action(entity, "update", after)
                rows.append((action, entity, primary_key(obj), before, after))
    for obj in session.deleted:
        entity = ENTITIES.get(type(obj))
        if entity:
            rows.append((f"{entity}.delete", entity, primary_key(obj), _deleted(obj, entity), None))
    _collect(session, rows)


Row = tuple[str, str, str, dict[str, Any] | None, dict[str, Any] | None]


PENDING = "duijie_audit_pending"
ANCHORED = "duijie_audit_anchored"


def _collect(session: Session, rows: list[Row]) -> None:
    """Keep this flush's events, with their actor, until the transaction commits."""
    if rows:
        actor = _current_actor()
        session.info.setdefault(PENDING, []).extend((actor, row) for row in rows)


def _append(session: Session, pending: list[tuple[tuple[int | None, str | None], Row]]) -> None:
    """Chain the pending events onto the trail, on the session's connection (its transaction).

    Called at commit, after every row lock the transaction takes: the chain's lock is the last
    one taken and is held only until COMMIT, so it cannot deadlock with row locks.
    """
    if not pending:
        return
    _lock_chain(session)
    prev = _head(session)
    key = _signing_key(session)
    at = datetime.now(UTC)
    values = []
    for (actor_id, label), (action, entity, entity_id, before, after) in pending:
        if label and after is not None:
            after = {**after, "_by": label}
        digest = event_hash(
            prev_hash=prev,
            at=at,
            actor_id=actor_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
            key=key.secret if key else None,
        )
        values.append(
            {
                "at": at,
                "actor_id": actor_id,
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "before": before,
                "after": after,
                "prev_hash": prev,
                "hash": digest,
                "key_id": key.id if key else None,
            }
        )
        prev = digest
    # One executemany, rows in chain order (ids are assigned in that order).
    session.connection().execute(insert(AuditEvent.__table__), values)


# Bulk statements (session.execute(update(Model)...)) skip the flush: audited here instead.
_TABLES: dict[Any, tuple[type, str]] = {
    model.__table__: (model, n) for model, n in ENTITIES.items()
}


def _statement_table(state: ORMExecuteState) -> tuple[Any, type, str] | None:
    table = getattr(state.statement, "table", None)
    found = _TABLES.get(table)
    return (table, *found) if found else None


def _on_execute(state: ORMExecuteState) -> Any:
    """Audit UPDATE and DELETE statements on audited tables: rows read before and after."""
    if not (state.is_update or state.is_delete):
        return None
    target = _statement_table(state)
    if target is None:
        return None
    table, model, entity = target
    session = state.session
    connection = session.connection()
    where = state.statement.whereclause
    query = select(table) if where is None else select(table).where(where)
    before_rows = {
        tuple(row[c.name] for c in table.primary_key.columns): dict(row)
        for row in connection.execute(query, state.parameters or {}).mappings()
    }
    result = state.invoke_statement()
    if not before_rows:
        return result
    keys = list(before_rows)
    pk = list(table.primary_key.columns)
    after_rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    if state.is_update:
        chosen = pk[0].in_([k[0] for k in keys]) if len(pk) == 1 else tuple_(*pk).in_(keys)
        for row in connection.execute(select(table).where(chosen)).mappings():
            after_rows[tuple(row[c.name] for c in pk)] = dict(row)
    skipped = ALWAYS_SKIPPED | SKIPPED.get(entity, frozenset())
    columns = [a.key for a in inspect(model).column_attrs if a.key not in skipped]
    names = {a.key: a.columns[0].name for a in inspect(model).column_attrs}
    rows: list[Row] = []
    for key, old in before_rows.items():
        entity_id = ",".join(str(part) for part in key)
        new = after_rows.get(key)
        if new is None:
            gone = {
                c: shown(entity, c, old[names[c]]) for c in columns if old[names[c]] is not None
            }
            rows.append((f"{entity}.delete", entity, entity_id, gone, None))
            continue
        before, after = {}, {}
        for column in columns:
            was, now = old[names[column]], new[names[column]]
            if plain(was) != plain(now):
                before[column] = shown(entity, column, was)
                after[column] = shown(entity, column, now)
        if after:
            rows.append((_action(entity, "update", after), entity, entity_id, before, after))
    _collect(session, rows)
    return result


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """Note runs being committed or published: they get an anchor at commit."""
    for obj in session.dirty:
        if isinstance(obj, AllocationRun):
            added = inspect(obj).attrs["status"].history.added
            if added and added[0] in ("committed", "published"):
                session.info.setdefault(ANCHORED, {})[id(obj)] = (obj, added[0])


def _before_commit(session: Session) -> None:
    """Write the transaction's events just before COMMIT.

    A committed or published run records the chain's length and head (an anchor, in its
    metrics): it lives outside the audit table, so deleting the newest events is found by
    `duijie audit verify` even when nobody kept the head elsewhere.
    """
    session.flush()  # the last changes are collected first
    anchored = session.info.pop(ANCHORED, {})
    if anchored:
        _lock_chain(session)
        connection = session.connection()
        count = connection.execute(select(func.count()).select_from(AuditEvent.__table__))
        anchor = {"events": int(count.scalar() or 0), "head": _head(session)}
        for obj, status in anchored.values():
            anchors = {**(obj.metrics or {}).get("audit_anchors", {}), status: anchor}
            obj.metrics = {**(obj.metrics or {}), "audit_anchors": anchors}
        session.flush()
    _append(session, session.info.pop(PENDING, []))


def _after_transaction_end(session: Session, transaction: Any) -> None:
    """A transaction rolled back (or closed) without commit leaves no event."""
    if transaction.parent is None:
        session.info.pop(PENDING, None)
        session.info.pop(ANCHORED, None)


event.listen(Session, "before_flush", _before_flush)
event.listen(Session, "after_flush", _after_flush)
event.listen(Session, "do_orm_execute", _on_execute)
event.listen(Session, "before_commit", _before_commit)
event.listen(Session, "after_transaction_end", _after_transaction_end)

# Databases made with create_all (tests, `duijie` on a fresh file) get the same append-only
# triggers as migration a0d17e000001 installs.
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP;
END
$$ LANGUAGE plpgsql
"""
PG_TRIGGERS = (
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END",
)
for _statement in (PG_FUNCTION.replace("%", "%%"), *PG_TRIGGERS):  # DDL formats with %
    event.listen(
        AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql")
    )
for _statement in SQLITE_TRIGGERS:
    event.listen(AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))


