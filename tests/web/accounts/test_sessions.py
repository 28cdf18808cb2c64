"""Sessions that end (issue 24): household sign-out on the server, idle timeout, lifetime."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.web.households.test_household import activate, register
from web.sessions import BORN, SEEN

PASSWORD = "demo-{}-2026"


def _login(client: FlaskClient, username: str) -> Any:
    return client.post("/login", data={"username": username, "password": PASSWORD.format(username)})


def _copy(source: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser holding a copy of `source`'s session cookie."""
    thief = app.test_client()
    cookie = source.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def _age(client: FlaskClient, seconds: float, *, born_too: bool = False) -> None:
    """Make the session look as if its last request was `seconds` ago."""
    with client.session_transaction() as session:
        session[SEEN] = int(time.time() - seconds)
        if born_too:
            session[BORN] = int(time.time() - seconds)


def test_household_sign_out_ends_a_copied_session(demo_app: Flask, auth: Any) -> None:
    committee = auth.client
    auth.login("village")
    phone = activate(demo_app, register(committee))
    thief = _copy(phone, demo_app)
    assert thief.get("/h/home").status_code == 200
    phone.post("/h/logout")
    assert thief.get("/h/home").status_code == 302  # sent to sign in
    posted = thief.post("/h/ask", data={"category": "goods", "what": "棉被", "quantity": "1"})
    assert posted.status_code == 302 and "/h/ask" not in posted.location


def test_staff_session_ends_after_the_idle_timeout(demo_app: Flask) -> None:
    client = demo_app.test_client()
    _login(client, "donor")
    _age(client, 29 * 60)
    assert client.get("/donor/offers").status_code == 200  # 29 minutes: still signed in
    _age(client, 31 * 60)
    response = client.get("/donor/offers")
    assert response.status_code == 302 and "/login" in response.location
    assert client.get("/donor/offers").status_code == 302  # and stays signed out


def test_a_30_day_old_cookie_does_not_work(demo_app: Flask) -> None:
    client = demo_app.test_client()
    _login(client, "donor")
    old = _copy(client, demo_app)
    _age(old, 30 * 24 * 3600, born_too=True)
    assert old.get("/donor/offers").status_code == 302
    # ...nor does a session used every few minutes past its lifetime (12 hours for staff).
    _login(client, "donor")
    with client.session_transaction() as session:
        session[BORN] = int(time.time() - 13 * 3600)
    assert client.get("/donor/offers").status_code == 302


def test_a_session_without_its_moments_is_not_signed_in(demo_app: Flask) -> None:
    client = demo_app.test_client()
    _login(client, "donor")
    with client.session_transaction() as session:
        del session[BORN], session[SEEN]
    assert client.get("/donor/offers").status_code == 302


def test_households_have_their_own_longer_idle_timeout(demo_app: Flask, auth: Any) -> None:
    auth.login("village")
    phone = activate(demo_app, register(auth.client))
    _age(phone, 3 * 3600)  # three hours: a staff session would be over
    assert phone.get("/h/home").status_code == 200
    _age(phone, 25 * 3600)
    assert phone.get("/h/home").status_code == 302


def test_idle_timeout_is_a_setting(demo_app: Flask) -> None:
    demo_app.config["DUIJIE_IDLE_MINUTES"] = 5
    client = demo_app.test_client()
    _login(client, "donor")
    _age(client, 6 * 60)
    assert client.get("/donor/offers").status_code == 302


def test_pages_and_json_for_signed_in_users_are_not_stored(demo_app: Flask, auth: Any) -> None:
    from web.extensions import db
    from web.models import User
    from web.services.tokens import create_token

    auth.login("village")
    for url in ("/village/households", "/account"):
        response = auth.client.get(url)
        assert response.status_code == 200, url
        assert response.headers.get("Cache-Control") == "no-store", url
    with demo_app.app_context():
        user = db.session.query(User).filter_by(username="township").one()
        secret = create_token(db.session, user, "probe").secret
        db.session.commit()  # services flush; the caller commits
    api = demo_app.test_client().get("/api/v1/needs", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200 and api.headers.get("Cache-Control") == "no-store"
    # Public pages carry no personal data and may be cached.
    public = demo_app.test_client().get("/villages")
    assert "no-store" not in public.headers.get("Cache-Control", "")
