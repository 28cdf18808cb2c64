"""The API's rate limit is counted outside the database: reads never write, and every answer
says where the caller stands (RateLimit-* headers)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from tests.web.test_api_helpers import Api
from web.extensions import db
from web.models import ThrottleEvent


@pytest.fixture
def api(demo_app: Flask) -> Api:
    return Api(demo_app)


def _writes(app: Flask, calls: Any) -> list[str]:
    """The INSERT/UPDATE/DELETE statements and commits the database saw while `calls` ran."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def statement(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if sql.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.append(sql.split("\n", 1)[0])

    def commit(conn: Any) -> None:
        seen.append("COMMIT")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        calls()
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    return seen


def test_reads_write_nothing_to_the_database_without_redis(api: Api, demo_app: Flask) -> None:
    assert not demo_app.config.get("DUIJIE_REDIS_URL")
    api.get("auditor", "/me")  # the token's first use is noted (at most once a minute)

    def reads() -> None:
        for path in ("/villages", "/totals", "/categories", "/villages", "/me"):
            assert api.get("auditor", path).status_code == 200
        for path in ("/villages", "/totals"):
            assert api.get(None, path).status_code == 200

    assert _writes(demo_app, reads) == []
    with demo_app.app_context():
        assert db.session.scalar(select(func.count(ThrottleEvent.id))) == 0


def test_every_answer_carries_ratelimit_headers(api: Api, demo_app: Flask) -> None:
    demo_app.config.update(DUIJIE_API_RATE_LIMIT=3, DUIJIE_API_RATE_WINDOW=3600)
    remaining = []
    for _ in range(3):
        answer = api.get("auditor", "/me")
        assert answer.status_code == 200
        assert answer.headers["RateLimit-Limit"] == "3"
        assert answer.headers["RateLimit-Policy"] == "3;w=3600"
        assert 0 < int(answer.headers["RateLimit-Reset"]) <= 3600
        remaining.append(int(answer.headers["RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]
    refused = api.get("auditor", "/me")
    assert refused.status_code == 429
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert int(refused.headers["Retry-After"]) == int(refused.headers["RateLimit-Reset"])
    # Errors after the limit carry them too: an unknown village, counted as the others.
    other = api.get("admin", "/villages/999999")
    assert other.status_code == 404 and other.headers["RateLimit-Remaining"] == "2"


def test_a_new_window_starts_a_new_count(api: Api, demo_app: Flask, monkeypatch: Any) -> None:
    import web.api.access as access

    clock = [1_000_000.0]
    monkeypatch.setattr(access.time, "time", lambda: clock[0])
    demo_app.config.update(DUIJIE_API_RATE_LIMIT=1, DUIJIE_API_RATE_WINDOW=60)
    assert api.get("donor", "/me").status_code == 200
    assert api.get("donor", "/me").status_code == 429
    clock[0] += 60
    assert api.get("donor", "/me").status_code == 200
    store = demo_app.extensions["duijie_api_counts"]
    assert len([key for key in store if key != "lock"]) == 1  # the past window was dropped


def test_reads_carry_an_etag_from_the_data_version(api: Api, demo_app: Flask) -> None:
    first = api.get("admin", "/villages")
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('"')
    assert first.headers["Cache-Control"] == "no-store"  # a token's answer: never kept
    again = api.get("admin", "/villages", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == tag
    # Another caller, another language or another query: another tag.
    assert api.get(None, "/villages").headers["ETag"] != tag
    assert api.get(None, "/villages").headers["Cache-Control"] == "no-cache"
    assert api.get("admin", "/villages", query_string={"page": 2}).headers["ETag"] != tag
    # A change to the data moves the tag: the old one gets the whole answer again.
    made = api.post("admin", "/needs", json={})  # refused (an admin posts no need): no change
    assert made.status_code >= 400
    assert api.get("admin", "/villages", headers={"If-None-Match": tag}).status_code == 304
    with demo_app.app_context():
        from web.models import Village

        village = db.session.scalars(select(Village).order_by(Village.id)).first()
        assert village is not None
        village.name = village.name + "村"
        db.session.commit()
    changed = api.get("admin", "/villages", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    # Writes carry none.
    assert "ETag" not in made.headers
