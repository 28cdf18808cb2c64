"""The gap board (issue 17): unmet verified needs by county, township and category, no
household's data; 我来帮 leads a donor to an offer aimed at the gap's village and kind (which the
next run gives to that need) and a visitor through sign-in back to the same gap."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select, update

from tests.web.week_support import preview
from web.extensions import db
from web.models import Allocation, Campaign, Household, Need, Offer, User
from web.services.week_instance import need_key, offer_key


def _village_gap(app: Flask) -> int:
    """A village need (not a wish) that is open, verified and classified."""
    with app.app_context():
        need = db.session.scalar(
            select(Need.id).where(
                Need.household_id.is_(None), Need.status == "open",
                Need.verification == "verified", Need.item_code.is_not(None),
                Need.allocated == 0, Need.quantity <= 50,
            ).order_by(Need.urgency.desc(), Need.id)
        )  # fmt: skip
        assert need is not None
        return int(need)


def test_gap_board_is_public_and_names_no_household(demo_app: Flask) -> None:
    client = demo_app.test_client()
    page = client.get("/gaps?lang=zh_CN")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "缺口榜" in text and "我来帮" in text and "微心愿" in text
    with demo_app.app_context():
        names = set(db.session.scalars(select(Household.display_name)))
        wish_titles = set(
            db.session.scalars(select(Need.title).where(Need.household_id.is_not(None)))
        )
    wishes = client.get("/wishes").get_data(as_text=True)
    for name in names:
        assert name not in text and name not in wishes
    # A wish shows as 微心愿 with its kind and value, never the committee's title for it.
    assert not any(f">{title}<" in text for title in wish_titles)
    english = client.get("/gaps?lang=en").get_data(as_text=True)
    assert "Gap board" in english and "I will help" in english


def test_gap_board_filters_by_category_and_campaign(demo_app: Flask) -> None:
    client = demo_app.test_client()
    assert client.get("/gaps?category=nonsense").status_code == 400
    with demo_app.app_context():
        campaign = Campaign(name="只看培训", starts_on=date(2026, 11, 1),
                            ends_on=date(2026, 12, 31),
                            categories=["training"], kinds=[], wishes_only=False)  # fmt: skip
        db.session.add(campaign)
        db.session.commit()
        campaign_id = campaign.id
    text = client.get(f"/gaps?campaign={campaign_id}&lang=en").get_data(as_text=True)
    assert "只看培训" in text and "Micro-wish</strong>" not in text
    progress = client.get(f"/campaigns/{campaign_id}/progress.json").get_json()
    assert set(progress) >= {"total", "met", "claimed", "open", "percent"}
    assert client.get("/gaps?campaign=99999").status_code == 404


def test_help_as_a_visitor_signs_in_and_comes_back_to_the_gap(demo_app: Flask) -> None:
    need = _village_gap(demo_app)
    client = demo_app.test_client()
    asked = client.get(f"/gaps/{need}/help")
    assert asked.status_code == 302
    assert asked.location == f"/login?next=/gaps/{need}/help"
    signed = client.post(asked.location, data={"username": "donor", "password": "demo-donor-2026"})
    assert signed.status_code == 302 and signed.location == f"/gaps/{need}/help"
    back = client.get(signed.location)
    assert back.status_code == 302 and back.location == f"/donor/offers/new?need={need}"
    # Only local paths are followed after sign-in.
    other = demo_app.test_client()
    away = other.post(
        "/login?next=https://evil.example/x",
        data={"username": "donor", "password": "demo-donor-2026"},
    )
    assert "evil.example" not in away.location


def test_help_prefills_a_targeted_offer_that_the_next_run_gives_to_that_need(
    demo_app: Flask,
) -> None:
    need_id = _village_gap(demo_app)
    client = demo_app.test_client()
    client.post("/login", data={"username": "donor", "password": "demo-donor-2026"})
    form = client.get(f"/donor/offers/new?need={need_id}&lang=en").get_data(as_text=True)
    with demo_app.app_context():
        need = db.session.get(Need, need_id)
        assert need is not None
        village, code, item = need.village.name, need.village.code, need.item_code
        category, remaining = need.category_code, need.remaining
    assert village in form and f'value="{code}"' in form and f'value="{remaining}"' in form
    saved = client.post(
        f"/donor/offers/new?need={need_id}",
        data={
            "category": category, "title": f"回应缺口 {village}", "description": "",
            "quantity": str(remaining), "min_lot": "1", "max_villages": "", "items": [item],
            "valid_from": "2026-11-23", "valid_until": "2026-12-31", "gap_villages": code,
            "dispatch_lat": "", "dispatch_lon": "", "confirm_duplicate": "y",
        },
    )  # fmt: skip
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    with demo_app.app_context():
        offer = db.session.scalars(select(Offer).where(Offer.title == f"回应缺口 {village}")).one()
        assert [v.code for v in offer.villages] == [code] and offer.item_codes == [item]
        # The week with only this offer: the run gives it to that need.
        db.session.execute(
            update(Offer)
            .where(Offer.id != offer.id, Offer.status == "open")
            .values(status="withdrawn")
        )
        db.session.commit()
        run = preview()
        pledges = db.session.scalars(select(Allocation).where(Allocation.run_id == run.id)).all()
        given = {(a.offer_id, a.need_id) for a in pledges}
        if not pledges:  # a preview keeps its plan in its output
            given = {
                (int(row["offer"][1:]), int(row["need"][1:]))
                for row in (run.output or {}).get("allocations", [])
            }
        assert (offer.id, need_id) in given, (offer_key(offer.id), need_key(need_id), given)
        donor = db.session.scalar(select(User).where(User.username == "donor"))
        assert donor is not None


def test_a_visitor_registers_from_a_gap_and_is_sent_back_to_it(demo_app: Flask) -> None:
    need = _village_gap(demo_app)
    client = demo_app.test_client()
    login = client.get(f"/login?next=/gaps/{need}/help").get_data(as_text=True)
    assert f"/register?next=/gaps/{need}/help" in login
    registered = client.post(
        f"/register?next=/gaps/{need}/help",
        data={"name": "爱心人士测试", "kind": "individual", "username": "gap-visitor",
              "password": "a-long-enough-password-2026", "confirm": "a-long-enough-password-2026"},
    )  # fmt: skip
    assert registered.status_code == 302, registered.get_data(as_text=True)[:1500]
    assert registered.location == f"/login?next=/gaps/{need}/help"
    away = client.post(
        "/register?next=//evil.example/x",
        data={"name": "爱心人士测试二", "kind": "individual", "username": "gap-visitor-2",
              "password": "a-long-enough-password-2026", "confirm": "a-long-enough-password-2026"},
    )  # fmt: skip
    assert away.status_code == 302 and "evil" not in away.location
