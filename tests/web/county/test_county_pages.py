"""The county office (issue 16): its landing page, verification, lists, exports and bulletin."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from tests.web.conftest import Auth
from web.extensions import db
from web.models import County, Need, User, Village
from web.models.base import utcnow

BABU = "451102"


def _county_id() -> int:
    return db.session.scalars(select(County.id).where(County.code == BABU)).one()


def _pending_need(county_id: int, inside: bool = True) -> Need:
    where = Village.county_id == county_id if inside else Village.county_id != county_id
    return db.session.scalars(
        select(Need)
        .join(Village, Village.id == Need.village_id)
        .where(where, Need.verification == "pending", Need.status == "open")
        .order_by(Need.id)
    ).first()


def test_county_signs_in_to_its_queue_with_a_count(demo_app: Flask, auth: Auth) -> None:
    response = auth.login("county")
    assert response.status_code == 302 and response.headers["Location"].endswith("/county")
    page = auth.client.get("/county").get_data(as_text=True)
    with demo_app.app_context():
        county_id = _county_id()
        pending = db.session.scalar(
            select(db.func.count(Need.id))
            .join(Village, Village.id == Need.village_id)
            .where(Village.county_id == county_id, Need.verification == "pending",
                   Need.status == "open")
        )  # fmt: skip
        own = _pending_need(county_id)
        other = _pending_need(county_id, inside=False)
        own_title, other_id = own.title, other.id
    assert pending and f'<span class="badge">{pending}</span>' in page
    assert own_title in page
    assert f'id="need-{other_id}"' not in page


def test_county_verifies_a_need_of_its_county_not_another(demo_app: Flask, auth: Auth) -> None:
    with demo_app.app_context():
        county_id = _county_id()
        own, other = _pending_need(county_id), _pending_need(county_id, inside=False)
        own_id, other_id = own.id, other.id
    auth.login("county")
    answer = auth.client.post(f"/county/needs/{own_id}/verify", data={"decision": "verify"})
    assert answer.status_code == 302
    refused = auth.client.post(f"/county/needs/{other_id}/verify", data={"decision": "verify"})
    assert refused.status_code == 404
    with demo_app.app_context():
        assert db.session.get(Need, own_id).verification == "verified"
        assert db.session.get(Need, own_id).verified_at is not None
        assert db.session.get(Need, other_id).verification == "pending"


def test_sending_back_needs_a_reason(demo_app: Flask, auth: Auth) -> None:
    with demo_app.app_context():
        need_id = _pending_need(_county_id()).id
    auth.login("county")
    page = auth.client.post(
        f"/county/needs/{need_id}/verify", data={"decision": "reject"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "请在驳回时说明理由" in page or "reason" in page.lower()
    with demo_app.app_context():
        assert db.session.get(Need, need_id).verification == "pending"


def test_a_need_waiting_past_the_set_days_is_escalated(demo_app: Flask, auth: Auth) -> None:
    with demo_app.app_context():
        need = _pending_need(_county_id())
        need.created_at = utcnow() - timedelta(days=10)
        db.session.commit()
        title = need.title
    auth.login("county")
    page = auth.client.get("/county").get_data(as_text=True)
    assert '<strong class="stale-count">1</strong>' in page
    assert "escalated" in page and title in page
    demo_app.config["DUIJIE_ESCALATE_VERIFY_DAYS"] = 11
    page = auth.client.get("/county").get_data(as_text=True)
    assert '<strong class="stale-count">0</strong>' in page


def test_exports_hold_only_the_county_rows(demo_app: Flask, auth: Auth) -> None:
    auth.login("county")
    body = auth.client.get("/county/export/queue.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    with demo_app.app_context():
        county_id = _county_id()
        names = select(Village.name)
        villages = set(db.session.scalars(names.where(Village.county_id == county_id)))
        others = set(db.session.scalars(names.where(Village.county_id != county_id)))
    assert len(rows) > 1
    assert all(r[1] in villages for r in rows[1:])
    assert not any(r[1] in others - villages for r in rows[1:])
    xlsx = auth.client.get("/county/export/villages.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert auth.client.get("/county/export/secrets.csv").status_code == 404


def test_bulletin_overdue_and_escalated_equal_the_page(demo_app: Flask, auth: Auth) -> None:
    with demo_app.app_context():
        county_id = _county_id()
        for need in db.session.scalars(
            select(Need).join(Village).where(Village.county_id == county_id,
                                             Need.verification == "pending").limit(3)
        ):  # fmt: skip
            need.created_at = utcnow() - timedelta(days=9)
        db.session.commit()
    auth.login("county")
    page = auth.client.get("/county").get_data(as_text=True)
    bulletin = auth.client.get("/county/bulletin?week=2026-W48").get_data(as_text=True)
    stale = page.split('<strong class="stale-count">')[1].split("<")[0]
    assert stale == "3"
    row = bulletin.split(f'<tr data-code="{BABU}">')[1].split("</tr>")[0]
    escalated = row.split('<td class="escalated">')[1].split(" ")[0]
    overdue = row.split('<td class="overdue">')[1].split(" ")[0]
    assert escalated == stale
    assert overdue == page.split('<strong class="overdue-count">')[1].split("<")[0]
    assert "@page" not in bulletin  # print rules live in the stylesheet


def test_city_bulletin_compares_counties(demo_app: Flask, auth: Auth) -> None:
    auth.login("admin")
    page = auth.client.get("/admin/bulletin?week=2026-W48").get_data(as_text=True)
    with demo_app.app_context():
        counties = db.session.scalars(select(County.code)).all()
    for code in counties:
        assert f'data-code="{code}"' in page
    assert 'id="city-board"' in page
    assert auth.client.get("/admin/bulletin?week=nonsense").status_code == 400


def test_county_account_without_county_sees_nothing(demo_app: Flask, auth: Auth) -> None:
    with demo_app.app_context():
        user = db.session.scalars(select(User).where(User.username == "county")).one()
        user.county_id = None
        db.session.commit()
    auth.login("county")
    assert auth.client.get("/county").status_code == 404


def test_escalate_notifies_the_county_once_a_day(demo_app: Flask) -> None:
    from web.models import Notification

    with demo_app.app_context():
        for need in db.session.scalars(
            select(Need).join(Village).where(Village.county_id == _county_id(),
                                             Need.verification == "pending").limit(2)
        ):  # fmt: skip
            need.created_at = utcnow() - timedelta(days=8)
        db.session.commit()
    runner = demo_app.test_cli_runner()
    first = runner.invoke(args=["escalate"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["escalate"])
    assert again.exit_code == 0
    with demo_app.app_context():
        officer = db.session.scalars(select(User).where(User.username == "county")).one()
        notes = db.session.scalars(
            select(Notification).where(Notification.user_id == officer.id,
                                       Notification.kind == "escalation")
        ).all()  # fmt: skip
        assert len(notes) == 1
        assert "2 条需求等待核实已超过 7 天" in notes[0].message
        assert notes[0].link == "/county#escalations"


def test_the_administrator_creates_a_county_office_account(demo_app: Flask, auth: Auth) -> None:
    auth.login("admin")
    bad = auth.client.post("/admin/accounts", data={
        "role": "county", "username": "hezhou-pinggui", "password": "Pinggui-office-2026",
        "county_code": "999999",
    })  # fmt: skip
    assert bad.status_code == 200 and "没有此代码的县区" in bad.get_data(as_text=True)
    made = auth.client.post("/admin/accounts", data={
        "role": "county", "username": "hezhou-pinggui", "password": "Pinggui-office-2026",
        "display_name": "平桂区扶贫办", "county_code": "451103",
    })  # fmt: skip
    assert made.status_code == 302
    with demo_app.app_context():
        user = db.session.scalars(select(User).where(User.username == "hezhou-pinggui")).one()
        assert user.role == "county" and user.county is not None
        assert user.county.code == "451103"
    auth.logout()
    auth.login("hezhou-pinggui", "Pinggui-office-2026")
    page = auth.client.get("/county").get_data(as_text=True)
    assert "平桂区" in page
