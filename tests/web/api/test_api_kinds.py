"""Kinds through the API: a need's kind and an offer's kinds checked or recognised by the one
rule (web.services.kinds), the public catalogue, and every pledge's quantity named in its unit."""

# ruff: noqa: F811  (the api fixture is imported by name)

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from seeds.demo import WEEK
from tests.web.test_api_helpers import Api, api  # noqa: F401  (fixture)
from tests.web.week_support import memo_solver  # noqa: F401  (fixture)
from web.extensions import db
from web.models import Kind, Need, Offer
from web.models.base import utcnow

NEED = {"category": "goods", "title": "村小学课桌椅更新", "quantity": 30, "urgency": 3}
OFFER = {
    "category": "goods",
    "title": "捐赠优质茶苗",
    "quantity": 5000,
    "valid_from": "2026-11-23",
    "valid_until": "2026-12-31",
}


def _count(app: Flask, model: Any) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(model.id))) or 0
        db.session.remove()
    return count


def _refused(response: Any, field: str) -> str:
    """The message of a 422 problem document that names exactly this field."""
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert [e["field"] for e in problem["errors"]] == [field], problem
    message: str = problem["errors"][0]["message"]
    assert message and field in problem["detail"]
    return message


def test_a_need_without_item_gets_the_recognised_kind_and_says_so(api: Api) -> None:
    made = api.post("village", "/needs", NEED)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["item"], body["item_name"], body["unit"]) == ("goods.school.desks", "课桌椅", "套")
    assert body["item_inferred"] is True and body["accepts"] == []
    assert api.get("village", f"/needs/{body['id']}").get_json() == body
    listed = api.get("township", "/needs?verification=pending&per_page=500").get_json()["items"]
    assert next(n for n in listed if n["id"] == body["id"]) == body


def test_a_need_keeps_the_kind_and_alternatives_it_names(api: Api) -> None:
    need = {
        **NEED, "title": "独居老人过冬御寒", "quantity": 8, "item": "goods.living.quilt",
        "accepts": ["goods.living.winter_clothes", "goods.living.quilt"],
    }  # fmt: skip
    body = api.post("village", "/needs", need).get_json()
    assert (body["item"], body["item_name"], body["unit"]) == ("goods.living.quilt", "棉被", "床")
    assert body["accepts"] == ["goods.living.winter_clothes"], "its own kind is no alternative"
    assert body["item_inferred"] is False
    listed = api.get("village", "/needs?per_page=500").get_json()["items"]
    assert next(n for n in listed if n["id"] == body["id"])["accepts"] == body["accepts"]


def test_a_need_whose_kind_cannot_be_told_is_refused_naming_item(api: Api, demo_app: Flask) -> None:
    before = _count(demo_app, Need)
    message = _refused(api.post("village", "/needs", {**NEED, "title": "其他需求"}), "item")
    assert message == "name the kind: it cannot be told from the title 其他需求"
    assert _count(demo_app, Need) == before, "nothing written"


def test_a_need_naming_a_wrong_kind_is_refused_naming_the_field(api: Api, demo_app: Flask) -> None:
    with demo_app.app_context():
        kind = db.session.get(Kind, "goods.living.heater")
        assert kind is not None
        kind.retired_at = utcnow()
        db.session.commit()
        db.session.remove()
    before = _count(demo_app, Need)
    other = _refused(api.post("village", "/needs", {**NEED, "item": "funds.relief"}), "item")
    assert "funds.relief" in other and "Goods" in other  # named in the API's English
    unknown = _refused(api.post("village", "/needs", {**NEED, "item": "goods.desks"}), "item")
    assert "goods.desks" in unknown
    retired = _refused(
        api.post("village", "/needs", {**NEED, "item": "goods.living.heater"}), "item"
    )
    assert "retired" in retired
    alternative = {**NEED, "item": "goods.school.desks", "accepts": ["education.meals"]}
    assert "education.meals" in _refused(api.post("village", "/needs", alternative), "accepts")
    malformed = api.post("village", "/needs", {**NEED, "item": "Goods/desks"})
    assert malformed.status_code == 422 and malformed.get_json()["errors"][0]["field"] == "item"
    assert _count(demo_app, Need) == before, "nothing written"


def test_changing_a_need_checks_its_kind_again(api: Api) -> None:
    need = api.post("village", "/needs", NEED).get_json()
    path = f"/needs/{need['id']}"
    quantity = api.patch("village", path, {"quantity": 12}).get_json()
    assert (quantity["item"], quantity["item_inferred"]) == ("goods.school.desks", True)
    # The platform's guess follows a new title; a kind the committee named stays.
    retitled = api.patch("village", path, {"title": "村小学书包文具"}).get_json()
    assert (retitled["item"], retitled["item_inferred"]) == ("goods.school.stationery", True)
    named = api.patch(
        "village", path, {"item": "goods.school.desks", "accepts": ["goods.school.stationery"]}
    ).get_json()
    assert (named["item"], named["item_inferred"]) == ("goods.school.desks", False)
    assert named["accepts"] == ["goods.school.stationery"]
    kept = api.patch("village", path, {"title": "村小学教室桌椅"}).get_json()
    assert (kept["item"], kept["accepts"], kept["unit"]) == (
        "goods.school.desks", ["goods.school.stationery"], "套",
    )  # fmt: skip
    _refused(api.patch("village", path, {"category": "funds"}), "accepts")
    _refused(api.patch("village", path, {"item": "funds.relief"}), "item")
    _refused(api.patch("village", path, {"accepts": None}), "accepts")
    after = api.get("village", path).get_json()
    assert (after["category"], after["item"]) == ("goods", "goods.school.desks"), "unchanged"
    cleared = api.patch("village", path, {"accepts": []}).get_json()
    assert cleared["accepts"] == []
    _refused(api.patch("village", path, {"category": "funds"}), "item")


def test_an_offer_names_its_kinds_or_is_general(api: Api) -> None:
    named = api.post("donor", "/offers", {**OFFER, "items": ["goods.seedling.tea"]})
    assert named.status_code == 201, named.get_json()
    body = named.get_json()
    assert (body["items"], body["general"], body["items_inferred"], body["unit"]) == (
        ["goods.seedling.tea"], False, False, "株",
    )  # fmt: skip
    general = api.post(
        "donor", "/offers", {**OFFER, "title": "帮扶物资一批", "quantity": 50, "general": True}
    ).get_json()
    assert (general["items"], general["general"], general["unit"]) == ([], True, "件")
    listed = api.get("donor", "/offers?per_page=500").get_json()["items"]
    shown = {o["id"]: o for o in listed}
    assert shown[body["id"]] == body and shown[general["id"]] == general


def test_an_offer_without_kinds_gets_them_from_its_title_or_is_refused(
    api: Api, demo_app: Flask
) -> None:
    recognised = api.post("donor", "/offers", OFFER).get_json()
    assert (recognised["items"], recognised["items_inferred"]) == (["goods.seedling.tea"], True)
    before = _count(demo_app, Offer)
    message = _refused(api.post("donor", "/offers", {**OFFER, "title": "爱心捐赠"}), "items")
    assert "general" in message
    assert _count(demo_app, Offer) == before


def test_an_offer_is_refused_general_with_kinds_or_kinds_of_two_units(
    api: Api, demo_app: Flask
) -> None:
    before = _count(demo_app, Offer)
    both = {**OFFER, "items": ["goods.seedling.tea"], "general": True}
    _refused(api.post("donor", "/offers", both), "items")
    seedlings = {**OFFER, "title": "各类种苗", "items": ["goods.seedling"]}  # 株 and 菌棒's 棒
    units = _refused(api.post("donor", "/offers", seedlings), "items")
    assert "株" in units and "棒" in units
    mixed = {**OFFER, "items": ["goods.seedling.tea", "goods.seedling.mushroom"]}
    _refused(api.post("donor", "/offers", mixed), "items")
    other = {**OFFER, "items": ["jobs.away"]}
    assert "jobs.away" in _refused(api.post("donor", "/offers", other), "items")
    assert _count(demo_app, Offer) == before, "nothing written"


def test_changing_an_offer_checks_its_kinds_again(api: Api) -> None:
    offer = api.post("donor", "/offers", {**OFFER, "items": ["goods.seedling.tea"]}).get_json()
    path = f"/offers/{offer['id']}"
    assert api.patch("donor", path, {"quantity": 10}).get_json()["items"] == ["goods.seedling.tea"]
    general = api.patch("donor", path, {"general": True}).get_json()
    assert (general["items"], general["general"], general["unit"]) == ([], True, "件")
    named = api.patch("donor", path, {"items": ["goods.seedling.oiltea"]}).get_json()
    assert (named["items"], named["general"], named["unit"]) == (
        ["goods.seedling.oiltea"], False, "株",
    )  # fmt: skip
    _refused(api.patch("donor", path, {"items": ["goods.seedling"]}), "items")
    _refused(api.patch("donor", path, {"items": ["goods.seedling.tea"], "general": True}), "items")
    _refused(api.patch("donor", path, {"items": None}), "items")
    assert api.get("donor", path).get_json()["items"] == ["goods.seedling.oiltea"], "unchanged"


def test_the_catalogue_is_public_with_units_and_values(api: Api, demo_app: Flask) -> None:
    with demo_app.app_context():
        kind = db.session.get(Kind, "goods.living.kettle")
        assert kind is not None
        kind.retired_at = utcnow()
        db.session.commit()
        db.session.remove()
    answer = api.get(None, "/kinds")
    assert answer.status_code == 200
    kinds = {k["code"]: k for k in answer.get_json()["items"]}
    assert kinds["goods.school.desks"] == {
        "code": "goods.school.desks", "parent": "goods.school", "category": "goods",
        "name_zh": "课桌椅", "name_en": "School desks and chairs", "unit_zh": "套",
        "unit_en": "sets", "ref_value": 300.0, "retired": False,
    }  # fmt: skip
    assert kinds["goods"]["parent"] is None
    assert "goods.living.kettle" not in kinds, "retired kinds only on request"
    everything = api.get(None, "/kinds?include_retired=true").get_json()["items"]
    assert next(k for k in everything if k["code"] == "goods.living.kettle")["retired"] is True
    funds = api.get(None, "/kinds?category=funds").get_json()["items"]
    assert funds and {k["category"] for k in funds} == {"funds"}
    assert api.get(None, "/kinds?category=toys").status_code == 400
    assert api.get(None, "/kinds?colour=red").status_code == 400


def test_a_runs_allocations_name_their_kinds_and_units(
    api: Api,
    demo_app: Flask,
    memo_solver: None,
) -> None:
    demo_app.config["DUIJIE_API_SOLVE_SECONDS"] = 1
    run = api.post("admin", "/runs", {"week": WEEK}).get_json()
    proposed = api.get("admin", f"/runs/{run['id']}").get_json()["allocations"]
    assert proposed
    kinds = {k["code"]: k for k in api.get(None, "/kinds").get_json()["items"]}
    for allocation in proposed:
        kind = kinds[allocation["item"]]
        assert (allocation["item_name"], allocation["unit"]) == (kind["name_zh"], kind["unit_zh"])
    sample = proposed[0]
    need = api.get("admin", f"/needs/{sample['need_id']}").get_json()
    assert (sample["item"], sample["unit"]) == (need["item"], need["unit"])
    assert len({a["unit"] for a in proposed}) > 1, "the week holds kinds of several units"
    api.post("admin", f"/runs/{run['id']}/commit")
    api.post("admin", f"/runs/{run['id']}/publish")
    pledges = api.get("village", "/allocations?per_page=500").get_json()["items"]
    assert pledges
    for pledge in pledges:
        assert pledge["unit"] == kinds[pledge["item"]]["unit_zh"]
    village = api.get(None, f"/villages/{pledges[0]['village_id']}").get_json()
    assert all(p["unit"] and p["item"] for p in village["pledges"])
