"""The rolling week (spec v2) on the platform: deadlines, pledged offers and committed history
feed it; a preview commits only week 0; the run page shows deadlines, lowest villages, plan."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from optimizer.rolling import parse_rolling
from seeds.demo import WEEK
from tests.web.offers_needs.test_journey_village import need_form
from tests.web.test_api_helpers import Api, api  # noqa: F401  (fixture)
from tests.web.week_support import FAST, user
from web import clock
from web.extensions import db
from web.models import Allocation, AllocationRun, Need, Offer, Village
from web.services import imports
from web.services.needs import deadline_problem
from web.services.rolling import build_rolling_instance, iso_week
from web.services.week import WeekError, commit_run, preview_week
from web.services.week_instance import build_week_instance, effective_policy, week_days

SETTINGS = {"horizon": 4, "window": 2, "catch_up": 1.0}
MONDAY = week_days(WEEK)[0]


def _open_ids(model: Any) -> list[int]:
    _data, maps = build_week_instance(db.session, WEEK, None)
    return sorted(maps.needs.values()) if model is Need else sorted(maps.offers.values())


def test_the_rolling_instance_reads_deadlines_pledges_and_perishing(demo_db: Flask) -> None:
    first, second = (db.session.get(Need, i) for i in _open_ids(Need)[:2])
    assert first is not None and second is not None
    first.deadline = MONDAY + timedelta(days=9)  # next week
    second.deadline = MONDAY - timedelta(days=3)  # overdue
    ahead, perishing, beyond = (db.session.get(Offer, i) for i in _open_ids(Offer)[:3])
    assert ahead is not None and perishing is not None and beyond is not None
    ahead.valid_from = MONDAY + timedelta(days=15)  # pledged for the week after next
    ahead.valid_until = MONDAY + timedelta(days=60)
    perishing.valid_until = MONDAY + timedelta(days=2)  # gone after this week
    beyond.valid_from = MONDAY + timedelta(weeks=4)  # after the horizon's last week
    beyond.valid_until = MONDAY + timedelta(weeks=9)
    db.session.commit()

    data, today, maps = build_rolling_instance(db.session, WEEK, {}, SETTINGS)

    instance = parse_rolling(data)
    assert instance.horizon == 4
    due = {n["id"]: n.get("due") for n in data["needs"]}
    assert due[f"N{first.id}"] == 1 and due[f"N{second.id}"] == -1
    offers = {o["id"]: o for o in data["offers"]}
    assert offers[f"O{ahead.id}"]["available_from"] == 2
    assert "available_until" not in offers[f"O{ahead.id}"]
    assert offers[f"O{perishing.id}"]["available_until"] == 0
    # The week-0 instance (for figures and greedy) has no offer that is not here now.
    assert f"O{ahead.id}" not in {o["id"] for o in today["offers"]}
    assert set(maps.offers) == set(offers)
    assert f"O{beyond.id}" not in offers


def _committed_last_week(needs: list[Need], given: dict[int, int]) -> AllocationRun:
    last = iso_week(MONDAY - timedelta(weeks=1))
    run = AllocationRun(
        week=last, status="committed", committed_week=last,
        input={"needs": [
            {"id": f"N{n.id}", "village": n.village.code, "quantity": n.quantity} for n in needs
        ]},
        output={"allocations": []},
    )
    db.session.add(run)
    offer = db.session.get(Offer, _open_ids(Offer)[0])
    assert offer is not None
    for need_id, units in given.items():
        db.session.add(Allocation(
            run=run, offer_id=offer.id, need_id=need_id, quantity=units, km=0.0, value=1.0,
            status="pledged",
        ))
    db.session.commit()
    return run


def test_history_is_each_villages_coverage_in_its_committed_weeks(demo_db: Flask) -> None:
    needs = [n for n in (db.session.get(Need, i) for i in _open_ids(Need)) if n is not None]
    by_village: dict[int, list[Need]] = {}
    for n in needs:
        by_village.setdefault(n.village_id, []).append(n)
    (one, served), (two, passed) = list(by_village.items())[:2]
    _committed_last_week(served[:2] + passed[:1], {served[0].id: served[0].quantity})

    data, _, _ = build_rolling_instance(db.session, WEEK, {}, SETTINGS)

    found = {(h["village"], h["weeks_ago"]): h["coverage"] for h in data["history"]}
    code = {v.id: v.code for v in db.session.scalars(select(Village))}
    expected = 0.5 if len(served) > 1 else 1.0
    assert found[(code[one], 1)] == pytest.approx(expected)
    assert found[(code[two], 1)] == 0.0
    assert len(found) == 2  # villages not in that run have no history
    assert parse_rolling(data).history


def test_a_rolling_preview_commits_only_week_zero(demo_db: Flask) -> None:
    ahead = db.session.get(Offer, _open_ids(Offer)[0])
    assert ahead is not None
    ahead.valid_from = MONDAY + timedelta(days=8)
    db.session.commit()
    run = preview_week(db.session, WEEK, {"horizon": 3}, user("admin"), time_limit=FAST)
    db.session.commit()  # services flush; the caller commits
    assert run.policy["horizon"] == 3 and run.input is not None and run.output is not None
    assert run.output["rolling_input"]["horizon"] == 3
    assert "horizon" not in run.input  # week 0's v1 instance, as reports and commit read it
    assert all(a["week"] == 0 for a in run.output["allocations"])
    assert all(a["week"] >= 1 for a in run.output["plan"])
    assert f"O{ahead.id}" not in {a["offer"] for a in run.output["allocations"]}
    rolling = run.metrics["rolling"]
    assert rolling["horizon"] == 3 and "due_now_met_greedy" in rolling["deadlines"]
    committed = commit_run(db.session, run.id, user("admin"))
    db.session.commit()  # services flush; the caller commits
    pledged = db.session.scalar(
        select(func.count(Allocation.id)).where(Allocation.run_id == committed.id)
    )
    assert pledged == len(run.output["allocations"])
    assert not db.session.scalars(
        select(Allocation).where(Allocation.offer_id == ahead.id)
    ).all()


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"horizon": 0}, "horizon"),
        ({"horizon": 2.5}, "horizon"),
        ({"horizon": 13}, "horizon"),
        ({"horizon": 2, "window": 0}, "window"),
        ({"horizon": 2, "catch_up": -1}, "catch_up"),
        ({"window": 2}, "horizon"),
        ({"lookahead": 2}, "unknown policy setting: lookahead"),
    ],
)
def test_bad_rolling_settings_are_refused(
    demo_db: Flask, policy: dict[str, Any], message: str
) -> None:
    with pytest.raises(WeekError, match=message):
        effective_policy(policy)
    runs = db.session.scalar(select(func.count(AllocationRun.id)))
    with pytest.raises(WeekError):
        preview_week(db.session, WEEK, policy, user("admin"), time_limit=FAST)
    assert db.session.scalar(select(func.count(AllocationRun.id))) == runs


def test_the_run_page_shows_deadlines_lowest_villages_and_plan(
    client: FlaskClient, auth: Any
) -> None:
    auth.login("admin")
    form = client.get("/admin/week")
    assert 'name="horizon"' in form.text and 'value="4"' in form.text
    posted = client.post("/admin/week", data={
        "week": WEEK, "fragmentation_penalty": "5", "distance_discount_per_km": "0.001",
        "fairness_floor": "0.3", "fairness_penalty": "200", "time_limit": "1", "horizon": "3",
    })
    assert posted.status_code == 302, posted.text
    page = client.get(posted.headers["Location"], follow_redirects=True)
    assert "滚动计划" in page.text
    assert "本周到期或已逾期的需求" in page.text
    assert "近几周覆盖率最低的村" in page.text
    assert "未来几周预计送达各村" in page.text
    run = int(posted.headers["Location"].rsplit("/", 1)[1])
    assert client.post(f"/admin/runs/{run}/commit", data={"confirm": "yes"}).status_code == 302
    report = client.get(f"/admin/runs/{run}/report")
    assert report.status_code == 200 and "贪心" in report.text


def test_deadline_rule_one_home_for_forms_api_and_import(
    client: FlaskClient, auth: Any, api: Api  # noqa: F811
) -> None:
    today = date.fromisoformat(str(client.application.config["DUIJIE_TODAY"]))  # web.clock's
    passed = today - timedelta(days=30)
    assert deadline_problem(passed, today) == "deadline_past"
    assert deadline_problem(passed, today, kept=passed) is None  # kept on an edit: due at once
    assert deadline_problem(today, today) is None
    assert deadline_problem(today + timedelta(days=800), today) == "deadline_far"
    far = (today + timedelta(days=800)).isoformat()
    auth.login("village")
    page = client.post("/village/needs/new", data=need_form(deadline=far))
    assert "截止日期在两年以后" in page.text
    body = {"category": "goods", "title": "课桌椅", "quantity": 20, "item": "goods.school.desks",
            "deadline": far}
    refused = api.post("village", "/needs", body)
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "deadline"
    assert api.post("village", "/needs", {**body, "deadline": today.isoformat()}).status_code in (
        200, 201
    )


def test_import_refuses_a_mistyped_deadline_year(demo_db: Flask) -> None:
    committee = user("village")
    assert committee.village is not None
    rows = [
        ["村代码", "类别", "标题", "数量", "紧急程度", "截止日期"],
        [committee.village.code, "物资", "过冬棉被", 30, 3, "2062-12-20"],
    ]
    data = "\n".join(",".join(str(c) for c in row) for row in rows).encode("utf-8")
    settings = imports.SheetSettings.from_config(demo_db.config, clock.today())
    report = imports.import_file(db.session, "needs", data, committee, settings=settings)
    assert not report.ok and report.created == 0
    assert [(e.row, e.column) for e in report.errors] == [(2, "截止日期")]


def test_the_api_starts_a_rolling_preview(api: Api, demo_app: Flask) -> None:  # noqa: F811
    demo_app.config["DUIJIE_API_SOLVE_SECONDS"] = 1
    for bad in ({"window": 2}, {"horizon": 13}, {"horizon": 2, "catch_up": -1}):
        assert api.post("admin", "/runs", {"week": WEEK, "policy": bad}).status_code == 422
    run = api.post("admin", "/runs", {"week": WEEK, "policy": {"horizon": 3}}).get_json()
    assert run["status"] == "preview" and run["policy"]["horizon"] == 3
    with demo_app.app_context():
        stored = db.session.get(AllocationRun, run["id"])
        assert stored is not None and stored.output is not None
        assert len(run["allocations"]) == len(stored.output["allocations"])
        assert "plan" in stored.output and stored.metrics["rolling"]["horizon"] == 3
        db.session.remove()
