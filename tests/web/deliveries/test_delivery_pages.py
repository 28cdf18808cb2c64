"""Delivery pages: the donor dispatches its pledges, the village committee confirms receipt."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.web.week_support import committed, memo_solver, user  # noqa: F401  (memo_solver: a fixture)
from web.extensions import db
from web.models import Allocation, Need, Offer
from web.services.week import publish_run

pytestmark = pytest.mark.usefixtures("memo_solver")

ROUTES = [
    ("get", "/donor/allocations", "donor"),
    ("post", "/donor/allocations/1/dispatch", "donor"),
    ("get", "/village/allocations", "village"),
    ("post", "/village/allocations/1/confirm", "village"),
]


def published(app: Flask) -> dict[str, int]:
    """Publish the demo week; ids of the demo donor's and village's pledges and others'."""
    with app.app_context():
        run = committed()
        publish_run(db.session, run.id, user("admin"))
        db.session.commit()  # services flush; the caller commits
        donor, village = user("donor"), user("village")
        by_offer = select(Allocation.id).join(Offer, Allocation.offer_id == Offer.id)
        by_need = select(Allocation.id).join(Need, Allocation.need_id == Need.id)
        ids = {
            "donor": db.session.scalar(
                by_offer.where(Offer.organization_id == donor.organization_id)
            ),
            "not_donor": db.session.scalar(
                by_offer.where(Offer.organization_id != donor.organization_id)
            ),
            "village": db.session.scalar(by_need.where(Need.village_id == village.village_id)),
            "not_village": db.session.scalar(by_need.where(Need.village_id != village.village_id)),
        }
        db.session.remove()
    assert all(ids.values()), ids
    return {key: int(value) for key, value in ids.items() if value is not None}


def status(app: Flask, allocation_id: int) -> tuple[str, int | None, str]:
    """An allocation's state, rating and receipt note."""
    with app.app_context():
        found = db.session.get(Allocation, allocation_id)
        assert found is not None
        result = (found.status, found.rating, found.receipt_note)
        db.session.remove()
    return result


def test_donor_dispatches_and_village_confirms_receipt(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("donor")
    assert "尚未被分配" in client.get("/donor/allocations").text
    ids = published(demo_app)

    page = client.get("/donor/allocations")
    assert "已认捐" in page.text and "确认发货" in page.text
    assert f"/donor/allocations/{ids['donor']}/dispatch" in page.text
    page = client.post(f"/donor/allocations/{ids['donor']}/dispatch", follow_redirects=True)
    assert "已标记为已发货" in page.text
    assert status(demo_app, ids["donor"])[0] == "dispatched"
    again = client.post(f"/donor/allocations/{ids['donor']}/dispatch", follow_redirects=True)
    assert again.status_code == 200 and "此对接现在不能变更" in again.text
    auth.logout()

    auth.login("village")
    page = client.get("/village/allocations")
    assert "分配给本村的帮扶" in page.text and "确认收货" in page.text
    url = f"/village/allocations/{ids['village']}/confirm"
    page = client.post(
        url, data={"note": "已按时收到，质量很好", "rating": "4"}, follow_redirects=True
    )
    assert "已确认收货，谢谢" in page.text and "评分 4/5" in page.text
    assert status(demo_app, ids["village"]) == ("confirmed", 4, "已按时收到，质量很好")


def test_admin_cancels_a_pledge_with_a_reason(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    ids = published(demo_app)
    auth.login("admin")
    url = f"/admin/allocations/{ids['village']}/cancel"
    page = client.post(url, data={"reason": " "}, follow_redirects=True)
    assert "取消对接时请填写理由" in page.text
    page = client.post(url, data={"reason": "道路中断"}, follow_redirects=True)
    assert "对接已取消" in page.text
    assert status(demo_app, ids["village"])[0] == "cancelled"
    auth.logout()
    auth.login("village")
    assert "已取消" in client.get("/village/allocations").text
    assert client.post("/admin/allocations/999999/cancel").status_code == 403


@pytest.mark.parametrize("role", [None, "admin", "donor", "village", "township", "auditor"])
def test_delivery_routes_access(client: FlaskClient, auth: Any, role: str | None) -> None:
    if role is not None:
        auth.login(role)
    for method, path, owner in ROUTES:
        if role == owner:
            continue
        response = getattr(client, method)(path)
        if role is None:
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code == 403, (method, path)


def test_another_party_s_allocation_is_not_found(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    ids = published(demo_app)
    auth.login("donor")
    assert client.post(f"/donor/allocations/{ids['not_donor']}/dispatch").status_code == 404
    assert status(demo_app, ids["not_donor"])[0] == "pledged"
    auth.logout()
    auth.login("village")
    confirm = f"/village/allocations/{ids['not_village']}/confirm"
    assert client.post(confirm, data={"rating": "5"}).status_code == 404
    assert status(demo_app, ids["not_village"])[0] == "pledged"
    auth.login("admin")
    assert client.post("/admin/allocations/999999/cancel", data={"reason": "x"}).status_code == 404
