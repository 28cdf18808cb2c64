"""No N+1 queries: the SQL statements per request do not grow with the rows a page shows.

Each page of the load benchmark (benchmarks/load_bench.py) and the other lists is fetched on
the demo week (committed and published), then again after adding 50 more of what it lists
(offers, needs and micro-wishes, pledges, villages); the statements counted on the engine
must stay the same. A lazy load in a template's loop adds one statement per row and fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from seeds.demo import WEEK
from tests.web.week_support import committed, memo_solver, user  # noqa: F401  (a fixture)
from web.extensions import db
from web.models import (
    Allocation,
    AllocationRun,
    County,
    Household,
    Need,
    Offer,
    Organization,
    Village,
)
from web.services import page_cache, tokens
from web.services.week import publish_run

MORE = 50
BIG = "per_page=500"


class Counter:
    """Counts the statements the engine sends while a request runs."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)


@pytest.fixture
def counted(demo_app: Flask) -> Iterator[tuple[Flask, Counter]]:
    """The demo app and a statement counter on its engine (requests run outside any context)."""
    counter = Counter()
    with demo_app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    yield demo_app, counter
    event.remove(engine, "before_cursor_execute", counter)


def _pages(village: Village, county: str, organization_id: int) -> list[tuple[str | None, str]]:
    """(who, path): who is a demo username for a session, 'token:<username>' for the API."""
    return [
        (None, "/healthz"),
        (None, f"/villages?county={county}&{BIG}"),
        (None, f"/api/v1/villages?county={county}&{BIG}"),
        (None, f"/api/v1/villages/{village.id}"),
        (None, "/public"),
        ("donor", "/donor/offers"),
        ("donor", "/donor/allocations"),
        ("village", "/village/needs"),
        ("village", "/village/allocations"),
        ("township", "/township/needs?per_page=500"),
        ("auditor", f"/ledger?category=goods&{BIG}"),
        ("auditor", f"/ledger?county={county}&category=goods&{BIG}"),
        ("township", f"/ledger?category=goods&{BIG}"),
        ("admin", "/dashboard"),
        ("admin", f"/dashboard?county={county}"),
        ("token:admin", f"/api/v1/offers?organization_id={organization_id}&{BIG}"),
        ("token:admin", f"/api/v1/offers?category=goods&status=open&{BIG}"),
        ("token:admin", f"/api/v1/needs?village={village.code}&{BIG}"),
        ("token:admin", f"/api/v1/needs?county={county}&category=goods&{BIG}"),
        ("token:admin", f"/api/v1/allocations?village={village.code}&{BIG}"),
        ("token:donor", f"/api/v1/offers?{BIG}"),
        ("token:village", f"/api/v1/needs?{BIG}"),
    ]


def _measure(app: Flask, counter: Counter, pages: list[tuple[str | None, str]]) -> dict[str, Any]:
    """Statements and bytes of each page, each fetched with cold page caches."""
    clients: dict[str | None, Any] = {}
    secrets: dict[str, str] = {}
    found = {}
    for label, path in pages:
        who, headers = label, {}
        if who is not None and who.startswith("token:"):
            name = who.split(":", 1)[1]
            if name not in secrets:
                with app.app_context():
                    secrets[name] = tokens.create_token(db.session, user(name), "count").secret
                    db.session.commit()  # services flush; the caller commits
            headers["Authorization"] = f"Bearer {secrets[name]}"
            who = None
        if who not in clients:
            clients[who] = app.test_client()
            if who is not None:
                clients[who].post("/login", data={"username": who, "password": f"demo-{who}-2026"})
        page_cache.clear()
        counter.statements.clear()
        response = clients[who].get(path, headers=headers)
        assert response.status_code == 200, (who, path, response.status_code)
        found[f"{label} {path}"] = (len(counter.statements), len(response.data))
    return found


def _add_rows(run: AllocationRun, village: Village) -> None:
    """50 more villages, offers of the donor, needs and wishes of the village, and pledges."""
    donor = user("donor")
    organization = db.session.get(Organization, donor.organization_id)
    assert organization is not None
    for i in range(MORE):
        db.session.add(
            Village(
                code=f"9{i:011d}",
                name=f"加载村{i}",
                township_id=village.township_id,
                county_id=village.county_id,
            )
        )
    households = [
        Household(village_id=village.id, display_name=f"户{i}", people=3) for i in range(MORE)
    ]
    db.session.add_all(households)
    offers = [
        Offer(
            organization_id=organization.id,
            category_code="goods",
            title=f"加载捐赠{i}",
            quantity=100,
            allocated=1,
            valid_from=date(2026, 11, 1),
            valid_until=date(2026, 12, 31),
        )
        for i in range(MORE)
    ]
    needs = [
        Need(
            village_id=village.id,
            household_id=households[i].id if i % 2 else None,
            category_code="goods",
            title=f"加载需求{i}",
            quantity=5,
            allocated=1,
            verification="verified" if i % 3 else "pending",
            estimated_value=100.0 if i % 2 else None,
        )
        for i in range(MORE)
    ]
    db.session.add_all(offers)
    db.session.flush()
    for i, need in enumerate(needs):
        need.household_id = households[i].id if i % 2 else None
    db.session.add_all(needs)
    db.session.flush()
    db.session.add_all(
        Allocation(run_id=run.id, offer_id=o.id, need_id=n.id, quantity=1, value=10.0)
        for o, n in zip(offers, needs, strict=True)
    )
    db.session.commit()


def test_statements_per_page_do_not_grow_with_rows(
    counted: tuple[Flask, Counter],
    memo_solver: None,  # noqa: F811
) -> None:
    app, counter = counted
    with app.app_context():
        run = publish_run(db.session, committed().id, user("admin"))
        db.session.commit()  # services flush; the caller commits
        assert run.week == WEEK
        village = db.session.get(Village, user("village").village_id)
        assert village is not None
        county = db.session.get(County, village.county_id)
        assert county is not None
        pages = _pages(village, county.code, user("donor").organization_id or 0)
        run_id, village_id = run.id, village.id

    before = _measure(app, counter, pages)
    with app.app_context():
        _add_rows(db.session.get(AllocationRun, run_id), db.session.get(Village, village_id))
    after = _measure(app, counter, pages)

    grown = {
        page: (before[page][0], after[page][0])
        for page in before
        if after[page][0] > before[page][0]
    }
    assert not grown, f"statements grew with the rows shown (before, after): {grown}"
    # The lists did show the added rows (the pages grew), so the counts above mean something.
    quiet = ("/healthz", "/dashboard", "/public", "/api/v1/villages/")
    same = [f"{w} {p}" for w, p in pages if not p.startswith(quiet)]
    same = [page for page in same if after[page][1] <= before[page][1]]
    assert not same, f"these lists did not show the added rows: {same}"
    # Statements stay few: the worst page's count, for the report.
    assert max(n for n, _ in after.values()) <= 20, after


def test_page_cache_recomputes_after_a_change_from_any_process(demo_db: Flask) -> None:
    """Cached totals are reused until something audited changes, then computed again."""
    page_cache.clear()
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert page_cache.cached(db.session, "totals", compute) == 1
    assert page_cache.cached(db.session, "totals", compute) == 1
    # A change committed by another session (as another gunicorn worker would) writes an audit
    # event, which moves the data version that every process reads.
    with Session(db.engine) as other, other.begin():
        other.execute(
            update(Need)
            .where(Need.id == select(func.min(Need.id)).scalar_subquery())
            .values(urgency=Need.urgency % 5 + 1)
        )
    db.session.commit()  # end this session's snapshot
    assert page_cache.cached(db.session, "totals", compute) == 2
    assert page_cache.cached(db.session, "other key", compute) == 3
