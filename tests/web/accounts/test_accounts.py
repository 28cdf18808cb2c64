"""Accounts: the sign-in rate limit, the password change that ends other sessions, e-mail."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.web.conftest import Auth
from web import create_app
from web.extensions import db
from web.models import ThrottleEvent, User
from web.services import accounts


def _login(client: FlaskClient, username: str, password: str, ip: str = "198.51.100.7") -> str:
    response = client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )
    return f"{response.status_code} {response.headers.get('Location', '')} {response.text}"


def test_five_failures_lock_the_username_from_that_address(client: FlaskClient) -> None:
    for _ in range(5):
        assert _login(client, "village", "wrong-password").startswith("200")
    # Now even the right password is not looked at: 429 and how long to wait, in Chinese.
    response = client.post(
        "/login",
        data={"username": "village", "password": "demo-village-2026"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 429
    assert "登录失败次数过多，请等待 15 分钟后再试" in response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60 + 1
    assert client.get("/village/needs").status_code == 302  # still not signed in
    # The same user from another address, and another user from this one, may still sign in.
    assert _login(client, "village", "demo-village-2026", ip="203.0.113.5").startswith("302")
    client.post("/logout")
    assert _login(client, "donor", "demo-donor-2026").startswith("302")


def test_thirty_failures_from_one_address_lock_every_username(
    client: FlaskClient, demo_app: Flask
) -> None:
    with demo_app.app_context():  # 29 earlier failures for assorted names (hashing is slow)
        for _ in range(29):
            db.session.add(ThrottleEvent(bucket=accounts.login_buckets("x", "192.0.2.44").ip))
        db.session.commit()
        db.session.remove()
    assert _login(client, "guess", "wrong-password", ip="192.0.2.44").startswith("200")
    response = client.post(
        "/login",
        data={"username": "admin", "password": "demo-admin-2026"},
        environ_base={"REMOTE_ADDR": "192.0.2.44"},
    )
    assert response.status_code == 429 and "分钟后再试" in response.text
    assert _login(client, "admin", "demo-admin-2026", ip="192.0.2.45").startswith("302")


def test_a_successful_sign_in_clears_the_username_bucket(
    client: FlaskClient, demo_app: Flask
) -> None:
    for _ in range(4):
        _login(client, "auditor", "wrong-password")
    assert _login(client, "auditor", "demo-auditor-2026").startswith("302")
    client.post("/logout")
    # The four failures are forgotten: four more are allowed before the limit.
    for _ in range(4):
        assert _login(client, "auditor", "wrong-password").startswith("200")
    assert _login(client, "auditor", "demo-auditor-2026").startswith("302")
    with demo_app.app_context():
        bucket = accounts.login_buckets("auditor", "198.51.100.7").user
        count = db.session.scalar(
            select(func.count(ThrottleEvent.id)).where(ThrottleEvent.bucket == bucket)
        )
        assert count == 0
        db.session.remove()


def test_account_page_is_for_every_signed_in_user(client: FlaskClient, auth: Auth) -> None:
    assert client.get("/account").status_code == 302
    for username in ("admin", "township", "village", "donor", "auditor", "donor-pending"):
        auth.login(username)
        page = client.get("/account")
        assert page.status_code == 200 and "修改密码" in page.text, username
        assert 'href="/account"' in client.get("/villages").text
        auth.logout()


def test_password_change_ends_other_sessions_and_keeps_this_one(demo_app: Flask) -> None:
    here, elsewhere = demo_app.test_client(), demo_app.test_client()
    for browser in (here, elsewhere):
        Auth(browser).login("village")
        assert browser.get("/village/needs").status_code == 200
    response = here.post(
        "/account/password",
        data={
            "pw-current": "demo-village-2026",
            "pw-new": "a-new-village-pass",
            "pw-confirm": "a-new-village-pass",
        },
        follow_redirects=True,
    )
    assert "密码已修改" in response.text
    assert here.get("/village/needs").status_code == 200
    assert here.get("/account").status_code == 200
    ended = elsewhere.get("/village/needs")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    # Only the new password signs in now.
    third = demo_app.test_client()
    assert Auth(third).login("village").status_code == 200
    assert Auth(third).login("village", "a-new-village-pass").status_code == 302


def test_password_change_errors_are_named(client: FlaskClient, auth: Auth) -> None:
    auth.login("donor")
    cases = [
        (("wrong-password", "long-enough-1", "long-enough-1"), "当前密码不正确"),
        (("demo-donor-2026", "short", "short"), "至少"),
        (("demo-donor-2026", "long-enough-1", "long-enough-2"), "两次输入的新密码不一致"),
        (("demo-donor-2026", "demo-donor-2026", "demo-donor-2026"), "新密码不能与当前密码相同"),
    ]
    for (current, new, confirm), message in cases:
        page = client.post(
            "/account/password",
            data={"pw-current": current, "pw-new": new, "pw-confirm": confirm},
        )
        assert page.status_code == 200 and message in page.text, message
    # Nothing changed: the old password still works.
    auth.logout()
    assert auth.login("donor").status_code == 302


def test_email_is_validated_saved_and_cleared(
    client: FlaskClient, auth: Auth, demo_app: Flask
) -> None:
    auth.login("township")
    bad = client.post("/account/email", data={"mail-email": "not an address"})
    assert "电子邮箱格式不正确" in bad.text
    good = client.post(
        "/account/email", data={"mail-email": " zhan@example.cn "}, follow_redirects=True
    )
    assert "电子邮箱已保存" in good.text and 'value="zhan@example.cn"' in good.text
    with demo_app.app_context():
        user = db.session.scalar(select(User).where(User.username == "township"))
        assert user is not None and user.email == "zhan@example.cn"
        db.session.remove()
    cleared = client.post("/account/email", data={"mail-email": ""}, follow_redirects=True)
    assert "电子邮箱已删除" in cleared.text
    with demo_app.app_context():
        user = db.session.scalar(select(User).where(User.username == "township"))
        assert user is not None and user.email is None
        db.session.remove()


def test_guessing_the_current_password_is_limited(client: FlaskClient, auth: Auth) -> None:
    auth.login("auditor")
    wrong = {"pw-current": "guess-0000", "pw-new": "long-enough-1", "pw-confirm": "long-enough-1"}
    for _ in range(5):
        assert "当前密码不正确" in client.post("/account/password", data=wrong).text
    right = {**wrong, "pw-current": "demo-auditor-2026"}
    limited = client.post("/account/password", data=right)
    assert "密码错误次数过多，请等待 15 分钟后再试" in limited.text
    client.post("/logout")
    assert auth.login("auditor").status_code == 302  # the password did not change


def _user_id(app: Flask, username: str) -> int:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None
        db.session.remove()
        return user.id


def test_admin_suspends_restores_and_resets_a_staff_account(demo_app: Flask) -> None:
    admin, cadre = demo_app.test_client(), demo_app.test_client()
    Auth(admin).login("admin")
    Auth(cadre).login("village")
    village_id = _user_id(demo_app, "village")
    page = admin.post(f"/admin/accounts/{village_id}", data={"decision": "suspend"})
    assert page.status_code == 302
    assert "已停用" in admin.get("/admin/accounts").text
    assert cadre.get("/village/needs").status_code == 302  # signed out at once
    assert Auth(cadre).login("village").status_code == 200  # and cannot sign in
    admin.post(f"/admin/accounts/{village_id}", data={"decision": "restore"})
    assert Auth(cadre).login("village").status_code == 302
    reset = admin.post(f"/admin/accounts/{village_id}", data={"decision": "reset"})
    assert reset.status_code == 200 and reset.headers["Cache-Control"] == "no-store"
    password = reset.text.split("<code>")[1].split("</code>")[0]
    assert len(password) >= 12
    assert cadre.get("/village/needs").status_code == 302  # the reset ended the session
    fresh = demo_app.test_client()
    assert Auth(fresh).login("village").status_code == 200
    assert Auth(fresh).login("village", password).status_code == 302


def test_only_staff_accounts_are_managed_and_only_by_an_administrator(demo_app: Flask) -> None:
    admin, township = demo_app.test_client(), demo_app.test_client()
    Auth(admin).login("admin")
    Auth(township).login("township")
    donor_id, village_id = _user_id(demo_app, "donor"), _user_id(demo_app, "village")
    for target in (donor_id, _user_id(demo_app, "admin"), 999999):
        refused = admin.post(f"/admin/accounts/{target}", data={"decision": "suspend"})
        assert refused.status_code == 404
    assert admin.post(f"/admin/accounts/{village_id}", data={"decision": "x"}).status_code == 400
    forbidden = township.post(f"/admin/accounts/{village_id}", data={"decision": "suspend"})
    assert forbidden.status_code == 403
    assert Auth(demo_app.test_client()).login("village").status_code == 302  # untouched


def _forwarded_login(client: FlaskClient, password: str, client_ip: str) -> int:
    response = client.post(
        "/login",
        data={"username": "donor", "password": password},
        headers={"X-Forwarded-For": client_ip},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},  # the reverse proxy
    )
    return response.status_code


@pytest.mark.parametrize("trusted", [0, 1])
def test_behind_a_trusted_proxy_limits_count_per_client(demo_app: Flask, trusted: int) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": demo_app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "DUIJIE_TRUSTED_PROXIES": trusted,
        }
    )
    client = app.test_client()
    for _ in range(5):
        assert _forwarded_login(client, "wrong-password", "203.0.113.10") == 200
    assert _forwarded_login(client, "demo-donor-2026", "203.0.113.10") == 429
    # Another client through the same proxy: free when the proxy is trusted, else limited too
    # (the forwarded header cannot be forged to dodge the limit when no proxy is trusted).
    other = _forwarded_login(client, "demo-donor-2026", "198.51.100.20")
    assert other == (302 if trusted else 429)
    with app.app_context():
        db.engine.dispose()
