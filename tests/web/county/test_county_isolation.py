"""A county office never sees another county's needs, villages or pledges (issue 16): not on its
pages, not in its exports, not through the API; and its token reads what its pages show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.web.conftest import Auth
from tests.web.test_api_helpers import Api
from web.extensions import db
from web.models import Allocation, AllocationRun, County, Need, Offer, User, Village
from web.models.base import utcnow

BABU = "451102"
MARK_VILLAGE = "外县保密村"
MARK_NEED = "外县保密需求"


@dataclass
class World:
    run_id: int
    own_need: int
    own_pledge: int
    other_need: int
    other_pledge: int
    other_pending: int


def _need(where: Any, **extra: Any) -> Need:
    return db.session.scalars(
        select(Need).join(Village, Village.id == Need.village_id).where(where, **extra)
        .where(Need.status == "open").order_by(Need.id)
    ).first()  # fmt: skip


@pytest.fixture
def county_api(demo_app: Flask) -> Api:
    return Api(demo_app)


@pytest.fixture
def world(demo_app: Flask) -> World:
    """A published run pledging to a need of 八步区 and to one of another county, whose village
    and need carry marks that must never reach the county office."""
    with demo_app.app_context():
        babu = db.session.scalars(select(County.id).where(County.code == BABU)).one()
        own = _need(Village.county_id == babu)
        other = _need(Village.county_id != babu)
        other_pending = _need((Village.county_id != babu) & (Need.verification == "pending"))
        other.village.name = MARK_VILLAGE
        other.title = MARK_NEED
        other_pending.title = MARK_NEED + "二"
        other_pending.created_at = utcnow() - timedelta(days=30)  # escalated in its county
        offer = db.session.scalars(
            select(Offer).where(Offer.status == "open", Offer.quantity > Offer.allocated + 2)
        ).first()
        admin = db.session.scalars(select(User).where(User.username == "admin")).one()
        run = AllocationRun(week="2026-W48", status="published", committed_week="2026-W48",
                            created_by_id=admin.id, committed_at=utcnow() - timedelta(days=20),
                            published_at=utcnow() - timedelta(days=20))  # fmt: skip
        pledges = []
        for need in (own, other):
            offer.allocated += 1
            need.quantity = max(need.quantity, need.allocated + 1)
            need.allocated += 1
            pledges.append(Allocation(run=run, offer=offer, need=need, quantity=1, value=10.0))
        db.session.add(run)
        db.session.add_all(pledges)
        db.session.commit()
        return World(run.id, own.id, pledges[0].id, other.id, pledges[1].id, other_pending.id)


PAGES = (
    "/county", "/county?page=2", "/county/villages?week=2026-W48", "/county/share",
    "/county/bulletin?week=2026-W48",
)  # fmt: skip
EXPORTS = ("queue", "overdue", "villages", "share")


def test_pages_and_exports_hold_nothing_of_another_county(
    world: World, auth: Auth
) -> None:
    auth.login("county")
    for path in PAGES:
        response = auth.client.get(path)
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        assert MARK_VILLAGE not in text and MARK_NEED not in text, path
    share = auth.client.get(f"/county/share?run={world.run_id}").get_data(as_text=True)
    assert "10 元" in share or ">10<" in share  # its own pledge, not the other county's
    overdue = auth.client.get("/county").get_data(as_text=True)
    assert '<strong class="overdue-count">1</strong>' in overdue  # its own overdue pledge only
    for name in EXPORTS:
        for fmt in ("csv", "xlsx"):
            body = auth.client.get(f"/county/export/{name}.{fmt}?week=2026-W48").get_data()
            assert MARK_VILLAGE.encode() not in body and MARK_NEED.encode() not in body
    assert auth.client.post(f"/county/needs/{world.other_pending}/verify",
                            data={"decision": "verify"}).status_code == 404  # fmt: skip


def test_the_api_reads_only_the_county(world: World, county_api: Api, demo_app: Flask) -> None:
    needs = county_api.get("county", "/needs?per_page=500").get_json()
    assert needs["items"] and all(n["village_code"].startswith(BABU) for n in needs["items"])
    assert county_api.get("county", f"/needs/{world.own_need}").status_code == 200
    assert county_api.get("county", f"/needs/{world.other_need}").status_code == 404
    pledges = county_api.get("county", "/allocations?per_page=500").get_json()
    assert [p["id"] for p in pledges["items"]] == [world.own_pledge]
    assert county_api.get("county", f"/allocations/{world.other_pledge}").status_code == 404
    refused = county_api.post("county", f"/needs/{world.other_pending}/verify",
                       json={"decision": "verify"})  # fmt: skip
    assert refused.status_code == 404
    offers = county_api.get("county", "/offers?per_page=500").get_json()["items"]
    with demo_app.app_context():
        from web.services.county_pages import offers_reaching

        babu = db.session.scalars(select(County.id).where(County.code == BABU)).one()
        reaching = set(db.session.scalars(select(Offer.id).where(offers_reaching(babu))))
    assert offers and {o["id"] for o in offers} <= reaching


def test_the_api_total_equals_the_page_count(world: World, county_api: Api, auth: Auth) -> None:
    """The token's pending needs are the queue page's; its pledges are the share page's."""
    auth.login("county")
    page = auth.client.get("/county").get_data(as_text=True)
    query = "/needs?verification=pending&status=open&per_page=1"
    listed = county_api.get("county", query).get_json()
    assert listed["total"] > 0 and f"共 {listed['total']} 条需求待核实。" in page
    pledges = county_api.get("county", "/allocations?week=2026-W48").get_json()
    share = auth.client.get(f"/county/share?run={world.run_id}").get_data(as_text=True)
    assert pledges["total"] == share.count("<tr><td>") == 1
