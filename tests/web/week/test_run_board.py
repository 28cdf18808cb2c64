"""The run page shows where a preview's allocation goes, on the map and in charts, before commit."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.web.conftest import Auth
from tests.web.week_support import memo_solver, preview  # noqa: F401  (memo_solver is a fixture)
from web.extensions import db
from web.services.run_board import run_board

pytestmark = pytest.mark.usefixtures("memo_solver")


def test_a_preview_shows_every_village_on_the_map_coloured_by_its_coverage(
    demo_app: Flask, auth: Auth
) -> None:
    with demo_app.app_context():
        run = preview()
        board = run_board(db.session, run)
        assert board is not None
        reached = {v for v in board.dots if v.coverage}
        # Every village the preview pledges to is coloured as covered, and no more than asked.
        pledged = {a["need"] for a in run.output["allocations"]}  # type: ignore[index]
        assert pledged and reached
        assert board.villages_reached == len(reached)
        assert all(0 < d.coverage <= 1 for d in reached)
        run_id = run.id
    auth.login("admin")
    page = auth.client.get(f"/admin/runs/{run_id}").get_data(as_text=True)
    assert page.count('class="village-dot"') == 267
    assert "本次分配去向" in page
    assert len(re.findall(r'<figure class="chart chart-bars" data-chart', page)) == 2
    assert page.count('<script type="application/json">') == 3  # the map and two charts


def test_nothing_is_drawn_for_a_run_without_a_result(demo_app: Flask) -> None:
    with demo_app.app_context():
        run = preview()
        run.output = None
        assert run_board(db.session, run) is None
        db.session.rollback()
