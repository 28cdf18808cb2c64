"""A household's limits hold when its phone sends several requests at once (a double tap, a
retry on a slow line): the open-request cap is counted under the household's row lock."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.web.households.test_household import (  # noqa: F401  (committee: a fixture)
    activate,
    ask,
    committee,
    register,
    request_ids,
)
from tests.web.week.test_concurrency import race
from web.extensions import db
from web.models import HelpRequest, HouseholdEvent, Need, User
from web.services import households as service
from web.settings import invitation_key


def test_requests_sent_at_once_never_pass_the_open_request_cap(
    demo_app: Flask, committee: Any  # noqa: F811  (the fixture)
) -> None:
    slip = register(committee)
    activate(demo_app, slip)
    url = str(demo_app.config["SQLALCHEMY_DATABASE_URI"])
    racers = 8

    def asking(index: int) -> Any:
        def op(session: Session, _actor: User) -> int:
            with demo_app.app_context():
                made = service.submit_request(session, slip.number, "goods", f"棉被{index}", 1)
                session.commit()  # services flush; the caller commits
                return made.id

        return op

    outcomes = race(
        url,
        [("ask", "village", asking(i)) for i in range(racers)],
        refusals=(service.HouseholdError,),
    )

    results = Counter(o.result for o in outcomes)
    assert results == {"ok": service.MAX_OPEN_REQUESTS, "HouseholdError": racers - 3}, outcomes
    assert len(request_ids(demo_app, slip.number)) == service.MAX_OPEN_REQUESTS
    with demo_app.app_context():
        assert service.open_request_count(db.session, slip.number) == service.MAX_OPEN_REQUESTS
        db.session.remove()


def test_one_invitation_used_by_two_phones_at_once_sets_one_pin(
    demo_app: Flask, committee: Any  # noqa: F811  (the fixture)
) -> None:
    slip = register(committee)
    with demo_app.app_context():
        invite_hash = service.code_hash(service.normalise_code(slip.code), invitation_key())
        db.session.remove()
    url = str(demo_app.config["SQLALCHEMY_DATABASE_URI"])
    pins = ["2580", "3691", "4702", "5813"]

    def setting(pin: str) -> Any:
        def op(session: Session, _actor: User) -> str:
            with demo_app.app_context():
                service.set_pin(session, slip.number, invite_hash, pin)
                session.commit()  # services flush; the caller commits
                return pin

        return op

    outcomes = race(
        url, [("pin", "village", setting(p)) for p in pins], refusals=(service.HouseholdError,)
    )

    winners = [o.value for o in outcomes if o.result == "ok"]
    assert len(winners) == 1, outcomes
    for pin in pins:
        answer = demo_app.test_client().post(
            "/h/login", data={"number": str(slip.number), "pin": pin}
        )
        signed_in = answer.status_code == 302 and answer.location.endswith("/h/home")
        assert signed_in == (pin == winners[0]), pin


def test_accepting_twice_and_withdrawing_at_once_leave_one_decision(
    demo_app: Flask, committee: Any  # noqa: F811  (the fixture)
) -> None:
    """A double click on 受理, a second committee member, and the household's own withdrawal, all
    at the same moment: the request is accepted at most once (one micro-wish), withdrawn at most
    once, and a withdrawal that comes after the acceptance withdraws the wish with it."""
    slip = register(committee)
    phone = activate(demo_app, slip)
    ask(phone, "过冬的棉被")
    (request_id,) = request_ids(demo_app, slip.number)
    url = str(demo_app.config["SQLALCHEMY_DATABASE_URI"])

    def accepting(session: Session, actor: User) -> str:
        with demo_app.app_context():
            request = session.get(HelpRequest, request_id)
            assert request is not None
            service.accept(session, actor, request, title="过冬棉被", quantity=2, value=300)
            session.commit()  # services flush; the caller commits
            return "accepted"

    def withdrawing(session: Session, _actor: User) -> str:
        with demo_app.app_context():
            service.withdraw_request(session, slip.number, request_id)
            session.commit()  # services flush; the caller commits
            return "withdrawn"

    outcomes = race(
        url,
        [("accept", "village", accepting)] * 3 + [("withdraw", "village", withdrawing)] * 2,
        refusals=(service.HouseholdError,),
    )

    done = Counter(o.value for o in outcomes if o.result == "ok")
    assert done["accepted"] <= 1 and done["withdrawn"] <= 1 and done, outcomes
    with demo_app.app_context():
        request = db.session.get(HelpRequest, request_id)
        assert request is not None
        assert request.status == ("withdrawn" if done["withdrawn"] else "accepted")
        wishes = db.session.scalars(select(Need).where(Need.household_id == slip.number)).all()
        assert len(wishes) == done["accepted"], [(w.id, w.status) for w in wishes]
        if wishes:
            assert wishes[0].status == ("withdrawn" if done["withdrawn"] else "open")
        db.session.remove()


def test_a_double_tap_on_arrived_is_told_to_the_committee_once(
    demo_app: Flask, committee: Any  # noqa: F811  (the fixture)
) -> None:
    from tests.web.households.test_household import pledge

    slip = register(committee)
    phone = activate(demo_app, slip)
    with demo_app.app_context():
        need = db.session.scalars(
            select(Need)
            .where(
                Need.village_id
                == select(User.village_id).where(User.username == "village").scalar_subquery(),
                Need.household_id.is_(None),
                Need.category_code.in_(service.HOUSEHOLD_CATEGORIES),
                Need.status == "open",
            )
            .order_by(Need.id)
        ).first()
        assert need is not None
        need.verification, need_id = "verified", need.id
        title, category = need.title, need.category_code
        db.session.commit()
        db.session.remove()
    ask(phone, title, category=category)  # the household asks for what the village already has
    (request_id,) = request_ids(demo_app, slip.number)
    committee.post(f"/village/requests/{request_id}/merge", data={"need": str(need_id)})
    pledge(demo_app, need_id)

    def confirming(session: Session, _actor: User) -> str:
        with demo_app.app_context():
            service.confirm_arrival(session, slip.number, request_id)
            session.commit()  # services flush; the caller commits
            return "told"

    outcomes = race(
        str(demo_app.config["SQLALCHEMY_DATABASE_URI"]),
        [("arrived", "village", confirming)] * 3,
        refusals=(service.HouseholdError,),
    )

    assert Counter(o.result for o in outcomes) == {"ok": 1, "HouseholdError": 2}, outcomes
    with demo_app.app_context():
        told = db.session.scalars(
            select(HouseholdEvent).where(
                HouseholdEvent.household_id == slip.number,
                HouseholdEvent.kind == "arrival_reported",
            )
        ).all()
        assert len(told) == 1
        db.session.remove()
