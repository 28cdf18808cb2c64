"""Personal access tokens: the settings page, the service and `duijie token create`."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from web.extensions import db
from web.models import ApiToken, User
from web.services import tokens


def test_token_is_stored_hashed_and_shown_once(demo_app: Flask) -> None:
    with demo_app.app_context():
        user = db.session.scalar(select(User).where(User.username == "auditor"))
        assert user is not None
        made = tokens.create_token(db.session, user, "报表脚本")
        db.session.commit()  # services flush; the caller commits
        stored = db.session.get(ApiToken, made.token.id)
        assert stored is not None
        assert made.secret not in (stored.token_hash, stored.prefix)
        assert stored.token_hash == tokens.digest(made.secret)
        assert made.secret.startswith(stored.prefix)
        assert tokens.authenticate(db.session, made.secret) == stored
        assert tokens.authenticate(db.session, made.secret + "x") is None
        tokens.revoke_token(db.session, user, stored.id)
        db.session.commit()  # services flush; the caller commits
        assert tokens.authenticate(db.session, made.secret) is None
        db.session.remove()


def test_settings_page_creates_lists_and_revokes_tokens(client: FlaskClient, auth: object) -> None:
    client.post("/login", data={"username": "donor", "password": "demo-donor-2026"})
    page = client.get("/account/tokens")
    assert page.status_code == 200 and "API" in page.text
    made = client.post("/account/tokens", data={"name": "ERP 对接"})
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    secret = re.search(r"dj_[A-Za-z0-9_-]{20,}", made.text)
    assert secret is not None
    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret.group(0)}"})
    assert answer.get_json()["username"] == "donor"
    listed = client.get("/account/tokens").text
    assert "ERP 对接" in listed and secret.group(0) not in listed, "shown once only"
    token_id = re.search(r"/account/tokens/(\d+)/revoke", listed)
    assert token_id is not None
    client.post(f"/account/tokens/{token_id.group(1)}/revoke")
    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret.group(0)}"})
    assert answer.status_code == 401
    assert client.post("/account/tokens", data={"name": ""}).status_code == 400


def test_a_user_cannot_revoke_anothers_token(client: FlaskClient, demo_app: Flask) -> None:
    with demo_app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        token_id = tokens.create_token(db.session, admin, "ops").token.id
        db.session.commit()  # services flush; the caller commits
        db.session.remove()
    client.post("/login", data={"username": "donor", "password": "demo-donor-2026"})
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert client.get("/account/tokens").status_code == 200
    client.post("/logout")
    assert client.get("/account/tokens").status_code in (302, 401)


def test_cli_prints_a_working_token_on_its_last_line(demo_app: Flask) -> None:
    runner = demo_app.test_cli_runner()
    result = runner.invoke(args=["token", "create", "admin", "--name", "nightly"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip().splitlines()[-1]
    answer = demo_app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert answer.get_json()["role"] == "admin"
    missing = runner.invoke(args=["token", "create", "nobody"])
    assert missing.exit_code != 0 and "nobody" in missing.output


def test_a_read_token_reads_and_is_refused_every_write(demo_app: Flask) -> None:
    with demo_app.app_context():
        donor = db.session.scalar(select(User).where(User.username == "donor"))
        assert donor is not None
        reader = tokens.create_token(db.session, donor, "dashboard", scope="read").secret
        db.session.commit()  # services flush; the caller commits
        writer = tokens.create_token(db.session, donor, "erp", scope="write").secret
        db.session.commit()  # services flush; the caller commits
        db.session.remove()
    client = demo_app.test_client()
    for secret in (reader, writer):
        auth = {"Authorization": f"Bearer {secret}"}
        assert client.get("/api/v1/offers", headers=auth).status_code == 200
    # An empty offer: the write token gets as far as the validation, the read token not.
    refused = client.post("/api/v1/offers", json={}, headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403 and "may only read" in refused.get_json()["detail"]
    checked = client.post("/api/v1/offers", json={}, headers={"Authorization": f"Bearer {writer}"})
    assert checked.status_code == 422


def test_a_token_stops_working_when_it_expires(demo_app: Flask) -> None:
    with demo_app.app_context():
        donor = db.session.scalar(select(User).where(User.username == "donor"))
        assert donor is not None
        made = tokens.create_token(db.session, donor, "short", days=1)
        db.session.commit()  # services flush; the caller commits
        ends = made.token.expires_at
        assert ends is not None
        for bad in ({"scope": "admin"}, {"days": 0}, {"days": 366}):
            try:
                tokens.create_token(db.session, donor, "bad", **bad)  # type: ignore[arg-type]
                db.session.commit()  # services flush; the caller commits
            except tokens.TokenError as error:
                assert error.code in ("scope", "days")
            else:
                raise AssertionError(f"{bad} was accepted")
        made.token.expires_at = made.token.created_at  # its day is over
        db.session.commit()
        db.session.remove()
    answer = demo_app.test_client().get(
        "/api/v1/me", headers={"Authorization": f"Bearer {made.secret}"}
    )
    assert answer.status_code == 401 and "expired" in answer.get_json()["detail"]


def test_settings_page_makes_read_tokens_by_default_and_says_when_they_expire(
    client: FlaskClient,
) -> None:
    client.post("/login", data={"username": "donor", "password": "demo-donor-2026"})
    page = client.post("/account/tokens", data={"name": "reports", "days": "30"})
    secret = re.search(r"dj_[A-Za-z0-9_-]{20,}", page.text)
    assert secret is not None
    listed = client.get("/account/tokens").text
    assert "只读" in listed and "到期" in listed
    refused = client.post(
        "/api/v1/offers", json={}, headers={"Authorization": f"Bearer {secret.group(0)}"}
    )
    assert refused.status_code == 403
    too_long = client.post("/account/tokens", data={"name": "x", "days": "400"})
    assert too_long.status_code == 400 and "365" in too_long.text


def test_reads_note_the_tokens_use_in_redis_and_prune_writes_it(
    demo_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = os.environ.get("DUIJIE_TEST_REDIS_URL")
    if not url:
        if os.environ.get("DUIJIE_REQUIRE_SERVICES"):
            pytest.fail("DUIJIE_REQUIRE_SERVICES is set but DUIJIE_TEST_REDIS_URL is not")
        pytest.skip("needs DUIJIE_TEST_REDIS_URL")
    import redis

    monkeypatch.setenv("DUIJIE_LANG", "en")
    connection = redis.Redis.from_url(url)
    connection.delete(tokens.USES_KEY)
    demo_app.config["DUIJIE_REDIS_URL"] = url
    with demo_app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        made = tokens.create_token(db.session, admin, "nightly", scope="read")
        db.session.commit()  # services flush; the caller commits
        token_id, token_hash = made.token.id, made.token.token_hash
        db.session.commit()
        db.session.remove()
    bearer = {"Authorization": f"Bearer {made.secret}"}
    try:
        before = datetime.now(UTC)
        assert demo_app.test_client().get("/api/v1/me", headers=bearer).status_code == 200
        with demo_app.app_context():
            stored = db.session.get(ApiToken, token_id)
            assert stored is not None and stored.last_used_at is None  # no write on a read
            pending = tokens.pending_uses(connection, [stored])
            shown = tokens.last_used(stored, pending)  # what the settings page shows
            assert shown is not None and shown >= before - timedelta(seconds=1)
            db.session.remove()
        assert connection.hexists(tokens.USES_KEY, token_hash)

        pruned = demo_app.test_cli_runner().invoke(args=["prune"])
        assert pruned.exit_code == 0, pruned.output
        assert "Wrote the last use of 1 API tokens" in pruned.output
        with demo_app.app_context():
            stored = db.session.get(ApiToken, token_id)
            assert stored is not None and stored.last_used_at is not None
            written = stored.last_used_at.replace(tzinfo=UTC)
            assert abs(written - shown) < timedelta(seconds=1)
            db.session.remove()
        assert not connection.exists(tokens.USES_KEY)  # moved and deleted once written
        assert not connection.keys(f"{tokens.USES_KEY}:flushing:*")

        # Redis down: the read still answers and notes the use in the database.
        demo_app.config["DUIJIE_REDIS_URL"] = "redis://127.0.0.1:1/0"
        demo_app.extensions.pop("duijie_api_redis", None)
        with demo_app.app_context():
            row = db.session.get(ApiToken, token_id)
            assert row is not None
            row.last_used_at = None
            db.session.commit()
            db.session.remove()
        assert demo_app.test_client().get("/api/v1/me", headers=bearer).status_code == 200
        with demo_app.app_context():
            stored = db.session.get(ApiToken, token_id)
            assert stored is not None and stored.last_used_at is not None
            db.session.remove()
    finally:
        demo_app.extensions.pop("duijie_api_redis", None)
        connection.delete(tokens.USES_KEY)
