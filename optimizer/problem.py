"""The instance as index arrays: eligible pairs, (offer, village) groups, objective terms."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

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
    """Every (offer, need, km) pair the spec's eligibility rules allow, in (offer, need) order."""
    offers, needs, kms = eligible_arrays(instance)
    return list(zip(offers.tolist(), needs.tolist(), kms.tolist(), strict=True))


def eligible_arrays(instance: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every eligible pair as arrays (offer, need, km), in (offer, need) order.

    Needs are indexed by category, county and village, so an offer limited to a few
    counties or villages only looks at their needs (a province week has 10,000 offers); an
    offer with kinds looks up the needs its items cover (NeedsByKind) when that list is the
    shorter one, so kinds are never tested pair by pair. Distances are computed per offer over
    all its candidate needs at once; with no distance discount they decide nothing but the
    reported km.
    """
    villages = {v.id: i for i, v in enumerate(instance.villages)}
    need_village = np.array([villages[need.village] for need in instance.needs], dtype=np.int64)
    counties = {c: i for i, c in enumerate(sorted({v.county for v in instance.villages}))}
    village_county = np.array([counties[v.county] for v in instance.villages], dtype=np.int64)
    lat = np.array([math.nan if v.lat is None else v.lat for v in instance.villages], dtype=float)
    lon = np.array([math.nan if v.lon is None else v.lon for v in instance.villages], dtype=float)
    known = ~(np.isnan(lat) | np.isnan(lon))
    lat_r, lon_r = np.radians(np.where(known, lat, 0.0)), np.radians(np.where(known, lon, 0.0))
    cos_lat = np.cos(lat_r)
    by_category: dict[str, list[int]] = {}
    by_county: dict[tuple[str, str], list[int]] = {}
    by_village: dict[tuple[str, str], list[int]] = {}
    for index, need in enumerate(instance.needs):
        county = instance.villages[int(need_village[index])].county
        by_category.setdefault(need.category, []).append(index)
        by_county.setdefault((need.category, county), []).append(index)
        by_village.setdefault((need.category, need.village), []).append(index)
    arrays = {key: np.array(found, dtype=np.int64) for key, found in by_category.items()}
    by_kind = NeedsByKind(instance.needs) if any(o.items for o in instance.offers) else None
    discount = instance.policy.distance_discount_per_km
    found_offer: list[np.ndarray] = []
    found_need: list[np.ndarray] = []
    found_km: list[np.ndarray] = []
    for o, offer in enumerate(instance.offers):
        candidates: np.ndarray
        if offer.villages:
            candidates = np.array(sorted(
                n for v in set(offer.villages) for n in by_village.get((offer.category, v), ())
            ), dtype=np.int64)
        elif offer.counties:
            candidates = np.array(sorted(
                n for c in set(offer.counties) for n in by_county.get((offer.category, c), ())
            ), dtype=np.int64)
        else:
            candidates = arrays.get(offer.category, np.zeros(0, dtype=np.int64))
        if offer.items and by_kind is not None:
            covered = by_kind.covered(offer.category, offer.items)
            if len(covered) < len(candidates):
                allowed = set(offer.villages)
                candidates = np.array([
                    n for n in covered if not allowed or instance.needs[n].village in allowed
                ], dtype=np.int64)
            else:
                candidates = candidates[np.isin(candidates, covered)]
        if not len(candidates):
            continue
        village = need_village[candidates]
        if offer.counties:
            allowed_counties = [counties[c] for c in offer.counties if c in counties]
            keep = np.isin(village_county[village], allowed_counties)
            candidates, village = candidates[keep], village[keep]
        km = _km_to(offer, village, known, lat_r, lon_r, cos_lat)
        if discount:
            keep = 1.0 - discount * km > 0.0
            candidates, km = candidates[keep], km[keep]
        found_offer.append(np.full(len(candidates), o, dtype=np.int64))
        found_need.append(candidates)
        found_km.append(km)
    if not found_offer:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return np.concatenate(found_offer), np.concatenate(found_need), np.concatenate(found_km)


def _km_to(
    offer: Offer,
    village: np.ndarray,
    known: np.ndarray,
    lat_r: np.ndarray,
    lon_r: np.ndarray,
    cos_lat: np.ndarray,
) -> np.ndarray:
    """km_between(offer, village) for an array of village indices (0 where a point is unknown)."""
    if offer.lat is None or offer.lon is None:
        return np.zeros(len(village))
    lat1, lon1 = math.radians(offer.lat), math.radians(offer.lon)
    lat2, lon2 = lat_r[village], lon_r[village]
    h = np.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * cos_lat[village] * np.sin(
        (lon2 - lon1) / 2
    ) ** 2
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return np.where(known[village], km, 0.0)


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
    """Index the instance: eligible usable pairs grouped by (offer, village).

    Built from arrays (one numpy pass per offer, then sorts and segment sums), not one Python
    call per pair. Inside `sharing_problems()`, an instance object is indexed once.
    """
    shared = _SHARED.get()
    if shared is not None:
        for known in shared:
            if known.instance is instance:
                return known
    problem = _build(instance)
    if shared is not None:
        shared.append(problem)
    return problem


_SHARED: ContextVar[list[Problem] | None] = ContextVar("shared_problems", default=None)


def shared_problem(instance: Instance) -> Problem | None:
    """The index of this instance object built inside `sharing_problems()`, if any."""
    for known in _SHARED.get() or ():
        if known.instance is instance:
            return known
    return None


@contextmanager
def sharing_problems() -> Iterator[None]:
    """Within the block, solves of the same instance object (the optimizer, then the greedy
    baseline) share one Problem; it is let go when the block ends."""
    token = _SHARED.set([])
    try:
        yield
    finally:
        _SHARED.reset(token)


def _build(instance: Instance) -> Problem:
    village_index = {v.id: i for i, v in enumerate(instance.villages)}
    need_village = tuple(village_index[n.village] for n in instance.needs)
    village_needs: list[list[int]] = [[] for _ in instance.villages]
    for n, v in enumerate(need_village):
        village_needs[v].append(n)
    offers, needs, kms = eligible_arrays(instance)
    nv = max(1, len(instance.villages))
    reachable_array = np.zeros(len(instance.villages), dtype=bool)
    of_need = np.array(need_village, dtype=np.int64)
    pair_village = of_need[needs] if len(needs) else np.zeros(0, dtype=np.int64)
    reachable_array[pair_village] = True
    # Pairs sorted by (offer, village), keeping (offer, need) order inside a group.
    order = np.argsort(offers * nv + pair_village, kind="stable")
    offers, needs, kms, pair_village = offers[order], needs[order], kms[order], pair_village[order]
    key = offers * nv + pair_village
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else key
    need_quantity = np.array([n.quantity for n in instance.needs], dtype=np.int64)
    offer_quantity = np.array([o.quantity for o in instance.offers], dtype=np.int64)
    offer_lot = np.array([o.min_lot for o in instance.offers], dtype=np.int64)
    indivisible = np.array([o.indivisible for o in instance.offers], dtype=bool)
    group_offer = offers[starts]
    room = np.add.reduceat(need_quantity[needs], starts) if len(starts) else starts
    capacity = np.minimum(offer_quantity[group_offer], room) if len(starts) else starts
    usable = (capacity >= offer_lot[group_offer]) & ~(
        indivisible[group_offer] & (capacity < offer_quantity[group_offer])
    )
    sizes = np.diff(np.r_[starts, len(key)])
    keep = np.repeat(usable, sizes)
    offers, needs, kms, pair_village = offers[keep], needs[keep], kms[keep], pair_village[keep]
    sizes, capacity = sizes[usable], capacity[usable]
    group_of_pair = np.repeat(np.arange(len(sizes)), sizes)
    base = np.array([
        100.0 * n.urgency * instance.villages[v].poverty_weight / n.quantity
        for n, v in zip(instance.needs, need_village, strict=True)
    ])
    discount = instance.policy.distance_discount_per_km
    value = base[needs] * (1.0 - discount * kms)
    bounds = np.r_[0, np.cumsum(sizes)].tolist()
    group_offers, group_villages = offers[bounds[:-1]].tolist(), pair_village[bounds[:-1]].tolist()
    groups = tuple(
        Group(o, v, tuple(range(a, b)), c)
        for o, v, a, b, c in zip(
            group_offers, group_villages, bounds[:-1], bounds[1:], capacity.tolist(), strict=True
        )
    )
    return Problem(
        instance=instance,
        pair_offer=tuple(offers.tolist()),
        pair_need=tuple(needs.tolist()),
        pair_km=tuple(kms.tolist()),
        pair_value=tuple(value.tolist()),
        pair_group=tuple(group_of_pair.tolist()),
        groups=groups,
        need_village=need_village,
        village_needs=tuple(tuple(ns) for ns in village_needs),
        reachable=tuple(reachable_array.tolist()),
    )
