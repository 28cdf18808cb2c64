"""Households asking for help from a phone (issue 10): invitation, PIN sign-in, requests, the
committee's inbox, the township and an allocation, delivery confirmed by the household; limits
and access rules."""

from __future__ import annotations

import base64
import io
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from web.extensions import db
from web.models import (
    Allocation,
    AllocationRun,
    HelpRequest,
    Household,
    HouseholdEvent,
    Need,
    Offer,
    User,
    Village,
)
from web.services import households as service
from web.services.accounts import hash_password
from web.settings import invitation_key

NAME = "测试户甲"
PHONE = "13900001111"
PIN = "2468"
# An 8x8 red PNG, small but a real picture.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGPYrCaHFTEMLQkARnA9wUDwlJ0AAAAASUVORK5CYII="
)


class Slip:
    """What the committee's printed slip says."""

    def __init__(self, code: str, number: int) -> None:
        self.code = code
        self.number = number


def register(client: FlaskClient, name: str = NAME, phone: str = PHONE) -> Slip:
    """The signed-in committee registers a household; the slip's code and household number."""
    response = client.post(
        "/village/households/new", data={"display_name": name, "people": "3", "phone": phone}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.location)
    text = page.get_data(as_text=True)
    code = re.search(r'id="invitation-code">([A-Z0-9-]+)<', text)
    number = re.search(r'id="household-number">(\d+)<', text)
    assert code and number, text
    return Slip(code.group(1), int(number.group(1)))


def activate(app: Flask, slip: Slip, pin: str = PIN) -> FlaskClient:
    """A household's phone: it redeems the slip's code and sets its PIN."""
    phone = app.test_client()
    response = phone.post("/h/invite", data={"code": slip.code})
    assert response.status_code == 302 and response.location.endswith("/h/pin")
    response = phone.post("/h/pin", data={"pin": pin, "pin2": pin})
    assert response.status_code == 302 and response.location.endswith("/h/home")
    return phone


def sign_in(app: Flask, number: int, pin: str = PIN, phone: FlaskClient | None = None) -> Any:
    phone = phone or app.test_client()
    return phone.post("/h/login", data={"number": str(number), "pin": pin})


def ask(phone: FlaskClient, what: str = "过冬的棉被", **extra: Any) -> Any:
    data = {"category": "goods", "what": what, "quantity": "2"}
    data.update(extra)
    return phone.post("/h/ask", data=data, content_type="multipart/form-data")


def request_ids(app: Flask, number: int) -> list[int]:
    with app.app_context():
        rows = db.session.scalars(
            select(HelpRequest.id)
            .where(HelpRequest.household_id == number)
            .order_by(HelpRequest.id)
        ).all()
        db.session.remove()
    return list(rows)


def text_of(response: Any) -> str:
    return str(response.get_data(as_text=True))


@pytest.fixture
def committee(client: FlaskClient, auth: Any) -> FlaskClient:
    """The demo village committee, signed in."""
    auth.login("village")
    return client


def other_committee(app: Flask) -> FlaskClient:
    """A committee of another village, signed in on its own client."""
    with app.app_context():
        mine = db.session.scalar(select(User.village_id).where(User.username == "village"))
        other = db.session.scalar(select(Village.id).where(Village.id != mine).limit(1))
        db.session.add(
            User(
                username="village-other",
                password_hash=hash_password("other-village-2026"),
                role="village",
                display_name="另一个村",
                village_id=other,
            )
        )
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    client.post("/login", data={"username": "village-other", "password": "other-village-2026"})
    return client


# --- invitation and sign-in ------------------------------------------------------------------


def test_invited_household_signs_in_with_code_then_pin(
    demo_app: Flask, committee: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import segno

    encoded: list[str] = []
    real_make = segno.make
    monkeypatch.setattr(
        segno, "make", lambda content, **kw: encoded.append(content) or real_make(content, **kw)
    )
    slip = register(committee)
    # The QR code opens the sign-in page with the code in the fragment (never sent, never logged).
    assert encoded and encoded[-1].endswith(f"/h/#code={slip.code.replace('-', '')}")
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", slip.code)
    slip_page = text_of(committee.get(f"/village/households/{slip.number}/slip"))
    assert "<svg" in slip_page and "data:" not in slip_page
    with demo_app.app_context():
        household = db.session.get(Household, slip.number)
        assert household is not None
        # Only a keyed hash is stored, never the code itself.
        assert household.invite_hash and slip.code.replace("-", "") not in household.invite_hash
        db.session.remove()

    # The QR code's link fills the code in.
    phone = demo_app.test_client()
    start = text_of(phone.get(f"/h/?code={slip.code}"))
    assert slip.code.replace("-", "") in start
    phone = activate(demo_app, slip)
    home = phone.get("/h/home")
    assert home.status_code == 200 and "我要求助" in text_of(home)

    # The code works once.
    again = demo_app.test_client().post("/h/invite", data={"code": slip.code})
    assert again.status_code == 200 and "邀请码不对" in text_of(again)
    # Later sign-ins use household number and PIN.
    assert sign_in(demo_app, slip.number).location.endswith("/h/home")
    wrong = sign_in(demo_app, slip.number, "9999")
    assert wrong.status_code == 200 and "户号或密码不对" in text_of(wrong)


def test_pin_must_be_4_to_6_digits_and_typed_twice(demo_app: Flask, committee: Any) -> None:
    slip = register(committee)
    phone = demo_app.test_client()
    phone.post("/h/invite", data={"code": slip.code.lower().replace("-", " ")})
    for pin, pin2 in (("12a4", "12a4"), ("123", "123"), ("1234567", "1234567"), ("1234", "4321")):
        page = phone.post("/h/pin", data={"pin": pin, "pin2": pin2})
        assert page.status_code == 200
        assert "密码要 4 到 6 位数字" in text_of(page) or "两次输入的密码不一样" in text_of(page)
    assert phone.get("/h/home").status_code == 302  # still not signed in


def test_expired_code_is_refused(demo_app: Flask, committee: Any) -> None:
    slip = register(committee)
    with demo_app.app_context():
        household = db.session.get(Household, slip.number)
        assert household is not None
        household.invite_expires_at = datetime.now(UTC) - timedelta(minutes=1)
        db.session.commit()
        db.session.remove()
    page = demo_app.test_client().post("/h/invite", data={"code": slip.code})
    assert "邀请码已经过期" in text_of(page)


def test_wrong_pins_lock_the_household_out_for_a_while(demo_app: Flask, committee: Any) -> None:
    slip = register(committee)
    activate(demo_app, slip)
    for _ in range(service.PIN_FAILURES):
        assert "户号或密码不对" in text_of(sign_in(demo_app, slip.number, "0000"))
    locked = sign_in(demo_app, slip.number, PIN)  # even the right PIN, now
    assert locked.status_code == 200
    assert re.search(r"输错次数太多，请 \d+ 分钟后再试", text_of(locked))
    log = text_of(committee.get(f"/village/households/{slip.number}"))
    assert "密码输错" in log and "登录锁定 15 分钟" in log


def test_many_wrong_codes_from_one_address_are_locked(demo_app: Flask) -> None:
    phone = demo_app.test_client()
    for _ in range(service.INVITE_FAILURES):
        assert "邀请码不对" in text_of(phone.post("/h/invite", data={"code": "AAAA-AAAA"}))
    assert "输错次数太多" in text_of(phone.post("/h/invite", data={"code": "AAAA-AAAA"}))


def test_reset_and_revoke_end_the_household_s_sessions(demo_app: Flask, committee: Any) -> None:
    slip = register(committee)
    phone = activate(demo_app, slip)
    response = committee.post(f"/village/households/{slip.number}/invite")
    assert response.location.endswith(f"/village/households/{slip.number}/slip")
    new_code = re.search(
        r'id="invitation-code">([A-Z0-9-]+)<', text_of(committee.get(response.location))
    )
    assert new_code and new_code.group(1) != slip.code
    assert phone.get("/h/home").status_code == 302  # signed out
    assert "户号或密码不对" in text_of(sign_in(demo_app, slip.number))  # old PIN cleared
    phone = activate(demo_app, Slip(new_code.group(1), slip.number), "135790")
    assert phone.get("/h/home").status_code == 200

    committee.post(f"/village/households/{slip.number}/revoke")
    assert phone.get("/h/home").status_code == 302
    assert "户号或密码不对" in text_of(sign_in(demo_app, slip.number, "135790"))
    assert "已停用" in text_of(committee.get("/village/households"))


# --- access rules ------------------------------------------------------------------------------

STAFF_PAGES = [
    "/village/needs",
    "/village/households",
    "/village/requests",
    "/village/allocations",
    "/township/needs",
    "/donor/offers",
    "/donor/allocations",
    "/admin/organizations",
    "/admin/accounts",
    "/admin/week",
    "/ledger",
    "/dashboard",
    "/account",
    "/account/tokens",
]


def _routed(urls: Any, path: str) -> bool:
    try:
        urls.match(path, method="GET")
    except NotFound:
        return False
    return True


def test_household_is_refused_by_every_staff_page(demo_app: Flask, committee: Any) -> None:
    slip = register(committee)
    phone = activate(demo_app, slip)
    urls = demo_app.url_map.bind("localhost")
    present = [path for path in STAFF_PAGES if _routed(urls, path)]
    assert "/village/needs" in present and "/account" in present
    for path in present:
        assert phone.get(path).status_code == 403, path
    # Public pages stay open, and the household stays signed in.
    assert phone.get("/public").status_code == 200
    assert phone.get("/h/home").status_code == 200
    # And staff are not households: they are sent to the household sign-in.
    assert committee.get("/h/home").location.endswith("/h/")
    # Signing out ends the household's session on this phone.
    assert "您已退出登录" in text_of(phone.post("/h/logout"))
    assert phone.get("/h/home").status_code == 302


def test_roles_required_refuses_a_household_principal(demo_app: Flask, committee: Any) -> None:
    """roles_required itself (not only the household guard) keeps a household out."""
    from flask_login import login_user

    from web.auth import roles_required

    @roles_required("village", "admin", "township", "donor", "auditor")
    def staff_only() -> str:
        return "in"

    slip = register(committee)
    activate(demo_app, slip)
    with demo_app.test_request_context("/village/needs"):
        principal = service.load_principal(db.session, f"h:{slip.number}:2")
        assert principal is not None and principal.role == "household"
        login_user(principal)
        with pytest.raises(Exception) as refused:
            staff_only()
        assert getattr(refused.value, "code", None) == 403
        db.session.remove()


def test_household_sees_only_its_own_requests(demo_app: Flask, committee: Any) -> None:
    first = register(committee, "甲**", "13900002222")
    second = register(committee, "乙**", "13900003333")
    phone1, phone2 = activate(demo_app, first), activate(demo_app, second)
    ask(phone1, "一床棉被", photo=(io.BytesIO(PNG), "quilt.png"))
    ask(phone2, "一个书包")
    (mine,) = request_ids(demo_app, first.number)
    (theirs,) = request_ids(demo_app, second.number)
    assert phone1.get(f"/h/requests/{mine}").status_code == 200
    photo = phone1.get(f"/h/requests/{mine}/photo")
    assert photo.status_code == 200 and photo.data == PNG and photo.mimetype == "image/png"
    for path in (f"/h/requests/{mine}", f"/h/requests/{mine}/photo"):
        assert phone2.get(path).status_code == 404
    assert phone2.post(f"/h/requests/{mine}/withdraw").status_code == 404
    assert phone2.post(f"/h/requests/{mine}/confirm").status_code == 404
    assert "一床棉被" not in text_of(phone2.get("/h/home"))
    assert phone1.get(f"/h/requests/{theirs}").status_code == 404
    assert phone1.get("/h/requests/999999").status_code == 404


def test_committee_sees_only_its_own_village(demo_app: Flask, committee: Any) -> None:
    slip = register(committee)
    phone = activate(demo_app, slip)
    ask(phone)
    (request_id,) = request_ids(demo_app, slip.number)
    other = other_committee(demo_app)
    assert NAME not in text_of(other.get("/village/households"))
    assert "过冬的棉被" not in text_of(other.get("/village/requests"))
    for path in (
        f"/village/households/{slip.number}",
        f"/village/households/{slip.number}/slip",
        f"/village/requests/{request_id}",
        f"/village/requests/{request_id}/photo",
    ):
        assert other.get(path).status_code == 404, path
    for path in (
        f"/village/households/{slip.number}/invite",
        f"/village/households/{slip.number}/revoke",
        f"/village/requests/{request_id}/decline",
    ):
        assert other.post(path, data={"reason": "x"}).status_code == 404, path
    assert phone.get("/h/home").status_code == 200  # the other committee reset nothing


@pytest.mark.parametrize("role", [None, "donor", "township", "admin"])
def test_committee_pages_need_the_village_role(
    client: FlaskClient, auth: Any, role: str | None
) -> None:
    if role:
        auth.login(role)
    for path in ("/village/households", "/village/households/new", "/village/requests"):
        response = client.get(path)
        assert response.status_code == (302 if role is None else 403), path


# --- asking for help and its limits --------------------------------------------------------------


def test_household_asks_with_picture_choices_and_sees_received(
    demo_app: Flask, committee: Any
) -> None:
    slip = register(committee)
    phone = activate(demo_app, slip)
    form = text_of(phone.get("/h/ask"))
    for code in service.HOUSEHOLD_CATEGORIES:
        assert f"img/categories/{code}.svg" in form
    assert ask(phone).location.endswith("/h/home")
    home = text_of(phone.get("/h/home"))
    assert "过冬的棉被" in home and "已收到" in home
    inbox = text_of(committee.get("/village/requests"))
    assert "过冬的棉被" in inbox and "待村委会处理" in inbox


def test_bad_requests_are_refused_with_a_reason(demo_app: Flask, committee: Any) -> None:
    slip = register(committee)
    phone = activate(demo_app, slip)
    cases = [
        ({"category": ""}, "请选一种帮助"),
        ({"category": "infrastructure"}, "请选一种帮助"),
        ({"what": "  "}, "请写上需要什么"),
        ({"what": "很" * 201}, "最多 200 个字"),
        ({"quantity": "0"}, "数量请填 1 到 99"),
        ({"quantity": "abc"}, "数量请填 1 到 99"),
        ({"photo": (io.BytesIO(b"GIF89a not a photo"), "x.png")}, "这张照片不能用"),
    ]
    for changes, message in cases:
        page = ask(phone, **changes)
        assert page.status_code == 200 and message in text_of(page), changes
    assert request_ids(demo_app, slip.number) == []


def test_open_requests_and_daily_submissions_are_capped(demo_app: Flask, committee: Any) -> None:
    slip = register(committee)
    phone = activate(demo_app, slip)
    for i in range(service.MAX_OPEN_REQUESTS):
        ask(phone, f"东西{i}")
    refused = phone.get(ask(phone, "第四样").location)
    assert "个求助正在办理" in text_of(refused)
    assert len(request_ids(demo_app, slip.number)) == service.MAX_OPEN_REQUESTS
    # Withdrawing frees a slot, but no more than SUBMISSIONS_PER_DAY a day.
    for request_id in request_ids(demo_app, slip.number):
        phone.post(f"/h/requests/{request_id}/withdraw")
    ask(phone, "第四样")
    ask(phone, "第五样")
    refused = phone.get(ask(phone, "第六样").location)
    assert "今天已经提了 5 次" in text_of(refused)
    assert len(request_ids(demo_app, slip.number)) == service.SUBMISSIONS_PER_DAY
    log = text_of(committee.get(f"/village/households/{slip.number}"))
    assert "求助超出限制被拒" in log


def test_withdraw_only_before_the_committee_decides(demo_app: Flask, committee: Any) -> None:
    slip = register(committee)
    phone = activate(demo_app, slip)
    ask(phone, "一")
    ask(phone, "二")
    first, second = request_ids(demo_app, slip.number)
    phone.post(f"/h/requests/{first}/withdraw")
    assert "已撤回" in text_of(phone.get(f"/h/requests/{first}"))
    committee.post(
        f"/village/requests/{second}/decline", data={"confirm": "yes", "reason": "已由低保解决"}
    )
    refused = phone.get(phone.post(f"/h/requests/{second}/withdraw").location)
    assert "已经不能撤回" in text_of(refused)


# --- the committee decides -------------------------------------------------------------------


def test_accept_makes_a_pending_micro_wish_within_the_cap(demo_app: Flask, committee: Any) -> None:
    slip = register(committee)
    phone = activate(demo_app, slip)
    ask(phone)
    (request_id,) = request_ids(demo_app, slip.number)
    too_much = committee.post(
        f"/village/requests/{request_id}/accept",
        data={"title": "棉被", "quantity": "2", "value": "600"},
    )
    assert too_much.status_code == 200 and "不超过 500 元" in text_of(too_much)
    done = committee.post(
        f"/village/requests/{request_id}/accept",
        data={"title": "过冬棉被", "quantity": "2", "value": "300"},
    )
    assert done.status_code == 302
    with demo_app.app_context():
        request = db.session.get(HelpRequest, request_id)
        assert request is not None and request.status == "accepted" and request.need is not None
        need = request.need
        assert need.household_id == slip.number and need.verification == "pending"
        assert need.estimated_value == 300 and need.quantity == 2 and need.title == "过冬棉被"
        db.session.remove()
    assert "村里已受理" in text_of(phone.get(f"/h/requests/{request_id}"))
    # Decided once: a second decision is refused.
    again = committee.post(
        f"/village/requests/{request_id}/decline", data={"confirm": "yes", "reason": "x"}
    )
    assert "已经处理过了" in text_of(committee.get(again.location))


def test_merge_suggests_the_similar_village_need_first(demo_app: Flask, committee: Any) -> None:
    posted = committee.post(
        "/village/needs/new",
        data={
            "category": "goods",
            "title": "过冬的棉被",
            "description": "全村困难户过冬用",
            "quantity": "20",
            "urgency": "4",
            "checklist_item": "",
            "confirm_duplicate": "y",
        },
    )
    assert posted.status_code == 302
    slip = register(committee)
    phone = activate(demo_app, slip)
    ask(phone, "过冬的棉被")
    (request_id,) = request_ids(demo_app, slip.number)
    with demo_app.app_context():
        need_id = db.session.scalar(select(Need.id).where(Need.title == "过冬的棉被"))
        db.session.remove()
    page = text_of(committee.get(f"/village/requests/{request_id}"))
    assert "本村已有一条看起来相同的需求" in page
    assert page.index("本村已有一条看起来相同的需求") < page.index("受理为微心愿")
    committee.post(f"/village/requests/{request_id}/merge", data={"need": str(need_id)})
    with demo_app.app_context():
        request = db.session.get(HelpRequest, request_id)
        assert request is not None and request.status == "merged" and request.need_id == need_id
        db.session.remove()
    assert "村里已把您的求助并入全村的需求" in text_of(phone.get(f"/h/requests/{request_id}"))


def test_decline_needs_a_reason_the_household_reads(demo_app: Flask, committee: Any) -> None:
    slip = register(committee)
    phone = activate(demo_app, slip)
    ask(phone)
    (request_id,) = request_ids(demo_app, slip.number)
    empty = committee.post(
        f"/village/requests/{request_id}/decline", data={"confirm": "yes", "reason": " "}
    )
    assert "请填写理由" in text_of(empty)
    committee.post(
        f"/village/requests/{request_id}/decline",
        data={"confirm": "yes", "reason": "已由民政发放棉被"},
    )
    page = text_of(phone.get(f"/h/requests/{request_id}"))
    assert "村里未受理" in page and "已由民政发放棉被" in page


# --- the whole way: committee, township, allocation, delivery ------------------------------------


def pledge(app: Flask, need_id: int) -> int:
    """Pledge one matching demo offer to the need (as a committed run would), return its id."""
    with app.app_context():
        need = db.session.get(Need, need_id)
        assert need is not None
        offer = db.session.scalars(
            select(Offer).where(
                Offer.category_code == need.category_code,
                Offer.quantity - Offer.allocated >= need.quantity,
            )
        ).first()
        assert offer is not None
        run = AllocationRun(week="2026-W48", status="published", policy={}, metrics={})
        allocation = Allocation(run=run, offer=offer, need=need, quantity=need.quantity)
        offer.allocated += need.quantity
        need.allocated += need.quantity
        db.session.add_all([run, allocation])
        db.session.commit()
        allocation_id = allocation.id
        db.session.remove()
    return allocation_id


def test_request_goes_all_the_way_to_confirmed_delivery(
    demo_app: Flask, committee: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slip = register(committee)
    phone = activate(demo_app, slip)
    ask(phone)
    (request_id,) = request_ids(demo_app, slip.number)

    def state() -> str:
        page = text_of(phone.get(f"/h/requests/{request_id}"))
        found = re.search(r'class="hh-state hh-state-\w+">([^<]+)<', page)
        assert found, page
        return found.group(1)

    assert state() == "已收到"
    committee.post(
        f"/village/requests/{request_id}/accept",
        data={"title": "过冬棉被", "quantity": "2", "value": "300"},
    )
    assert state() == "村里已受理"
    with demo_app.app_context():
        need_id = db.session.scalar(select(HelpRequest.need_id).where(HelpRequest.id == request_id))
        db.session.remove()
    assert need_id is not None

    township = demo_app.test_client()
    township.post("/login", data={"username": "township", "password": "demo-township-2026"})
    assert "过冬棉被" in text_of(township.get("/township/needs"))
    township.post(f"/township/needs/{need_id}/verify", data={"decision": "verify", "reason": ""})
    assert state() == "乡镇已核实"

    allocation_id = pledge(demo_app, need_id)
    assert state() == "已安排帮扶"
    with demo_app.app_context():
        allocation = db.session.get(Allocation, allocation_id)
        assert allocation is not None
        allocation.status = "dispatched"
        allocation.dispatched_at = datetime.now(UTC)
        db.session.commit()
        db.session.remove()
    assert state() == "正在送来"
    assert "东西已经收到了" in text_of(phone.get(f"/h/requests/{request_id}"))
    phone.post(f"/h/requests/{request_id}/confirm")
    assert state() == "已送到"
    with demo_app.app_context():
        allocation = db.session.get(Allocation, allocation_id)
        assert allocation is not None and allocation.status == "confirmed"
        assert allocation.confirmed_at is not None
        db.session.remove()
    # Confirmed once: nothing more to confirm.
    assert "东西已经收到了" not in text_of(phone.get(f"/h/requests/{request_id}"))
    assert phone.post(f"/h/requests/{request_id}/confirm").status_code == 302

    # Privacy: the household's name and phone are in no log line and no household event.
    for record in caplog.records:
        assert NAME not in record.getMessage() and PHONE not in record.getMessage()
    with demo_app.app_context():
        details = db.session.scalars(
            select(HouseholdEvent.detail).where(HouseholdEvent.household_id == slip.number)
        ).all()
        db.session.remove()
    assert details and not any(NAME in d or PHONE in d for d in details)


def test_name_and_phone_never_reach_public_pages(demo_app: Flask, committee: Any) -> None:
    slip = register(committee)
    phone = activate(demo_app, slip)
    ask(phone)
    (request_id,) = request_ids(demo_app, slip.number)
    committee.post(
        f"/village/requests/{request_id}/accept",
        data={"title": "过冬棉被", "quantity": "2", "value": "300"},
    )
    visitor = demo_app.test_client()
    with demo_app.app_context():
        village_id = db.session.scalar(select(User.village_id).where(User.username == "village"))
        db.session.remove()
    for path in ("/", "/villages", "/public", f"/villages/{village_id}", "/api/v1/villages"):
        response = visitor.get(path)
        if response.status_code == 404:
            continue
        body = text_of(response)
        assert NAME not in body and PHONE not in body, path
    # The committee sees the phone, the household its own page, nobody else either.
    assert PHONE in text_of(committee.get(f"/village/households/{slip.number}"))
    assert PHONE not in text_of(phone.get("/h/home"))


def test_demo_village_has_households_to_invite(demo_app: Flask, committee: Any) -> None:
    page = text_of(committee.get("/village/households"))
    with demo_app.app_context():
        village_id = db.session.scalar(select(User.village_id).where(User.username == "village"))
        names = db.session.scalars(
            select(Household.display_name).where(Household.village_id == village_id)
        ).all()
        db.session.remove()
    assert len(names) >= 2 and all(name in page for name in names)
    assert "未邀请" in page


def test_service_rejects_a_committee_of_another_village(demo_db: Flask) -> None:
    village = db.session.scalar(select(User).where(User.username == "village"))
    assert village is not None
    household, _code = service.register_household(
        db.session, village, "丙**", 2, None, key=invitation_key()
    )
    db.session.commit()  # services flush; the caller commits
    stranger = User(username="x", password_hash="x", role="village", village_id=None)
    with pytest.raises(LookupError):
        service.get_household(db.session, stranger, household.id)
    donor = db.session.scalar(select(User).where(User.username == "donor"))
    assert donor is not None
    with pytest.raises(LookupError):
        service.village_households(db.session, donor)


def test_merged_request_arrival_is_told_to_the_committee(demo_app: Flask, committee: Any) -> None:
    """A merged request's pledge is the village's: the household's word is logged, and the
    committee still confirms the village's receipt itself."""
    slip = register(committee)
    phone = activate(demo_app, slip)
    with demo_app.app_context():
        village_id = db.session.scalar(select(User.village_id).where(User.username == "village"))
        need = db.session.scalars(
            select(Need)
            .where(
                Need.village_id == village_id,
                Need.household_id.is_(None),
                Need.category_code.in_(service.HOUSEHOLD_CATEGORIES),
                Need.status == "open",
            )
            .order_by(Need.id)
        ).first()
        assert need is not None
        need_id, title, category = need.id, need.title, need.category_code
        need.verification = "verified"
        db.session.commit()
        db.session.remove()
    ask(phone, title, category=category)  # the household asks for what the village already has
    (request_id,) = request_ids(demo_app, slip.number)
    committee.post(f"/village/requests/{request_id}/merge", data={"need": str(need_id)})
    page = text_of(phone.get(f"/h/requests/{request_id}"))
    assert "乡镇已核实" in page and "东西已经收到了" not in page
    allocation_id = pledge(demo_app, need_id)
    assert "东西已经收到了" in text_of(phone.get(f"/h/requests/{request_id}"))
    phone.post(f"/h/requests/{request_id}/confirm")
    page = text_of(phone.get(f"/h/requests/{request_id}"))
    assert "您已告诉村里帮扶送到了" in page and "东西已经收到了" not in page
    with demo_app.app_context():
        allocation = db.session.get(Allocation, allocation_id)
        assert allocation is not None and allocation.status == "pledged"
        db.session.remove()
    assert "告知帮扶已送到" in text_of(committee.get(f"/village/households/{slip.number}"))


def test_withdrawing_an_accepted_wish_withdraws_the_need(demo_app: Flask, committee: Any) -> None:
    slip = register(committee)
    phone = activate(demo_app, slip)
    ask(phone)
    (request_id,) = request_ids(demo_app, slip.number)
    committee.post(
        f"/village/requests/{request_id}/accept",
        data={"title": "过冬棉被", "quantity": "2", "value": "300"},
    )
    assert "撤回这个求助" in text_of(phone.get(f"/h/requests/{request_id}"))
    phone.post(f"/h/requests/{request_id}/withdraw")
    with demo_app.app_context():
        request = db.session.get(HelpRequest, request_id)
        assert request is not None and request.status == "withdrawn"
        assert request.need is not None and request.need.status == "withdrawn"
        db.session.remove()
    township = demo_app.test_client()
    township.post("/login", data={"username": "township", "password": "demo-township-2026"})
    assert "过冬棉被" not in text_of(township.get("/township/needs"))


def test_a_household_confirms_only_pledges_to_its_own_wish(demo_app: Flask, committee: Any) -> None:
    from web.services.delivery import confirm_receipt_by_household
    from web.services.week import NotAllowed

    slip = register(committee)
    with demo_app.app_context():
        village_id = db.session.scalar(select(User.village_id).where(User.username == "village"))
        need_id = db.session.scalar(
            select(Need.id).where(
                Need.village_id == village_id, Need.household_id.is_(None), Need.status == "open"
            )
        )
        db.session.remove()
    assert need_id is not None
    allocation_id = pledge(demo_app, need_id)
    with demo_app.app_context():
        with pytest.raises(NotAllowed):
            confirm_receipt_by_household(db.session, allocation_id, slip.number)
        allocation = db.session.get(Allocation, allocation_id)
        assert allocation is not None and allocation.status == "pledged"
        db.session.remove()
