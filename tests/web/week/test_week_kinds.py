"""The week's instance JSON (spec v1.1) as matcher's Week: kinds pass through to the figures."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from seeds.demo import WEEK
from tests.web.week_support import committed, memo_solver  # noqa: F401  (a fixture)
from web.extensions import db
from web.models import Allocation, Need, Offer
from web.services.week_instance import build_week_instance, figures_summary, matcher_week

POLICY = {"distance_discount_per_km": 0.001}
VILLAGES = [{"id": "V1", "county": "八步区", "poverty_weight": 1.0}]
OFFERS: list[dict[str, Any]] = [
    {"id": "O1", "donor": "D1", "category": "goods", "quantity": 10, "min_lot": 1,
     "indivisible": False, "counties": [], "villages": [], "items": ["goods.agri"]},
]
NEEDS: list[dict[str, Any]] = [
    {"id": "N1", "village": "V1", "category": "goods", "quantity": 10, "urgency": 3,
     "item": "goods.agri.fertiliser"},
    {"id": "N2", "village": "V1", "category": "goods", "quantity": 10, "urgency": 3,
     "item": "goods.school.desks", "accepts": ["goods.school.stationery"]},
]


def test_kinds_of_the_instance_reach_matcher() -> None:
    week = matcher_week({"policy": POLICY, "villages": VILLAGES, "needs": NEEDS,
                         "offers": OFFERS}, [])
    fertiliser, desks = week.needs
    assert fertiliser.item == "goods.agri.fertiliser" and fertiliser.accepts == frozenset()
    assert desks.accepts == {"goods.school.stationery"}
    assert week.offers[0].items == {"goods.agri"}
    assert week.catalogue is not None and "goods.school.desks" in week.catalogue


def test_unmet_need_is_summed_in_yuan_across_kinds() -> None:
    week = matcher_week({"policy": POLICY, "villages": VILLAGES, "needs": NEEDS,
                         "offers": OFFERS}, [])
    # 10 袋 of fertiliser at 150 元 and 10 套 of desks at 300 元, not 20 units.
    assert figures_summary(week)["unmet_value_by_category"] == {"goods": 1500 + 3000}


def test_a_v1_instance_has_no_kinds() -> None:
    plain_needs = [{k: v for k, v in n.items() if k not in ("item", "accepts")} for n in NEEDS]
    plain_offers = [{k: v for k, v in o.items() if k != "items"} for o in OFFERS]
    week = matcher_week({"policy": POLICY, "villages": VILLAGES, "needs": plain_needs,
                         "offers": plain_offers}, [{"offer": "O1", "need": "N1", "quantity": 4}])
    assert all(n.item is None and not n.accepts for n in week.needs)
    assert week.offers[0].items == frozenset()
    assert figures_summary(week)["unmet_value_by_category"] == {"goods": (6 + 10) * 100}


def _fits(offer_items: list[str], need_kinds: list[str]) -> bool:
    """Written apart from matcher and optimizer: an offer with kinds gives only to a need whose
    kind (or an alternative it accepts) is one of them or lies below one."""
    if not offer_items:
        return True
    return any(w == g or w.startswith(g + ".") for g in offer_items for w in need_kinds)


@pytest.mark.usefixtures("memo_solver")
def test_the_committed_demo_week_never_gives_across_kinds(demo_db: Any) -> None:
    run = committed()
    pledges = db.session.scalars(select(Allocation).where(Allocation.run_id == run.id)).all()
    assert len(pledges) > 500
    for pledge in pledges:
        offer, need = pledge.offer, pledge.need
        need_kinds = [need.item_code, *need.accept_codes] if need.item_code else []
        assert offer.general or offer.items, f"unclassified offer {offer.id} was allocated"
        assert need.item_code is not None, f"unclassified need {need.id} was allocated"
        assert _fits(offer.item_codes, need_kinds), (offer.title, need.title)


def test_unclassified_needs_and_offers_wait_outside_the_week(demo_db: Any) -> None:
    need = db.session.scalars(
        select(Need).where(Need.verification == "verified", Need.status == "open")
    ).first()
    offer = db.session.scalars(select(Offer).where(Offer.status == "open")).first()
    assert need is not None and offer is not None
    need.item_code = None
    offer.items, offer.general = [], False
    db.session.flush()
    _instance, maps = build_week_instance(db.session, WEEK)
    assert need.id not in maps.needs.values() and offer.id not in maps.offers.values()
    offer.general = True
    db.session.flush()
    instance, maps = build_week_instance(db.session, WEEK)
    assert offer.id in maps.offers.values()
    general = next(o for o in instance["offers"] if o["id"] == f"O{offer.id}")
    assert "items" not in general  # a general offer of its category
