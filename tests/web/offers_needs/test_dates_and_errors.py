"""Issue 23: an offer whose validity ended and a need whose deadline passed are refused when the
date is set (form, API, sheet), old rows stay usable, and the township's refusal of a rejection
without reason is shown at that need's reason field, naming it."""

# ruff: noqa: F811  (the api fixture is imported by name)

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.web.offers_needs.test_journey_donor import offer_form, own_offer_id
from tests.web.offers_needs.test_journey_village import need_form
from tests.web.test_api_helpers import Api, api  # noqa: F401  (fixture)
from web.extensions import db
from web.models import Need, Offer, User

PASSED = "2026-11-01"  # tests' today is 2026-11-23 (DUIJIE_TODAY, web.clock)


def _age_offer(app: Flask, offer_id: int) -> str:
    """Make an existing offer one whose validity ended (as an old row would be); its title."""
    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        assert offer is not None
        offer.valid_from, offer.valid_until = date(2026, 10, 1), date.fromisoformat(PASSED)
        title = offer.title
        db.session.commit()
        db.session.remove()
    return title


def test_an_offer_whose_validity_ended_is_refused_on_the_form_naming_the_field(
    client: FlaskClient, auth: Any
) -> None:
    auth.login("donor")
    page = client.post(
        "/donor/offers/new", data=offer_form(valid_from="2026-10-01", valid_until=PASSED)
    )
    assert page.status_code == 200  # shown again, nothing saved
    assert "有效期止：2026-11-01 已经过去（今天是 2026-11-23）" in page.text
    client.get("/villages?lang=en")
    page = client.post(
        "/donor/offers/new", data=offer_form(valid_from="2026-10-01", valid_until=PASSED)
    )
    assert "Valid until: 2026-11-01 has already passed (today is 2026-11-23)" in page.text


def test_an_old_offer_stays_editable_and_withdrawable_while_its_date_is_kept(
    client: FlaskClient, auth: Any, demo_app: Flask, api: Api
) -> None:
    offer_id = own_offer_id(demo_app, "donor")
    title = _age_offer(demo_app, offer_id)
    auth.login("donor")
    listed = client.get("/donor/offers").text
    assert title in listed and PASSED in listed  # still shown, with its date
    kept = offer_form(title="旧供给改标题", valid_from="2026-10-01", valid_until=PASSED,
                      dispatch_lat="", dispatch_lon="")  # fmt: skip
    saved = client.post(f"/donor/offers/{offer_id}/edit", data=kept, follow_redirects=True)
    assert "旧供给改标题" in saved.text and "已经过去" not in saved.text
    moved = offer_form(valid_from="2026-10-01", valid_until="2026-11-20")  # another past day
    refused = client.post(f"/donor/offers/{offer_id}/edit", data=moved)
    assert "有效期止：2026-11-20 已经过去" in refused.text
    # The API: a change that leaves the date alone passes; setting a past date is a 422.
    assert api.patch("donor", f"/offers/{offer_id}", {"title": "接口改标题"}).status_code == 200
    answer = api.patch("donor", f"/offers/{offer_id}", {"valid_until": "2026-11-20"})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.get_json()["errors"]] == ["valid_until"]
    withdrawn = client.post(
        f"/donor/offers/{offer_id}/withdraw", data={"confirm": "yes"}, follow_redirects=True
    )
    assert "已撤回" in withdrawn.text


def test_the_api_refuses_a_new_offer_and_need_with_a_past_date(api: Api) -> None:
    offer = {"category": "goods", "title": "冬季棉被", "quantity": 200, "min_lot": 20,
             "items": ["goods.living.quilts"], "valid_from": "2026-10-01",
             "valid_until": PASSED}  # fmt: skip
    answer = api.post("donor", "/offers", offer)
    assert answer.status_code == 422, answer.get_json()
    (error,) = answer.get_json()["errors"]
    assert error["field"] == "valid_until" and "2026-11-01 has already passed" in error["message"]
    need = {"category": "goods", "title": "课桌椅", "quantity": 20,
            "item": "goods.school.desks", "deadline": PASSED}  # fmt: skip
    answer = api.post("village", "/needs", need)
    assert answer.status_code == 422
    (error,) = answer.get_json()["errors"]
    assert error["field"] == "deadline" and "has already passed" in error["message"]


def test_a_need_with_a_passed_deadline_is_refused_but_an_old_one_stays_editable(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("village")
    page = client.post("/village/needs/new", data=need_form(deadline=PASSED))
    assert "需要日期：2026-11-01 已经过去（今天是 2026-11-23）" in page.text
    with demo_app.app_context():
        committee = db.session.scalars(select(User).where(User.username == "village")).one()
        need = db.session.scalars(
            select(Need).where(
                Need.village_id == committee.village_id, Need.status == "open",
                Need.allocated == 0, Need.household_id.is_(None),
            ).limit(1)
        ).one()  # fmt: skip
        need.deadline = date.fromisoformat(PASSED)
        db.session.commit()
        need_id, category = need.id, need.category_code
        db.session.remove()
    kept = need_form(title="旧需求改标题", deadline=PASSED, category=category, checklist_item="")
    saved = client.post(f"/village/needs/{need_id}/edit", data=kept, follow_redirects=True)
    assert "旧需求改标题" in saved.text and "已经过去" not in saved.text
    moved = client.post(f"/village/needs/{need_id}/edit", data={**kept, "deadline": "2026-11-20"})
    assert "需要日期：2026-11-20 已经过去" in moved.text


def _card(html: str, need_id: int) -> str:
    """The verification queue's card of one need."""
    card = rf'<div class="card need-card" id="verify-{need_id}">(.*?)</form>'
    match = re.search(card, html, re.S)
    assert match, f"no card for need {need_id}"
    return match.group(1)


def test_a_rejection_without_reason_is_shown_at_that_needs_reason_field(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("village")
    client.post("/village/needs/new", data=need_form())
    client.post(
        "/village/needs/new",
        data=need_form(title="村民健康体检", category="medical", checklist_item=""),
    )
    auth.logout()
    auth.login("township")
    with demo_app.app_context():
        road = db.session.scalar(select(Need.id).where(Need.title == "修建村屯硬化路"))
        clinic = db.session.scalar(select(Need.id).where(Need.title == "村民健康体检"))
        db.session.remove()
    assert road is not None and clinic is not None
    page = client.post(f"/township/needs/{clinic}/verify", data={"decision": "reject"})
    assert page.status_code == 422  # the same page, not a redirect to a reloaded one
    card = _card(page.text, clinic)
    assert 'class="field-error"' in card
    assert "村民健康体检：驳回需求时请填写理由" in card
    assert card.index('name="reason"') < card.index("field-error")  # right under the field
    assert "field-error" not in _card(page.text, road)  # not on another need
    head = page.text[: page.text.index(f'id="verify-{clinic}"')]
    assert "驳回需求时请填写理由" not in head  # nothing at the top of the page
    client.get("/villages?lang=en")
    page = client.post(
        f"/township/needs/{clinic}/verify", data={"decision": "reject", "reason": "  "}
    )
    assert "村民健康体检: Please give a reason when rejecting a need." in _card(page.text, clinic)
    # With a reason it goes through as before.
    done = client.post(
        f"/township/needs/{clinic}/verify", data={"decision": "reject", "reason": "已有项目覆盖"}
    )
    assert done.status_code == 302
