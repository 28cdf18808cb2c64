"""The instance as index arrays: eligible pairs, (offer, village) groups, objective terms."""

from __future__ import annotations

import math
from dataclasses import dataclass

from optimizer.model import Instance, Offer, Village

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
    """Every (offer, need, km) pair the spec's eligibility rules allow."""
    villages = {v.id: i for i, v in enumerate(instance.villages)}
    by_category: dict[str, list[int]] = {}
    for index, need in enumerate(instance.needs):
        by_category.setdefault(need.category, []).append(index)
    discount = instance.policy.distance_discount_per_km
    found = []
    for o, offer in enumerate(instance.offers):
        counties, allowed = set(offer.counties), set(offer.villages)
        for n in by_category.get(offer.category, ()):
            village = instance.villages[villages[instance.needs[n].village]]
            if counties and village.county not in counties:
                continue
            if allowed and village.id not in allowed:
                continue
            km = km_between(offer, village)
            if 1.0 - discount * km > 0.0:
                found.append((o, n, km))
    return found


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
