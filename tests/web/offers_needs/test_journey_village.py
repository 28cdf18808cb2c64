"""Journey 2, village committee and township: needs, micro-wishes, verification, access rules."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from web.extensions import db
from web.models import Household, Need, User, Village
from web.services.needs import (
    WISH_VALUE_CAP,
    NeedError,
    NeedInput,
    create_need,
    township_pending,
    verify_need,
    withdraw_need,
)


def need_form(**changes: Any) -> dict[str, Any]:
    """A valid need form, with some fields changed."""
    data = {
        "category": "infrastructure",
        "title": "修建村屯硬化路",
        "description": "通往三组的土路雨天无法通行",
        "quantity": "1",
        "urgency": "4",
        "deadline": "2027-03-01",
        "checklist_item": "road",
    }
    data.update(changes)
    return data


def wish_form(**changes: Any) -> dict[str, Any]:
    """A valid micro-wish form for a new household."""
    data = {
        "household": "new",
        "household_name": "黄**",
        "household_people": "4",
        "title": "给上学的孩子一个书包",
        "quantity": "1",
        "value": "120",
        "evidence": "村两委入户核实，孩子在读三年级",
    }
    data.update(changes)
    return data


def ids(app: Flask) -> dict[str, int]:
    """Ids of a need of the demo village, of another township's village and of a household."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "village"))
        assert user is not None and user.village is not None
        own = db.session.scalar(select(Need.id).where(Need.village_id == user.village_id).limit(1))
        other = db.session.scalar(
            select(Need.id)
            .join(Village, Need.village_id == Village.id)
            .where(Village.township_id != user.village.township_id)
            .limit(1)
        )
        if own is None:
            need = Need(
                village_id=user.village_id, category_code="goods", title="旧需求", quantity=1
            )
            db.session.add(need)
            db.session.commit()
            own = need.id
        result = {"own": own, "other": other, "village": user.village_id}
        db.session.remove()
    assert result["other"] is not None
    return result  # type: ignore[return-value]


def test_village_posts_a_need_and_sees_it_pending(client: FlaskClient, auth: Any) -> None:
    auth.login("village")
    assert "发布需求" in client.get("/village/needs/new").text
    response = client.post("/village/needs/new", data=need_form(), follow_redirects=True)
    assert "等待乡镇核实" in response.text
    assert "修建村屯硬化路" in response.text
    assert "待乡镇核实" in response.text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quantity": "-3"}, "数量必须是大于0的整数"),
        ({"title": ""}, "请填写标题"),
    ],
)
def test_need_validation_names_the_field(
    client: FlaskClient, auth: Any, changes: dict[str, str], message: str
) -> None:
    auth.login("village")
    response = client.post("/village/needs/new", data=need_form(**changes))
    assert message in response.text


def test_duplicate_need_needs_confirmation(client: FlaskClient, auth: Any, demo_app: Flask) -> None:
    auth.login("village")
    client.post("/village/needs/new", data=need_form())
    again = client.post("/village/needs/new", data=need_form(description="三组土路 雨天不通"))
    assert "可能重复" in again.text
    client.post("/village/needs/new", data=need_form(confirm_duplicate="y"))
    with demo_app.app_context():
        count = db.session.scalar(select(db.func.count()).where(Need.title == "修建村屯硬化路"))
        db.session.remove()
    assert count == 2


def test_micro_wish_with_new_household(client: FlaskClient, auth: Any, demo_app: Flask) -> None:
    auth.login("village")
    assert "微心愿" in client.get("/village/wishes/new").text
    response = client.post("/village/wishes/new", data=wish_form(), follow_redirects=True)
    assert "微心愿已保存" in response.text
    with demo_app.app_context():
        wish = db.session.scalar(select(Need).where(Need.title == "给上学的孩子一个书包"))
        assert wish is not None and wish.household is not None
        assert wish.household.display_name == "黄**" and wish.household.people == 4
        assert wish.estimated_value == 120 and wish.evidence == "村两委入户核实，孩子在读三年级"
        db.session.remove()
    # The township officer sees the value when reviewing.
    auth.logout()
    auth.login("township")
    assert "估价 120 元" in client.get("/township/needs").text


def test_micro_wish_form_names_the_cap(client: FlaskClient, auth: Any) -> None:
    auth.login("village")
    page = client.get("/village/wishes/new").text
    assert f"每个心愿最多 {WISH_VALUE_CAP} 元" in page
    response = client.post(
        "/village/wishes/new", data=wish_form(value=str(WISH_VALUE_CAP + 1), title="超过上限")
    )
    assert f"不能超过微心愿上限 {WISH_VALUE_CAP} 元" in response.text
    assert "微心愿已保存" not in response.text


def test_service_refuses_a_wish_over_the_cap(demo_db: Flask) -> None:
    user = db.session.scalars(select(User).where(User.username == "village")).one()
    data = NeedInput(
        "goods", "冰箱", "", 1, 3, None, household_id=None, estimated_value=WISH_VALUE_CAP + 1.0
    )
    before = db.session.scalar(select(func.count(Need.id)))
    with pytest.raises(NeedError) as refused:
        create_need(db.session, user, data, new_household=("李**", 2))
    assert refused.value.code == "value_cap"
    db.session.rollback()
    assert db.session.scalar(select(func.count(Need.id))) == before
    kept = create_need(db.session, user, replace(data, estimated_value=float(WISH_VALUE_CAP)))
    db.session.commit()  # services flush; the caller commits
    assert kept.estimated_value == WISH_VALUE_CAP


def test_demo_wishes_carry_values_within_the_cap(demo_db: Flask) -> None:
    values = db.session.scalars(
        select(Need.estimated_value).where(Need.household_id.is_not(None))
    ).all()
    known = [v for v in values if v is not None]
    assert len(known) > 0.9 * len(values)
    assert all(0 < v <= WISH_VALUE_CAP for v in known)
    assert (
        db.session.scalar(
            select(func.count(Need.id)).where(
                Need.household_id.is_(None), Need.estimated_value.is_not(None)
            )
        )
        == 0
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"value": "800"}, "不能超过微心愿上限 500 元"),
        ({"value": "abc"}, "估计价值须为整数元"),
        ({"evidence": ""}, "微心愿必须填写核实说明"),
        ({"household_name": ""}, "请填写新增贫困户的脱敏姓名"),
        ({"household_people": "0"}, "人口数必须是大于0的整数"),
    ],
)
def test_micro_wish_validation(
    client: FlaskClient, auth: Any, changes: dict[str, str], message: str
) -> None:
    auth.login("village")
    response = client.post("/village/wishes/new", data=wish_form(**changes))
    assert message in response.text


def test_micro_wish_for_another_village_household_is_refused(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    with demo_app.app_context():
        village_id = db.session.scalar(select(User.village_id).where(User.username == "village"))
        stranger = db.session.scalar(
            select(Household.id).where(Household.village_id != village_id).limit(1)
        )
        db.session.remove()
    auth.login("village")
    response = client.post("/village/wishes/new", data=wish_form(household=str(stranger)))
    assert response.status_code == 200  # not one of the choices: the form refuses it
    with demo_app.app_context():
        assert db.session.scalar(select(Need).where(Need.title == "给上学的孩子一个书包")) is None
        db.session.remove()


def test_village_edits_its_own_need(client: FlaskClient, auth: Any, demo_app: Flask) -> None:
    own = ids(demo_app)["own"]
    auth.login("village")
    assert client.get(f"/village/needs/{own}/edit").status_code == 200
    response = client.post(
        f"/village/needs/{own}/edit",
        data=need_form(title="改过的需求", item="infrastructure.road", confirm_duplicate="y"),
        follow_redirects=True,
    )
    assert "改过的需求" in response.text


def test_township_verifies_and_rejects_with_reason(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("village")
    client.post("/village/needs/new", data=need_form())
    client.post(
        "/village/needs/new",
        data=need_form(title="村民健康体检", category="medical", checklist_item=""),
    )
    auth.logout()
    auth.login("township")
    page = client.get("/township/needs")
    assert "修建村屯硬化路" in page.text and "村民健康体检" in page.text
    with demo_app.app_context():
        road = db.session.scalar(select(Need.id).where(Need.title == "修建村屯硬化路"))
        clinic = db.session.scalar(select(Need.id).where(Need.title == "村民健康体检"))
        db.session.remove()
    response = client.post(
        f"/township/needs/{road}/verify", data={"decision": "verify"}, follow_redirects=True
    )
    assert "已核实" in response.text
    response = client.post(
        f"/township/needs/{clinic}/verify", data={"decision": "reject"}, follow_redirects=True
    )
    assert "驳回需求时请填写理由" in response.text
    client.post(
        f"/township/needs/{clinic}/verify", data={"decision": "reject", "reason": "已有项目覆盖"}
    )
    auth.logout()
    auth.login("village")
    listing = client.get("/village/needs").text
    assert "已核实" in listing
    assert "已驳回：已有项目覆盖" in listing


VILLAGE_ROUTES = [
    ("get", "/village/needs"),
    ("get", "/village/needs/new"),
    ("get", "/village/wishes/new"),
    ("get", "/village/needs/{other}/edit"),
]
TOWNSHIP_ROUTES = [
    ("get", "/township/needs"),
    ("post", "/township/needs/{other}/verify"),
]


@pytest.mark.parametrize(("method", "path"), VILLAGE_ROUTES + TOWNSHIP_ROUTES)
def test_access_rules(
    client: FlaskClient, auth: Any, demo_app: Flask, method: str, path: str
) -> None:
    url = path.format(other=ids(demo_app)["other"])
    call = getattr(client, method)
    anonymous = call(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    owner = "village" if path.startswith("/village") else "township"
    for wrong in ("donor", "auditor", "village" if owner == "township" else "township"):
        auth.login(wrong)
        assert call(url).status_code == 403, wrong
        auth.logout()
    if "{other}" in path:
        auth.login(owner)
        assert call(url).status_code == 404


# The need service's rules, one test each, without the pages.


def test_service_rejection_needs_a_reason(demo_db: Flask) -> None:
    need = db.session.scalar(select(Need).limit(1))
    assert need is not None
    with pytest.raises(NeedError, match="reason"):
        verify_need(db.session, need, approve=False, reason="  ")


def test_service_township_sees_only_its_own_villages(demo_db: Flask) -> None:
    officer = db.session.scalar(select(User).where(User.username == "township"))
    assert officer is not None
    everything = township_pending(db.session, officer, per_page=500)
    pending = everything.items
    assert pending and everything.total == len(pending)
    assert all(n.village.township_id == officer.township_id for n in pending)
    assert all(n.verification == "pending" for n in pending)
    # A page at a time, most urgent first, the pages adding up to the whole list.
    first = township_pending(db.session, officer, page=1, per_page=3)
    second = township_pending(db.session, officer, page=2, per_page=3)
    assert first.total == everything.total and first.pages == -(-everything.total // 3)
    assert [n.id for n in first.items + second.items] == [n.id for n in pending[:6]]
    assert [n.urgency for n in pending] == sorted((n.urgency for n in pending), reverse=True)


def _seen_on_review_page(client: FlaskClient, need_id: int) -> str:
    """The need's version as the township's page carries it in the decision form."""
    import re

    page = client.get("/township/needs").text
    form = re.search(
        rf'action="/township/needs/{need_id}/verify".*?name="seen" value="([^"]+)"', page, re.S
    )
    assert form is not None, "the need is not on the township's page"
    return form.group(1)


def test_township_cannot_verify_a_need_the_village_changed_or_withdrew_meanwhile(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("village")
    client.post(
        "/village/needs/new",
        data=need_form(title="村道路灯", item="infrastructure.lighting", confirm_duplicate="y"),
    )
    with demo_app.app_context():
        need_id = db.session.scalar(select(Need.id).where(Need.title == "村道路灯"))
        db.session.remove()
    assert need_id is not None
    auth.logout()
    auth.login("township")
    seen = _seen_on_review_page(client, need_id)

    # The village rewrites the need while the officer's page is open.
    village = demo_app.test_client()
    village.post("/login", data={"username": "village", "password": "demo-village-2026"})
    village.post(
        f"/village/needs/{need_id}/edit",
        data=need_form(
            title="村道路灯", item="infrastructure.lighting", quantity="40", confirm_duplicate="y"
        ),
    )
    answer = client.post(
        f"/township/needs/{need_id}/verify",
        data={"decision": "verify", "seen": seen},
        follow_redirects=True,
    )
    assert "打开本页后村里修改了这条需求" in answer.text
    with demo_app.app_context():
        need = db.session.get(Need, need_id)
        assert need is not None and need.verification == "pending" and need.quantity == 40
        db.session.remove()

    # Read again, it can be verified; then the village withdraws a second one before the click.
    seen = _seen_on_review_page(client, need_id)
    client.post(f"/township/needs/{need_id}/verify", data={"decision": "verify", "seen": seen})
    village.post(
        "/village/needs/new",
        data=need_form(title="村道护栏", item="infrastructure.road", confirm_duplicate="y"),
    )
    with demo_app.app_context():
        second = db.session.scalar(select(Need.id).where(Need.title == "村道护栏"))
        assert db.session.get(Need, need_id).verification == "verified"  # type: ignore[union-attr]
        db.session.remove()
    seen = _seen_on_review_page(client, second)  # type: ignore[arg-type]
    with demo_app.app_context():  # through the API or the service: the pages have no withdraw
        withdraw_need(db.session, db.session.get(Need, second))  # type: ignore[arg-type]
        db.session.commit()  # services flush; the caller commits
        db.session.remove()
    answer = client.post(
        f"/township/needs/{second}/verify",
        data={"decision": "verify", "seen": seen},
        follow_redirects=True,
    )
    assert "这条需求已不再开放" in answer.text
    with demo_app.app_context():
        withdrawn = db.session.get(Need, second)
        assert withdrawn is not None
        assert (withdrawn.status, withdrawn.verification) == ("withdrawn", "pending")
        db.session.remove()


def test_service_refuses_to_reject_a_need_aid_is_allocated_to(demo_db: Flask) -> None:
    need = db.session.scalar(select(Need).where(Need.status == "open").limit(1))
    assert need is not None
    need.verification, need.allocated = "verified", 1
    db.session.commit()
    with pytest.raises(NeedError, match="locked"):
        verify_need(db.session, need, approve=False, reason="不再需要")
    assert db.session.get(Need, need.id).verification == "verified"  # type: ignore[union-attr]


def test_committee_withdraws_its_own_open_need_only(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    found = ids(demo_app)
    auth.login("village")
    client.post(
        "/village/needs/new",
        data=need_form(
            title="村文化室桌椅", item="infrastructure.culture_room", confirm_duplicate="y"
        ),
    )
    with demo_app.app_context():
        need_id = db.session.scalar(select(Need.id).where(Need.title == "村文化室桌椅"))
        db.session.remove()
    listing = client.get("/village/needs").text
    assert f"/village/needs/{need_id}/withdraw" in listing

    page = client.post(
        f"/village/needs/{need_id}/withdraw", data={"confirm": "yes"}, follow_redirects=True
    )
    assert "需求已撤回" in page.text
    assert f"/village/needs/{need_id}/withdraw" not in page.text  # no second withdrawal
    assert f"/village/needs/{need_id}/edit" not in page.text
    with demo_app.app_context():
        assert db.session.get(Need, need_id).status == "withdrawn"  # type: ignore[union-attr]
        db.session.remove()
    auth.logout()
    auth.login("township")
    assert "村文化室桌椅" not in client.get("/township/needs").text  # out of verification
    auth.logout()

    # Another village's need: not found, untouched. A need with aid allocated: refused.
    auth.login("village")
    assert (
        client.post(
            f"/village/needs/{found['other']}/withdraw", data={"confirm": "yes"}
        ).status_code
        == 404
    )
    with demo_app.app_context():
        other = db.session.get(Need, found["other"])
        own = db.session.get(Need, found["own"])
        assert other is not None and other.status != "withdrawn"
        assert own is not None
        own.status, own.allocated = "open", 1
        db.session.commit()
        db.session.remove()
    page = client.post(
        f"/village/needs/{found['own']}/withdraw", data={"confirm": "yes"}, follow_redirects=True
    )
    assert "这条需求已有分配，不能再修改" in page.text
    with demo_app.app_context():
        assert db.session.get(Need, found["own"]).status == "open"  # type: ignore[union-attr]
        db.session.remove()
