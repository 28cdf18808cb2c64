"""Who may help whom: eligibility of an offer for a need, with every reason it is not."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from matcher.kinds import offer_fits
from matcher.model import Need, Offer, Policy, Village, Week

EARTH_RADIUS_KM = 6371.0


class Reason(StrEnum):
    """Why an offer may not serve a need."""

    CATEGORY = "category"
    KIND = "kind"
    COUNTY = "county"
    PAIRED_VILLAGE = "paired_village"
    DISTANCE = "distance"
    EXPIRED = "expired"
    UNVERIFIED = "unverified"
    MIN_LOT = "min_lot"
    INDIVISIBLE = "indivisible"


# The rules of the allocation model itself (spec v1.1, "Eligibility"); the others are the
# platform's own checks made before a need or offer enters the week's instance.
MODEL_REASONS: frozenset[Reason] = frozenset(
    {Reason.CATEGORY, Reason.KIND, Reason.COUNTY, Reason.PAIRED_VILLAGE, Reason.DISTANCE}
)

Param = str | int | float | tuple[str, ...]  # a tuple holds kinds (codes)


@dataclass(frozen=True)
class Ineligibility:
    """One reason with the figures that explain it (for the message)."""

    reason: Reason
    params: Mapping[str, Param] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Verdict:
    """Whether an offer may serve a need, and every reason it may not."""

    offer: str
    need: str
    village: str
    reasons: tuple[Ineligibility, ...]

    @property
    def eligible(self) -> bool:
        """True when nothing stands in the way."""
        return not self.reasons

    @property
    def codes(self) -> frozenset[Reason]:
        """The reason codes alone."""
        return frozenset(r.reason for r in self.reasons)


def km(offer: Offer, village: Village) -> float:
    """Great-circle distance from the offer's dispatch point to the village; 0 if one lacks it."""
    if offer.lat is None or offer.lon is None or village.lat is None or village.lon is None:
        return 0.0
    p1, p2 = math.radians(offer.lat), math.radians(village.lat)
    dp, dl = p2 - p1, math.radians(village.lon - offer.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def distance_factor(offer: Offer, village: Village, policy: Policy) -> float:
    """The spec's discount factor 1 - discount_per_km * km (eligible only when > 0)."""
    return 1.0 - policy.distance_discount_per_km * km(offer, village)


def kind_params(offer: Offer, need: Need) -> dict[str, Param]:
    """Both sides' kinds: the offer's items, and what the need asks for then accepts."""
    wanted = ((need.item,) if need.item else ()) + tuple(sorted(need.accepts))
    return {"offer": tuple(sorted(offer.items)), "need": tuple(dict.fromkeys(wanted))}


def model_reasons(
    offer: Offer, need: Need, village: Village, policy: Policy
) -> list[Ineligibility]:
    """The allocation model's own eligibility rules, exactly as in the spec."""
    out: list[Ineligibility] = []
    if offer.category != need.category:
        out.append(Ineligibility(Reason.CATEGORY, {"offer": offer.category, "need": need.category}))
    # Kinds only compare within one category: across categories CATEGORY already says it all.
    elif not offer_fits(offer.items, need.item, need.accepts):
        out.append(Ineligibility(Reason.KIND, kind_params(offer, need)))
    if offer.counties and village.county not in offer.counties:
        allowed = "、".join(sorted(offer.counties))
        out.append(Ineligibility(Reason.COUNTY, {"county": village.county, "allowed": allowed}))
    if offer.villages and village.id not in offer.villages:
        out.append(Ineligibility(Reason.PAIRED_VILLAGE, {"village": village.id}))
    if distance_factor(offer, village, policy) <= 0:
        limit = 1.0 / policy.distance_discount_per_km
        out.append(
            Ineligibility(Reason.DISTANCE, {"km": round(km(offer, village), 1), "max_km": limit})
        )
    return out


def absorbable(offer: Offer, village: Village, needs: Sequence[Need], policy: Policy) -> int:
    """What a village can absorb of an offer: remaining quantity of its eligible needs."""
    return sum(
        n.quantity
        for n in needs
        if n.village == village.id and n.verified and not model_reasons(offer, n, village, policy)
    )


def check(
    offer: Offer,
    need: Need,
    village: Village,
    *,
    village_needs: Sequence[Need] = (),
    policy: Policy | None = None,
    on: date | None = None,
) -> Verdict:
    """Judge an offer for a need; village_needs are the village's needs (for what it absorbs)."""
    policy = policy or Policy()
    reasons = model_reasons(offer, need, village, policy)
    if on is not None and offer.valid_until is not None and offer.valid_until < on:
        window = {"until": offer.valid_until.isoformat(), "on": on.isoformat()}
        reasons.append(Ineligibility(Reason.EXPIRED, window))
    if not need.verified:
        reasons.append(Ineligibility(Reason.UNVERIFIED))
    # Absorption only matters when the model's rules let the offer reach the village at all;
    # the need itself counts even if unverified, so each reason stands on its own.
    if not any(r.reason in MODEL_REASONS for r in reasons):
        others = [n for n in village_needs if n.id != need.id]
        room = need.quantity + absorbable(offer, village, others, policy)
        if offer.min_lot > room:
            reasons.append(Ineligibility(Reason.MIN_LOT, {"min_lot": offer.min_lot, "room": room}))
        if offer.indivisible and offer.quantity > room:
            reasons.append(
                Ineligibility(Reason.INDIVISIBLE, {"quantity": offer.quantity, "room": room})
            )
    return Verdict(offer.id, need.id, village.id, tuple(reasons))


def check_in_week(week: Week, offer_id: str, need_id: str) -> Verdict:
    """Judge one offer for one need of a week."""
    offer, need = week.offer_by_id[offer_id], week.need_by_id[need_id]
    village = week.village_by_id[need.village]
    village_needs = week.needs_of[village.id]
    return check(offer, need, village, village_needs=village_needs, policy=week.policy, on=week.on)


def explain_need(week: Week, need_id: str) -> tuple[Verdict, ...]:
    """For one need, the verdict of every offer of the week (why it got nothing, or who could)."""
    return tuple(check_in_week(week, o.id, need_id) for o in week.offers)


def explain_offer(week: Week, offer_id: str) -> tuple[Verdict, ...]:
    """For one offer, its verdict on every need of the week."""
    return tuple(check_in_week(week, offer_id, n.id) for n in week.needs)


def eligible_villages(week: Week, offer_id: str) -> tuple[str, ...]:
    """The villages (in week order) with at least one need the offer may serve."""
    ok = {v.village for v in explain_offer(week, offer_id) if v.eligible}
    return tuple(v.id for v in week.villages if v.id in ok)


def model_eligible(week: Week, offer: Offer, need: Need) -> bool:
    """True when the spec's rules let the offer serve the need (what the optimizer sees)."""
    # The same rules as model_reasons, tried cheapest first and stopping at the first that fails
    # (the week's figures ask this of every offer for every need).
    if offer.category != need.category:
        return False
    village = week.village_by_id[need.village]
    if offer.counties and village.county not in offer.counties:
        return False
    if offer.villages and village.id not in offer.villages:
        return False
    if not offer_fits(offer.items, need.item, need.accepts):
        return False
    return distance_factor(offer, village, week.policy) > 0
