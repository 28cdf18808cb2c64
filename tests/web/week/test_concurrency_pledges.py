"""The rules of an administrator's manual pledge (the racing ones are in test_concurrency.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.web.week.test_concurrency import ON, assert_totals_exact, crafted_preview, hot_pairs
from tests.web.week_support import user
from web.extensions import db
from web.models import Allocation, AllocationRun, County, Need, Notification, Offer
from web.services.pledges import MANUAL, PledgeError, pledge
from web.services.week import NotAllowed, commit_run

WEEK = "2026-W48"


def _notes(kind: str) -> int:
    query = select(func.count(Notification.id)).where(Notification.kind == kind)
    return db.session.scalar(query) or 0


def test_a_manual_pledge_counts_on_both_sides_and_joins_the_weeks_manual_run(
    demo_db: Flask,
) -> None:
    (offer, needs), *_ = hot_pairs(db.session, 1, 2).items()
    admin = user("admin")
    offer_before, need_before = offer.allocated, needs[0].allocated

    first = pledge(db.session, offer.id, needs[0].id, 1, admin, week=WEEK, on=ON)
    db.session.commit()  # services flush; the caller commits
    second = pledge(db.session, offer.id, needs[1].id, 1, admin, week=WEEK, on=ON)
    db.session.commit()  # services flush; the caller commits

    assert db.session.get(Offer, offer.id).allocated == offer_before + 2  # type: ignore[union-attr]
    assert db.session.get(Need, needs[0].id).allocated == need_before + 1  # type: ignore[union-attr]
    assert first.run_id == second.run_id
    run = db.session.get(AllocationRun, first.run_id)
    assert run is not None and run.solver_status == MANUAL and run.status == "committed"
    assert run.committed_week is None  # the weekly run can still be committed
    assert _notes("manual_pledge") >= 2
    assert_totals_exact(db.session)


def test_a_manual_pledge_after_the_weekly_commit_joins_that_run(demo_db: Flask) -> None:
    (offer, needs), *_ = hot_pairs(db.session, 1, 2).items()
    admin = user("admin")
    weekly = crafted_preview(db.session, WEEK, [(offer, needs[0], 1)], admin)
    commit_run(db.session, weekly.id, admin)
    db.session.commit()  # services flush; the caller commits

    made = pledge(db.session, offer.id, needs[1].id, 1, admin, week=WEEK, on=ON)
    db.session.commit()  # services flush; the caller commits

    assert made.run_id == weekly.id
    assert_totals_exact(db.session)


def test_a_manual_pledge_is_refused_with_the_reason_and_nothing_written(demo_db: Flask) -> None:
    (offer, needs), *_ = hot_pairs(db.session, 1, 1).items()
    need = needs[0]
    admin = user("admin")
    other_category = db.session.scalars(
        select(Need).where(Need.category_code != offer.category_code).limit(1)
    ).one()
    before = db.session.scalar(select(func.count(Allocation.id)))
    cases = [
        (user("donor"), need.id, 1, ON, "only an administrator"),
        (admin, need.id, 0, ON, "at least 1"),
        (admin, need.id, offer.remaining + 1, ON, "units left"),
        (admin, need.id, need.remaining + 1, ON, "more units"),
        (admin, other_category.id, 1, ON, "different categories"),
        (admin, 10**9, 1, ON, "no need"),
        (admin, need.id, 1, offer.valid_until + timedelta(days=1), "validity window is over"),
    ]
    for actor, need_id, quantity, on, reason in cases:
        expected = NotAllowed if actor.role != "admin" else PledgeError
        with pytest.raises(expected, match=reason):
            pledge(db.session, offer.id, need_id, quantity, actor, week=WEEK, on=on)

    # An offer restricted to one county may not go to a village of another.
    elsewhere = db.session.scalars(
        select(County).where(County.id != need.village.county_id).limit(1)
    ).one()
    offer.counties = [elsewhere]
    db.session.commit()
    with pytest.raises(PledgeError, match=elsewhere.code):
        pledge(db.session, offer.id, need.id, 1, admin, week=WEEK, on=ON)

    assert db.session.scalar(select(func.count(Allocation.id))) == before
    assert_totals_exact(db.session)


def test_a_donor_suspended_after_the_preview_gets_no_pledge_from_its_commit(
    demo_db: Flask,
) -> None:
    from web.services.organizations import decide_vetting
    from web.services.week import StaleRun

    # Enough offers to span two organizations (one organization posts at most a dozen).
    pairs = list(hot_pairs(db.session, 16, 1).items())
    kept, kept_needs = pairs[0]
    suspended, suspended_needs = next(
        (o, n) for o, n in pairs if o.organization_id != kept.organization_id
    )
    admin = user("admin")
    lines = [(kept, kept_needs[0], 1), (suspended, suspended_needs[0], 1)]
    preview = crafted_preview(db.session, WEEK, lines, admin)
    before = db.session.scalar(select(func.count(Allocation.id)))

    decide_vetting(db.session, suspended.organization_id, "suspend")
    db.session.commit()  # services flush; the caller commits
    with pytest.raises(StaleRun, match=f"offer {suspended.id}"):
        commit_run(db.session, preview.id, admin)

    assert db.session.scalar(select(func.count(Allocation.id))) == before
    assert db.session.get(AllocationRun, preview.id).status == "preview"  # type: ignore[union-attr]
    with pytest.raises(PledgeError, match="not open to pledges"):
        pledge(db.session, suspended.id, suspended_needs[0].id, 1, admin, week=WEEK, on=ON)
    assert_totals_exact(db.session)
