"""The dashboard's period: the latest week's coverage, or every live pledge of its year."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import Auth
from tests.web.week_support import FAST, committed, memo_solver, user  # noqa: F401  (a fixture)
from web.extensions import db
from web.services.dashboard import DashboardFilter, dashboard
from web.services.week import commit_run, preview_week

NEXT_WEEK = "2026-W49"
COUNTY_NOTE = re.compile(r"\d+% \(([\d,]+) 元 / ([\d,]+) 元\)")


def _coverage(period: str) -> dict[int, float | None]:
    board = dashboard(db.session, DashboardFilter(period=period))
    return {dot.village_id: dot.coverage for dot in board.dots}


def _met_units(html: str) -> int:
    """折合金额 pledged (元), summed over the county bars' notes (met / wanted)."""
    return sum(int(met.replace(",", "")) for met, _ in COUNTY_NOTE.findall(html))


@pytest.mark.usefixtures("memo_solver")
def test_year_counts_every_committed_week_and_the_week_only_the_latest(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    with demo_app.app_context():
        first = committed()
        first_week = {a.need.village_id for a in first.allocations if a.status != "cancelled"}
        second = commit_run(
            db.session,
            preview_week(db.session, NEXT_WEEK, None, user("admin"), time_limit=FAST).id,
            user("admin"),
        )
        db.session.commit()  # services flush; the caller commits
        second_week = {a.need.village_id for a in second.allocations if a.status != "cancelled"}
        both = first_week & second_week
        assert both, "the second week serves a village the first week served too"
        week, year = _coverage("week"), _coverage("year")
    for village_id in both:
        assert (year[village_id] or 0) > (week[village_id] or 0) or year[village_id] == 1.0
    assert any((year[v] or 0) > (week[v] or 0) for v in both)
    assert all((year[v] or 0) >= (week[v] or 0) for v in week)

    auth.login("admin")
    week_page = client.get("/dashboard").get_data(as_text=True)
    year_page = client.get("/dashboard?period=year").get_data(as_text=True)
    assert NEXT_WEEK in week_page
    assert '<option value="year" selected>' in year_page
    assert '<option value="week" selected>' in week_page
    # The county bars follow the period (and the cached board is not shared between them).
    assert _met_units(year_page) > _met_units(week_page) > 0


def test_an_unknown_period_falls_back_to_the_week(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.login("admin")
    response = client.get("/dashboard?period=decade")
    assert response.status_code == 200
    assert '<option value="week" selected>' in response.get_data(as_text=True)


def test_the_week_counts_its_manual_pledges_beside_its_weekly_run(demo_db: Flask) -> None:
    """An administrator's manual pledge made before the week is committed joins the week's
    manual run; the week's map counts it with the weekly run's pledges, not only the latest run."""
    from seeds.demo import WEEK
    from tests.web.week.test_concurrency import ON, crafted_preview, hot_pairs
    from web.services.pledges import pledge

    admin = user("admin")
    (offer, needs), *_ = hot_pairs(db.session, 1, 8).items()
    manual_need = needs[0]
    weekly_need = next(n for n in needs if n.village_id != manual_need.village_id)
    manual = pledge(db.session, offer.id, manual_need.id, 1, admin, week=WEEK, on=ON)
    db.session.commit()  # services flush; the caller commits
    weekly = commit_run(
        db.session, crafted_preview(db.session, WEEK, [(offer, weekly_need, 1)], admin).id, admin
    )
    db.session.commit()  # services flush; the caller commits
    assert manual.run_id != weekly.id

    board = dashboard(db.session, DashboardFilter(period="week"))
    assert board.week == WEEK and board.run_id == weekly.id
    coverage = {dot.village_id: dot.coverage for dot in board.dots}
    assert (coverage[manual_need.village_id] or 0) > 0, "the manual pledge is not on the map"
    assert (coverage[weekly_need.village_id] or 0) > 0
