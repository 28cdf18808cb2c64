"""The command map: 267 village dots over five district outlines, coloured by the latest week."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import Auth
from tests.web.week_support import committed, memo_solver, user  # noqa: F401  (a fixture)
from web.extensions import db
from web.services.dashboard import NO_DATA
from web.services.delivery import DISPATCH_OVERDUE_DAYS

DOT = re.compile(r'<circle class="village-dot"[^>]*fill="(#[0-9a-f]{6})"')


def _dot_colours(html: str) -> list[str]:
    return DOT.findall(html)


@pytest.mark.parametrize(
    ("username", "status"),
    [
        (None, 302),
        ("donor", 403),
        ("village", 403),
        ("admin", 200),
        ("township", 200),
        ("auditor", 200),
    ],
)
def test_dashboard_access(
    client: FlaskClient, auth: Auth, username: str | None, status: int
) -> None:
    if username:
        auth.login(username)
    response = client.get("/dashboard")
    assert response.status_code == status
    if username is None:
        assert "/login" in response.headers["Location"]


@pytest.mark.usefixtures("memo_solver")
def test_map_shows_villages_and_outlines_and_colours_follow_a_committed_week(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.login("admin")
    before = client.get("/dashboard").get_data(as_text=True)
    assert before.count('class="district"') == 5
    colours = _dot_colours(before)
    assert len(colours) == 267
    assert set(colours) == {NO_DATA}
    assert "<title>" in before and "Content-Security-Policy" not in before

    with demo_app.app_context():
        committed()
        db.session.remove()
    after = client.get("/dashboard").get_data(as_text=True)
    colours_after = _dot_colours(after)
    assert len(colours_after) == 267
    assert len(set(colours_after) - {NO_DATA}) >= 2
    assert 'class="bar"' in after
    assert re.search(r"<title>[^<]+：满足率 \d+%</title></circle>", after)

    one_county = client.get("/dashboard?county=451123&category=").get_data(as_text=True)
    assert 0 < len(_dot_colours(one_county)) < 267
    assert one_county.count('class="district"') == 5


@pytest.mark.usefixtures("memo_solver")
def test_week_over_week_chart_and_overdue_count(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.login("admin")
    empty = client.get("/dashboard").get_data(as_text=True)
    assert "逐周对比" in empty and 'class="week-row"' not in empty
    assert "没有逾期的对接" in empty

    with demo_app.app_context():
        run = committed()
        pledges = len(run.allocations)
        villages = len({a.need.village_id for a in run.allocations})
        first = run.allocations[0]
        first.status, first.confirmed_at = "confirmed", datetime.now(UTC)
        run.committed_at = datetime.now(UTC) - timedelta(days=DISPATCH_OVERDUE_DAYS + 1)
        week, run_id = run.week, run.id
        township = user("township")
        ours = sum(
            1
            for a in run.allocations
            if a.need.village.township_id == township.township_id and a.status == "pledged"
        )
        db.session.commit()
        db.session.remove()

    html = client.get("/dashboard").get_data(as_text=True)
    chart = html[html.index('class="chart week-chart"') :]
    chart = chart[: chart.index("</figure>")]
    # Three series (their names carry the unit), one value per committed week, drawn by
    # static/js/charts.js from this JSON (the CSP forbids inline script and styles).
    found = re.search(r'<script type="application/json">(.*?)</script>', chart, re.S)
    assert found is not None and "style=" not in chart
    spec = json.loads(found[1])
    assert spec["type"] == "weeks" and spec["weeks"] == [week] and spec["axis"]
    values = {s["name"]: s["values"] for s in spec["series"]}
    assert values == {
        "对接数（条）": [pledges],
        "已确认收货（条）": [1],
        "覆盖村数（个）": [villages],
    }
    row = re.search(r'<tr class="week-row">(.*?)</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row[1])
    assert cells[0] == week and cells[1] == f"{pledges:,}" and cells[2] == "1"
    assert cells[5] == f"{villages:,}"
    # Every pledge but the confirmed one is overdue: not dispatched a week after the commit.
    assert f"逾期：{pledges - 1:,} 笔对接" in html
    assert f'href="/admin/runs/{run_id}/report"' in html  # the week's printable report
    auth.logout()
    auth.login("township")
    assert f"逾期：{ours:,} 笔对接" in client.get("/dashboard").get_data(as_text=True)
