"""Household PINs and sign-in limits that resist an attacker with many addresses without
letting a stranger lock anyone out (issue 24)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.web.households.test_household import PIN, activate, register, sign_in, text_of
from web.extensions import db
from web.models import Notification, User
from web.services import accounts
from web.services import households as service


@pytest.mark.parametrize(
    "pin", ["0000", "1234", "123456", "4321", "987654", "7890", "1212", "123123", "1988", "2005"]
)
def test_trivial_pins_are_refused(pin: str) -> None:
    assert service.trivial_pin(pin)


@pytest.mark.parametrize("pin", ["2468", "482916", "258036", "7351", "1357"])
def test_ordinary_pins_are_allowed(pin: str) -> None:
    assert not service.trivial_pin(pin)


def test_the_pin_page_refuses_a_trivial_pin(demo_app: Flask, auth: Any) -> None:
    auth.login("village")
    slip = register(auth.client)
    phone = demo_app.test_client()
    phone.post("/h/invite", data={"code": slip.code})
    for pin in ("0000", "123456", str(slip.number).zfill(4)[-6:]):
        page = phone.post("/h/pin", data={"pin": pin, "pin2": pin})
        assert page.status_code == 200 and "太容易猜到" in page.text, pin
    assert phone.post("/h/pin", data={"pin": PIN, "pin2": PIN}).status_code == 302


def _from(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_strangers_on_many_addresses_cannot_lock_the_household_s_own_phone(
    demo_app: Flask, auth: Any
) -> None:
    auth.login("village")
    slip = register(auth.client)
    phone = activate(demo_app, slip)  # set its PIN here: this phone is the household's
    phone.post("/h/logout")
    answers = []
    for n in range(10):  # ten addresses, five wrong PINs each: 50 guesses before
        stranger = _from(demo_app, f"203.0.113.{n + 1}")
        for _ in range(service.PIN_FAILURES):
            answers.append(text_of(sign_in(demo_app, slip.number, "9137", stranger)))
    checked = sum("户号或密码不对" in a for a in answers)
    assert checked == service.HOUSEHOLD_FAILURES  # then refused for every stranger
    assert all(re.search(r"输错次数太多", a) for a in answers[checked:])
    # The household's own phone still signs in with the right PIN.
    response = sign_in(demo_app, slip.number, PIN, phone)
    assert response.status_code == 302 and response.location.endswith("/h/home")
    # The village committee was told, once, in its language, with a link to the household.
    with demo_app.app_context():
        notes = db.session.execute(
            select(Notification.message, Notification.link)
            .join(User, User.id == Notification.user_id)
            .where(User.username == "village", Notification.kind == "household_pin_limited")
        ).all()
        db.session.remove()
    assert len(notes) == 1, notes
    message, link = notes[0]
    assert str(slip.number) in message and "输错" in message
    assert link == f"/village/households/{int(slip.number)}"


def _login(client: FlaskClient, username: str, password: str) -> int:
    return client.post("/login", data={"username": username, "password": password}).status_code


def test_the_login_limit_holds_per_account_across_addresses(demo_app: Flask) -> None:
    own = demo_app.test_client()
    assert _login(own, "auditor", "demo-auditor-2026") == 302  # the holder's own browser
    own.post("/logout")
    checked = 0
    for n in range(10):
        stranger = _from(demo_app, f"198.51.100.{n + 1}")
        for _ in range(accounts.LOGIN_LIMIT_PER_USER):
            checked += _login(stranger, "auditor", "wrong-password") == 200
    assert checked == accounts.LOGIN_LIMIT_PER_ACCOUNT  # was 50: 5 per address
    assert _login(_from(demo_app, "198.51.100.99"), "auditor", "demo-auditor-2026") == 429
    # The holder's own browser is not locked out, and the holder was told.
    assert _login(own, "auditor", "demo-auditor-2026") == 302
    with demo_app.app_context():
        auditor = db.session.scalars(select(User).where(User.username == "auditor")).one()
        kinds = db.session.scalars(
            select(Notification.kind).where(Notification.user_id == auditor.id)
        ).all()
        assert "sign_in_limited" in kinds


def test_attempts_older_than_a_day_are_pruned_as_attempts_go_on(
    demo_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from web.models import ThrottleEvent
    from web.models.base import utcnow
    from web.services import throttle

    with demo_app.app_context():
        db.session.add(ThrottleEvent(bucket="login:ip:192.0.2.1", at=utcnow() - timedelta(days=2)))
        db.session.commit()
        monkeypatch.setattr(throttle, "PRUNE_EVERY", 1)
        throttle.attempt(db.session, {"login:ip:192.0.2.2": 5}, timedelta(minutes=15))
        buckets = db.session.scalars(select(ThrottleEvent.bucket)).all()
        assert "login:ip:192.0.2.1" not in buckets and "login:ip:192.0.2.2" in buckets
        db.session.remove()
