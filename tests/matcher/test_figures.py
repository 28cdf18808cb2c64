"""The week's figures on one hand-built week, each checked against numbers worked by hand.

Villages A, B in county X; C, D in county Y. Offers: o1 (donor d1, 25 goods), o2 (d2, 10 goods),
o3 (d1, 100 funds, county X only). Nobody offers medical aid, so D is unreachable.
  o1 -> nA1 5, o1 -> nB1 20, o2 -> nA1 5, o3 -> nA2 50; C gets nothing.
Fraction met: nA1 1, nA2 0.5, nB1 1, nC1 0, nD1 0.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from matcher.categories import CATEGORIES
from matcher.figures import (
    at_zero,
    coverage,
    coverage_gini,
    donor_herfindahl,
    donors_per_village,
    gini,
    links,
    offer_spread,
    reachable,
    sameness_by_county,
    served,
    unmet_by_county,
    unmet_by_kind,
    unmet_value_by_category,
    unmet_value_by_county,
    week_figures,
    weighted_fulfilment,
)
from matcher.model import Allocation, Need, Offer, Village, Week
from matcher.sameness import FundedProject, project_sameness
from seeds.catalogue import hezhou_catalogue

CATALOGUE = hezhou_catalogue()

WEEK = Week(
    villages=(
        Village("A", "X"), Village("B", "X", poverty_weight=2.0),
        Village("C", "Y"), Village("D", "Y"),
    ),
    needs=(
        Need("nA1", "A", "goods", 10, urgency=2),
        Need("nA2", "A", "funds", 100, urgency=1),
        Need("nB1", "B", "goods", 20, urgency=3),
        Need("nC1", "C", "goods", 10, urgency=1),
        Need("nD1", "D", "medical", 5, urgency=5),
    ),
    offers=(
        Offer("o1", "d1", "goods", 25),
        Offer("o2", "d2", "goods", 10),
        Offer("o3", "d1", "funds", 100, counties=frozenset({"X"})),
    ),
    allocations=(
        Allocation("o1", "nA1", 5), Allocation("o1", "nB1", 20),
        Allocation("o2", "nA1", 5), Allocation("o3", "nA2", 50),
    ),
)


def test_weighted_fulfilment() -> None:
    # weights urgency*poverty_weight: 2, 1, 6, 1, 5 (sum 15); met: 2 + 0.5 + 6 = 8.5
    assert weighted_fulfilment(WEEK) == pytest.approx(8.5 / 15)


def test_coverage_per_village() -> None:
    assert coverage(WEEK) == pytest.approx({"A": 0.75, "B": 1.0, "C": 0.0, "D": 0.0})


def test_reachable_served_and_at_zero() -> None:
    assert reachable(WEEK) == {"A", "B", "C"}
    assert served(WEEK) == {"A", "B"}
    assert at_zero(WEEK) == {"C"}


def test_gini_of_coverage_over_reachable_villages() -> None:
    # coverages 0, 0.75, 1: mean absolute difference 4/9, mean 7/12, Gini = (4/9) / (2*7/12)
    assert coverage_gini(WEEK) == pytest.approx(8 / 21)


def test_gini_edge_cases() -> None:
    assert gini([]) == 0.0
    assert gini([0.0, 0.0]) == 0.0
    assert gini([0.5, 0.5, 0.5]) == pytest.approx(0.0)
    assert gini([0.0, 0.0, 0.0, 1.0]) == pytest.approx(0.75)


def test_offer_village_links() -> None:
    assert links(WEEK) == {("o1", "A"), ("o1", "B"), ("o2", "A"), ("o3", "A")}


def test_donors_per_served_village() -> None:
    assert donors_per_village(WEEK) == {"A": 2, "B": 1}


def test_herfindahl_of_each_villages_donors() -> None:
    # A: d1 met 0.5 of nA1 and 0.5 of nA2, d2 0.5 of nA1 -> shares 2/3, 1/3
    assert donor_herfindahl(WEEK) == pytest.approx({"A": 5 / 9, "B": 1.0})


def test_villages_each_offer_was_split_across() -> None:
    assert offer_spread(WEEK) == {"o1": 2, "o2": 1, "o3": 1}


def test_unmet_need_by_kind_without_kinds_is_by_category() -> None:
    # Spec v1: every need is counted in its category's root kind, as before.
    assert unmet_by_kind(WEEK) == {"goods": 10, "funds": 50, "medical": 5}


def test_unmet_need_by_county() -> None:
    assert unmet_by_county(WEEK) == {
        "X": {"goods": 0, "funds": 50}, "Y": {"goods": 10, "medical": 5}
    }


def test_unmet_value_at_the_category_roots_reference_values() -> None:
    # goods 100 元 a 件, funds 1 元, medical 200 元 a 人次
    assert unmet_value_by_category(WEEK, CATALOGUE) == {"goods": 1000.0, "funds": 50.0,
                                                        "medical": 1000.0}
    assert unmet_value_by_county(WEEK, CATALOGUE) == {
        "X": {"goods": 0.0, "funds": 50.0}, "Y": {"goods": 1000.0, "medical": 1000.0}
    }


KINDS_WEEK = Week(
    villages=(Village("A", "X"), Village("B", "Y")),
    needs=(
        Need("fert", "A", "goods", 10, item="goods.agri.fertiliser"),  # 袋, 150 元
        Need("desks", "B", "goods", 12, item="goods.school.desks"),  # 套, 300 元
        Need("more_desks", "A", "goods", 3, item="goods.school.desks",
             accepts=frozenset({"goods.school.stationery"})),
        Need("any", "B", "goods", 2),  # 件, the goods root's 100 元
    ),
    offers=(Offer("o1", "d1", "goods", 5, items=frozenset({"goods.school"})),),
    allocations=(Allocation("o1", "desks", 2), Allocation("o1", "more_desks", 3)),
)


def test_no_figure_adds_different_units() -> None:
    # 10 袋 of fertiliser and 10 套 of desks unmet are 1500 + 3000 元, never "20".
    assert unmet_by_kind(KINDS_WEEK) == {
        "goods.agri.fertiliser": 10, "goods.school.desks": 10, "goods": 2
    }
    assert unmet_by_county(KINDS_WEEK) == {
        "X": {"goods.agri.fertiliser": 10, "goods.school.desks": 0},
        "Y": {"goods.school.desks": 10, "goods": 2},
    }
    assert unmet_value_by_category(KINDS_WEEK, CATALOGUE) == {"goods": 1500 + 3000 + 200}
    assert unmet_value_by_county(KINDS_WEEK, CATALOGUE) == {
        "X": {"goods": 1500.0}, "Y": {"goods": 3000 + 200}
    }


def test_each_kind_is_counted_in_its_own_unit() -> None:
    # Every quantity summed under a key is in that key's unit, and the totals in 元 agree.
    by_kind = unmet_by_kind(KINDS_WEEK)
    assert {CATALOGUE[k].unit_zh for k in by_kind} == {"袋", "套", "件"}
    total = sum(CATALOGUE[k].ref_value * units for k, units in by_kind.items())
    assert sum(unmet_value_by_category(KINDS_WEEK, CATALOGUE).values()) == total


def test_week_figures_take_the_catalogue_from_the_week_or_the_caller() -> None:
    with pytest.raises(ValueError, match="need a catalogue"):
        week_figures(KINDS_WEEK)
    on_week = week_figures(replace(KINDS_WEEK, catalogue=CATALOGUE))
    assert on_week == week_figures(KINDS_WEEK, CATALOGUE)
    assert on_week.unmet_by_kind["goods.school.desks"] == 10
    # The old name reads the value in 元 (kinds of a category differ in unit).
    assert on_week.unmet_by_category == on_week.unmet_value_by_category == {"goods": 4700.0}


def test_project_sameness_of_the_week() -> None:
    # county X funds (A, goods), (A, funds), (B, goods): HHI 5/9, normalised over 8 categories
    assert sameness_by_county(WEEK) == pytest.approx({"X": (5 / 9 - 1 / 8) / (7 / 8)})


def test_project_sameness_bounds_and_period() -> None:
    same = [FundedProject(v, "X", "infrastructure") for v in "ABCD"]
    assert project_sameness(same, "X") == 1.0
    spread = [FundedProject(f"V{i}", "X", c.code) for i, c in enumerate(CATEGORIES)]
    assert project_sameness(spread, "X") == pytest.approx(0.0)
    assert project_sameness(spread, "Y") == 0.0
    dated = [FundedProject("A", "X", "goods", date(2026, 1, 5)),
             FundedProject("B", "X", "funds", date(2026, 6, 5))]
    assert project_sameness(dated, "X", start=date(2026, 1, 1), end=date(2026, 3, 31)) == 1.0


def test_week_figures_gathers_them_all() -> None:
    figures = week_figures(WEEK, CATALOGUE)
    assert figures.links == 4
    assert figures.at_zero == {"C"}
    assert figures.weighted_fulfilment == pytest.approx(8.5 / 15)


def test_an_empty_allocation() -> None:
    empty = Week(WEEK.villages, WEEK.needs, WEEK.offers)
    assert weighted_fulfilment(empty) == 0.0
    assert served(empty) == frozenset() and at_zero(empty) == {"A", "B", "C"}
    assert offer_spread(empty) == {"o1": 0, "o2": 0, "o3": 0}
    assert sameness_by_county(empty) == {}


def test_a_week_refuses_dangling_ids() -> None:
    with pytest.raises(ValueError, match="unknown offer or need"):
        Week(WEEK.villages, WEEK.needs, WEEK.offers, (Allocation("o9", "nA1", 1),))
    with pytest.raises(ValueError, match="unknown village"):
        Week(WEEK.villages, (Need("n", "Z", "goods", 1),), ())
