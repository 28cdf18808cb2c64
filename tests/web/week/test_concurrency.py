"""Integrity under concurrency: commits, manual pledges and cancellations racing at the same offers.

Each racer has its own session on its own connection (NullPool) and all start together from a
barrier. Afterwards every offer's and need's `allocated` must equal the sum of its live
(not cancelled) pledges and never exceed its quantity, every success must be in the database
and every refusal must be one of the service's clear errors (no deadlock, no lock timeout).
Runs on PostgreSQL (row locks) and on a SQLite file database (one writer at a time).
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.pool import NullPool

from seeds.demo import WEEK
from tests.web.week_support import FAST, memo_solver, user  # noqa: F401  (fixture)
from web.config import engine_options
from web.extensions import db
from web.models import Allocation, AllocationRun, Need, Notification, Offer, Organization, User
from web.services.accounts import create_user
from web.services.delivery import cancel, confirm_receipt
from web.services.offers import OfferError, withdraw_offer
from web.services.pledges import pledge, refusals
from web.services.week import AlreadyCommitted, WeekError, commit_run, preview_week, publish_run
from web.services.week_instance import need_key, offer_key, week_days

ON: date = week_days(WEEK)[0]
NEXT_WEEK = "2026-W49"
HOT_OFFERS = 3
LEFT_AFTER_SETUP = 6  # units each hot offer has left when the race starts


# -- helpers shared with the fault-injection tests ------------------------------------------------


def hot_pairs(session: Session, offers: int, needs_each: int) -> dict[Offer, list[Need]]:
    """Open offers without lot, cap or destination limits, each with distinct eligible needs."""
    candidates = session.scalars(
        select(Offer)
        .join(Organization, Offer.organization_id == Organization.id)
        .where(
            Offer.status == "open",
            Organization.vetting == "approved",
            Offer.min_lot == 1,
            Offer.indivisible.is_(False),
            Offer.max_villages.is_(None),
            Offer.valid_from <= ON,
            Offer.valid_until >= ON,
        )
        .options(selectinload(Offer.counties), selectinload(Offer.villages))
        .order_by(Offer.id)
    )
    chosen: dict[Offer, list[Need]] = {}
    taken: set[int] = set()
    for offer in candidates:
        needs = session.scalars(
            select(Need)
            .where(
                Need.category_code == offer.category_code,
                Need.status == "open",
                Need.verification == "verified",
                Need.quantity - Need.allocated >= 3,
            )
            .order_by(Need.id)
        )
        fitting = [
            n for n in needs if n.id not in taken and not refusals(session, offer, n, 1, ON)
        ][:needs_each]
        if len(fitting) == needs_each and offer.quantity - offer.allocated >= 1:
            chosen[offer] = fitting
            taken.update(n.id for n in fitting)
        if len(chosen) == offers:
            return chosen
    raise AssertionError("the demo data lacks enough unrestricted offers for the race")


def _line(offer: Offer, need: Need, quantity: int) -> dict[str, Any]:
    return {"offer": offer_key(offer.id), "need": need_key(need.id), "quantity": quantity,
            "km": 0.0, "value": 1.0}  # fmt: skip


def crafted_preview(
    session: Session, week: str, lines: list[tuple[Offer, Need, int]], actor: User
) -> AllocationRun:
    """A preview run as preview_week stores it, with these allocations (no solver needed)."""
    offers = {o.id: o for o, _n, _q in lines}
    needs = {n.id: n for _o, n, _q in lines}
    run = AllocationRun(
        week=week,
        status="preview",
        policy={},
        metrics={},
        created_by_id=actor.id,
        input={
            "week": week,
            "offers": [{"id": offer_key(o.id), "quantity": o.remaining} for o in offers.values()],
            "needs": [{"id": need_key(n.id), "quantity": n.remaining} for n in needs.values()],
        },
        output={"allocations": [_line(o, n, q) for o, n, q in lines]},
    )
    session.add(run)
    session.commit()
    return run


def assert_totals_exact(session: Session) -> int:
    """Every offer and need: allocated == live pledges <= quantity; returns the rows checked."""
    live_offer: dict[int, int] = defaultdict(int)
    live_need: dict[int, int] = defaultdict(int)
    query = select(Allocation.offer_id, Allocation.need_id, Allocation.quantity).where(
        Allocation.status != "cancelled"
    )
    for offer_id, need_id, quantity in session.execute(query):
        live_offer[offer_id] += quantity
        live_need[need_id] += quantity
    checked = 0
    for model, live in ((Offer, live_offer), (Need, live_need)):
        for row_id, allocated, quantity in session.execute(
            select(model.id, model.allocated, model.quantity)
        ):
            assert allocated == live[row_id], f"{model.__name__} {row_id}: {allocated} counted"
            assert 0 <= allocated <= quantity, f"{model.__name__} {row_id} over-allocated"
            checked += 1
    return checked


@dataclass
class Outcome:
    kind: str
    result: str  # "ok", or the refusal's class name
    value: Any = None


Op = Callable[[Session, User], Any]


def race(
    url: str,
    ops: list[tuple[str, str, Op]],
    *,
    before: Op | None = None,
    refusals: tuple[type[Exception], ...] = (WeekError, OfferError),
) -> list[Outcome]:
    """Run each (kind, username, op) in its own thread and connection, all released together.

    `before` runs in each racer's session ahead of the barrier (a page loaded before the click);
    an exception of `refusals` is an outcome, any other fails the test.
    """
    engine: Engine = create_engine(url, poolclass=NullPool, **engine_options(url))
    barrier = threading.Barrier(len(ops))
    outcomes: list[Outcome | None] = [None] * len(ops)

    def worker(index: int, kind: str, username: str, op: Op) -> None:
        with Session(engine) as session:
            actor = session.scalars(select(User).where(User.username == username)).one()
            if before is not None:
                before(session, actor)
            try:
                barrier.wait(timeout=60)
                value = op(session, actor)
                session.commit()  # each racer is a request: its boundary commits
                outcomes[index] = Outcome(kind, "ok", value)
            except refusals as refusal:
                outcomes[index] = Outcome(kind, type(refusal).__name__, str(refusal))
            except Exception as error:  # anything else (deadlock, lock timeout) fails the test
                outcomes[index] = Outcome(kind, "ERROR", repr(error))

    threads = [threading.Thread(target=worker, args=(i, *op)) for i, op in enumerate(ops)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    engine.dispose()
    assert all(not t.is_alive() for t in threads), "a racer hung"
    done = [o for o in outcomes if o is not None]
    assert len(done) == len(ops)
    errors = [o.value for o in done if o.result == "ERROR"]
    assert not errors, errors
    return done


def _add_admin(session: Session, username: str) -> None:
    create_user(session, username, f"demo-{username}-2026", "admin", display_name=username)
    session.commit()


# -- tests ------------------------------------------------------------------------------------


@pytest.fixture
def race_db(demo_db: Flask) -> Iterator[Flask]:
    """The demo database with a second administrator."""
    _add_admin(db.session, "admin2")
    yield demo_db


def test_commits_pledges_and_cancels_racing_at_the_same_offers_keep_totals_exact(
    race_db: Flask,
) -> None:
    session: Any = db.session
    admin = user("admin")
    hot = hot_pairs(session, HOT_OFFERS, 8)
    for offer in hot:  # few units left, so that the racers really compete for them
        offer.quantity = offer.allocated + 4 + LEFT_AFTER_SETUP
    session.commit()
    # Week A pledges 4 units of each hot offer: the pledges the racers will cancel.
    setup = crafted_preview(
        session, "2026-W47", [(o, n, 1) for o, ns in hot.items() for n in ns[:4]], admin
    )
    commit_run(session, setup.id, admin)
    session.commit()  # services flush; the caller commits
    cancellable = [a.id for a in setup.allocations]
    # Two previews of the next week, each wanting 2 units of every hot offer.
    lines = [(o, n, 1) for o, ns in hot.items() for n in ns[4:6]]
    first = crafted_preview(session, NEXT_WEEK, lines, admin).id
    second = crafted_preview(session, NEXT_WEEK, lines, admin).id
    pledges = [(o.id, ns[6 + i % 2].id, 1 + i % 2) for i, (o, ns) in
               enumerate(list(hot.items()) * 3)]  # fmt: skip
    before = session.scalar(select(func.count(Allocation.id)))
    hot_ids = [o.id for o in hot]
    url = str(race_db.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()  # the racers alone hold connections

    def committing(run_id: int) -> Callable[[Session, User], Any]:
        return lambda s, actor: commit_run(s, run_id, actor).id

    def cancelling(allocation_id: int) -> Callable[[Session, User], Any]:
        return lambda s, actor: cancel(s, allocation_id, actor, "race test").id

    def pledging(offer_id: int, need_id: int, q: int) -> Callable[[Session, User], Any]:
        return lambda s, actor: pledge(s, offer_id, need_id, q, actor, week=WEEK, on=ON).id

    ops = [
        ("commit", "admin", committing(first)),
        ("commit", "admin2", committing(first)),  # the same run, a second administrator
        ("commit", "admin2", committing(second)),
        ("commit", "admin", committing(second)),  # a retried commit
    ]
    ops += [("cancel", "admin", cancelling(a)) for a in cancellable]
    ops += [("cancel", "admin2", cancelling(a)) for a in cancellable[:2]]  # twice the same
    ops += [("pledge", "admin2" if i % 2 else "admin", pledging(*p)) for i, p in enumerate(pledges)]
    outcomes = race(url, ops)

    assert len(ops) >= 20
    by_kind = Counter((o.kind, o.result) for o in outcomes)
    # Each pledge of week A is cancelled exactly once; the second attempt is refused clearly.
    assert by_kind[("cancel", "ok")] == len(cancellable)
    assert by_kind[("cancel", "DeliveryError")] == 2
    # The next week is committed at most once; a losing commit says why.
    assert by_kind[("commit", "ok")] <= 1
    assert (
        by_kind[("commit", "ok")]
        + by_kind[("commit", "AlreadyCommitted")]
        + by_kind[("commit", "StaleRun")]
        == 4
    )
    assert by_kind[("pledge", "ok")] >= 1
    assert set(r for k, r in by_kind if k == "pledge") <= {"ok", "PledgeError"}
    session = db.session
    checked = assert_totals_exact(session)
    assert checked > 2500
    pledged_ids = [o.value for o in outcomes if o.kind == "pledge" and o.result == "ok"]
    committed = session.scalars(
        select(AllocationRun).where(AllocationRun.committed_week == NEXT_WEEK)
    ).all()
    assert len(committed) == by_kind[("commit", "ok")]
    expected = before + len(pledged_ids) + len(lines) * len(committed)
    assert session.scalar(select(func.count(Allocation.id))) == expected
    for allocation_id in pledged_ids:  # nothing lost: every reported pledge is in the database
        allocation = session.get(Allocation, allocation_id)
        assert allocation is not None and allocation.status == "pledged"
    cancelled = session.scalar(
        select(func.count(Allocation.id)).where(Allocation.status == "cancelled")
    )
    assert cancelled == len(cancellable)
    for offer_id in hot_ids:
        fresh = session.get(Offer, offer_id)
        assert fresh is not None and fresh.remaining >= 0


@pytest.mark.slow
@pytest.mark.usefixtures("memo_solver")
def test_two_administrators_committing_the_same_week_at_once_commit_it_once(
    race_db: Flask,
) -> None:
    admin = user("admin")
    first = preview_week(db.session, WEEK, None, admin, time_limit=FAST)
    db.session.commit()  # services flush; the caller commits
    second = preview_week(db.session, WEEK, None, user("admin2"), time_limit=FAST)
    db.session.commit()  # services flush; the caller commits
    # The second preview starts from the first (a warm start) and may differ from it.
    pledges = {run.id: len(run.output["allocations"]) for run in (first, second)}  # type: ignore[index]
    ids = (first.id, second.id)
    url = str(race_db.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()

    def committing(run_id: int) -> Callable[[Session, User], Any]:
        return lambda s, actor: commit_run(s, run_id, actor).id

    ops = [
        ("commit", name, committing(run_id))
        for run_id in ids
        for name in ("admin", "admin2", "admin")  # the last one is a retried commit
    ]
    outcomes = race(url, ops)

    results = Counter(o.result for o in outcomes)
    assert results == {"ok": 1, "AlreadyCommitted": 5}, outcomes
    refusal = next(o.value for o in outcomes if o.result == "AlreadyCommitted")
    assert "committed" in refusal
    winner = next(o.value for o in outcomes if o.result == "ok")
    runs = db.session.scalars(select(AllocationRun).order_by(AllocationRun.id)).all()
    assert [r.status for r in runs] == ["committed" if r.id == winner else "preview" for r in runs]
    assert db.session.scalar(select(func.count(Allocation.id))) == pledges[winner]
    assert (
        db.session.scalar(select(func.count(Allocation.id)).where(Allocation.run_id != winner)) == 0
    )
    assert_totals_exact(db.session)
    with pytest.raises(AlreadyCommitted):  # and a retry long after is refused the same way
        commit_run(db.session, winner, user("admin"))


def test_a_withdrawal_racing_a_commit_never_leaves_a_withdrawn_offer_with_pledges(
    race_db: Flask,
) -> None:
    session: Any = db.session
    admin = user("admin")
    hot = hot_pairs(session, 6, 1)
    donors = {}
    for index, offer in enumerate(hot):
        donor = create_user(session, f"race-donor-{index}", "race-donor-key-2026", "donor")
        donor.organization_id = offer.organization_id
        donors[offer.id] = donor.username
    session.commit()
    run = crafted_preview(session, NEXT_WEEK, [(o, ns[0], 1) for o, ns in hot.items()], admin)
    run_id, url = run.id, str(race_db.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()

    def load_offers(s: Session, _actor: User) -> None:  # the donor's page, loaded before the race
        s.scalars(select(Offer).where(Offer.id.in_(list(donors)))).all()

    def withdrawing(offer_id: int) -> Op:
        return lambda s, actor: withdraw_offer(s, actor, s.get(Offer, offer_id)).id  # type: ignore[arg-type]

    ops: list[tuple[str, str, Op]] = [("commit", "admin", lambda s, a: commit_run(s, run_id, a).id)]
    ops += [("withdraw", name, withdrawing(offer_id)) for offer_id, name in donors.items()]
    outcomes = race(url, ops, before=load_offers)

    results = Counter((o.kind, o.result) for o in outcomes)
    withdrawn = db.session.scalars(
        select(Offer).where(Offer.id.in_(list(donors)), Offer.status == "withdrawn")
    ).all()
    assert [o for o in withdrawn if o.allocated] == [], "a withdrawn offer kept its pledges"
    if results[("commit", "ok")]:
        assert results[("withdraw", "OfferError")] == len(donors) and not withdrawn
    else:
        assert results[("commit", "StaleRun")] == 1 and len(withdrawn) == len(donors)
    assert_totals_exact(db.session)


def test_publishing_a_run_twice_at_once_publishes_and_notifies_once(race_db: Flask) -> None:
    session: Any = db.session
    admin = user("admin")
    (offer, needs), *_ = hot_pairs(session, 1, 1).items()
    run = crafted_preview(session, NEXT_WEEK, [(offer, needs[0], 1)], admin)
    run_id = commit_run(session, run.id, admin).id
    session.commit()  # services flush; the caller commits
    url = str(race_db.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()

    ops: list[tuple[str, str, Op]] = [
        ("publish", name, lambda s, a: publish_run(s, run_id, a).id)
        for name in ("admin", "admin2", "admin", "admin2")
    ]
    outcomes = race(url, ops)

    assert Counter(o.result for o in outcomes) == {"ok": 1, "WeekError": 3}
    per_user = Counter(
        db.session.scalars(select(Notification.user_id).where(Notification.kind == "run_published"))
    )
    assert per_user and max(per_user.values()) == 1  # one round of notices, not four
    assert db.session.get(AllocationRun, run_id).status == "published"  # type: ignore[union-attr]


def test_a_cancellation_racing_a_receipt_lets_exactly_one_win(race_db: Flask) -> None:
    session: Any = db.session
    admin = user("admin")
    hot = hot_pairs(session, 6, 1)
    lines = [(o, ns[0], 1) for o, ns in hot.items()]
    committees = {}
    for index, (_offer, need, _q) in enumerate(lines):
        committee = create_user(session, f"race-village-{index}", "race-village-pw-2026", "village")
        committee.village_id = need.village_id
        committees[need.id] = committee.username
    run = crafted_preview(session, NEXT_WEEK, lines, admin)
    commit_run(session, run.id, admin)
    session.commit()  # services flush; the caller commits
    pledged = [(a.id, committees[a.need_id]) for a in run.allocations]
    url = str(race_db.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()

    ops: list[tuple[str, str, Op]] = []
    for allocation_id, committee in pledged:
        ops.append(("cancel", "admin", lambda s, a, i=allocation_id: cancel(s, i, a, "race").id))
        ops.append(
            ("confirm", committee, lambda s, a, i=allocation_id: confirm_receipt(s, i, a).id)
        )
    outcomes = race(url, ops)

    wins = Counter(o.value for o in outcomes if o.result == "ok")
    assert sorted(wins) == sorted(a for a, _c in pledged) and set(wins.values()) == {1}
    assert {o.result for o in outcomes} == {"ok", "DeliveryError"}
    assert_totals_exact(db.session)
