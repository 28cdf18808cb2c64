"""The current week comes from the clock: the week box shows it, and a preview of a week that
has already ended is refused on the page, in the API and by `duijie allocate`, naming the week.

The tests pin "today" with DUIJIE_TODAY (tests/conftest.py: the demo week's Monday); here a test
moves it in its app's config, or clears it to read the real clock.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from seeds.demo import WEEK, WEEK_START
from tests.web.test_api_helpers import Api, api  # noqa: F401  (a fixture)
from tests.web.week.test_week_pages import policy_form
from tests.web.week_support import memo_solver  # noqa: F401  (a fixture)
from web.extensions import db
from web.models import AllocationRun

LATER = date(2026, 12, 7)  # a Monday of 2026-W50: the demo week 2026-W48 has ended


def runs(app: Flask) -> int:
    with app.app_context():
        count = db.session.query(AllocationRun).count()
        db.session.remove()
    return count


def week_box(page: Any) -> str:
    """The value the week box is filled with."""
    text = page.get_data(as_text=True)
    start = text.index('name="week"')
    tag = text[text.rindex("<input", 0, start) : text.index(">", start)]
    return tag.split('value="')[1].split('"')[0]


def test_the_week_box_shows_the_current_week(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("admin")
    assert week_box(client.get("/admin/week")) == WEEK  # DUIJIE_TODAY: the demo week's Monday

    demo_app.config["DUIJIE_TODAY"] = LATER
    assert week_box(client.get("/admin/week")) == "2026-W50"
    demo_app.config["DUIJIE_TODAY"] = date(2027, 1, 1)
    assert week_box(client.get("/admin/week")) == "2026-W53"


def test_without_a_pinned_day_the_week_box_reads_the_clock_in_china(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    demo_app.config["DUIJIE_TODAY"] = None
    auth.login("admin")
    year, number, _ = datetime.now(ZoneInfo("Asia/Shanghai")).date().isocalendar()
    assert week_box(client.get("/admin/week")) == f"{year}-W{number:02d}"


def test_a_past_week_is_refused_next_to_the_week_box_and_nothing_is_queued(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    demo_app.config["DUIJIE_TODAY"] = LATER
    auth.login("admin")

    page = client.post("/admin/week", data=policy_form(week="2020-W01"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    after_box = text[text.index('name="week"') :]
    message = after_box[: after_box.index('name="fragmentation_penalty"')]
    assert "2020-W01" in message and "2020-01-05" in message and "2026-W50" in message
    assert "已结束" in message  # in the user's language, next to the week box

    page = client.post("/admin/week", data=policy_form(week=WEEK))
    assert page.status_code == 200 and "已结束" in page.get_data(as_text=True)
    assert runs(demo_app) == 0


@pytest.mark.usefixtures("memo_solver")
def test_the_current_week_and_later_ones_may_be_previewed(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    demo_app.config["DUIJIE_TODAY"] = date(2026, 11, 29)  # the demo week's Sunday: still on
    auth.login("admin")
    started = client.post("/admin/week", data=policy_form())
    assert started.status_code == 302 and "/admin/runs/" in started.headers["Location"]
    later = client.post("/admin/week", data=policy_form(week="2027-W01"))
    assert later.status_code == 302
    assert runs(demo_app) == 2


def test_the_api_refuses_a_past_week_with_422_naming_week(api: Api, demo_app: Flask) -> None:  # noqa: F811
    demo_app.config["DUIJIE_TODAY"] = LATER
    answer = api.post("admin", "/runs", {"week": WEEK})
    assert answer.status_code == 422, answer.get_json()
    body = answer.get_json()
    assert [e["field"] for e in body["errors"]] == ["week"]
    assert WEEK in body["errors"][0]["message"] and "2026-W50" in body["errors"][0]["message"]
    assert runs(demo_app) == 0
    missing = api.post("admin", "/runs", {"week": "2025-W53"})  # 2025 has 52 weeks
    assert missing.status_code == 422
    assert [e["field"] for e in missing.get_json()["errors"]] == ["week"]


def test_allocate_refuses_a_past_week_with_exit_2_and_one_line(
    demo_app: Flask, english_commands: None
) -> None:
    demo_app.config["DUIJIE_TODAY"] = LATER
    done = demo_app.test_cli_runner().invoke(args=["allocate", "--week", WEEK, "--time-limit", "3"])
    assert done.exit_code == 2, done.output
    lines = done.output.strip().splitlines()
    assert len(lines) == 1 and WEEK in lines[0] and "2026-11-29" in lines[0]
    assert "2026-W50" in lines[0] and "Traceback" not in done.output
    assert runs(demo_app) == 0


def test_the_pinned_day_is_read_once_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from web import create_app

    monkeypatch.setenv("DUIJIE_TODAY", "2026-12-31")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "t"})
    assert app.config["DUIJIE_TODAY"] == date(2026, 12, 31)
    monkeypatch.setenv("DUIJIE_TODAY", "31.12.2026")
    with pytest.raises(ValueError, match="DUIJIE_TODAY must be a date like 2026-11-23"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "t"})
    assert date(2026, 11, 23) == WEEK_START
