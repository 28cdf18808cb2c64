"""The foundation as a user sees it: villages listed, signed in, API answering, schema sound."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.web.conftest import Auth
from web.extensions import db
from web.models import County, Need, Offer, Organization, User, Village
from web.services.seeding import seed


def test_demo_has_267_villages_in_five_counties(demo_db: Flask) -> None:
    assert db.session.scalar(select(func.count(Village.id))) == 267
    counties = db.session.scalars(
        select(County.name).join(Village, Village.county_id == County.id).distinct()
    ).all()
    assert sorted(counties) == sorted(["八步区", "平桂区", "昭平县", "钟山县", "富川瑶族自治县"])


def test_seeding_twice_adds_nothing(demo_db: Flask) -> None:
    before = {
        m.__name__: db.session.scalar(select(func.count()).select_from(m))
        for m in (Village, Offer, Need, User, Organization)
    }
    report = seed(db.session, demo=True)
    after = {
        m.__name__: db.session.scalar(select(func.count()).select_from(m))
        for m in (Village, Offer, Need, User, Organization)
    }
    assert sum(report.added.values()) == 0
    assert before == after
    assert after["Village"] == 267 and after["Offer"] >= 450 and after["Need"] >= 1800


def test_api_lists_all_villages_in_one_page(client: FlaskClient) -> None:
    body = client.get("/api/v1/villages?per_page=500").get_json()
    assert body["total"] == 267
    assert len(body["items"]) == 267
    first = body["items"][0]
    assert {"id", "code", "name", "county", "township"} <= first.keys()
    assert len(first["code"]) == 12 and first["code"].startswith("4511")
    codes = [item["code"] for item in body["items"]]
    assert codes == sorted(codes), "stable ordering by official code"


def test_api_pages_partition_the_list(client: FlaskClient) -> None:
    seen: list[str] = []
    for page in (1, 2, 3):
        body = client.get(f"/api/v1/villages?per_page=100&page={page}").get_json()
        seen += [item["code"] for item in body["items"]]
    assert len(seen) == 267 == len(set(seen))


def test_api_filters_by_county(client: FlaskClient) -> None:
    body = client.get("/api/v1/villages?county=富川瑶族自治县&per_page=500").get_json()
    assert body["total"] > 20
    assert {item["county"] for item in body["items"]} == {"富川瑶族自治县"}


def test_api_rejects_bad_pagination_with_problem_json(client: FlaskClient) -> None:
    for query in ("per_page=501", "per_page=0", "page=-1", "page=abc"):
        response = client.get(f"/api/v1/villages?{query}")
        assert response.status_code == 400, query
        assert response.mimetype == "application/problem+json"
        assert query.split("=")[0] in response.get_json()["detail"]


def test_village_list_page_is_chinese_and_counts_villages(client: FlaskClient) -> None:
    html = client.get("/villages").get_data(as_text=True)
    assert "贫困村" in html and "267" in html
    english = client.get("/villages?lang=en").get_data(as_text=True)
    assert "Poor villages" in english


def test_healthz_reports_database(client: FlaskClient) -> None:
    body = client.get("/healthz").get_json()
    assert body == {"status": "ok", "database": "ok"}


def test_login_and_logout(client: FlaskClient, auth: Auth) -> None:
    response = auth.login("admin")
    assert response.status_code == 302
    assert "贺州市扶贫办" in client.get("/villages").get_data(as_text=True)
    auth.logout()
    assert "登录" in client.get("/villages").get_data(as_text=True)


def test_wrong_password_is_refused(client: FlaskClient, auth: Auth) -> None:
    response = auth.login("admin", "not-the-password")
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_login_next_never_leaves_the_site(client: FlaskClient) -> None:
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        response = client.post(
            f"/login?next={target}", data={"username": "admin", "password": "demo-admin-2026"}
        )
        assert response.headers["Location"] == "/", target
        client.post("/logout")


def test_security_headers(client: FlaskClient) -> None:
    headers = client.get("/villages").headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_database_refuses_over_allocation(demo_db: Flask) -> None:
    offer = db.session.scalars(select(Offer).limit(1)).one()
    offer.allocated = offer.quantity + 1
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
    else:
        raise AssertionError("an offer was over-allocated without the database refusing")


def test_database_refuses_non_positive_quantity(demo_db: Flask) -> None:
    need = db.session.scalars(select(Need).limit(1)).one()
    need.quantity = 0
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
    else:
        raise AssertionError("a need with quantity 0 was stored")
