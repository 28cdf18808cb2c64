"""Helpers shared by the week and delivery tests: demo users, previews, a solve memo."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from optimizer import Instance, Result, solve, solve_greedy
from seeds.demo import WEEK
from web.extensions import db
from web.models import Allocation, AllocationRun, Need, Offer, User
from web.services import week
from web.services.week import commit_run, preview_week
from web.unit_of_work import unit_of_work

# Seconds per preview, a wall limit (reading the week, solving, the greedy baseline): the tests
# check the rules of the week, not the solver's quality, but the LP bound and a construction
# must fit in it on a loaded machine (each distinct week is solved once per session).
FAST = 5.0
_SOLVED: dict[tuple[str, Instance, Any], Result] = {}


@pytest.fixture
def memo_solver(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Solve each distinct instance once per test session (the demo week recurs in every test)."""

    def remember(kind: str, solver: Any) -> Any:
        def run(instance: Instance, **options: Any) -> Result:
            # A result is only reused for about the same time limit: a one-second solve (which may
            # have had no time for its LP, hence no bound) never stands in for a longer one.
            key = (kind, instance, int(options.get("time_limit") or 0))
            if key not in _SOLVED:
                _SOLVED[key] = solver(instance, **options)
            return _SOLVED[key]

        return run

    monkeypatch.setattr(week, "solve", remember("solve", solve))
    monkeypatch.setattr(week, "solve_greedy", remember("greedy", solve_greedy))
    yield


def user(username: str) -> User:
    """A demo user by name."""
    return db.session.scalars(select(User).where(User.username == username)).one()


def preview() -> AllocationRun:
    """A fresh preview of the demo week by the demo administrator."""
    with unit_of_work():
        return preview_week(db.session, WEEK, None, user("admin"), time_limit=FAST)


def committed() -> AllocationRun:
    """A committed run of the demo week."""
    with unit_of_work():
        return commit_run(db.session, preview().id, user("admin"))


def allocation_count() -> int:
    """Allocation rows in the database."""
    return db.session.scalar(select(func.count(Allocation.id))) or 0


def allocated_totals() -> tuple[dict[int, int], dict[int, int]]:
    """The allocated counters of every offer and need."""
    offers = {i: n for i, n in db.session.execute(select(Offer.id, Offer.allocated))}
    needs = {i: n for i, n in db.session.execute(select(Need.id, Need.allocated))}
    return offers, needs
