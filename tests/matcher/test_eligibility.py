"""Eligibility of an offer for a need: one test per reason, and the messages."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.eligibility import (
    MODEL_REASONS,
    Reason,
    check,
    distance_factor,
    eligible_villages,
    explain_need,
    explain_offer,
    km,
    model_eligible,
    model_reasons,
)
from matcher.messages import message, messages
from matcher.model import Need, Offer, Policy, Village, Week
from seeds.catalogue import hezhou_catalogue

HEZHOU = Village("V1", "八步区", lat=24.41, lon=111.55)
NEED = Need("N1", "V1", "goods", 10)
FERTILISER, DESKS_KIND = "goods.agri.fertiliser", "goods.school.desks"
DESKS = Need("N1", "V1", "goods", 10, item=DESKS_KIND)


def offer(**kw: object) -> Offer:
    """A goods offer that may serve NEED unless told otherwise."""
    base: dict[str, object] = {"id": "O1", "donor": "D1", "category": "goods", "quantity": 10}
    return Offer(**(base | kw))  # type: ignore[arg-type]


def codes(o: Offer, need: Need = NEED, village: Village = HEZHOU, **kw: object) -> set[Reason]:
    """The reason codes of a verdict."""
    return set(check(o, need, village, **kw).codes)  # type: ignore[arg-type]


def test_eligible_when_nothing_stands_in_the_way() -> None:
    verdict = check(offer(), NEED, HEZHOU)
    assert verdict.eligible and verdict.reasons == ()


def test_other_category() -> None:
    assert codes(offer(category="funds")) == {Reason.CATEGORY}


def test_a_general_offer_serves_any_need_of_its_category() -> None:
    assert codes(offer(), need=DESKS) == set()
    assert codes(offer(), need=NEED) == set()


def test_an_offered_kind_serves_the_same_kind_and_kinds_below_it() -> None:
    assert codes(offer(items=frozenset({DESKS_KIND})), need=DESKS) == set()
    assert codes(offer(items=frozenset({"goods.school"})), need=DESKS) == set()
    assert codes(offer(items=frozenset({FERTILISER, "goods.school"})), need=DESKS) == set()


def test_an_offered_kind_never_serves_another_kind() -> None:
    verdict = check(offer(items=frozenset({FERTILISER})), DESKS, HEZHOU)
    assert verdict.codes == {Reason.KIND}
    assert dict(verdict.reasons[0].params) == {"offer": (FERTILISER,), "need": (DESKS_KIND,)}
    # Covering is by whole codes: goods.school never covers goods.schoolbus.
    bus = Need("N1", "V1", "goods", 1, item="goods.schoolbus")
    assert codes(offer(items=frozenset({"goods.school"})), need=bus) == {Reason.KIND}
    # Nor does a kind cover its parent.
    school = Need("N1", "V1", "goods", 1, item="goods.school")
    assert codes(offer(items=frozenset({DESKS_KIND})), need=school) == {Reason.KIND}


def test_an_offered_kind_serves_an_alternative_the_need_accepts() -> None:
    desks_or_bags = Need("N1", "V1", "goods", 10, item=DESKS_KIND,
                         accepts=frozenset({"goods.school.stationery"}))
    assert codes(offer(items=frozenset({"goods.school.stationery"})), need=desks_or_bags) == set()
    assert codes(offer(items=frozenset({FERTILISER})), need=desks_or_bags) == {Reason.KIND}
    # A need may name only alternatives.
    any_of = Need("N1", "V1", "goods", 10, accepts=frozenset({FERTILISER}))
    assert codes(offer(items=frozenset({"goods.agri"})), need=any_of) == set()


def test_a_need_without_a_kind_takes_general_offers_only() -> None:
    verdict = check(offer(items=frozenset({"goods"})), NEED, HEZHOU)
    assert verdict.codes == {Reason.KIND}
    assert dict(verdict.reasons[0].params) == {"offer": ("goods",), "need": ()}


def test_kinds_are_not_judged_across_categories() -> None:
    funds = offer(category="funds", items=frozenset({"funds.relief"}))
    assert codes(funds, need=DESKS) == {Reason.CATEGORY}


def test_what_a_village_absorbs_counts_only_needs_of_fitting_kinds() -> None:
    others = (Need("N2", "V1", "goods", 5, item="goods.school.stationery"),
              Need("N3", "V1", "goods", 50, item=FERTILISER))
    school = offer(items=frozenset({"goods.school"}), min_lot=16)
    verdict = check(school, DESKS, HEZHOU, village_needs=others)
    assert verdict.codes == {Reason.MIN_LOT}
    assert dict(verdict.reasons[0].params) == {"min_lot": 16, "room": 15}


def test_outside_the_offers_counties() -> None:
    assert codes(offer(counties=frozenset({"钟山县"}))) == {Reason.COUNTY}
    assert codes(offer(counties=frozenset({"八步区"}))) == set()


def test_not_one_of_the_paired_units_villages() -> None:
    assert codes(offer(villages=frozenset({"V2"}))) == {Reason.PAIRED_VILLAGE}
    assert codes(offer(villages=frozenset({"V1"}))) == set()


def test_too_far_for_the_distance_discount() -> None:
    beijing = offer(lat=39.9, lon=116.4)  # about 1,700 km from Hezhou; the limit is 1,000 km
    assert codes(beijing) == {Reason.DISTANCE}
    assert codes(beijing, policy=Policy(distance_discount_per_km=0.0005)) == set()


def test_distance_is_zero_when_a_side_lacks_coordinates() -> None:
    assert km(offer(lat=39.9, lon=116.4), Village("V1", "八步区")) == 0.0
    assert codes(offer(lat=39.9, lon=116.4), village=Village("V1", "八步区")) == set()


def test_haversine_with_the_specs_earth_radius() -> None:
    one_degree = km(offer(lat=0.0, lon=0.0), Village("V", "c", lat=0.0, lon=1.0))
    assert one_degree == pytest.approx(6371.0 * math.pi / 180)


def test_validity_window_over() -> None:
    o = offer(valid_until=date(2026, 11, 20))
    assert codes(o, on=date(2026, 11, 23)) == {Reason.EXPIRED}
    assert codes(o, on=date(2026, 11, 20)) == set()


def test_need_not_verified() -> None:
    assert codes(offer(), need=Need("N1", "V1", "goods", 10, verified=False)) == {
        Reason.UNVERIFIED
    }


def test_minimum_lot_larger_than_the_village_can_absorb() -> None:
    others = (Need("N2", "V1", "goods", 5), Need("N3", "V1", "goods", 50, verified=False),
              Need("N4", "V1", "funds", 500))
    verdict = check(offer(min_lot=16), NEED, HEZHOU, village_needs=others)
    assert verdict.codes == {Reason.MIN_LOT}
    assert dict(verdict.reasons[0].params) == {"min_lot": 16, "room": 15}
    assert codes(offer(min_lot=15), village_needs=others) == set()


def test_indivisible_offer_larger_than_the_village_can_absorb() -> None:
    assert codes(offer(quantity=11, indivisible=True)) == {Reason.INDIVISIBLE}
    assert codes(offer(quantity=10, indivisible=True)) == set()


def test_every_reason_is_listed_at_once() -> None:
    o = offer(counties=frozenset({"钟山县"}), villages=frozenset({"V9"}), lat=39.9, lon=116.4,
              valid_until=date(2026, 1, 1))
    need = Need("N1", "V1", "goods", 10, verified=False)
    assert codes(o, need=need, on=date(2026, 11, 23)) == {
        Reason.COUNTY, Reason.PAIRED_VILLAGE, Reason.DISTANCE, Reason.EXPIRED,
        Reason.UNVERIFIED,
    }


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_reason_has_a_message_in_both_languages(lang: str) -> None:
    unverified = Need("N1", "V1", "goods", 10, verified=False)
    verdicts = [
        check(offer(category="funds", counties=frozenset({"钟山县", "昭平县"}),
                    villages=frozenset({"V9"}), lat=39.9, lon=116.4), NEED, HEZHOU),
        check(offer(valid_until=date(2026, 1, 1), min_lot=20, quantity=30, indivisible=True),
              unverified, HEZHOU, on=date(2026, 11, 23)),
        check(offer(items=frozenset({FERTILISER})), DESKS, HEZHOU),
    ]
    assert set().union(*(v.codes for v in verdicts)) == set(Reason)
    for verdict in verdicts:
        texts = messages(verdict, lang)
        assert len(texts) == len(verdict.reasons) and all(texts)
        assert all("{" not in t for t in texts)


def test_messages_read_well() -> None:
    verdict = check(offer(category="funds"), NEED, HEZHOU)
    assert message(verdict.reasons[0], "zh") == "类别不同：捐赠为“资金”，需求为“物资”"
    assert message(verdict.reasons[0], "en") == (
        "Different category: the offer is Funds, the need is Goods"
    )
    far = check(offer(lat=39.9, lon=116.4), NEED, HEZHOU).reasons[0]
    assert "1000 km" in message(far, "en")
    with pytest.raises(ValueError, match="unsupported language"):
        message(far, "fr")


def test_kind_messages_name_both_kinds_from_the_catalogue() -> None:
    catalogue = hezhou_catalogue()
    fertiliser = check(offer(items=frozenset({FERTILISER})), DESKS, HEZHOU).reasons[0]
    assert message(fertiliser, "zh", catalogue=catalogue) == "品类不符：供给是化肥，需求是课桌椅"
    assert message(fertiliser, "en", catalogue=catalogue) == (
        "Different kind: the offer is Fertiliser, the need is School desks and chairs"
    )
    # Without a catalogue (or for a kind it lacks) the codes are shown.
    assert message(fertiliser) == f"品类不符：供给是{FERTILISER}，需求是{DESKS_KIND}"
    two = Need("N1", "V1", "goods", 10, item=DESKS_KIND, accepts=frozenset({"goods.school.x"}))
    verdict = check(offer(items=frozenset({FERTILISER, "goods.agri.pesticide"})), two, HEZHOU)
    assert messages(verdict, catalogue=catalogue) == (
        "品类不符：供给是化肥、农药，需求是课桌椅或goods.school.x",
    )
    general_only = check(offer(items=frozenset({FERTILISER})), NEED, HEZHOU).reasons[0]
    assert message(general_only, catalogue=catalogue) == (
        "品类不符：供给是化肥，需求未指明品类，只接受不限品类的供给"
    )


WEEK = Week(
    villages=(HEZHOU, Village("V2", "钟山县"), Village("V3", "昭平县")),
    needs=(NEED, Need("N2", "V2", "goods", 4), Need("N3", "V3", "funds", 100)),
    offers=(offer(id="O1", counties=frozenset({"八步区", "钟山县"})), offer(id="O2", min_lot=5)),
)


def test_explain_need_gives_every_offers_verdict() -> None:
    verdicts = explain_need(WEEK, "N2")
    assert [v.offer for v in verdicts] == ["O1", "O2"]
    assert verdicts[0].eligible
    assert verdicts[1].codes == {Reason.MIN_LOT}


def test_explain_offer_and_eligible_villages() -> None:
    assert [v.eligible for v in explain_offer(WEEK, "O1")] == [True, True, False]
    assert eligible_villages(WEEK, "O1") == ("V1", "V2")
    assert eligible_villages(WEEK, "O2") == ("V1",)


KINDS_WEEK = Week(
    villages=(HEZHOU, Village("V2", "钟山县")),
    needs=(DESKS, Need("N2", "V2", "goods", 4, item=FERTILISER), Need("N3", "V2", "goods", 3)),
    offers=(offer(id="O1", items=frozenset({"goods.agri"})), offer(id="O2")),
)


def test_explain_and_model_eligible_follow_the_kinds() -> None:
    assert [v.codes for v in explain_need(KINDS_WEEK, "N1")] == [{Reason.KIND}, set()]
    assert [v.codes for v in explain_offer(KINDS_WEEK, "O1")] == [{Reason.KIND}, set(),
                                                                  {Reason.KIND}]
    assert eligible_villages(KINDS_WEEK, "O1") == ("V2",)
    by_id = KINDS_WEEK.need_by_id
    o1, o2 = KINDS_WEEK.offers
    assert [model_eligible(KINDS_WEEK, o1, by_id[n]) for n in ("N1", "N2", "N3")] == [
        False, True, False
    ]
    assert all(model_eligible(KINDS_WEEK, o2, n) for n in KINDS_WEEK.needs)


VILLAGES = st.sampled_from([HEZHOU, Village("V2", "钟山县", lat=39.9, lon=116.4),
                            Village("V3", "昭平县")])
V1_OFFERS = st.builds(
    Offer, id=st.just("O1"), donor=st.just("D1"), category=st.sampled_from(["goods", "funds"]),
    quantity=st.integers(1, 30), min_lot=st.integers(1, 30), indivisible=st.booleans(),
    counties=st.frozensets(st.sampled_from(["八步区", "钟山县", "昭平县"]), max_size=2),
    villages=st.frozensets(st.sampled_from(["V1", "V2", "V3"]), max_size=2),
    lat=st.sampled_from([None, 24.4, 39.9]), lon=st.sampled_from([None, 111.5, 116.4]),
)
V1_NEEDS = st.builds(
    Need, id=st.just("N1"), village=st.sampled_from(["V1", "V2", "V3"]),
    category=st.sampled_from(["goods", "funds"]), quantity=st.integers(1, 30),
)


def _v1_eligible(o: Offer, n: Need, v: Village) -> bool:
    """Spec v1's four rules, written out independently of matcher."""
    return (
        o.category == n.category
        and (not o.counties or v.county in o.counties)
        and (not o.villages or v.id in o.villages)
        and distance_factor(o, v, Policy()) > 0
    )


@settings(max_examples=200)
@given(V1_OFFERS, V1_NEEDS, st.lists(V1_NEEDS, max_size=3), VILLAGES)
def test_without_kinds_the_verdicts_are_those_of_v1(
    o: Offer, n: Need, others: list[Need], v: Village
) -> None:
    # Kinds nowhere: KIND never appears and the model's verdict is v1's.
    n = replace(n, village=v.id)
    verdict = check(o, n, v, village_needs=[replace(m, village=v.id) for m in others])
    assert Reason.KIND not in verdict.codes
    assert (not verdict.codes & MODEL_REASONS) == _v1_eligible(o, n, v)
    # And kinds that fit everywhere change nothing at all.
    fitting = check(replace(o, items=frozenset({o.category})),
                    replace(n, item=f"{n.category}.x"), v,
                    village_needs=[replace(m, village=v.id, item=f"{m.category}.x")
                                   for m in others])
    assert fitting.reasons == verdict.reasons


GOODS_KINDS = [None, FERTILISER, DESKS_KIND, "goods.agri"]
TWO_VILLAGES = (HEZHOU, Village("V2", "钟山县", lat=24.53, lon=111.30))


@settings(max_examples=300, deadline=None)
@given(
    category=st.sampled_from(["goods", "funds"]),
    counties=st.frozensets(st.sampled_from(["八步区", "钟山县", "富川瑶族自治县"]), max_size=2),
    villages=st.frozensets(st.sampled_from(["V1", "V2"]), max_size=2),
    items=st.frozensets(st.sampled_from(GOODS_KINDS[1:]), max_size=2),
    where=st.sampled_from([None, (24.41, 111.55), (25.2, 112.9), (30.0, 120.0)]),
    need_item=st.sampled_from(GOODS_KINDS),
    village=st.sampled_from(TWO_VILLAGES),
    per_km=st.sampled_from([0.0, 0.001, 0.01]),
)
def test_model_eligible_says_yes_exactly_when_no_rule_refuses(
    category: str, counties: frozenset[str], villages: frozenset[str], items: frozenset[str],
    where: tuple[float, float] | None, need_item: str | None, village: Village, per_km: float,
) -> None:
    """The short-circuit test the week's figures use agrees with the full list of reasons."""
    lat, lon = where if where is not None else (None, None)
    o = offer(category=category, counties=counties, villages=villages,
              items=items if category == "goods" else frozenset(), lat=lat, lon=lon)
    need = Need("N1", village.id, "goods", 10, item=need_item)
    week = Week(villages=TWO_VILLAGES, needs=(need,), offers=(o,),
                policy=Policy(distance_discount_per_km=per_km))
    assert model_eligible(week, o, need) == (not model_reasons(o, need, village, week.policy))
