"""Journey 1, donor: register, vetting, posting, duplicates, editing and access rules."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from web.extensions import db
from web.models import Offer, Organization, User
from web.services.offers import (
    OfferError,
    OfferInput,
    create_offer,
    get_own_offer,
    withdraw_offer,
)


def offer_form(**changes: Any) -> dict[str, Any]:
    """A valid offer form, with some fields changed."""
    data = {
        "category": "goods",
        "title": "爱心棉被捐赠",
        "description": "冬季御寒棉被，全新",
        "quantity": "200",
        "min_lot": "20",
        "max_villages": "5",
        "counties": ["451102"],
        "valid_from": "2026-11-01",
        "valid_until": "2026-12-31",
    }
    data.update(changes)
    return data


def own_offer_id(app: Flask, username: str) -> int:
    """The id of some open offer of the user's organization."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None
        offer_id = db.session.scalar(
            select(Offer.id).where(Offer.organization_id == user.organization_id).limit(1)
        )
        db.session.remove()
    assert offer_id is not None
    return offer_id


def test_registration_waits_for_vetting_then_admin_approves(client: FlaskClient, auth: Any) -> None:
    page = client.get("/register")
    assert "注册" in page.text
    response = client.post(
        "/register",
        data={
            "name": "贺州爱心茶业",
            "kind": "enterprise",
            "username": "tea",
            "password": "tea-pass-2026",
        },
    )
    assert response.status_code == 302
    auth.login("tea", "tea-pass-2026")
    page = client.get("/donor/offers/new")
    assert "尚未通过审核" in page.text
    assert client.post("/donor/offers/new", data=offer_form()).status_code == 200
    auth.logout()

    auth.login("admin")
    listing = client.get("/admin/organizations")
    assert "贺州爱心茶业" in listing.text
    with client.application.app_context():
        org_id = db.session.scalar(
            select(Organization.id).where(Organization.name == "贺州爱心茶业")
        )
        db.session.remove()
    client.post(f"/admin/organizations/{org_id}/vetting", data={"decision": "approve"})
    auth.logout()

    auth.login("tea", "tea-pass-2026")
    response = client.post("/donor/offers/new", data=offer_form(), follow_redirects=True)
    assert "已保存" in response.text
    assert "爱心棉被捐赠" in response.text


def test_registration_errors_are_shown(client: FlaskClient) -> None:
    response = client.post(
        "/register", data={"name": "", "kind": "ngo", "username": "donor", "password": "short"}
    )
    assert "请填写组织名称" in response.text
    assert "密码至少 10 个字符" in response.text  # the password policy (issue 24)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quantity": "0"}, "数量必须是大于0的整数"),
        ({"quantity": "abc"}, "数量必须是大于0的整数"),
        ({"min_lot": "500"}, "最小批量不能大于数量"),
        ({"valid_until": "2026-10-01"}, "有效期止不能早于有效期起"),
        ({"title": ""}, "请填写标题"),
        ({"dispatch_lat": "91"}, "纬度"),
    ],
)
def test_offer_validation_names_the_field(
    client: FlaskClient, auth: Any, changes: dict[str, str], message: str
) -> None:
    auth.login("donor")
    response = client.post("/donor/offers/new", data=offer_form(**changes))
    assert response.status_code == 200
    assert message in response.text


def test_duplicate_offer_needs_confirmation(client: FlaskClient, auth: Any) -> None:
    auth.login("donor")
    client.post("/donor/offers/new", data=offer_form())
    again = client.post("/donor/offers/new", data=offer_form(description="冬季御寒棉被 全新"))
    assert "可能重复" in again.text
    confirmed = client.post(
        "/donor/offers/new", data=offer_form(confirm_duplicate="y"), follow_redirects=True
    )
    assert "已保存" in confirmed.text
    with client.application.app_context():
        count = db.session.scalar(select(db.func.count()).where(Offer.title == "爱心棉被捐赠"))
        db.session.remove()
    assert count == 2


def test_edit_and_withdraw_own_offer(client: FlaskClient, auth: Any, demo_app: Flask) -> None:
    auth.login("donor")
    offer_id = own_offer_id(demo_app, "donor")
    assert client.get(f"/donor/offers/{offer_id}/edit").status_code == 200
    # A browser sends every field of the form, the blank dispatch point too.
    form = offer_form(title="改过的标题", dispatch_lat="", dispatch_lon="")
    response = client.post(f"/donor/offers/{offer_id}/edit", data=form, follow_redirects=True)
    assert "改过的标题" in response.text
    response = client.post(
        f"/donor/offers/{offer_id}/withdraw", data={"confirm": "yes"}, follow_redirects=True
    )
    assert "已撤回" in response.text


def test_allocated_offer_cannot_change(client: FlaskClient, auth: Any, demo_app: Flask) -> None:
    offer_id = own_offer_id(demo_app, "donor")
    with demo_app.app_context():
        offer = db.session.get(Offer, offer_id)
        assert offer is not None
        offer.allocated = 1
        db.session.commit()
        db.session.remove()
    auth.login("donor")
    response = client.get(f"/donor/offers/{offer_id}/edit", follow_redirects=True)
    assert "已有部分分配" in response.text
    client.post(f"/donor/offers/{offer_id}/withdraw", data={"confirm": "yes"})
    with demo_app.app_context():
        assert db.session.get(Offer, offer_id).status == "open"  # type: ignore[union-attr]
        db.session.remove()


def test_my_offers_lists_remaining(client: FlaskClient, auth: Any) -> None:
    auth.login("donor")
    page = client.get("/donor/offers")
    assert page.status_code == 200
    assert "剩余" in page.text


def test_admin_creates_staff_accounts(client: FlaskClient, auth: Any, demo_app: Flask) -> None:
    with demo_app.app_context():
        village = db.session.scalar(select(User).where(User.username == "village")).village  # type: ignore[union-attr]
        code = village.code  # type: ignore[union-attr]
        db.session.remove()
    auth.login("admin")
    bad = client.post(
        "/admin/accounts",
        data={
            "role": "village",
            "username": "cun2",
            "password": "cun2-pass-2026",
            "village_code": "1",
        },
    )
    assert "没有这个代码的贫困村" in bad.text
    good = client.post(
        "/admin/accounts",
        data={
            "role": "village",
            "username": "cun2",
            "password": "cun2-pass-2026",
            "village_code": code,
        },
        follow_redirects=True,
    )
    assert "账号已创建" in good.text
    auth.logout()
    auth.login("cun2", "cun2-pass-2026")
    assert client.get("/village/needs").status_code == 200


DONOR_ROUTES = [
    ("get", "/donor/offers"),
    ("get", "/donor/offers/new"),
    ("get", "/donor/offers/{offer}/edit"),
    ("post", "/donor/offers/{offer}/withdraw"),
]
ADMIN_ROUTES = [
    ("get", "/admin/organizations"),
    ("post", "/admin/organizations/1/vetting"),
    ("get", "/admin/accounts"),
]


@pytest.mark.parametrize(("method", "path"), DONOR_ROUTES + ADMIN_ROUTES)
def test_access_rules(
    client: FlaskClient, auth: Any, demo_app: Flask, method: str, path: str
) -> None:
    url = path.format(offer=own_offer_id(demo_app, "donor"))
    call = getattr(client, method)
    anonymous = call(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    wrong = "village" if path.startswith("/donor") else "donor"
    auth.login(wrong)
    assert call(url).status_code == 403
    if "{offer}" in path:
        auth.logout()
        auth.login("donor-ngo")
        assert call(url).status_code == 404


def test_paired_unit_offer_goes_to_its_paired_villages(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("donor-unit")
    client.post("/donor/offers/new", data=offer_form(counties=[], title="结对村春耕化肥"))
    with demo_app.app_context():
        offer = db.session.scalar(select(Offer).where(Offer.title == "结对村春耕化肥"))
        assert offer is not None
        paired = {v.id for v in offer.organization.paired_villages}
        assert paired and {v.id for v in offer.villages} == paired
        assert offer.counties == []
        db.session.remove()


def test_suspended_organization_cannot_post(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    with demo_app.app_context():
        org_id = db.session.scalar(select(User.organization_id).where(User.username == "donor"))
        db.session.remove()
    auth.login("admin")
    listing = client.post(
        f"/admin/organizations/{org_id}/vetting",
        data={"decision": "suspend"},
        follow_redirects=True,
    )
    assert "已暂停" in listing.text
    auth.logout()
    auth.login("donor")
    assert "尚未通过审核" in client.get("/donor/offers/new").text
    auth.logout()
    auth.login("donor-pending")
    assert "尚未通过审核" in client.get("/donor/offers").text


# The offer service's rules, one test each, without the pages.


def _offer_input(**changes: Any) -> OfferInput:
    values: dict[str, Any] = {
        "category": "goods", "title": "爱心棉被", "description": "", "quantity": 10,
        "min_lot": 1, "max_villages": None, "indivisible": False, "county_codes": (),
        "dispatch_lat": None, "dispatch_lon": None,
        "valid_from": date(2026, 11, 1), "valid_until": date(2026, 12, 31),
    }  # fmt: skip
    values.update(changes)
    return OfferInput(**values)


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def test_service_refuses_offers_of_unapproved_organizations(demo_db: Flask) -> None:
    with pytest.raises(OfferError, match="not_approved"):
        create_offer(db.session, _user("donor-pending"), _offer_input())


def test_service_refuses_to_withdraw_an_allocated_offer(demo_db: Flask) -> None:
    user = _user("donor")
    offer = create_offer(db.session, user, _offer_input())
    db.session.commit()  # services flush; the caller commits
    offer.allocated = 3
    with pytest.raises(OfferError, match="allocated"):
        withdraw_offer(db.session, user, offer)


def test_service_hides_other_organizations_offers(demo_db: Flask) -> None:
    offer = create_offer(db.session, _user("donor"), _offer_input())
    db.session.commit()  # services flush; the caller commits
    with pytest.raises(LookupError):
        get_own_offer(db.session, _user("donor-ngo"), offer.id)
