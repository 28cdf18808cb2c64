"""Ledger pages read week by week: across weeks they list every row once, in the ledger's order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from tests.web.week_support import committed, memo_solver, user  # noqa: F401  (a fixture)
from web.extensions import db
from web.models import Allocation, AllocationRun, County, User
from web.services import page_cache
from web.services.ledger import LedgerFilter, ledger_page, ledger_rows

NOW = datetime(2026, 12, 31, tzinfo=UTC)


def _two_weeks() -> None:
    """The committed demo week, with every third pledge moved to a published run a week earlier."""
    run = committed()
    earlier = AllocationRun(
        week="2026-W01",
        status="published",
        committed_week="2026-W01",
        committed_at=NOW - timedelta(days=30),
        published_at=NOW - timedelta(days=29),
    )
    db.session.add(earlier)
    db.session.flush()
    moved = sorted(run.allocations, key=lambda a: a.id)[::3]
    for allocation in moved:
        allocation.run_id = earlier.id
    moved[0].status = "dispatched"
    moved[0].dispatched_at = NOW - timedelta(days=20)
    db.session.commit()


def _filters() -> list[LedgerFilter]:
    county = db.session.scalars(select(County.code).order_by(County.code)).first()
    return [
        LedgerFilter(),
        LedgerFilter(county=county),
        LedgerFilter(state="pledged"),
        LedgerFilter(category="goods"),
        LedgerFilter(week="2026-W01"),
        LedgerFilter(overdue=True),
        LedgerFilter(county="nowhere"),
    ]


@pytest.mark.usefixtures("memo_solver")
@pytest.mark.parametrize("who", ["auditor", "township"])
def test_pages_across_weeks_are_the_ledger_in_order(demo_db: Flask, who: str) -> None:
    _two_weeks()
    actor = user(who)
    for filters in _filters():
        for now in (None, NOW):
            every = [r.id for r in ledger_rows(db.session, filters, actor, now=now)]
            for per_page in (1, 7, 40):
                seen: list[int] = []
                pages = -(-len(every) // per_page) + 1  # and one past the last
                for page in range(1, pages + 1):
                    found = ledger_page(db.session, filters, actor, page, per_page, now=now)
                    assert found.total == len(every), (filters, per_page, page)
                    seen.extend(r.id for r in found.rows)
                assert seen == every, (filters, per_page)
    weeks = [r.week for r in ledger_rows(db.session, LedgerFilter(), user("auditor"))]
    assert weeks[0] == "2026-W01" and weeks[-1] != "2026-W01" and weeks == sorted(weeks)


@pytest.mark.usefixtures("memo_solver")
def test_a_page_takes_few_statements_whatever_the_page(demo_db: Flask) -> None:
    _two_weeks()
    auditor: User = user("auditor")
    sent: list[Any] = []

    def count(*_args: Any) -> None:
        sent.append(1)

    total = db.session.scalar(select(db.func.count(Allocation.id)))
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for page in (1, 2, total // 10):
            page_cache.clear()
            sent.clear()
            ledger_page(db.session, LedgerFilter(), auditor, page, 10, now=NOW)
            # the runs, the counts per run, the ids of one or two weeks, the rows
            assert len(sent) <= 5, page
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
