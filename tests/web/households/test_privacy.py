"""A household's name and phone never reach a log, a public page or a public export.

Every household gets a distinctive name and phone; a whole journey runs (a committee registers a
household, the household signs in and asks for help, the committee accepts, everyone opens every
page) with every log record of every logger captured, SQL included; then the public pages and
the public API are read as anonymous.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.web.site.test_access_matrix import MATRIX, ROLES, _request, _url, build_world, routes
from web.extensions import db
from web.models import HelpRequest, Household, User, Village
from web.services import households as household_service
from web.settings import invitation_key

NEW_NAME, NEW_PHONE = "隐私甲乙丙", "13987650001"
PUBLIC_PAGES = (
    "/",
    "/villages",
    "/public",
    "/dashboard",
    "/healthz",
    "/gaps",
    "/wishes",
    "/campaigns",
    "/exit-list",
)
PUBLIC_EXPORTS = ("/api/v1/totals", "/api/v1/villages", "/api/v1/categories")


def _mark_every_household() -> list[str]:
    """Give each household a name and phone found nowhere else; return them all."""
    secrets = []
    for household in db.session.scalars(select(Household)):
        household.display_name = f"隐{household.id}私户"
        household.phone = f"1390{household.id:07d}"
        secrets += [household.display_name, household.phone]
    db.session.commit()
    return secrets


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


@pytest.fixture
def capture(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.DEBUG)  # everything, SQL statements included
    for name in ("sqlalchemy.engine", "werkzeug", "flask", "web"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield caplog
    for name in ("sqlalchemy.engine", "werkzeug", "flask", "web"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def _log_text(records: list[logging.LogRecord]) -> str:
    parts = []
    formatter = logging.Formatter()
    for record in records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
    return "\n".join(parts)


def _journey(app: Flask) -> None:
    """A committee registers a household; it signs in, asks for help; the committee accepts."""
    committee = app.test_client()
    committee.post("/login", data={"username": "village", "password": "demo-village-2026"})
    done = committee.post(
        "/village/households/new",
        data={"display_name": NEW_NAME, "people": "3", "phone": NEW_PHONE},
    )
    assert done.status_code in (200, 302)
    with app.app_context():
        household = db.session.scalars(select(Household).where(Household.phone == NEW_PHONE)).one()
        actor = db.session.scalars(select(User).where(User.username == "village")).one()
        code = household_service.invite(db.session, actor, household, key=invitation_key())
        db.session.commit()  # services flush; the caller commits
        household_id = household.id
    assert committee.get(f"/village/households/{household_id}").status_code == 200
    assert committee.get(f"/village/households/{household_id}/slip").status_code == 200
    member = app.test_client()
    member.post("/h/invite", data={"code": code})
    member.post("/h/pin", data={"pin": "482916", "pin2": "482916"})
    home = member.get("/h/home")
    assert home.status_code == 200, "the household could not sign in"
    member.post("/h/ask", data={"category": "goods", "what": "过冬棉被", "quantity": "2"})
    with app.app_context():
        asked = db.session.scalars(
            select(HelpRequest).where(HelpRequest.household_id == household_id)
        ).one()
        request_id = asked.id
    committee.get("/village/requests")
    committee.get(f"/village/requests/{request_id}")
    committee.post(
        f"/village/requests/{request_id}/accept",
        data={"title": "过冬棉被", "quantity": "2", "value": "300"},
    )
    member.get(f"/h/requests/{request_id}")
    # A failed sign-in and a bad code are logged nowhere with the household's data either.
    app.test_client().post("/h/login", data={"number": str(household_id), "pin": "000000"})
    app.test_client().post("/h/invite", data={"code": "WRONG-CODE"})


def test_household_data_stays_out_of_logs_public_pages_and_exports(
    demo_app: Flask, capture: pytest.LogCaptureFixture
) -> None:
    with demo_app.app_context():
        secrets = _mark_every_household()
        world = build_world()
        secrets += [NEW_NAME, NEW_PHONE]
    _journey(demo_app)
    # Everyone opens every page they may.
    client = demo_app.test_client()
    opened = 0
    for rule, method in routes(demo_app):
        if method != "GET" or rule.rule.startswith("/static"):
            continue
        for role in ROLES:
            if MATRIX[(rule.endpoint, method)][role].startswith("ok"):
                url = _url(rule, {k: v[0] for k, v in world.ids[role].items()})
                _request(client, world, role, method, url, rule.endpoint)
                opened += 1
    assert opened > 100
    records = capture.records
    logged = _log_text(records)
    assert len(records) > 100, "nothing was logged: the capture proves nothing"
    assert "SELECT" in logged or "INSERT" in logged, "SQL logging was not captured"
    leaked = [
        f"{r.name} {r.levelname}: {r.getMessage()[:300]}"
        for r in records
        if _leaks(r.getMessage(), secrets)
    ]
    assert not leaked, "household data in the logs:\n" + "\n".join(leaked[:10])

    anonymous = demo_app.test_client()
    for url in PUBLIC_PAGES + PUBLIC_EXPORTS:
        response = anonymous.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        assert not _leaks(response.get_data(as_text=True), secrets), url
    with demo_app.app_context():
        village_ids = [h.village_id for h in db.session.scalars(select(Household).limit(20))]
        codes = {v.id: v.code for v in db.session.scalars(select(Village))}
    for village_id in set(village_ids):
        body = anonymous.get(f"/api/v1/villages/{village_id}").get_data(as_text=True)
        assert not _leaks(body, secrets), f"/api/v1/villages/{village_id}"
        page = anonymous.get(f"/villages/{codes[village_id]}").get_data(as_text=True)
        assert not _leaks(page, secrets), f"/villages/{codes[village_id]}"


def test_the_committee_itself_sees_its_households(demo_app: Flask) -> None:
    """The check above could pass because the names show nowhere at all: they do show here."""
    with demo_app.app_context():
        secrets = _mark_every_household()
        village = db.session.scalars(select(User).where(User.username == "village")).one()
        own = [
            h.display_name
            for h in db.session.scalars(
                select(Household).where(Household.village_id == village.village_id)
            )
        ]
    assert secrets and own
    client = demo_app.test_client()
    client.post("/login", data={"username": "village", "password": "demo-village-2026"})
    page = client.get("/village/households").get_data(as_text=True)
    assert any(name in page for name in own)


def test_a_logged_database_error_carries_no_household_values(demo_db: Flask) -> None:
    """SQLite's errors hide the parameters; PostgreSQL's DETAIL names the refused row's values,
    which the log filter removes before a 500 (or a worker's failure) is logged."""
    village_id = db.session.scalars(select(Household.village_id)).first()
    db.session.add(
        Household(village_id=village_id, display_name=NEW_NAME, phone=NEW_PHONE, people=0)
    )
    with pytest.raises(IntegrityError) as refused:
        db.session.commit()
    db.session.rollback()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # on the loggers themselves: no reliance on root
    loggers = [demo_db.logger, logging.getLogger("rq.worker")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        demo_db.logger.error("Exception on /village/households/new [POST]", exc_info=refused.value)
        logging.getLogger("rq.worker").error("job failed: %s", refused.value)
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    logged = stream.getvalue()
    assert "people_positive" in logged or "CHECK" in logged  # the error is there...
    assert NEW_PHONE not in logged and NEW_NAME not in logged  # ...its values are not
    if db.engine.dialect.name == "sqlite":
        assert NEW_PHONE not in str(refused.value)  # hide_parameters


def test_redact_keeps_the_reason_and_drops_the_values() -> None:
    from web.security import redact

    detail = (
        'new row for relation "household" violates check constraint "ck_household_people"\n'
        "DETAIL:  Failing row contains (7, 隐私甲乙丙, 0, 13987650001, null).\n"
        "DETAIL:  Key (phone)=(13987650001) already exists."
    )
    cleaned = redact(detail)
    assert "ck_household_people" in cleaned and "Key (phone)=(value hidden)" in cleaned
    assert "13987650001" not in cleaned and "隐私甲乙丙" not in cleaned
