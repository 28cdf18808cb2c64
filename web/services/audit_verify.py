"""Verifying the audit trail: every event's hash, the chain's links, the anchors kept outside
the table, and the audited rows against their last events (`duijie audit verify`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from web.models import AllocationRun, AuditEvent
from web.services import audit_keys
from web.services.audit_format import (
    COMPUTED,
    ENTITIES,
    GENESIS,
    MASKED,
    columns,
    event_hash,
    plain,
    primary_key,
)
from web.services.audit_keys import key_file


@dataclass
class Verdict:
    """What `verify` found: the number of events, the head, and the first problem if any."""

    events: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session, *, expect: str | None = None) -> Verdict:
    """Walk the chain; report the first edited, inserted or deleted event.

    `expect` is a head kept outside the database ("COUNT:HASH" from `duijie audit head`).
    """
    verdict = Verdict()
    path = key_file(session)
    keys = {k.id: k for k in audit_keys.load(path)} if path is not None else {}
    keyed_from = min((k.since for k in keys.values()), default=None)
    recent: list[str] = [GENESIS]
    by_position: dict[int, str] = {}
    states: dict[tuple[str, str], dict[str, Any] | None] = {}
    first_at: datetime | None = None
    query = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=1000)
    for ev in session.scalars(query):
        verdict.events += 1
        first_at = first_at or ev.at
        if not verdict.problems:
            problem = _event_problem(ev, keys, keyed_from, verdict.events, recent)
            if problem is not None:
                verdict.problems.append(problem)
        recent = [recent[-1], ev.hash]
        by_position[verdict.events] = ev.hash
        key = (ev.entity, ev.entity_id)
        if ev.after is None:
            states[key] = None
        else:
            states[key] = {**(states.get(key) or {}), **ev.after}
    verdict.head = recent[-1]
    if verdict.problems:
        return verdict
    for problem in _anchor_problems(session, verdict, by_position, expect):
        verdict.problems.append(problem)
        return verdict
    for problem in _state_problems(session, states, first_at):
        verdict.problems.append(problem)
        return verdict
    return verdict


def _event_problem(
    ev: AuditEvent,
    keys: dict[str, audit_keys.AuditKey],
    keyed_from: int | None,
    position: int,
    recent: list[str],
) -> str | None:
    """What is wrong with the event at `position` (1 for the first), given the hashes of the
    two events before it (`recent`); None when it is as written and chained."""
    key = keys.get(ev.key_id) if ev.key_id else None
    if ev.key_id and key is None:
        return (
            f"event {ev.id} names key {ev.key_id!r}, which is not in the key file: "
            "it was written without the key"
        )
    if ev.key_id is None and keyed_from is not None and position > keyed_from:
        return (
            f"event {ev.id} is not keyed, but every event after the first "
            f"{keyed_from} must be: it was rewritten without the key"
        )
    computed = event_hash(
        prev_hash=ev.prev_hash,
        at=ev.at,
        actor_id=ev.actor_id,
        action=ev.action,
        entity=ev.entity,
        entity_id=ev.entity_id,
        before=ev.before,
        after=ev.after,
        key=key.secret if key else None,
    )
    if computed != ev.hash:
        return (
            f"event {ev.id} ({ev.action} {ev.entity} {ev.entity_id}) was edited: "
            "its hash does not match its contents"
        )
    if ev.prev_hash != recent[-1]:
        if len(recent) > 1 and ev.prev_hash == recent[-2]:
            what = f"the event before event {ev.id} was inserted"
        else:
            what = f"events before event {ev.id} were deleted (or it was inserted)"
        return f"{what}: the chain breaks at event {ev.id}"
    return None


def _anchor_problems(
    session: Session, verdict: Verdict, by_position: dict[int, str], expect: str | None
) -> Iterator[str]:
    anchors: list[tuple[str, int, str]] = []
    if expect:
        count, _, head = expect.partition(":")
        if not count.isdigit() or len(head) != 64:
            yield f"--expect must be COUNT:HASH as printed by `duijie audit head`, not {expect!r}"
            return
        anchors.append(("the head you kept", int(count), head))
    for run in session.scalars(select(AllocationRun).order_by(AllocationRun.id)):
        for status, anchor in ((run.metrics or {}).get("audit_anchors") or {}).items():
            anchors.append((f"run {run.id} when {status}", anchor["events"], anchor["head"]))
    for where, count, head in anchors:
        if count == 0:
            continue
        if count > verdict.events:
            yield (
                f"{where} recorded {count} events but only {verdict.events} remain: "
                "the newest events were deleted"
            )
        elif by_position.get(count) != head:
            yield f"{where} recorded event {count} with another hash: events were replaced"


def _state_problems(
    session: Session, states: dict[tuple[str, str], dict[str, Any] | None], first_at: Any
) -> Iterator[str]:
    """Every audited row must look as its events say: else events were deleted at the end."""
    if first_at is None:
        return
    start = plain(first_at)
    for model, entity in ENTITIES.items():
        masked = MASKED.get(entity, frozenset())
        for obj in session.scalars(select(model).execution_options(yield_per=1000)):
            key = (entity, primary_key(obj))
            state = states.get(key)
            if state is None:
                stamp = plain(getattr(obj, "updated_at", None) or getattr(obj, "created_at", None))
                if stamp is not None and stamp >= start:
                    yield (
                        f"{entity} {key[1]} changed at {stamp} but has no "
                        "audit event: the newest events were deleted (or the row was written "
                        "around the app)"
                    )
                continue
            for column in columns(obj, entity):
                if column in masked or column not in state or state[column] == COMPUTED:
                    continue
                if plain(getattr(obj, column)) != state[column]:
                    yield (
                        f"{entity} {key[1]}: {column} is {plain(getattr(obj, column))!r} but "
                        f"its last audit event says {state[column]!r}: the newest events "
                        "were deleted (or the row was written around the app)"
                    )
                    break


def head(session: Session) -> tuple[int, str]:
    """The number of events and the newest hash, to keep outside the database."""
    count = session.scalar(select(func.count(AuditEvent.id))) or 0
    latest = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    return int(count), latest or GENESIS
