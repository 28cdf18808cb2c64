"""A list of one's active sessions, with "sign out everywhere (else)" (issue 24, ASVS 3.3.4)."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from web.extensions import db
from web.models import SignIn, User
from web.models.base import utcnow
from web.services.retention import prune
from web.sessions import SEEN

PHONE = (
    "Mozilla/5.0 (Linux; Android 13; V2219A) AppleWebKit/537.36 Chrome/118.0 Mobile Safari/537.36"
)
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"


def _browser(app: Flask, agent: str, username: str = "donor") -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    signed = client.post("/login", data={"username": username, "password": f"demo-{username}-2026"})
    assert signed.status_code == 302
    return client


def _rows(app: Flask, username: str = "donor") -> list[tuple[str, str]]:
    with app.app_context():
        found = db.session.execute(
            select(SignIn.agent, SignIn.address)
            .join(User, User.id == SignIn.user_id)
            .where(User.username == username)
            .order_by(SignIn.id)
        ).all()
        db.session.remove()
    return [tuple(row) for row in found]  # type: ignore[misc]


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/donor/offers").status_code == 200


def test_the_account_page_lists_ones_sign_ins_with_this_one_marked(demo_app: Flask) -> None:
    phone = _browser(demo_app, PHONE)
    desk = _browser(demo_app, DESKTOP)
    _browser(demo_app, DESKTOP, "village")  # another account's: never listed
    assert _rows(demo_app) == [
        ("Chrome · Android", "127.0.0.1"),
        ("Firefox · Windows", "127.0.0.1"),
    ]
    page = phone.get("/account").text
    assert "Chrome · Android" in page and "Firefox · Windows" in page
    assert page.count('<tr class="current">') == 1
    current = re.search(r'<tr class="current">\s*<td>([^<]*)', page)
    assert current is not None and current.group(1).strip() == "Chrome · Android"
    assert "本浏览器" in page and "在其他所有地方退出" in page
    english = desk.get("/account?lang=en").text
    assert "Where you are signed in" in english and "Sign out everywhere else" in english
    assert re.search(r'<tr class="current">\s*<td>Firefox · Windows', english)


def test_sign_out_everywhere_else_ends_the_others_and_keeps_this_one(demo_app: Flask) -> None:
    phone = _browser(demo_app, PHONE)
    desk = _browser(demo_app, DESKTOP)
    stolen = demo_app.test_client()  # a copy of the desktop's cookie
    cookie = desk.get_cookie("session")
    assert cookie is not None
    stolen.set_cookie("session", cookie.value)
    assert _signed_in(phone) and _signed_in(desk) and _signed_in(stolen)

    answer = phone.post("/account/sessions/others", follow_redirects=True)
    assert answer.status_code == 200 and "其他会话已退出" in answer.text
    assert _signed_in(phone)  # this browser stays
    assert not _signed_in(desk) and not _signed_in(stolen)
    assert _rows(demo_app) == [("Chrome · Android", "127.0.0.1")]  # the same row, kept
    assert phone.get("/account").text.count("<tr") == 2  # the header and this browser


def test_sign_out_everywhere_ends_every_session_this_one_too(demo_app: Flask) -> None:
    phone = _browser(demo_app, PHONE)
    desk = _browser(demo_app, DESKTOP)
    answer = desk.post("/account/sessions/all")
    assert answer.status_code == 302 and answer.location.endswith("/")
    assert not _signed_in(phone) and not _signed_in(desk)
    assert _rows(demo_app) == []
    again = _browser(demo_app, PHONE)  # signing in again works, as a new row
    assert _signed_in(again) and len(_rows(demo_app)) == 1


def test_sign_out_and_password_change_end_the_rows_too(demo_app: Flask) -> None:
    phone = _browser(demo_app, PHONE)
    _browser(demo_app, DESKTOP)
    phone.post("/logout")
    assert _rows(demo_app) == []


def test_last_seen_is_written_at_most_once_a_minute(demo_app: Flask) -> None:
    phone = _browser(demo_app, PHONE)

    def seen_at() -> Any:
        with demo_app.app_context():
            moment = db.session.scalar(select(SignIn.seen_at))
            db.session.remove()
        return moment

    first = seen_at()
    assert _signed_in(phone) and seen_at() == first  # within the minute: not rewritten
    with phone.session_transaction() as session:
        session[SEEN] = int(time.time() - 120)
    assert _signed_in(phone) and seen_at() > first


def test_sign_ins_unused_past_the_retention_are_pruned(demo_app: Flask) -> None:
    _browser(demo_app, PHONE)
    _browser(demo_app, DESKTOP)
    with demo_app.app_context():
        old = db.session.scalars(select(SignIn).order_by(SignIn.id)).first()
        assert old is not None
        old.seen_at = utcnow() - timedelta(days=3)
        db.session.commit()
        assert prune(db.session, dry_run=True)["sign_in"] == 1
        assert prune(db.session)["sign_in"] == 1
        db.session.commit()
        assert db.session.scalar(select(func.count(SignIn.id))) == 1
        db.session.remove()
