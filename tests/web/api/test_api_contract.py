"""API contract: who may call what, tokens, problem documents, the OpenAPI document and docs."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from tests.web.test_api_helpers import ROLES, Api, api  # noqa: F401  (fixture)
from web.api import ops
from web.extensions import db
from web.models import ApiToken, User

ALL = ROLES
STAFF_READ = ("admin", "auditor")
# Who may call each operation (None: anyone, no token needed), written out by hand.
EXPECTED_ROLES: dict[str, tuple[str, ...] | None] = {
    "GET /villages": None,
    "GET /villages/{village_id}": None,
    "GET /totals": None,
    "GET /categories": None,
    "GET /kinds": None,
    "GET /me": ALL,
    # a county office (issue 16) reads the offers reaching its county, its county's needs and
    # pledges, and verifies its county's needs when a township is stuck
    "GET /offers": ("donor", "county", *STAFF_READ),
    "POST /offers": ("donor",),
    "GET /offers/{offer_id}": ("donor", "county", *STAFF_READ),
    "PATCH /offers/{offer_id}": ("donor",),
    "POST /offers/{offer_id}/withdraw": ("donor",),
    "GET /needs": ("village", "township", "county", *STAFF_READ),
    "POST /needs": ("village",),
    "GET /needs/{need_id}": ("village", "township", "county", *STAFF_READ),
    "PATCH /needs/{need_id}": ("village",),
    "POST /needs/{need_id}/withdraw": ("village",),
    "POST /needs/{need_id}/verify": ("township", "county"),
    "GET /runs": STAFF_READ,
    "POST /runs": ("admin",),
    "GET /runs/{run_id}": STAFF_READ,
    "POST /runs/{run_id}/commit": ("admin",),
    "POST /runs/{run_id}/publish": ("admin",),
    "GET /allocations": ALL,
    "GET /allocations/{allocation_id}": ALL,
    "POST /allocations/{allocation_id}/dispatch": ("donor",),
    "POST /allocations/{allocation_id}/receive": ("village",),
    "POST /allocations/{allocation_id}/confirm": ("village",),
    "POST /allocations/{allocation_id}/cancel": ("admin",),
    # a vetted donor claims a micro-wish (issue 17)
    "POST /wishes/{wish_id}/claims": ("donor",),
}


def _url(path: str) -> str:
    return re.sub(r"\{\w+\}", "1", path)


def test_every_operation_has_the_roles_written_here() -> None:
    declared = {f"{op.method} {op.path}": op.roles for op in ops.operations}
    expected = {k: (tuple(sorted(v)) if v else None) for k, v in EXPECTED_ROLES.items()}
    assert {k: (tuple(sorted(v)) if v else None) for k, v in declared.items()} == expected


@pytest.mark.parametrize("key", sorted(k for k, v in EXPECTED_ROLES.items() if v))
def test_token_needed_and_other_roles_forbidden(api: Api, key: str) -> None:  # noqa: F811
    method, path = key.split(" ")
    anonymous = api.client.open("/api/v1" + _url(path), method=method, json={})
    assert anonymous.status_code == 401, key
    assert anonymous.mimetype == "application/problem+json"
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    for role in ROLES:
        if role in (EXPECTED_ROLES[key] or ()):
            continue
        response = api.client.open(
            "/api/v1" + _url(path), method=method, json={}, headers=api.headers(role)
        )
        assert response.status_code == 403, (key, role)
        assert response.get_json()["status"] == 403


def test_bad_revoked_and_inactive_tokens_are_refused(api: Api, demo_app: Flask) -> None:  # noqa: F811
    assert api.get("admin", "/me").status_code == 200
    for header in ("Bearer dj_not-a-real-token", "Basic YWRtaW46eA==", "Bearer "):
        response = api.client.get("/api/v1/villages", headers={"Authorization": header})
        assert response.status_code == 401, header
    with demo_app.app_context():
        token = db.session.scalar(select(ApiToken).where(ApiToken.user.has(username="admin")))
        assert token is not None and token.last_used_at is not None, "last use is recorded"
        token.revoked_at = token.created_at
        db.session.commit()
        db.session.remove()
    assert api.get("admin", "/me").status_code == 401
    api.token("donor")
    with demo_app.app_context():
        donor = db.session.scalar(select(User).where(User.username == "donor"))
        assert donor is not None
        donor.active = False
        db.session.commit()
        db.session.remove()
    assert api.get("donor", "/me").status_code == 401


def test_a_session_cookie_is_no_credential_for_the_api(api: Api) -> None:  # noqa: F811
    signed_in = api.client.post("/login", data={"username": "donor", "password": "demo-donor-2026"})
    assert signed_in.status_code in (302, 303)
    assert api.client.get("/api/v1/me").status_code == 401
    assert api.client.post("/api/v1/offers", json={}).status_code == 401


def test_client_errors_are_problem_documents_naming_the_field(api: Api) -> None:  # noqa: F811
    malformed = api.client.post(
        "/api/v1/needs",
        data=b'{"title": ',
        content_type="application/json",
        headers=api.headers("village"),
    )
    assert malformed.status_code == 400 and "JSON" in malformed.get_json()["detail"]
    wrong_type = api.client.post(
        "/api/v1/needs",
        data=b"title=x",
        content_type="application/x-www-form-urlencoded",
        headers=api.headers("village"),
    )
    assert wrong_type.status_code == 415
    body = {"category": "goods", "title": "x", "quantity": "7", "allocated": 3}
    invalid = api.post("village", "/needs", body)
    assert invalid.status_code == 422
    assert invalid.mimetype == "application/problem+json"
    fields = {e["field"] for e in invalid.get_json()["errors"]}
    assert fields == {"quantity", "allocated"}, "a string for a number, a read-only field"
    bad_queries = (
        "per_page=501", "page=0", "status=lost", "week=2026-48", "week=0000-W01",
        "week=2027-W53", "colour=red",
    )  # fmt: skip
    for query in bad_queries:
        bad = api.get("village", f"/needs?{query}")
        assert bad.status_code == 400, query
        assert bad.get_json()["errors"][0]["field"] == query.split("=")[0]
    assert api.get("village", "/needs/99999999").status_code == 404
    assert api.get("village", "/needs/99999999999999999999").status_code == 404
    assert api.client.get("/api/v1/villages/3000000000").status_code == 404
    assert api.client.delete("/api/v1/villages").status_code == 405
    assert api.client.get("/api/v1/nowhere").mimetype == "application/problem+json"


def test_nul_characters_and_huge_numbers_are_refused_not_crashed(api: Api) -> None:  # noqa: F811
    need = {"category": "goods", "title": "a\u0000b", "quantity": 2**40}
    response = api.post("village", "/needs", need)
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {"title", "quantity"}
    assert api.client.get("/api/v1/villages?q=%00").status_code == 400


def test_openapi_document_describes_every_operation(api: Api) -> None:  # noqa: F811
    doc = api.client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    operations = {
        f"{method.upper()} {path}" for path, item in doc["paths"].items() for method in item
    }
    assert operations == set(EXPECTED_ROLES)
    create = doc["paths"]["/offers"]["post"]
    assert create["security"] == [{"bearerAuth": []}]
    assert {"201", "401", "403", "409", "415", "422", "429"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    schema = doc["components"]["schemas"]["OfferIn"]
    assert schema["additionalProperties"] is False
    assert "allocated" not in schema["properties"] and "status" not in schema["properties"]
    listing = {p["name"] for p in doc["paths"]["/needs"]["get"]["parameters"]}
    assert {
        "county",
        "township",
        "village",
        "category",
        "status",
        "week",
        "page",
        "per_page",
    } <= listing


def test_openapi_document_passes_the_spec_validator(api: Api) -> None:  # noqa: F811
    validator = pytest.importorskip("openapi_spec_validator")
    doc = api.client.get("/api/v1/openapi.json").get_json()
    problems = [e.message for e in validator.OpenAPIV31SpecValidator(doc).iter_errors()]
    assert problems == []


def test_docs_page_works_offline_under_the_csp(api: Api) -> None:  # noqa: F811
    page = api.client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert "style=" not in html and "<style" not in html and "http" not in html
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert api.client.get(asset).status_code == 200, asset
