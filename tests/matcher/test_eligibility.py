"""Eligibility of an offer for a need: one test per reason, and the messages."""

from __future__ import annotations

import math
from datetime import date

import pytest

from matcher.eligibility import (
    Reason,
    check,
    eligible_villages,
    explain_need,
    explain_offer,
    km,
)
from matcher.messages import message, messages
from matcher.model import Need, Offer, Policy, Village, Week

HEZHOU = Village("V1", "八步区", lat=24.41, lon=111.55)
NEED = Need("N1", "V1", "goods", 10)


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
    ]
    assert verdicts[0].codes | verdicts[1].codes == set(Reason)
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
