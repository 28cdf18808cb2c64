"""The command map: 267 village dots over five district outlines, coloured by the latest week."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from web.extensions import db
from web.services.dashboard import NO_DATA

from .conftest import Auth
from .week_support import committed, memo_solver  # noqa: F401  (a fixture)

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
