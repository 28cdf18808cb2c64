"""API resources: offers, needs, runs and pledges through their owners' tokens, with the rules
the pages follow (ownership, read-only fields, states), idempotent creates and the rate limit."""

# ruff: noqa: F811  (the api fixture is imported by name)

from __future__ import annotations

import os
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from seeds.demo import WEEK
from tests.web.test_api_helpers import Api, api  # noqa: F401  (fixture)
from tests.web.week_support import FAST, memo_solver  # noqa: F401  (memo_solver: a fixture)
from web.extensions import db
from web.models import Household, Offer, User
from web.services.tokens import digest

OFFER = {
    "category": "goods",
    "title": "爱心书包 80 个",
    "quantity": 80,
    "valid_from": "2026-11-23",
    "valid_until": "2026-12-31",
}
NEED = {"category": "goods", "title": "村小学课桌椅更新", "quantity": 30, "urgency": 3}


def _first(api: Api, who: str, path: str) -> dict[str, Any]:
    items = api.get(who, path).get_json()["items"]
    assert items, path
    return items[0]


def _count(app: Flask, model: Any) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(model.id))) or 0
        db.session.remove()
    return count


def test_donor_sees_only_its_organizations_offers(api: Api, demo_app: Flask) -> None:
    mine = api.get("donor", "/offers?per_page=500").get_json()
    assert mine["total"] > 0 and len({o["organization_id"] for o in mine["items"]}) == 1
    everyone = api.get("auditor", "/offers?per_page=500").get_json()
    assert everyone["total"] > mine["total"]
    other = next(
        o for o in everyone["items"] if o["organization_id"] != mine["items"][0]["organization_id"]
    )
    assert api.get("donor", f"/offers/{other['id']}").status_code == 404
    assert api.patch("donor", f"/offers/{other['id']}", {"title": "x"}).status_code == 404
    assert api.post("donor", f"/offers/{other['id']}/withdraw").status_code == 404
    assert api.get("admin", f"/offers/{other['id']}").status_code == 200


def test_offer_lists_filter_and_page_stably(api: Api) -> None:
    goods = api.get("auditor", "/offers?category=goods&per_page=500").get_json()
    assert goods["total"] > 0 and {o["category"] for o in goods["items"]} == {"goods"}
    first = api.get("auditor", "/offers?per_page=7&page=1").get_json()
    second = api.get("auditor", "/offers?per_page=7&page=2").get_json()
    ids = [o["id"] for o in first["items"] + second["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 14
    assert first["total"] == second["total"] and first["pages"] == -(-first["total"] // 7)
    county = api.get("auditor", "/offers?county=451102&per_page=500").get_json()
    assert all("451102" in o["counties"] for o in county["items"])


def test_offer_create_change_and_withdraw(api: Api) -> None:
    created = api.post("donor", "/offers", {**OFFER, "status": "closed"})
    assert created.status_code == 422, "status is the platform's, not the client's"
    bad_dates = api.post("donor", "/offers", {**OFFER, "valid_until": "2026-11-01"})
    assert bad_dates.get_json()["errors"][0]["field"] == "valid_until"
    bad_lot = api.post("donor", "/offers", {**OFFER, "min_lot": 81})
    assert bad_lot.get_json()["errors"][0]["field"] == "min_lot"
    unknown = api.post("donor", "/offers", {**OFFER, "counties": ["999999"]})
    assert unknown.status_code == 422 and unknown.get_json()["errors"][0]["field"] == "counties"

    offer = api.post("donor", "/offers", OFFER).get_json()
    changed = api.patch("donor", f"/offers/{offer['id']}", {"quantity": 90, "min_lot": 10})
    assert changed.status_code == 200
    assert (changed.get_json()["quantity"], changed.get_json()["title"]) == (90, OFFER["title"])
    assert api.patch("donor", f"/offers/{offer['id']}", {"min_lot": 95}).status_code == 422
    assert api.patch("donor", f"/offers/{offer['id']}", {"allocated": 5}).status_code == 422
    withdrawn = api.post("donor", f"/offers/{offer['id']}/withdraw")
    assert withdrawn.get_json()["status"] == "withdrawn"
    again = api.patch("donor", f"/offers/{offer['id']}", {"quantity": 50})
    assert again.status_code == 409 and again.get_json()["code"] == "not_open"


def test_a_likely_duplicate_offer_waits_for_confirmation(api: Api, demo_app: Flask) -> None:
    assert api.post("donor", "/offers", OFFER).status_code == 201
    before = _count(demo_app, Offer)
    twice = api.post("donor", "/offers", OFFER)
    assert twice.status_code == 409 and twice.get_json()["duplicates"]
    assert _count(demo_app, Offer) == before
    confirmed = api.post("donor", "/offers", {**OFFER, "confirm_duplicate": True})
    assert confirmed.status_code == 201


def test_an_organization_awaiting_vetting_cannot_post(api: Api) -> None:
    refused = api.post("donor-pending", "/offers", OFFER)
    assert refused.status_code == 403 and refused.get_json()["code"] == "not_approved"


def test_idempotency_key_replays_a_create_once(api: Api, demo_app: Flask) -> None:
    key = {"Idempotency-Key": "offer-2026-11-25-001"}
    first = api.post("donor", "/offers", OFFER, headers=key)
    before = _count(demo_app, Offer)
    again = api.post("donor", "/offers", OFFER, headers=key)
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _count(demo_app, Offer) == before
    different = api.post("donor", "/offers", {**OFFER, "quantity": 81}, headers=key)
    assert different.status_code == 422 and "Idempotency-Key" in different.get_json()["detail"]
    # Keys are per user: another donor's same key is a new create.
    other = api.post("donor-ngo", "/offers", OFFER, headers=key)
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]
    assert api.post("donor", "/offers", OFFER, headers={"Idempotency-Key": "é"}).status_code == 400


def test_village_and_township_see_only_their_needs(api: Api, demo_app: Flask) -> None:
    me = api.get("village", "/me").get_json()
    ours = api.get("village", "/needs?per_page=500").get_json()
    assert ours["total"] > 0 and {n["village_id"] for n in ours["items"]} == {me["village_id"]}
    township = api.get("township", "/needs?per_page=500").get_json()
    assert len({n["township_code"] for n in township["items"]}) == 1
    everyone = api.get("admin", "/needs?per_page=500").get_json()
    other = next(
        n for n in everyone["items"] if n["township_code"] != township["items"][0]["township_code"]
    )
    assert api.get("village", f"/needs/{other['id']}").status_code == 404
    assert api.get("township", f"/needs/{other['id']}").status_code == 404
    verdict = api.post("township", f"/needs/{other['id']}/verify", {"decision": "verify"})
    assert verdict.status_code == 404, "a township verifies its own villages' needs only"
    county = api.get("admin", "/needs?county=451102&verification=verified&per_page=50").get_json()
    assert county["items"] and all(n["verification"] == "verified" for n in county["items"])


def test_need_rules_come_from_the_service(api: Api, demo_app: Flask) -> None:
    need = api.post("village", "/needs", {**NEED, "confirm_duplicate": True}).get_json()
    assert need["verification"] == "pending"
    reject = api.post("township", f"/needs/{need['id']}/verify", {"decision": "reject"})
    assert reject.status_code == 422 and reject.get_json()["errors"][0]["field"] == "reason"
    rejected = api.post(
        "township", f"/needs/{need['id']}/verify", {"decision": "reject", "reason": "已有项目覆盖"}
    )
    assert rejected.get_json()["verification"] == "rejected"
    edited = api.patch(
        "village", f"/needs/{need['id']}", {"quantity": 25, "confirm_duplicate": True}
    )
    print(edited.get_json())
    assert edited.get_json()["verification"] == "pending", "a change goes back to the township"
    withdrawn = api.post("village", f"/needs/{need['id']}/withdraw")
    assert withdrawn.get_json()["status"] == "withdrawn"
    assert api.post("village", f"/needs/{need['id']}/withdraw").status_code == 409
    late = api.post("township", f"/needs/{need['id']}/verify", {"decision": "verify"})
    assert late.status_code == 409


def test_micro_wish_names_a_household_of_the_village_by_id_only(
    api: Api,
    demo_app: Flask,
) -> None:
    with demo_app.app_context():
        village = db.session.scalar(select(User).where(User.username == "village"))
        assert village is not None
        own = db.session.scalar(
            select(Household.id).where(Household.village_id == village.village_id)
        )
        other = db.session.scalar(
            select(Household.id).where(Household.village_id != village.village_id)
        )
        db.session.remove()
    assert own and other
    wish = {
        **NEED, "title": "孩子冬天的棉鞋", "item": "goods.living.winter_clothes", "quantity": 1,
        "household_id": own, "evidence": "村委会2026年11月20日入户核实",
    }  # fmt: skip
    assert api.post("village", "/needs", wish).status_code == 422, "a wish needs its value"
    too_dear = api.post("village", "/needs", {**wish, "estimated_value": 501})
    assert too_dear.status_code == 422
    stranger = api.post("village", "/needs", {**wish, "household_id": other, "estimated_value": 80})
    assert (
        stranger.status_code == 422 and stranger.get_json()["errors"][0]["field"] == "household_id"
    )
    # A micro-wish carries its verification note, as on the form and in the sheet.
    unchecked = api.post("village", "/needs", {**wish, "estimated_value": 80, "evidence": " "})
    assert unchecked.status_code == 422
    assert unchecked.get_json()["errors"][0]["field"] == "evidence"
    made = api.post("village", "/needs", {**wish, "estimated_value": 80})
    assert made.status_code == 201
    body = made.get_json()
    assert body["is_wish"] and body["household_id"] == own
    assert "display_name" not in body and "phone" not in body


def test_runs_preview_commit_publish_in_order(api: Api, demo_app: Flask, memo_solver: None) -> None:
    demo_app.config["DUIJIE_API_SOLVE_SECONDS"] = FAST  # a wall limit: reading the week counts
    assert api.post("admin", "/runs", {"week": "2026-W99"}).status_code == 422
    assert (
        api.post("admin", "/runs", {"week": WEEK, "policy": {"fairness_floor": 2}}).status_code
        == 422
    )
    run = api.post("admin", "/runs", {"week": WEEK, "policy": {"fairness_floor": 0.5}}).get_json()
    assert run["policy"]["fairness_floor"] == 0.5 and run["allocations"]
    assert api.post("admin", f"/runs/{run['id']}/publish").status_code == 409, "commit first"
    assert api.post("admin", f"/runs/{run['id']}/commit").get_json()["status"] == "committed"
    assert api.post("admin", f"/runs/{run['id']}/commit").status_code == 409
    assert api.post("admin", "/runs", {"week": WEEK}).status_code == 409, "a week commits once"
    runs = api.get("auditor", f"/runs?week={WEEK}&status=committed").get_json()
    assert [r["id"] for r in runs["items"]] == [run["id"]]
    assert api.post("admin", "/runs/999999/commit").status_code == 404


@pytest.fixture
def published_week(api: Api, demo_app: Flask, memo_solver: None) -> dict[str, Any]:
    """The demo week previewed, committed and published through the API."""
    demo_app.config["DUIJIE_API_SOLVE_SECONDS"] = 1
    run = api.post("admin", "/runs", {"week": WEEK}).get_json()
    api.post("admin", f"/runs/{run['id']}/commit")
    return dict(api.post("admin", f"/runs/{run['id']}/publish").get_json())


def test_pledges_concern_their_donor_village_and_township(
    api: Api, published_week: dict[str, Any]
) -> None:
    donor = api.get("donor", "/me").get_json()
    village = api.get("village", "/me").get_json()
    mine = api.get("donor", "/allocations?per_page=500").get_json()["items"]
    assert mine and {a["organization_id"] for a in mine} == {donor["organization_id"]}
    ours = api.get("village", "/allocations?per_page=500").get_json()["items"]
    assert ours and {a["village_id"] for a in ours} == {village["village_id"]}
    every = api.get("auditor", f"/allocations?week={WEEK}&per_page=500").get_json()
    assert every["total"] >= len(mine) + len(ours) - len(
        {a["id"] for a in mine} & {a["id"] for a in ours}
    )
    stranger = next(a for a in every["items"] if a["organization_id"] != donor["organization_id"])
    assert api.post("donor", f"/allocations/{stranger['id']}/dispatch").status_code == 404
    theirs = next(a for a in every["items"] if a["village_id"] != village["village_id"])
    assert api.post("village", f"/allocations/{theirs['id']}/confirm").status_code == 404


def test_delivery_states_and_admin_cancel(api: Api, published_week: dict[str, Any]) -> None:
    pledge = _first(api, "village", "/allocations?status=pledged")
    path = f"/allocations/{pledge['id']}"
    assert api.post("village", f"{path}/confirm", {"rating": 6}).status_code == 422
    assert api.post("village", f"{path}/receive").get_json()["status"] == "received"
    done = api.post("village", f"{path}/confirm", {"note": "好", "rating": 4}).get_json()
    assert (done["status"], done["rating"], done["receipt_note"]) == ("confirmed", 4, "好")
    refused = api.post("admin", f"{path}/cancel", {"reason": "重复"})
    assert refused.status_code == 409, "a confirmed delivery cannot be cancelled"

    other = _first(api, "admin", "/allocations?status=pledged")
    assert (
        api.post("admin", f"/allocations/{other['id']}/cancel", {"reason": " "}).status_code == 422
    )
    offer_before = api.get("admin", f"/offers/{other['offer_id']}").get_json()["allocated"]
    cancelled = api.post("admin", f"/allocations/{other['id']}/cancel", {"reason": "物资损毁"})
    assert cancelled.get_json()["status"] == "cancelled"
    offer_after = api.get("admin", f"/offers/{other['offer_id']}").get_json()["allocated"]
    assert offer_after == offer_before - other["quantity"]


def test_public_village_shows_published_pledges_without_households(
    api: Api,
    published_week: dict[str, Any],
    demo_app: Flask,
) -> None:
    pledge = _first(api, "admin", "/allocations?per_page=500")
    village = api.get(None, f"/villages/{pledge['village_id']}").get_json()
    assert village["pledges"] and village["code"]
    with demo_app.app_context():
        names = [n for (n,) in db.session.execute(select(Household.display_name))]
        db.session.remove()
    text = str(api.client.get(f"/api/v1/villages/{pledge['village_id']}").get_data(as_text=True))
    assert not any(name in text for name in names if len(name) > 1)
    for item in village["pledges"]:
        assert (item["need"] is None) == item["is_wish"]
    totals = api.get(None, "/totals").get_json()
    assert totals["published_runs"] == 1 and totals["pledges"] > 0


def test_rate_limit_answers_429_with_retry_after_per_token(api: Api, demo_app: Flask) -> None:
    demo_app.config["DUIJIE_API_RATE_LIMIT"] = 3
    for _ in range(3):
        assert api.get("auditor", "/me").status_code == 200
    limited = api.get("auditor", "/me")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.mimetype == "application/problem+json"
    assert api.get("admin", "/me").status_code == 200, "another token has its own count"


@pytest.mark.redis
def test_rate_limit_counts_in_redis_when_configured(api: Api, demo_app: Flask) -> None:
    redis = pytest.importorskip("redis")
    url = os.environ.get("DUIJIE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("DUIJIE_REQUIRE_SERVICES"):
            pytest.fail(f"DUIJIE_REQUIRE_SERVICES is set but Redis is not reachable at {url}")
        pytest.skip(f"no Redis at {url}")
    demo_app.config.update(DUIJIE_REDIS_URL=url, DUIJIE_API_RATE_LIMIT=2)
    assert api.get("auditor", "/me").status_code == 200
    assert api.get("auditor", "/me").status_code == 200
    assert api.get("auditor", "/me").status_code == 429
    token = api.token("auditor")
    with demo_app.app_context():
        bucket = f"duijie:api:token:{digest(token)[:24]}:*"
    assert list(redis.Redis.from_url(url).scan_iter(match=bucket))
