"""The password policy (issue 24): length 10, not the username, not a common password, on every
path that sets one: registration, the password change, the admin's form, import, the CLI."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from seeds.demo import demo_data
from seeds.demo_orgs import DEMO_LOGINS
from tests.web.ops.test_migrations_and_cli import duijie, empty_url  # noqa: F401  (a fixture)
from web.extensions import db
from web.models import User
from web.services import passwords
from web.services.accounts import AccountError, create_user

# The probes: all were accepted before.
WEAK = {
    "12345678": "short",
    "password": "short",
    "1234567890": "common",
    "password2026": "common",
    "qwertyuiop": "common",
    "aaaaaaaaaaaa": "simple",
}


@pytest.mark.parametrize(("password", "code"), sorted(WEAK.items()))
def test_weak_passwords_are_refused_with_their_reason(password: str, code: str) -> None:
    assert passwords.problem(password) == code


def test_the_username_is_refused_as_a_password() -> None:
    assert passwords.problem("committee01", "committee01") == "username"
    assert passwords.problem("Committee01!", "committee01") == "username"
    assert passwords.problem("10eettimmoc", "committee01") == "username"


def test_every_demo_password_satisfies_the_policy() -> None:
    for user in demo_data().users:
        assert passwords.problem(user.password, user.username) is None, user.username
    for _role, username, password in DEMO_LOGINS:
        assert passwords.problem(password, username) is None


def test_create_user_refuses_a_weak_password(demo_db: Flask) -> None:
    with pytest.raises(AccountError) as refused:
        create_user(db.session, "newclerk", "password2026", "auditor")
    assert refused.value.code == "common"
    with pytest.raises(AccountError):
        create_user(db.session, "newclerk2", "newclerk2", "auditor")


def test_registration_refuses_a_common_password(client: FlaskClient) -> None:
    data = {"name": "某公司", "kind": "enterprise", "username": "acme-co", "password": "1234567890"}
    page = client.post("/register", data=data)
    assert page.status_code == 200 and "最常见" in page.text
    data["password"] = "acme-co"  # and the username: too short, then the username
    assert "至少 10 个字符" in client.post("/register", data=data).text


def test_password_change_refuses_the_username_and_common_ones(
    client: FlaskClient, auth: Any
) -> None:
    auth.login("donor")
    for new, message in (("donor2026!!", "不能与用户名相同"), ("iloveyou123", "最常见")):
        data = {"pw-current": "demo-donor-2026", "pw-new": new, "pw-confirm": new}
        page = client.post("/account/password", data=data)
        assert page.status_code == 200 and message in page.text, new
    auth.logout()
    assert auth.login("donor").status_code == 302  # unchanged


def test_admin_account_form_refuses_a_weak_password(demo_app: Flask, auth: Any) -> None:
    auth.login("admin")
    data = {"role": "auditor", "username": "audit2", "password": "password123"}
    page = auth.client.post("/admin/accounts", data=data)
    assert page.status_code == 200 and "最常见" in page.text
    with demo_app.app_context():
        assert db.session.scalar(select(User).where(User.username == "audit2")) is None


def test_create_admin_refuses_a_weak_password(empty_url: str, tmp_path: Path) -> None:  # noqa: F811
    env = {**os.environ, "DUIJIE_DATABASE_URL": empty_url, "DUIJIE_SECRET_KEY": "t"}
    assert duijie("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    weak = duijie("create-admin", "chief", "--password", "12345678", env=env, cwd=tmp_path)
    assert weak.returncode != 0 and "at least 10" in weak.stderr
    common = duijie("create-admin", "chief", "--password", "password123", env=env, cwd=tmp_path)
    assert common.returncode != 0 and "common" in common.stderr
    good = duijie("create-admin", "chief", "--password", "long-enough-pw", env=env, cwd=tmp_path)
    assert good.returncode == 0
