"""The week's instance JSON (spec v1.1) as matcher's Week: kinds pass through to the figures."""

from __future__ import annotations

from typing import Any

from web.services.week_instance import figures_summary, matcher_week

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
