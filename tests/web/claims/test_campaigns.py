"""Campaigns (活动, issue 17): the administrator opens one with a name, a period and what it
covers; the gap board and the micro-wishes filter by it; its page shows live progress."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import select

from web.extensions import db
from web.models import Campaign

STATIC = Path(__file__).resolve().parents[3] / "web" / "static" / "js" / "campaign.js"


def _admin(app: Flask) -> object:
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": "demo-admin-2026"})
    return client


def test_admin_opens_a_campaign_and_a_bad_period_is_named(demo_app: Flask) -> None:
    admin = _admin(demo_app)
    refused = admin.post(  # type: ignore[attr-defined]
        "/admin/campaigns?lang=en",
        data={"name": "冬衣送暖", "starts_on": "2027-01-10", "ends_on": "2026-12-01",
              "categories": ["goods"]},
    )  # fmt: skip
    assert refused.status_code == 200
    assert "must end on or after the day it starts" in refused.get_data(as_text=True)
    with demo_app.app_context():
        assert db.session.scalar(select(Campaign).where(Campaign.name == "冬衣送暖")) is None
    opened = admin.post(  # type: ignore[attr-defined]
        "/admin/campaigns",
        data={"name": "冬衣送暖", "starts_on": "2026-11-20", "ends_on": "2027-02-05",
              "categories": ["goods"], "wishes_only": "y"},
    )  # fmt: skip
    assert opened.status_code == 302
    with demo_app.app_context():
        campaign = db.session.scalars(select(Campaign).where(Campaign.name == "冬衣送暖")).one()
        assert campaign.categories == ["goods"] and campaign.wishes_only
        campaign_id = campaign.id
    visitor = demo_app.test_client()
    page = visitor.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "冬衣送暖" in page and "<progress" in page
    assert "js/campaign.js" in page and "<script>" not in page  # no inline script
    assert "data-campaign-progress" in page and STATIC.exists()
    figures = visitor.get(f"/campaigns/{campaign_id}/progress.json").get_json()
    assert (
        figures["total"] > 0
        and figures["total"] == figures["met"] + figures["claimed"] + (figures["open"])
    )
    wishes = visitor.get(f"/wishes?campaign={campaign_id}").get_data(as_text=True)
    assert "微心愿" in wishes


def test_a_claim_shows_in_the_campaign_progress(demo_app: Flask) -> None:
    from tests.web.test_api_helpers import Api

    with demo_app.app_context():
        campaign = db.session.scalars(select(Campaign).order_by(Campaign.id)).first()
        assert campaign is not None and campaign.wishes_only  # the demo's 点亮微心愿
        campaign_id = campaign.id
    visitor = demo_app.test_client()
    before = visitor.get(f"/campaigns/{campaign_id}/progress.json").get_json()
    wish = visitor.get(f"/wishes?campaign={campaign_id}").get_data(as_text=True)
    first = int(wish.split('id="wish-', 1)[1].split('"', 1)[0])
    assert Api(demo_app).post("donor-person", f"/wishes/{first}/claims").status_code == 201
    after = visitor.get(f"/campaigns/{campaign_id}/progress.json").get_json()
    assert after["claimed"] == before["claimed"] + 1 and after["open"] == before["open"] - 1
