"""The instance as index arrays: eligible pairs, (offer, village) groups, objective terms."""

from __future__ import annotations

import math
from dataclasses import dataclass

from optimizer.kinds import NeedsByKind, offer_fits, prefixes, wanted
from optimizer.model import Instance, Need, Offer, Village

EARTH_RADIUS_KM = 6371.0


def km_between(offer: Offer, village: Village) -> float:
    """Great-circle distance from the offer's dispatch point; 0 when a point is unknown."""
    if offer.lat is None or offer.lon is None or village.lat is None or village.lon is None:
        return 0.0
    lat1, lon1 = math.radians(offer.lat), math.radians(offer.lon)
    lat2, lon2 = math.radians(village.lat), math.radians(village.lon)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Group:
    """The eligible pairs of one offer and one village: the unit of fragmentation."""

    offer: int
    village: int
    pairs: tuple[int, ...]
    capacity: int  # most units the offer can give this village


@dataclass(frozen=True)
class Problem:
    """Index arrays of one instance, the shared input of every solve method.

    `pairs` holds only pairs that some feasible allocation can use: groups whose village
    cannot take a minimum lot, or the whole of an indivisible offer, are dropped.
    """

    instance: Instance
    pair_offer: tuple[int, ...]
    pair_need: tuple[int, ...]
    pair_km: tuple[float, ...]
    pair_value: tuple[float, ...]  # objective value of one unit
    pair_group: tuple[int, ...]
    groups: tuple[Group, ...]
    need_village: tuple[int, ...]
    village_needs: tuple[tuple[int, ...], ...]
    reachable: tuple[bool, ...]  # per village, as the spec defines it


def need_unit_value(instance: Instance, need: int, village: Village) -> float:
    """value(n): 100 points per urgency level for the whole need, times the poverty weight."""
    record = instance.needs[need]
    return 100.0 * record.urgency * village.poverty_weight / record.quantity


def eligible_pairs(instance: Instance) -> list[tuple[int, int, float]]:
    """Every (offer, need, km) pair the spec's eligibility rules allow, in (offer, need) order.

    Needs are indexed by category, then county and village, so an offer limited to a few
    counties or villages only looks at their needs (a province week has 10,000 offers); an
    offer with kinds looks up the needs its items cover (NeedsByKind) when that list is the
    shorter one, so kinds are never tested pair by pair.
    """
    villages = {v.id: i for i, v in enumerate(instance.villages)}
    need_village = [villages[need.village] for need in instance.needs]
    by_category: dict[str, list[int]] = {}
    by_county: dict[tuple[str, str], list[int]] = {}
    by_village: dict[tuple[str, str], list[int]] = {}
    for index, need in enumerate(instance.needs):
        county = instance.villages[need_village[index]].county
        by_category.setdefault(need.category, []).append(index)
        by_county.setdefault((need.category, county), []).append(index)
        by_village.setdefault((need.category, need.village), []).append(index)
    by_kind = NeedsByKind(instance.needs) if any(o.items for o in instance.offers) else None
    discount = instance.policy.distance_discount_per_km
    found = []
    for o, offer in enumerate(instance.offers):
        counties = set(offer.counties)
        candidates: list[int] | tuple[int, ...]
        if offer.villages:
            candidates = sorted(
                n for v in set(offer.villages) for n in by_village.get((offer.category, v), ())
            )
        elif counties:
            candidates = sorted(
                n for c in counties for n in by_county.get((offer.category, c), ())
            )
        else:
            candidates = by_category.get(offer.category, ())
        if offer.items and by_kind is not None:
            covered = by_kind.covered(offer.category, offer.items)
            if len(covered) < len(candidates):
                allowed = set(offer.villages)
                candidates = [
                    n for n in covered if not allowed or instance.needs[n].village in allowed
                ]
            else:
                wanted_set = set(covered)
                candidates = [n for n in candidates if n in wanted_set]
        for n in candidates:
            village = instance.villages[need_village[n]]
            if counties and village.county not in counties:
                continue
            km = km_between(offer, village)
            if 1.0 - discount * km > 0.0:
                found.append((o, n, km))
    return found


def pair_km(instance: Instance, offer: Offer, village: Village, need: Need) -> float | None:
    """The km of an (offer, need) pair when the eligibility rules allow it, else None."""
    if offer.category != need.category or not offer_fits(offer, need):
        return None
    if offer.counties and village.county not in offer.counties:
        return None
    if offer.villages and village.id not in offer.villages:
        return None
    km = km_between(offer, village)
    return km if 1.0 - instance.policy.distance_discount_per_km * km > 0.0 else None


def reachable_villages(instance: Instance) -> set[int]:
    """Villages with at least one need some offer may serve, without listing every pair.

    Offers are indexed by category, by the county or village they are limited to, and by
    each of their kinds ("" for a general offer); a need looks up "" and every prefix of the
    kinds it takes, and the search stops at the first eligible offer of a village.
    """
    free: dict[tuple[str, str], list[Offer]] = {}
    by_county: dict[tuple[str, str, str], list[Offer]] = {}
    by_village: dict[tuple[str, str, str], list[Offer]] = {}
    for offer in instance.offers:
        for kind in set(offer.items) or {""}:
            if offer.villages:
                for vid in set(offer.villages):
                    by_village.setdefault((offer.category, vid, kind), []).append(offer)
            elif offer.counties:
                for c in set(offer.counties):
                    by_county.setdefault((offer.category, c, kind), []).append(offer)
            else:
                free.setdefault((offer.category, kind), []).append(offer)
    index = {v.id: i for i, v in enumerate(instance.villages)}
    found: set[int] = set()
    for need in instance.needs:
        v = index[need.village]
        if v in found:
            continue
        village = instance.villages[v]
        kinds = [""]
        if need.item is not None or need.accepts:
            kinds += sorted({p for kind in wanted(need) for p in prefixes(kind)})
        for kind in kinds:
            if _reaches(instance, need, village, kind, by_village, by_county, free):
                found.add(v)
                break
    return found


def _reaches(
    instance: Instance,
    need: Need,
    village: Village,
    kind: str,
    by_village: dict[tuple[str, str, str], list[Offer]],
    by_county: dict[tuple[str, str, str], list[Offer]],
    free: dict[tuple[str, str], list[Offer]],
) -> bool:
    """Whether an offer listed under `kind` may serve `need`."""
    for offers in (
        by_village.get((need.category, village.id, kind), ()),
        by_county.get((need.category, village.county, kind), ()),
        free.get((need.category, kind), ()),
    ):
        if any(pair_km(instance, o, village, need) is not None for o in offers):
            return True
    return False


def build_problem(instance: Instance) -> Problem:
    """Index the instance: eligible usable pairs grouped by (offer, village)."""
    village_index = {v.id: i for i, v in enumerate(instance.villages)}
    need_village = tuple(village_index[n.village] for n in instance.needs)
    village_needs: list[list[int]] = [[] for _ in instance.villages]
    for n, v in enumerate(need_village):
        village_needs[v].append(n)
    reachable = [False] * len(instance.villages)
    grouped: dict[tuple[int, int], list[tuple[int, float]]] = {}
    for o, n, km in eligible_pairs(instance):
        reachable[need_village[n]] = True
        grouped.setdefault((o, need_village[n]), []).append((n, km))
    discount = instance.policy.distance_discount_per_km
    pair_offer: list[int] = []
    pair_need: list[int] = []
    pair_km: list[float] = []
    pair_value: list[float] = []
    pair_group: list[int] = []
    groups: list[Group] = []
    for (o, v), members in sorted(grouped.items()):
        offer = instance.offers[o]
        capacity = min(offer.quantity, sum(instance.needs[n].quantity for n, _ in members))
        if capacity < offer.min_lot or (offer.indivisible and capacity < offer.quantity):
            continue
        start = len(pair_offer)
        for n, km in members:
            pair_offer.append(o)
            pair_need.append(n)
            pair_km.append(km)
            village = instance.villages[v]
            pair_value.append(need_unit_value(instance, n, village) * (1.0 - discount * km))
            pair_group.append(len(groups))
        groups.append(Group(o, v, tuple(range(start, len(pair_offer))), capacity))
    return Problem(
        instance=instance,
        pair_offer=tuple(pair_offer),
        pair_need=tuple(pair_need),
        pair_km=tuple(pair_km),
        pair_value=tuple(pair_value),
        pair_group=tuple(pair_group),
        groups=tuple(groups),
        need_village=need_village,
        village_needs=tuple(tuple(ns) for ns in village_needs),
        reachable=tuple(reachable),
    )
