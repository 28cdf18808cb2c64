"""Kinds through the pages: the catalogue seeded, a need's and an offer's kind checked once."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from seeds.catalogue import hezhou_catalogue
from tests.web.offers_needs.test_journey_donor import offer_form
from tests.web.offers_needs.test_journey_village import need_form
from web.extensions import db
from web.models import Kind, Need, Offer


def _need(app: Flask, title: str) -> Need | None:
    with app.app_context():
        need = db.session.scalar(select(Need).where(Need.title == title))
        if need is not None:
            _ = need.item, need.accepts
        db.session.expunge_all()
        return need


def test_the_starting_catalogue_is_seeded_once(demo_app: Flask) -> None:
    with demo_app.app_context():
        count = db.session.scalar(select(func.count(Kind.code)))
        desks = db.session.get(Kind, "goods.school.desks")
        assert desks is not None and desks.unit_zh == "套" and desks.parent_code == "goods.school"
    assert count == len(hezhou_catalogue())


def test_a_need_whose_kind_cannot_be_told_is_refused_naming_the_kind(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("village")
    page = client.post(
        "/village/needs/new", data=need_form(title="其他需求", category="goods", checklist_item="")
    )
    assert page.status_code == 200 and "field-error" in page.text and "品类" in page.text
    assert _need(demo_app, "其他需求") is None


def test_a_need_without_a_kind_gets_the_one_its_title_names(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("village")
    form = need_form(
        title="村小学课桌椅破旧", description="教学点课桌椅老旧", category="goods",
        checklist_item="", confirm_duplicate="y",
    )  # fmt: skip
    assert client.post("/village/needs/new", data=form).status_code == 302
    need = _need(demo_app, "村小学课桌椅破旧")
    assert need is not None and need.item_code == "goods.school.desks" and need.item_inferred


def test_a_kind_of_another_category_is_refused(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("village")
    form = need_form(title="修建村屯硬化路", item="goods.agri.fertiliser")
    page = client.post("/village/needs/new", data=form)
    assert page.status_code == 200 and "goods.agri.fertiliser" in page.text
    assert _need(demo_app, "修建村屯硬化路") is None


def test_a_need_keeps_the_kind_and_alternatives_the_committee_chose(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("village")
    form = need_form(
        title="独居老人过冬御寒", description="被褥单薄", category="goods", checklist_item="",
        confirm_duplicate="y",
        item="goods.living.quilt", accepts=["goods.living.winter_clothes"],
    )  # fmt: skip
    assert client.post("/village/needs/new", data=form).status_code == 302
    need = _need(demo_app, "独居老人过冬御寒")
    assert need is not None and need.item_code == "goods.living.quilt" and not need.item_inferred
    assert need.accept_codes == ["goods.living.winter_clothes"]


def test_an_offer_names_its_kinds_and_a_covered_one_adds_nothing(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("donor")
    form = offer_form(
        title="外出务工岗位", category="jobs", items=["jobs.away.factory", "jobs.away"]
    )
    assert client.post("/donor/offers/new", data=form).status_code == 302
    with demo_app.app_context():
        offer = db.session.scalar(select(Offer).where(Offer.title == "外出务工岗位"))
        assert offer is not None and offer.item_codes == ["jobs.away"] and not offer.general


def test_a_general_offer_names_no_kind(client: FlaskClient, auth: Any, demo_app: Flask) -> None:
    auth.login("donor")
    both = offer_form(title="帮扶物资一批", items=["goods.living.quilt"], general="y")
    assert client.post("/donor/offers/new", data=both).status_code == 200
    general = offer_form(title="帮扶物资一批", general="y")
    assert client.post("/donor/offers/new", data=general).status_code == 302
    with demo_app.app_context():
        offer = db.session.scalar(select(Offer).where(Offer.title == "帮扶物资一批"))
        assert offer is not None and offer.general and offer.item_codes == []


def test_the_picker_is_prefilled_from_the_title(client: FlaskClient, auth: Any) -> None:
    auth.login("donor")
    answer = client.get("/kinds/guess", query_string={"title": "捐赠优质茶苗", "category": "goods"})
    assert answer.json["best"] == "goods.seedling.tea"
    vague = client.get("/kinds/guess", query_string={"title": "爱心捐赠", "category": "goods"})
    assert vague.json["best"] is None


def test_an_offer_counts_in_one_unit(client: FlaskClient, auth: Any, demo_app: Flask) -> None:
    auth.login("donor")
    seedlings = offer_form(title="各类种苗", items=["goods.seedling"])  # 株 and 菌棒's 棒
    page = client.post("/donor/offers/new", data=seedlings)
    assert page.status_code == 200 and "株" in page.text and "棒" in page.text
    tea = offer_form(title="茶苗和油茶苗", items=["goods.seedling.tea", "goods.seedling.oiltea"])
    assert client.post("/donor/offers/new", data=tea).status_code == 302
