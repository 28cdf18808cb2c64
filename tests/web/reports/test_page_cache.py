"""Cached pages: served again only to the same caller while nothing they show has changed."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.web.households.test_household import other_committee
from tests.web.test_api_helpers import Api
from web.extensions import db
from web.models import Need, User


def sign_in(app: Flask, username: str, password: str | None = None) -> FlaskClient:
    client = app.test_client()
    answer = client.post(
        "/login", data={"username": username, "password": password or f"demo-{username}-2026"}
    )
    assert answer.status_code == 302, answer.text
    return client


def twice(client: FlaskClient, path: str) -> tuple[Any, Any]:
    """The page fetched until it is served from the cache: (the render that was kept, the hit).

    A first render also makes the session's form token, so it is not kept; the next one is.
    """
    kept = client.get(path)
    for _ in range(3):
        again = client.get(path)
        if again.headers.get("X-Page-Cache") == "hit":
            return kept, again
        kept = again
    raise AssertionError(f"{path} was never served from the cache")


def need_only_they_have(app: Flask, username: str) -> str:
    """Post a need in the village of `username`'s committee; its title."""
    title = "只有另一个村才有的需求"
    with app.app_context():
        village = db.session.scalar(select(User.village_id).where(User.username == username))
        db.session.add(
            Need(
                village_id=village,
                category_code="goods",
                title=title,
                quantity=3,
                deadline=date(2027, 1, 1),
            )
        )
        db.session.commit()
        db.session.remove()
    return title


def test_each_committee_is_served_its_own_page_never_another_villages(demo_app: Flask) -> None:
    theirs = other_committee(demo_app)
    their_need = need_only_they_have(demo_app, "village-other")
    ours = sign_in(demo_app, "village")
    first, cached = twice(ours, "/village/needs")
    assert their_need not in first.text and cached.data == first.data

    seen = theirs.get("/village/needs")
    assert seen.headers["X-Page-Cache"] == "miss", "another committee never gets our cached page"
    assert their_need in seen.text and seen.data != first.data
    _, cached_theirs = twice(theirs, "/village/needs")
    assert their_need in cached_theirs.text
    assert their_need not in ours.get("/village/needs").text


def test_a_change_made_elsewhere_shows_at_the_next_request(demo_app: Flask) -> None:
    committee = sign_in(demo_app, "village")
    first, _ = twice(committee, "/village/needs")
    with demo_app.app_context():
        village_id = db.session.scalar(select(User.village_id).where(User.username == "village"))
        db.session.remove()
        # Another process (another gunicorn worker, a job) changes one of the village's needs.
        with Session(db.engine) as other, other.begin():
            need = other.scalars(select(Need).where(Need.village_id == village_id)).first()
            assert need is not None and "改过的标题" not in first.text
            need.title = "改过的标题"
    changed = committee.get("/village/needs")
    assert changed.headers["X-Page-Cache"] == "miss" and "改过的标题" in changed.text


def test_a_flashed_message_is_shown_once_and_not_kept_in_the_cache(demo_app: Flask) -> None:
    committee = sign_in(demo_app, "village")
    twice(committee, "/village/needs")
    with committee.session_transaction() as session:
        session["_flashes"] = [("success", "需求已保存：一次性的提示")]
    shown = committee.get("/village/needs")
    assert "一次性的提示" in shown.text and shown.headers["X-Page-Cache"] == "off"
    later = committee.get("/village/needs")
    assert "一次性的提示" not in later.text and later.headers["X-Page-Cache"] == "hit"


def test_a_suspended_account_is_not_served_its_cached_page(demo_app: Flask) -> None:
    auditor = sign_in(demo_app, "auditor")
    twice(auditor, "/ledger")
    with demo_app.app_context():
        user = db.session.scalar(select(User).where(User.username == "auditor"))
        assert user is not None
        user.active = False
        db.session.commit()
        db.session.remove()
    answer = auditor.get("/ledger")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_language_is_part_of_what_is_cached(demo_app: Flask) -> None:
    visitor = demo_app.test_client()
    chinese, _ = twice(visitor, "/villages")
    assert "贫困村" in chinese.text
    english = visitor.get("/villages?lang=en")
    assert english.headers["X-Page-Cache"] == "miss"  # it set the language: not stored
    assert "Villages" in english.text and english.data != chinese.data
    again = visitor.get("/villages")  # the session now asks for English
    assert again.headers["X-Page-Cache"] in ("miss", "hit") and again.data != chinese.data
    assert '<html lang="en">' in again.text


def test_api_lists_are_cached_per_caller_and_follow_changes(demo_app: Flask) -> None:
    api = Api(demo_app)
    api.token("donor"), api.token("donor-ngo")  # both tokens exist before anything is cached
    first = api.get("donor", "/offers?per_page=500")
    assert first.status_code == 200
    again = api.get("donor", "/offers?per_page=500")
    assert again.headers["X-Page-Cache"] == "hit" and again.json == first.json
    ngo = api.get("donor-ngo", "/offers?per_page=500")
    assert ngo.headers["X-Page-Cache"] == "miss"
    mine = {o["id"] for o in first.json["items"]}
    theirs = {o["id"] for o in ngo.json["items"]}
    assert mine and theirs and not mine & theirs, "each organization sees its own offers"

    offer = next(o for o in first.json["items"] if o["status"] == "open" and not o["allocated"])
    withdrawn = api.post("donor", f"/offers/{offer['id']}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    after = api.get("donor", "/offers?per_page=500")
    assert after.headers["X-Page-Cache"] == "miss"
    status = {o["id"]: o["status"] for o in after.json["items"]}
    assert status[offer["id"]] == "withdrawn"


def test_switched_off_nothing_is_cached(demo_app: Flask) -> None:
    demo_app.config["DUIJIE_PAGE_CACHE"] = False
    visitor = demo_app.test_client()
    answers = [visitor.get("/villages").headers["X-Page-Cache"] for _ in range(3)]
    assert answers == ["off", "off", "off"]


def test_duijie_page_cache_0_turns_it_off(monkeypatch: Any, tmp_path: Any) -> None:
    from web.config import Settings

    monkeypatch.setenv("DUIJIE_SECRET_KEY", "page-cache-test")
    monkeypatch.delenv("DUIJIE_PAGE_CACHE", raising=False)
    assert Settings.from_env(tmp_path).flask_config()["DUIJIE_PAGE_CACHE"] is True
    monkeypatch.setenv("DUIJIE_PAGE_CACHE", "0")
    assert Settings.from_env(tmp_path).flask_config()["DUIJIE_PAGE_CACHE"] is False


def test_a_cached_page_travels_gzipped_to_clients_that_accept_it(demo_app: Flask) -> None:
    import gzip

    admin = sign_in(demo_app, "admin")
    plain, _ = twice(admin, "/dashboard")
    packed = admin.get("/dashboard", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["X-Page-Cache"] == "hit" and packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) * 4 < len(plain.data), "the map page shrinks to under a quarter"
    unpacked = admin.get("/dashboard", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in unpacked.headers and unpacked.data == plain.data


def test_a_cached_api_answer_gzipped_is_the_same_json(demo_app: Flask) -> None:
    import gzip
    import json

    api = Api(demo_app)
    plain = api.get("donor", "/offers?per_page=500")
    packed = api.get("donor", "/offers?per_page=500", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["X-Page-Cache"] == "hit" and packed.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.data)) == plain.get_json()
