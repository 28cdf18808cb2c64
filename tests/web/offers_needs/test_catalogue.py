"""The administrator's catalogue of kinds, the review lists of what waits for a kind, and the
kinds of households' own requests."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from seeds.demo import WEEK
from tests.web.households.test_household import activate, ask, register, request_ids
from tests.web.offers_needs.test_journey_village import need_form
from web.extensions import db
from web.models import AuditEvent, HelpRequest, Kind, Need, Offer, User, Village
from web.services.week_instance import build_week_instance, need_key

HEADER = "编码,中文名,英文名,单位,英文单位,参考单价（元）,同义词,替代品类"
NEW_KIND = {
    "parent": "goods.school",
    "segment": "abacus",
    "name_zh": "算盘",
    "name_en": "Abacus",
    "unit_zh": "个",
    "unit_en": "pcs",
    "ref_value": "25",
    "synonyms": "珠算、算盘子",
}


def _count(app: Flask, model: Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _form_of(html: str, form_id: str) -> str:
    """The form with this id on a page (where its errors are shown)."""
    match = re.search(rf'<form [^>]*id="{form_id}"[^>]*>(.*?)</form>', html, re.S)
    assert match, f"no form {form_id}"
    return match.group(1)


def _kind(app: Flask, code: str) -> Kind | None:
    with app.app_context():
        kind = db.session.get(Kind, code)
        db.session.expunge_all()
        return kind


def _village_need_with_kind(app: Flask) -> tuple[int, str, str]:
    """The demo village's first open village need (not a wish) naming a leaf kind."""
    with app.app_context():
        village_id = db.session.scalar(select(User.village_id).where(User.username == "village"))
        for need in db.session.scalars(
            select(Need)
            .where(
                Need.village_id == village_id, Need.status == "open", Need.item_code.is_not(None)
            )
            .where(Need.household_id.is_(None))
            .order_by(Need.id)
        ):
            assert need.item_code is not None
            if db.session.scalar(select(func.count()).where(Kind.parent_code == need.item_code)):
                continue
            return need.id, need.item_code, need.category_code
    raise AssertionError("the demo village has no need naming a leaf kind")


def test_an_added_kind_is_offered_by_the_pickers_and_audited(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("admin")
    page = client.get("/admin/kinds")
    assert page.status_code == 200 and "课桌椅" in page.text and 'href="/admin/kinds"' in page.text
    added = client.post("/admin/kinds", data=NEW_KIND)
    assert added.status_code == 302
    kind = _kind(demo_app, "goods.school.abacus")
    assert kind is not None and kind.unit_zh == "个" and kind.ref_value == 25
    assert kind.synonyms == "珠算|算盘子" and kind.category_code == "goods"
    with demo_app.app_context():
        assert db.session.scalar(
            select(func.count()).where(
                AuditEvent.entity == "kind", AuditEvent.entity_id == "goods.school.abacus"
            )
        )
    auth.login("village")
    assert 'value="goods.school.abacus"' in client.get("/village/needs/new").text
    # Bad input: every field named, nothing written.
    auth.login("admin")
    bad = client.post("/admin/kinds", data=NEW_KIND | {"segment": "Abacus!", "ref_value": "0"})
    assert bad.status_code == 422 and "field-error" in bad.text and "小写" in bad.text
    for field, value in (("segment", "abacus"), ("ref_value", "-3"), ("unit_zh", "")):
        again = client.post("/admin/kinds", data=NEW_KIND | {field: value})
        assert again.status_code == 422 and "field-error" in again.text, field
    assert "已经有了" in client.post("/admin/kinds", data=NEW_KIND).text


def test_a_retired_kind_is_refused_for_new_needs_and_kept_by_existing_ones(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    need_id, code, category = _village_need_with_kind(demo_app)
    auth.login("admin")
    assert client.post(f"/admin/kinds/{code}/state", data={"action": "retire"}).status_code == 302
    kind = _kind(demo_app, code)
    assert kind is not None and kind.retired
    # Deleting a kind in use is refused; it stays.
    refused = client.post(f"/admin/kinds/{code}/state", data={"action": "delete"})
    assert "不能删除" in client.get(refused.location).text
    assert _kind(demo_app, code) is not None
    auth.login("village")
    assert f'value="{code}"' not in client.get("/village/needs/new").text
    posted = client.post(
        "/village/needs/new",
        data=need_form(
            title="一条新需求", category=category, item=code, checklist_item="",
            confirm_duplicate="y",
        ),
    )  # fmt: skip
    assert posted.status_code == 200 and "已停用" in posted.text
    with demo_app.app_context():
        need = db.session.get(Need, need_id)
        assert need is not None and need.item_code == code
        assert db.session.scalar(select(func.count()).where(Need.title == "一条新需求")) == 0
    assert "已停用" in client.get("/village/needs").text
    # Restored, it is offered again.
    auth.login("admin")
    client.post(f"/admin/kinds/{code}/state", data={"action": "restore"})
    kind = _kind(demo_app, code)
    assert kind is not None and not kind.retired


def test_retiring_a_parent_retires_its_children_and_restoring_restores_them(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("admin")
    client.post("/admin/kinds/goods.health.crutch/state", data={"action": "retire"})
    client.post("/admin/kinds/goods.health/state", data={"action": "retire"})
    children = ("goods.health.hearing_aid", "goods.health.wheelchair", "goods.health.glasses")
    assert all(k and k.retired for k in map(lambda c: _kind(demo_app, c), children))
    # A child cannot come back while its parent is retired.
    refused = client.post("/admin/kinds/goods.health.glasses/state", data={"action": "restore"})
    assert "先恢复上级" in client.get(refused.location).text
    client.post("/admin/kinds/goods.health/state", data={"action": "restore"})
    assert all(k and not k.retired for k in map(lambda c: _kind(demo_app, c), children))
    # The child retired on its own stays retired.
    crutch = _kind(demo_app, "goods.health.crutch")
    assert crutch is not None and crutch.retired
    # A parent whose code holds "_" retires its own children only.
    under = NEW_KIND | {"parent": "goods.living.winter_clothes", "segment": "coat"}
    assert client.post("/admin/kinds", data=under).status_code == 302
    client.post("/admin/kinds/goods.living.winter_clothes/state", data={"action": "retire"})
    coat = _kind(demo_app, "goods.living.winter_clothes.coat")
    quilt = _kind(demo_app, "goods.living.quilt")
    assert coat is not None and coat.retired and quilt is not None and not quilt.retired


def test_only_a_kind_never_used_is_deleted(client: FlaskClient, auth: Any, demo_app: Flask) -> None:
    auth.login("admin")
    client.post("/admin/kinds", data=NEW_KIND)
    assert _kind(demo_app, "goods.school.abacus") is not None
    client.post("/admin/kinds/goods.school.abacus/state", data={"action": "delete"})
    assert _kind(demo_app, "goods.school.abacus") is None
    assert client.post("/admin/kinds/no.such/state", data={"action": "delete"}).status_code == 404


def test_the_unit_of_a_kind_in_use_does_not_change(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    _need_id, code, _category = _village_need_with_kind(demo_app)
    before = _kind(demo_app, code)
    assert before is not None
    auth.login("admin")
    page = client.get(f"/admin/kinds/{code}/edit")
    assert page.status_code == 200 and "单位不能更改" in page.text
    saved = client.post(
        f"/admin/kinds/{code}/edit",
        data={
            "name_zh": before.name_zh + "（新）", "name_en": before.name_en,
            "unit_zh": "吨", "unit_en": "t", "ref_value": "99", "synonyms": "某词",
        },
    )  # fmt: skip
    assert saved.status_code == 302
    after = _kind(demo_app, code)
    assert after is not None and after.unit_zh == before.unit_zh and after.ref_value == 99
    assert after.name_zh.endswith("（新）") and after.synonyms == "某词"


def _sheet(*rows: str) -> dict[str, Any]:
    data = "\n".join((HEADER, *rows)).encode("utf-8")
    return {"file": (io.BytesIO(data), "kinds.csv")}


def test_an_import_with_a_bad_row_writes_nothing_and_names_row_and_column(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("admin")
    kinds_before = _count(demo_app, Kind)
    response = client.post(
        "/admin/kinds/import",
        data=_sheet(
            "goods.school.abacus,算盘,Abacus,个,pcs,25,珠算,",
            "goods.school.desks,课桌椅套装,School desks,套,sets,400,课桌,",
            "goods.nowhere.thing,某物,Thing,个,pcs,10,,",
            "goods.school.ruler,尺子,Ruler,把,pcs,0,,",
            "goods.school.pen,笔,Pen,支,pcs,2,,training.crop.tea",
            "Goods.School,错,Bad,个,pcs,1,,",
        ),
        content_type="multipart/form-data",
    )
    text = response.text
    assert response.status_code == 422 and "什么也没有导入" in text
    for row, column in ((4, "编码"), (5, "参考单价（元）"), (6, "替代品类"), (7, "编码")):
        assert f"第 {row} 行</strong> · <strong>{column}" in text, (row, column)
    assert _count(demo_app, Kind) == kinds_before
    desks = _kind(demo_app, "goods.school.desks")
    assert desks is not None and desks.name_zh == "课桌椅"
    good = client.post(
        "/admin/kinds/import",
        data=_sheet(
            "goods.school.abacus,算盘,Abacus,个,pcs,25,珠算,",
            "goods.school.abacus.big,大算盘,Big abacus,个,pcs,40,,goods.school.abacus",
            "goods.school.desks,课桌椅套装,School desks,套,sets,400,课桌|桌椅,",
        ),
        content_type="multipart/form-data",
    )
    assert good.status_code == 200 and "2 个品类已新增，1 个已更新" in good.text
    assert _count(demo_app, Kind) == kinds_before + 2
    desks = _kind(demo_app, "goods.school.desks")
    assert desks is not None and desks.name_zh == "课桌椅套装" and desks.ref_value == 400


def test_the_export_imports_again_unchanged(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("admin")
    exported = client.get("/admin/kinds/export.csv")
    assert exported.status_code == 200
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert ",".join(rows[0]) == HEADER and len(rows) == _count(demo_app, Kind) + 1
    xlsx = client.get("/admin/kinds/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    again = client.post(
        "/admin/kinds/import",
        data={"file": (io.BytesIO(xlsx.data), "kinds.xlsx")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 200 and "0 个品类已新增，0 个已更新" in again.text


def _unclassified_township_need(app: Flask) -> tuple[int, int]:
    """A verified need of the demo township made unclassified; and another township's need."""
    with app.app_context():
        township_id = db.session.scalar(select(User.township_id).where(User.username == "township"))
        need = db.session.scalars(
            select(Need)
            .join(Village, Need.village_id == Village.id)
            .where(Village.township_id == township_id, Need.status == "open")
            .where(Need.quantity > Need.allocated, Need.household_id.is_(None))
            .order_by(Need.id)
        ).first()
        other = db.session.scalars(
            select(Need)
            .join(Village, Need.village_id == Village.id)
            .where(Village.township_id != township_id, Need.status == "open")
            .order_by(Need.id)
        ).first()
        assert need is not None and other is not None
        need.item_code = None
        need.accepts = []
        need.verification = "verified"
        other.item_code = None
        db.session.commit()
        return need.id, other.id


def test_the_township_names_the_kind_of_an_unclassified_need_which_then_enters_the_week(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    need_id, other_id = _unclassified_township_need(demo_app)
    with demo_app.app_context():
        instance, _maps = build_week_instance(db.session, WEEK)
        assert need_key(need_id) not in {n["id"] for n in instance["needs"]}
        need = db.session.get(Need, need_id)
        assert need is not None
        category = need.category_code
        leaf = db.session.scalars(
            select(Kind.code).where(Kind.category_code == category, Kind.retired_at.is_(None))
            .where(Kind.parent_code.is_not(None)).order_by(Kind.position)
        ).first()  # fmt: skip
    auth.login("township")
    page = client.get("/township/needs")
    assert "待定品类" in page.text and f'id="need-{need_id}"' in page.text
    assert f'id="need-{other_id}"' not in page.text
    # Nothing picked, or a kind of another category: refused with the reason.
    # Shown on the same page at that need's kind picker, naming the need (issue 23).
    empty = client.post(f"/township/needs/{need_id}/kind", data={f"n{need_id}-item": ""})
    assert empty.status_code == 422
    assert "请选择它的品类" in _form_of(empty.text, f"need-{need_id}")
    wrong = "training.crop.tea" if category != "training" else "goods.school.desks"
    refused = client.post(f"/township/needs/{need_id}/kind", data={f"n{need_id}-item": wrong})
    assert refused.status_code == 422
    assert "不属于类别" in _form_of(refused.text, f"need-{need_id}")
    # Another township's need is not found.
    other = client.post(f"/township/needs/{other_id}/kind", data={f"n{other_id}-item": leaf})
    assert other.status_code == 404
    done = client.post(f"/township/needs/{need_id}/kind", data={f"n{need_id}-item": leaf})
    assert done.status_code == 302
    with demo_app.app_context():
        need = db.session.get(Need, need_id)
        assert need is not None and need.item_code == leaf and not need.item_inferred
        instance, _maps = build_week_instance(db.session, WEEK)
        entered = {n["id"]: n for n in instance["needs"]}
        assert entered[need_key(need_id)]["item"] == leaf
    assert f'id="need-{need_id}"' not in client.get("/township/needs").text


def test_the_administrator_names_the_kinds_of_an_offer_waiting_for_them(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    with demo_app.app_context():
        offer = db.session.scalars(
            select(Offer).where(Offer.status == "open", Offer.category_code == "goods")
            .order_by(Offer.id)
        ).first()  # fmt: skip
        assert offer is not None
        offer.items = []
        offer.general = False
        db.session.commit()
        offer_id, title = offer.id, offer.title
    auth.login("admin")
    page = client.get("/admin/kinds")
    assert f'id="offer-{offer_id}"' in page.text
    # Shown on the same page at that offer's kinds picker, naming the offer (issue 23).
    nothing = client.post(f"/admin/offers/{offer_id}/kinds", data={})
    assert nothing.status_code == 422
    assert "或标为通用" in _form_of(nothing.text, f"offer-{offer_id}")
    assert f"{title}：" in _form_of(nothing.text, f"offer-{offer_id}")
    mixed = client.post(
        f"/admin/offers/{offer_id}/kinds",
        data={f"o{offer_id}-items": ["goods.school.desks", "goods.seedling"]},
    )
    assert "计量单位不同" in _form_of(mixed.text, f"offer-{offer_id}")
    client.post(
        f"/admin/offers/{offer_id}/kinds", data={f"o{offer_id}-items": ["goods.school.desks"]}
    )
    with demo_app.app_context():
        offer = db.session.get(Offer, offer_id)
        assert offer is not None and offer.item_codes == ["goods.school.desks"]
    assert f'id="offer-{offer_id}"' not in client.get("/admin/kinds").text


def test_a_household_request_gets_its_kind_and_the_committee_confirms_another(
    demo_app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login("village")
    slip = register(client)
    phone = activate(demo_app, slip)
    ask(phone, "过冬的棉被")
    (request_id,) = request_ids(demo_app, slip.number)
    with demo_app.app_context():
        request = db.session.get(HelpRequest, request_id)
        assert request is not None and request.item_code == "goods.living.quilt"
    page = client.get(f"/village/requests/{request_id}")
    assert re.search(r'<option[^>]* selected value="goods.living.quilt"', page.text)
    # A kind of another category is refused, naming the field; nothing is decided.
    refused = client.post(
        f"/village/requests/{request_id}/accept",
        data={"title": "冬衣", "item": "training.crop.tea", "quantity": "2", "value": "200"},
    )
    assert refused.status_code == 200 and "不属于类别" in refused.text
    done = client.post(
        f"/village/requests/{request_id}/accept",
        data={
            "title": "冬衣", "item": "goods.living.winter_clothes", "quantity": "2",
            "value": "200",
        },
    )  # fmt: skip
    assert done.status_code == 302
    with demo_app.app_context():
        request = db.session.get(HelpRequest, request_id)
        assert request is not None and request.status == "accepted" and request.need is not None
        assert request.need.item_code == "goods.living.winter_clothes"
        assert request.item_code == "goods.living.winter_clothes"
        assert not request.need.item_inferred


def test_a_request_is_not_merged_into_a_need_of_another_kind(
    demo_app: Flask, client: FlaskClient, auth: Any
) -> None:
    auth.login("village")
    posted = client.post(
        "/village/needs/new",
        data=need_form(
            category="goods", title="本村小学课桌椅（测试）", item="goods.school.desks",
            checklist_item="", confirm_duplicate="y",
        ),
    )  # fmt: skip
    assert posted.status_code == 302
    slip = register(client)
    phone = activate(demo_app, slip)
    ask(phone, "过冬的棉被")
    (request_id,) = request_ids(demo_app, slip.number)
    with demo_app.app_context():
        need_id = db.session.scalar(select(Need.id).where(Need.title == "本村小学课桌椅（测试）"))
    refused = client.post(f"/village/requests/{request_id}/merge", data={"need": str(need_id)})
    assert refused.status_code == 200
    assert "棉被" in refused.text and "课桌椅" in refused.text and "从不" in refused.text
    with demo_app.app_context():
        request = db.session.get(HelpRequest, request_id)
        assert request is not None and request.status == "received" and request.need_id is None
