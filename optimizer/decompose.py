"""Split a large week into parts solved as independent jobs, merge them, bound the whole.

What couples the model (specs/allocation-model-v1.md):
- an offer's rows (supply, minimum lot, village cap, indivisible) involve only that offer, and
  an offer has one category;
- a need's demand row involves only the offers of its category that may reach it;
- the fairness term of a village involves all of its needs, across categories.
So categories are independent but for fairness, and within a category offers limited to a
county or city only meet the needs of that region. The plan:

1. Regions per category: counties are joined when one *regional* offer (limited to at most
   WIDE_COUNTIES counties, or to a few villages) may serve both. A region is then closed
   under regional offers: every regional offer lies inside one region.
2. *Wide* offers (province-wide, or listing more counties than that) are each assigned whole
   to one region of their category: the one with most unmet demand (needs minus the regional
   offers' supply there), discounted by distance, water-filling as offers are assigned. This
   is a restriction of the model (a wide offer may no longer serve other regions), so any
   merged solution is feasible; what it costs is measured against the bound below.
3. A part is (category, region): the region's needs of that category, its regional offers
   and the wide offers assigned to it. Parts share no offer and no need, so the hard
   constraints of merged part solutions hold by construction.
4. Fairness: each part also holds, for each of its villages, one placeholder need (category
   ELSEWHERE, which no offer has) per need of that village in other parts, so coverage in a
   part is measured over all of the village's needs. A part then sees the exact marginal value
   of fairness while the village is below the floor overall, and over-values it only for
   villages that other parts lift above the floor.
5. The merged allocation's objective is recomputed on the whole instance by `evaluate`.
6. Kinds (spec v1.1): within a (category, region) part, offers and needs whose kinds cannot
   meet are cut apart: each connected component of the part's kind graph (an offer joined
   to its items, a general offer to every need, a need to the items covering what it takes)
   is a part of its own, so parts get smaller. A part without kinds stays whole, so v1
   instances are cut exactly as before. A wide offer with items goes to the region with most
   unmet demand for the kinds it covers, never to a region where none of its kinds is needed.

Bound (`bound_jobs`, `combine_bounds`): for prices 0 <= mu_v <= fairness_penalty,
    -P * max(0, floor - cov_v) <= mu_v * (cov_v - floor),
so the whole objective is at most  sum over categories c of LP_c(mu) - floor * sum_v mu_v,
where LP_c(mu) is the LP relaxation of category c alone (all its offers with their full
eligibility, nothing restricted) with fairness replaced by the price mu_v per unit of
coverage. Each LP_c bound is proven by weak duality (lp.proven_bound). At the optimal prices
this Lagrangian bound equals the whole-model LP bound; at any prices it is an upper bound on
it, so ratios against it are conservative.

Jobs take and return plain JSON-able dicts and run through any concurrent.futures.Executor
(a process pool in the benchmark; the web layer can pass an RQ-backed one).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

from optimizer.bound import transport_bound
from optimizer.evaluate import evaluate
from optimizer.greedy import solve_greedy
from optimizer.kinds import NeedsByKind, prefixes, wanted
from optimizer.model import Allocation, Instance, Need, Offer, Result, Village
from optimizer.parse import parse_instance
from optimizer.problem import km_between
from optimizer.solve import solve

WIDE_COUNTIES = 30  # an offer listing more counties than this is wide, not regional
ELSEWHERE = "\u00b7elsewhere"  # category of placeholder needs; the spec allows any string
PLACEHOLDER_UNITS = 10_000  # units of a second-round placeholder need
MIN_PART_SECONDS = 1.0
MIN_PART_PAIRS = 20_000  # solve_decomposed joins a category's smaller parts up to this
MAX_PART_SECONDS = 120.0

JSONDict = dict[str, Any]


@dataclass(frozen=True)
class Part:
    """One job: a (category, region) part of the week as spec JSON, and its time limit."""

    key: str
    category: str
    needs: tuple[int, ...]  # indexes into the whole instance
    offers: tuple[int, ...]
    size: int  # eligible pairs, counted without distance
    # Shares of wide offers: (offer, units, village cap) for offers this part holds only a
    # share of; the shares of one offer sum to at most its quantity and its village cap.
    pieces: tuple[tuple[int, int, int | None], ...] = ()


@dataclass
class Plan:
    """The parts of an instance, and which wide offers were assigned where."""

    parts: list[Part]
    wide_offers: int
    regions: int


@dataclass
class DecomposedResult:
    """The merged result, the part figures and the plan's statistics."""

    result: Result
    parts: list[JSONDict] = field(default_factory=list)
    plan_seconds: float = 0.0
    merge_seconds: float = 0.0


def instance_to_json(instance: Instance) -> JSONDict:
    """The spec's input JSON of an instance (defaults left out)."""
    return {
        "villages": [_village_json(v) for v in instance.villages],
        "needs": [_need_json(n) for n in instance.needs],
        "offers": [_offer_json(o) for o in instance.offers],
        "policy": _policy_json(instance),
    }


def _village_json(v: Village) -> JSONDict:
    item: JSONDict = {"id": v.id, "county": v.county, "poverty_weight": v.poverty_weight}
    if v.lat is not None and v.lon is not None:
        item.update(lat=v.lat, lon=v.lon)
    return item


def _need_json(n: Need) -> JSONDict:
    item: JSONDict = {
        "id": n.id,
        "village": n.village,
        "category": n.category,
        "quantity": n.quantity,
        "urgency": n.urgency,
    }
    if n.item is not None:
        item["item"] = n.item
    if n.accepts:
        item["accepts"] = list(n.accepts)
    return item


def _offer_json(o: Offer) -> JSONDict:
    item: JSONDict = {"id": o.id, "donor": o.donor, "category": o.category, "quantity": o.quantity}
    if o.min_lot != 1:
        item["min_lot"] = o.min_lot
    if o.max_villages is not None:
        item["max_villages"] = o.max_villages
    if o.indivisible:
        item["indivisible"] = True
    if o.counties:
        item["counties"] = list(o.counties)
    if o.villages:
        item["villages"] = list(o.villages)
    if o.lat is not None and o.lon is not None:
        item.update(lat=o.lat, lon=o.lon)
    if o.items:
        item["items"] = list(o.items)
    return item


def _policy_json(instance: Instance) -> JSONDict:
    p = instance.policy
    return {
        "fragmentation_penalty": p.fragmentation_penalty,
        "distance_discount_per_km": p.distance_discount_per_km,
        "fairness_floor": p.fairness_floor,
        "fairness_penalty": p.fairness_penalty,
    }


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, a: str) -> str:
        self.parent.setdefault(a, a)
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def join(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass(frozen=True)
class _Index:
    """Villages by id and each village's number of needs, computed once per instance."""

    village_of: dict[str, Village]
    count: dict[str, int]


def _index(instance: Instance) -> _Index:
    count: dict[str, int] = {}
    for need in instance.needs:
        count[need.village] = count.get(need.village, 0) + 1
    return _Index({v.id: v for v in instance.villages}, count)


def is_wide(offer: Offer) -> bool:
    """An offer with no village limit and no county limit (or one listing very many counties)."""
    return not offer.villages and (not offer.counties or len(offer.counties) > WIDE_COUNTIES)


def plan_parts(
    instance: Instance, flows: Iterable[Sequence[Any]] | None = None, min_pairs: int = 0
) -> Plan:
    """Cut the instance into (category, region) parts; see the module docstring.

    `flows` ([offer id, village id, units], the "flows" of `bound_part` outputs) share each
    wide offer among regions as the relaxation of the whole week uses it; without them, or
    for an offer the relaxation leaves unused, by unmet demand (`_share_wide`).
    With `min_pairs`, parts of one category smaller than that are joined (`_pack`): a job
    costs a process and a model build however small it is."""
    village_of = {v.id: v for v in instance.villages}
    union_by_cat: dict[str, _Union] = {}
    for offer in instance.offers:
        if is_wide(offer):
            continue
        union = union_by_cat.setdefault(offer.category, _Union())
        counties = [village_of[v].county for v in offer.villages] or list(offer.counties)
        for c in counties[1:]:
            union.join(counties[0], c)
    region_needs: dict[tuple[str, str], list[int]] = {}
    for n, need in enumerate(instance.needs):
        county = village_of[need.village].county
        union = union_by_cat.setdefault(need.category, _Union())
        region_needs.setdefault((need.category, union.find(county)), []).append(n)
    region_offers: dict[tuple[str, str], list[int]] = {}
    wide: list[int] = []
    for o, offer in enumerate(instance.offers):
        if is_wide(offer):
            wide.append(o)
            continue
        county = village_of[offer.villages[0]].county if offer.villages else offer.counties[0]
        region = union_by_cat[offer.category].find(county)
        region_offers.setdefault((offer.category, region), []).append(o)
    shares: dict[tuple[str, str], dict[int, tuple[int, int | None]]] = {}
    wide_count = len(wide)
    if flows is not None:  # what the flows leave unused is shared by demand below
        wide = _share_by_flows(instance, wide, flows, region_offers, union_by_cat, shares)
    for key, more in _share_wide(instance, wide, region_needs, region_offers, union_by_cat).items():
        shares.setdefault(key, {}).update(more)
    parts = []
    for key in sorted(region_needs):
        offers = sorted(region_offers.get(key, []))
        if not offers:
            continue
        for kind, needs, members in _kind_components(instance, region_needs[key], offers):
            pieces = _split_pieces(instance, members, shares.get(key, {}))
            parts.append(
                Part(
                    key=f"{key[0]}/{key[1]}" + (f"/{kind}" if kind else ""),
                    category=key[0],
                    needs=tuple(needs),
                    offers=tuple(members),
                    size=_size(instance, needs, members, village_of),
                    pieces=pieces,
                )
            )
    if min_pairs > 0:
        parts = _pack(instance, parts, min_pairs)
    return Plan(parts=parts, wide_offers=wide_count, regions=len(region_needs))


def _pack(instance: Instance, parts: list[Part], min_pairs: int) -> list[Part]:
    """Join consecutive parts of a category until each holds at least `min_pairs` pairs.

    Joined parts still share no need with any other part; an offer shared among joined parts
    becomes one offer with the sum of their shares and village caps, which is still at most
    its quantity and cap, so merged solutions stay feasible (and the offer more useful)."""
    packed: list[Part] = []
    group: list[Part] = []
    for part in [*parts, None]:
        if group and (part is None or part.category != group[0].category):
            packed.append(_join(instance, group))  # the category's last, small group
            group = []
        if part is None:
            break
        group.append(part)
        if sum(p.size for p in group) >= min_pairs:
            packed.append(_join(instance, group))
            group = []
    return packed


def _join(instance: Instance, group: list[Part]) -> Part:
    if len(group) == 1:
        return group[0]
    units: dict[int, int] = {}
    caps: dict[int, int | None] = {}
    for part in group:
        for o, share, cap in part.pieces:
            units[o] = units.get(o, 0) + share
            caps[o] = None if cap is None else (caps.get(o) or 0) + cap
    return Part(
        key=f"{group[0].key}+{len(group) - 1}",
        category=group[0].category,
        needs=tuple(sorted(n for p in group for n in p.needs)),
        offers=tuple(sorted({o for p in group for o in p.offers})),
        size=sum(p.size for p in group),
        pieces=tuple(
            (o, units[o], caps[o])
            for o in sorted(units)
            if units[o] < instance.offers[o].quantity
        ),
    )


def _kind_components(
    instance: Instance, needs: list[int], offers: list[int]
) -> list[tuple[str, list[int], list[int]]]:
    """Split a (category, region) part into the connected components of its kind graph.

    An offer is joined to its items (a general offer to every need), a need to each offer
    item covering a kind it takes; location is left to the regions. Components with no need
    or no offer are dropped, as parts without offers are, and so are offers none of whose
    items covers a need of the part. Each component is named by its
    smallest kind, or "" when the part stays whole (always so for a v1 instance).
    """
    if not any(instance.offers[o].items for o in offers):
        return [("", needs, offers)]
    union = _Union()
    items = {k for o in offers for k in instance.offers[o].items}
    general = any(not instance.offers[o].items for o in offers)
    for o in offers:
        for kind in instance.offers[o].items or ("",):
            union.join(f"o{o}", f"k:{kind}")
    met: set[str] = set()  # offer items that cover some need's kind
    for n in needs:
        union.find(f"n{n}")
        if general:
            union.join(f"n{n}", "k:")
        for kind in wanted(instance.needs[n]):
            for prefix in prefixes(kind):
                if prefix in items:
                    met.add(prefix)
                    union.join(f"n{n}", f"k:{prefix}")
    found: dict[str, tuple[list[int], list[int]]] = {}
    for n in needs:
        found.setdefault(union.find(f"n{n}"), ([], []))[0].append(n)
    for o in offers:
        root, kinds_of = union.find(f"o{o}"), instance.offers[o].items
        # An offer joined only through another offer's items serves nobody here: left out.
        if root in found and (not kinds_of or met.intersection(kinds_of)):
            found[root][1].append(o)
    kinds: dict[str, str] = {}
    for kind in sorted(items | ({""} if general else set())):
        kinds.setdefault(union.find(f"k:{kind}"), kind)
    components = [(kinds[root], ns, os) for root, (ns, os) in found.items() if os]
    if len(components) == 1:
        return [("", components[0][1], components[0][2])]
    return sorted(components, key=lambda c: c[1][0])


def _size(
    instance: Instance, needs: list[int], offers: list[int], village_of: Mapping[str, Village]
) -> int:
    """Eligible pairs of a part, ignoring distance (a cheap measure of its work)."""
    if any(instance.offers[o].items for o in offers):
        return _kind_size(instance, needs, offers, village_of)
    county_count: dict[str, int] = {}
    village_count: dict[str, int] = {}
    for n in needs:
        vid = instance.needs[n].village
        county_count[village_of[vid].county] = county_count.get(village_of[vid].county, 0) + 1
        village_count[vid] = village_count.get(vid, 0) + 1
    total = 0
    for o in offers:
        offer = instance.offers[o]
        if offer.villages:
            total += sum(village_count.get(v, 0) for v in set(offer.villages))
        elif offer.counties:
            total += sum(county_count.get(c, 0) for c in set(offer.counties))
        else:
            total += len(needs)
    return total


def _kind_size(
    instance: Instance, needs: list[int], offers: list[int], village_of: Mapping[str, Village]
) -> int:
    """Eligible pairs of a part with kinds, ignoring distance: offers with items count the
    needs they cover (looked up by kind), general offers every need of their places."""
    by_kind = NeedsByKind(instance.needs, needs)
    total = 0
    for o in offers:
        offer = instance.offers[o]
        counties, allowed = set(offer.counties), set(offer.villages)
        found = by_kind.covered(offer.category, offer.items) if offer.items else needs
        for n in found:
            vid = instance.needs[n].village
            if allowed and vid not in allowed:
                continue
            if counties and village_of[vid].county not in counties:
                continue
            total += 1
    return total


MAX_PIECES = 4  # a wide offer is shared among at most this many regions


def _share_wide(
    instance: Instance,
    wide: list[int],
    region_needs: dict[tuple[str, str], list[int]],
    region_offers: dict[tuple[str, str], list[int]],
    union_by_cat: Mapping[str, _Union],
) -> dict[tuple[str, str], dict[int, tuple[int, int | None]]]:
    """Share each wide offer's units among the reachable regions of its category with most
    unmet demand (for its kinds), discounted by distance, water-filling as offers are shared.

    Largest offers first; an offer gives a region at most that region's unmet demand, to at
    most MAX_PIECES regions, each share at least a minimum lot (what is left over goes to the
    first share); an indivisible offer, or one capped at one village, stays whole. Returns
    region -> {offer: (units, village cap)} and appends the offer to each region it is shared with.
    """
    village_of = {v.id: v for v in instance.villages}
    demand: dict[tuple[str, str], float] = {}
    left: dict[tuple[str, str], float] = {}
    centre: dict[tuple[str, str], Village] = {}
    for key, needs in region_needs.items():
        demand[key] = float(sum(instance.needs[n].quantity for n in needs))
        supply = sum(instance.offers[o].quantity for o in region_offers.get(key, []))
        left[key] = demand[key] - supply
        points = [village_of[instance.needs[n].village] for n in needs]
        located = [v for v in points if v.lat is not None and v.lon is not None]
        lat = sum(v.lat for v in located if v.lat is not None) / len(located) if located else None
        lon = sum(v.lon for v in located if v.lon is not None) / len(located) if located else None
        centre[key] = Village(id="", county="", lat=lat, lon=lon)
    counties = {
        key: {village_of[instance.needs[n].village].county for n in needs}
        for key, needs in region_needs.items()
    }
    discount = instance.policy.distance_discount_per_km
    by_category: dict[str, list[tuple[str, str]]] = {}
    for key in sorted(region_needs):
        by_category.setdefault(key[0], []).append(key)
    fitting = (
        _Fitting(instance, region_needs, region_offers)
        if any(instance.offers[o].items for o in wide)
        else None
    )
    shares: dict[tuple[str, str], dict[int, tuple[int, int | None]]] = {}
    for o in sorted(wide, key=lambda o: (-instance.offers[o].quantity, o)):
        offer = instance.offers[o]
        allowed = set(offer.counties)
        union = union_by_cat.get(offer.category)
        scored: list[tuple[float, float, tuple[str, str]]] = []  # (score, unmet, region)
        for key in by_category.get(offer.category, []):
            if allowed and union is not None and not counties[key] & allowed:
                continue
            factor = 1.0 - discount * km_between(offer, centre[key])
            if factor <= 0:
                continue
            if offer.items and fitting is not None:
                wanted_units, unmet = fitting.demand(key, offer.items)
                if wanted_units <= 0:  # no need of this region takes the offer's kinds
                    continue
            else:
                wanted_units, unmet = demand[key], left[key]
            scored.append((factor * (max(unmet, 0.0) + 0.01 * wanted_units), unmet, key))
        if not scored:
            continue
        scored.sort(key=lambda s: (-s[0], s[2]))
        whole = offer.indivisible or offer.max_villages == 1
        limit = 1 if whole else min(MAX_PIECES, offer.max_villages or MAX_PIECES)
        remaining = offer.quantity
        given: list[tuple[tuple[str, str], int]] = []
        for _, unmet, key in scored:
            if remaining <= 0 or len(given) >= limit:
                break
            if given and unmet <= 0:
                break
            take = remaining if whole or len(given) == limit - 1 else math.ceil(max(unmet, 0.0))
            take = min(remaining, max(take, offer.min_lot, 1))
            if remaining - take < offer.min_lot:
                take = remaining
            given.append((key, take))
            remaining -= take
        if remaining > 0:  # nobody else wants it: the best region holds the rest
            given[0] = (given[0][0], given[0][1] + remaining)
        caps = _split_cap(offer.max_villages, [take for _, take in given])
        for (key, take), cap in zip(given, caps, strict=True):
            shares.setdefault(key, {})[o] = (take, cap)
            region_offers.setdefault(key, []).append(o)
            left[key] -= take
            if offer.items and fitting is not None:
                fitting.take(key, offer.items, take)
    return shares


def _share_by_flows(
    instance: Instance,
    wide: list[int],
    flows: Iterable[Sequence[Any]],
    region_offers: dict[tuple[str, str], list[int]],
    union_by_cat: Mapping[str, _Union],
    shares: dict[tuple[str, str], dict[int, tuple[int, int | None]]],
) -> list[int]:
    """Share wide offers by the relaxation's units per region (largest first; a share below
    a minimum lot joins the largest, as does what the relaxation leaves unused; indivisible
    offers and offers capped at k villages go to the 1 or k regions with most units).
    Returns the wide offers the flows say nothing about."""
    offer_index = {o.id: i for i, o in enumerate(instance.offers)}
    village_of = {v.id: v for v in instance.villages}
    wide_set = set(wide)
    units: dict[int, dict[tuple[str, str], float]] = {}
    for offer_id, village_id, amount in flows:
        o = offer_index.get(offer_id)
        if o is None or o not in wide_set or village_id not in village_of:
            continue
        category = instance.offers[o].category
        union = union_by_cat.get(category)
        if union is None:
            continue
        key = (category, union.find(village_of[village_id].county))
        units.setdefault(o, {})[key] = units.setdefault(o, {}).get(key, 0.0) + float(amount)
    left = []
    for o in wide:
        found = sorted(units.get(o, {}).items(), key=lambda kv: (-kv[1], kv[0]))
        if not found:
            left.append(o)
            continue
        offer = instance.offers[o]
        limit = 1 if offer.indivisible else (offer.max_villages or len(found))
        given = [(key, math.floor(u)) for key, u in found[:limit]]
        given = [given[0]] + [(k, t) for k, t in given[1:] if t >= max(1, offer.min_lot)]
        while len(given) > 1 and offer.quantity - sum(t for _, t in given[1:]) < offer.min_lot:
            given.pop()  # the smallest share: its units stay with the largest
        given[0] = (given[0][0], offer.quantity - sum(t for _, t in given[1:]))
        caps = _split_cap(offer.max_villages, [t for _, t in given])
        for (key, take), cap in zip(given, caps, strict=True):
            shares.setdefault(key, {})[o] = (take, cap)
            region_offers.setdefault(key, []).append(o)
    return left


def _split_cap(cap: int | None, takes: list[int]) -> list[int | None]:
    """A village cap split among shares: 1 each, the rest in proportion to units (sum <= cap)."""
    if cap is None:
        return [None] * len(takes)
    extra = cap - len(takes)
    total = sum(takes) or 1
    return [1 + math.floor(extra * t / total) for t in takes]


def _split_pieces(
    instance: Instance, members: list[int], shares: Mapping[int, tuple[int, int | None]]
) -> tuple[tuple[int, int, int | None], ...]:
    """The (offer, units, village cap) of the offers among `members` held only in part."""
    return tuple(
        (o, *shares[o])
        for o in members
        if o in shares and shares[o][0] < instance.offers[o].quantity
    )


class _Fitting:
    """Demand per region for the kinds of a wide offer: units of the region's needs its items
    cover, and what is left of them after regional and assigned offers with the same items."""

    def __init__(
        self,
        instance: Instance,
        region_needs: Mapping[tuple[str, str], list[int]],
        region_offers: Mapping[tuple[str, str], list[int]],
    ) -> None:
        self.instance = instance
        self.by_kind = {key: NeedsByKind(instance.needs, ns) for key, ns in region_needs.items()}
        self.supply: dict[tuple[tuple[str, str], tuple[str, ...]], float] = {}
        for key, offers in region_offers.items():
            for o in offers:
                self.take(key, instance.offers[o].items, instance.offers[o].quantity)
        self.units: dict[tuple[tuple[str, str], tuple[str, ...]], float] = {}

    def demand(self, key: tuple[str, str], items: tuple[str, ...]) -> tuple[float, float]:
        """(units of needs the items cover, those units less same-item supply) in a region."""
        kinds = tuple(sorted(set(items)))
        if (key, kinds) not in self.units:
            found = self.by_kind[key].covered(key[0], kinds)
            self.units[(key, kinds)] = float(sum(self.instance.needs[n].quantity for n in found))
        units = self.units[(key, kinds)]
        return units, units - self.supply.get((key, kinds), 0.0)

    def take(self, key: tuple[str, str], items: tuple[str, ...], quantity: int) -> None:
        kinds = tuple(sorted(set(items)))
        self.supply[(key, kinds)] = self.supply.get((key, kinds), 0.0) + quantity


def _with_placeholders(
    instance: Instance,
    needs: Iterable[int],
    offers: Iterable[int],
    index: _Index,
    elsewhere: Mapping[str, int] | None = None,
    pieces: Iterable[tuple[int, int, int | None]] = (),
) -> JSONDict:
    """Spec JSON of some needs and offers, plus placeholder needs so that each village's
    coverage is measured over all of its needs in the whole instance. `pieces` (offer,
    units, village cap) give the offers held only in part: their share replaces their
    quantity and cap, and an offer with no units is left out.

    With `elsewhere` (village id -> units), the placeholders hold PLACEHOLDER_UNITS each
    and one offer per such village, which only its placeholders may take, brings that many
    units: coverage the village gets from other parts (see `share_payloads`).
    """
    needs = list(needs)
    count, village_of = index.count, index.village_of
    mine: dict[str, int] = {}
    for n in needs:
        mine[instance.needs[n].village] = mine.get(instance.needs[n].village, 0) + 1
    need_json = [_need_json(instance.needs[n]) for n in needs]
    share = {o: (units, cap) for o, units, cap in pieces}
    offers = [o for o in offers if share.get(o, (1, None))[0] > 0]
    offer_json = [_offer_json(instance.offers[o]) for o in offers]
    for item, o in zip(offer_json, offers, strict=True):
        if o in share:
            item["quantity"], cap = share[o]
            item.pop("max_villages", None)
            if cap is not None:
                item["max_villages"] = cap
    taken = {n["id"] for n in need_json} | {o["id"] for o in offer_json}
    quantity, urgency = (PLACEHOLDER_UNITS, 5) if elsewhere is not None else (1, 1)
    for vid in sorted(mine):
        for k in range(count[vid] - mine[vid]):
            ident = _placeholder(vid, k)
            assert ident not in taken, f"placeholder id {ident} clashes with a need id"
            need_json.append(
                {
                    "id": ident,
                    "village": vid,
                    "category": ELSEWHERE,
                    "quantity": quantity,
                    "urgency": urgency,
                }
            )
        units = (elsewhere or {}).get(vid, 0)
        if units > 0:
            ident = f"{ELSEWHERE}:{vid}"
            assert ident not in taken, f"placeholder id {ident} clashes with an offer id"
            offer_json.append(
                {
                    "id": ident,
                    "donor": ELSEWHERE,
                    "category": ELSEWHERE,
                    "quantity": units,
                    "villages": [vid],
                }
            )
    listed = {v for o in offers for v in instance.offers[o].villages}  # must exist in the part
    return {
        "villages": [_village_json(village_of[v]) for v in sorted(set(mine) | listed)],
        "needs": need_json,
        "offers": offer_json,
        "policy": _policy_json(instance),
    }


def _placeholder(vid: str, k: int) -> str:
    return f"{ELSEWHERE}:{vid}:{k}"


def _limit(budget: float, size: int, total: int) -> float:
    return min(MAX_PART_SECONDS, max(MIN_PART_SECONDS, budget * size / max(1, total)))


def share_payloads(
    instance: Instance, plan: Plan, outputs: list[JSONDict], budget: float, seed: int = 0
) -> list[JSONDict]:
    """Second-round jobs: each part gets a fixed share f_p(v) of each village's floor.

    Shares follow the first round's coverage: f_p(v) = floor * cov_p(v) / cov(v) (by needs
    when cov(v) = 0), so the shares of a village sum to the floor. A part's fairness term
    P * max(0, f_p(v) - cov_p(v)) is modelled by placeholders filled with floor - f_p(v)
    of coverage, and since sum_p max(0, f_p - cov_p) >= max(0, floor - sum_p cov_p) the
    parts' objectives sum to at most the merged objective: each part improving its own
    (from the first round's allocation, which the shares price exactly) improves the whole.
    """
    floor = instance.policy.fairness_floor
    index = _index(instance)
    count = index.count
    need_index = {n.id: i for i, n in enumerate(instance.needs)}
    cover: dict[tuple[str, str], float] = {}  # (part, village) -> coverage from that part
    total: dict[str, float] = {}
    starts: dict[str, list[list[Any]]] = {}
    for out in outputs:
        starts[out["key"]] = [[o, n, q] for o, n, q, *_ in out["allocations"]]
        for _, n, q, *_ in out["allocations"]:
            need = instance.needs[need_index[n]]
            share = q / (need.quantity * count[need.village])
            cover[(out["key"], need.village)] = cover.get((out["key"], need.village), 0.0) + share
            total[need.village] = total.get(need.village, 0.0) + share
    sizes = sum(p.size for p in plan.parts)
    pieces = _reshare(instance, plan, outputs)
    payloads = []
    for i, part in enumerate(sorted(plan.parts, key=lambda p: (-p.size, p.key))):
        mine: dict[str, int] = {}
        for n in part.needs:
            mine[instance.needs[n].village] = mine.get(instance.needs[n].village, 0) + 1
        elsewhere: dict[str, int] = {}
        start = list(starts.get(part.key, []))
        for vid, k in mine.items():
            c, own = total.get(vid, 0.0), cover.get((part.key, vid), 0.0)
            share = floor * own / c if c > 0 else floor * k / count[vid]
            room = (count[vid] - k) / count[vid]  # what placeholders can hold
            lift = min(max(0.0, floor - share), room)
            units = math.floor(lift * count[vid] * PLACEHOLDER_UNITS)
            if units <= 0:
                continue
            elsewhere[vid] = units
            left = units
            for j in range(count[vid] - k):
                take = min(left, PLACEHOLDER_UNITS)
                if take <= 0:
                    break
                start.append([f"{ELSEWHERE}:{vid}", _placeholder(vid, j), take])
                left -= take
        payloads.append(
            {
                "key": part.key,
                "instance": _with_placeholders(
                    instance, part.needs, part.offers, index, elsewhere, pieces[part.key]
                ),
                "time_limit": _limit(budget, part.size, sizes),
                "seed": seed + 7919 + i,
                "size": part.size,
                "start": start,
            }
        )
    return payloads


def _reshare(
    instance: Instance, plan: Plan, outputs: list[JSONDict]
) -> dict[str, list[tuple[int, int, int | None]]]:
    """Second-round shares of the offers held in part: each part keeps what it used in the
    first round, and what no part used goes to the parts holding the offer in proportion to
    their unmet demand (units of their needs not given). Shares still sum to the quantity,
    each is 0 or at least a minimum lot, and village caps are kept; so the first round's
    allocation stays feasible in every part."""
    need_index = {n.id: i for i, n in enumerate(instance.needs)}
    offer_index = {o.id: i for i, o in enumerate(instance.offers)}
    used: dict[tuple[str, int], int] = {}
    unmet: dict[str, float] = {}
    given: dict[int, int] = {}
    for out in outputs:
        for o, n, q, *_ in out["allocations"]:
            if o in offer_index:
                used[(out["key"], offer_index[o])] = used.get((out["key"], offer_index[o]), 0) + q
                given[need_index[n]] = given.get(need_index[n], 0) + q
    holders: dict[int, list[tuple[str, int | None]]] = {}
    for part in plan.parts:
        unmet[part.key] = float(
            sum(instance.needs[n].quantity - given.get(n, 0) for n in part.needs)
        )
        for o, _, cap in part.pieces:
            holders.setdefault(o, []).append((part.key, cap))
    result: dict[str, list[tuple[int, int, int | None]]] = {p.key: [] for p in plan.parts}
    for o, held in holders.items():
        offer = instance.offers[o]
        keep = {key: used.get((key, o), 0) for key, _ in held}
        left = offer.quantity - sum(keep.values())
        weights = {key: unmet[key] for key, _ in held}
        total = sum(weights.values())
        if left > 0 and total > 0:
            best = max(held, key=lambda h: (weights[h[0]], h[0]))[0]
            for key, _ in held:
                extra = math.floor(left * weights[key] / total)
                if key != best and keep[key] + extra >= offer.min_lot:
                    keep[key] += extra
            keep[best] += offer.quantity - sum(keep.values())
        elif left > 0:  # nobody short: as in the plan
            keep = {key: units for key, units in _planned(plan, o)}
        for key, cap in held:
            result[key].append((o, keep[key], cap))
    return result


def _planned(plan: Plan, o: int) -> list[tuple[str, int]]:
    return [(p.key, units) for p in plan.parts for q, units, _ in p.pieces if q == o]


def part_payloads(instance: Instance, plan: Plan, budget: float, seed: int = 0) -> list[JSONDict]:
    """The job inputs, largest first: each part's JSON and its share of `budget` seconds."""
    index = _index(instance)
    total = sum(p.size for p in plan.parts) or 1
    payloads = []
    for i, part in enumerate(sorted(plan.parts, key=lambda p: (-p.size, p.key))):
        limit = _limit(budget, part.size, total)
        payloads.append(
            {
                "key": part.key,
                "instance": _with_placeholders(
                    instance, part.needs, part.offers, index, pieces=part.pieces
                ),
                "time_limit": limit,
                "seed": seed + i,
                "size": part.size,
            }
        )
    return payloads


def solve_part(payload: JSONDict) -> JSONDict:
    """Solve one part (a job): JSON in, JSON out. Top-level so process pools can pickle it."""
    start = time.perf_counter()
    instance = parse_instance(payload["instance"])
    start_from = [Allocation(o, n, int(q)) for o, n, q in payload.get("start", [])]
    result = solve(
        instance,
        time_limit=float(payload["time_limit"]),
        workers=1,
        seed=int(payload.get("seed", 0)),
        start_from=start_from or None,
    )
    return {
        "key": payload["key"],
        "allocations": [[a.offer, a.need, a.quantity, a.km, a.value] for a in result.allocations],
        "objective": result.objective,
        "bound": result.bound,
        "status": result.status,
        "method": result.method,
        "size": payload.get("size"),
        "needs": sum(1 for n in instance.needs if n.category != ELSEWHERE),
        "offers": sum(1 for o in instance.offers if o.category != ELSEWHERE),
        "time_limit": payload["time_limit"],
        "seconds": time.perf_counter() - start,
    }


def greedy_payload(instance: Instance) -> JSONDict:
    """The whole week for the first-come-first-served baseline as a job (`greedy_week`)."""
    return {"key": "greedy", "instance": instance_to_json(instance)}


def greedy_week(payload: JSONDict, deadline: float | None = None) -> JSONDict:
    """The baseline of the whole week (a job: JSON in, JSON out), stopped at `deadline`
    (time.time() seconds): the offers not reached by then give nothing."""
    start = time.perf_counter()
    instance = parse_instance(payload["instance"])
    until = None if deadline is None else start + (deadline - time.time())
    result = solve_greedy(instance, until)
    return {
        "key": payload["key"],
        "allocations": [[a.offer, a.need, a.quantity, a.km, a.value] for a in result.allocations],
        "objective": result.objective,
        "seconds": time.perf_counter() - start,
    }


def bound_payloads(instance: Instance, prices: Mapping[str, float] | None = None) -> list[JSONDict]:
    """One bound job per category: its needs and offers, unrestricted, each village's number
    of needs in the whole week, and the fairness prices (default: the penalty everywhere;
    `fairness_prices` of a solution give a tighter bound)."""
    index = _index(instance)
    penalty = instance.policy.fairness_penalty
    by_cat_needs: dict[str, list[int]] = {}
    by_cat_offers: dict[str, list[int]] = {}
    for n, need in enumerate(instance.needs):
        by_cat_needs.setdefault(need.category, []).append(n)
    for o, offer in enumerate(instance.offers):
        by_cat_offers.setdefault(offer.category, []).append(o)
    payloads = []
    for category in sorted(by_cat_offers):
        needs = by_cat_needs.get(category, [])
        if not needs:
            continue
        offers = by_cat_offers[category]
        villages = {instance.needs[n].village for n in needs}
        listed = {v for o in offers for v in instance.offers[o].villages}
        data = {
            "villages": [_village_json(index.village_of[v]) for v in sorted(villages | listed)],
            "needs": [_need_json(instance.needs[n]) for n in needs],
            "offers": [_offer_json(instance.offers[o]) for o in offers],
            "policy": _policy_json(instance),
        }
        price = {v: float((prices or {}).get(v, penalty)) for v in sorted(villages)}
        counts = {v: index.count[v] for v in sorted(villages)}
        payloads.append({"key": category, "instance": data, "prices": price, "counts": counts})
    return sorted(payloads, key=lambda p: -len(p["instance"]["offers"]))


def bound_part(payload: JSONDict) -> JSONDict:
    """The transport bound of one category (a job; optimizer.bound): its proven bound and
    its reachable villages with their prices. A payload's "deadline" (time.time() seconds)
    stops its pricing: the bound is then looser, never wrong."""
    start = time.perf_counter()
    instance = parse_instance(payload["instance"])
    prices = {v: float(p) for v, p in payload["prices"].items()}
    counts = payload.get("counts") or _index(instance).count
    found = transport_bound(instance, prices, counts, payload.get("deadline"))
    units: dict[tuple[str, str], float] = {}
    for (o, n), u in found.flows.items():
        key = (instance.offers[o].id, instance.needs[n].village)
        units[key] = units.get(key, 0.0) + u
    return {
        "key": payload["key"],
        "bound": found.bound,
        "reachable": {v: prices.get(v, 0.0) for v in sorted(found.reachable)},
        "pairs": found.pairs,
        # The relaxation's units per (offer, village): where the offer is worth most.
        "flows": [[o, v, round(u, 3)] for (o, v), u in sorted(units.items()) if u >= 1e-3],
        "seconds": time.perf_counter() - start,
    }


def fairness_prices(instance: Instance, allocations: Iterable[Allocation]) -> dict[str, float]:
    """Prices for the bound from a solution's coverage: the penalty below the floor, nothing
    above it, half at it (any prices in [0, penalty] give a valid bound, these a tight one)."""
    policy = instance.policy
    quantity = {n.id: (n.village, n.quantity) for n in instance.needs}
    count = _index(instance).count
    cover = dict.fromkeys(count, 0.0)
    for a in allocations:
        village, q = quantity[a.need]
        cover[village] += a.quantity / (q * count[village])
    prices = {}
    for village, c in cover.items():
        gap = policy.fairness_floor - c
        prices[village] = policy.fairness_penalty * (
            1.0 if gap > 1e-9 else 0.5 if gap > -1e-9 else 0.0
        )
    return prices


def combine_bounds(instance: Instance, outputs: Iterable[JSONDict]) -> float | None:
    """sum_c bound_c(mu) - floor * sum over reachable villages of mu_v; None if a job failed."""
    total: list[float] = []
    prices: dict[str, float] = {}
    for out in outputs:
        if out["bound"] is None:
            return None
        total.append(float(out["bound"]))
        for vid, price in out["reachable"].items():
            prices[vid] = max(prices.get(vid, 0.0), float(price))
    total.append(-instance.policy.fairness_floor * math.fsum(prices.values()))
    return math.fsum(total) + 1e-9 * math.fsum(abs(t) for t in total) + 1e-6


def _run(
    function: Callable[[JSONDict], JSONDict],
    payloads: list[JSONDict],
    executor: Executor | None,
    on_done: Callable[[JSONDict], None] | None = None,
) -> list[JSONDict]:
    """Run jobs on the executor (or here, one by one), in submission order of results."""
    if executor is None:
        outputs = []
        for payload in payloads:
            outputs.append(function(payload))
            if on_done:
                on_done(outputs[-1])
        return outputs
    futures: list[Future[JSONDict]] = [executor.submit(function, p) for p in payloads]
    if on_done:
        for future in futures:
            future.add_done_callback(lambda f: on_done(f.result()) if not f.exception() else None)
    return [f.result() for f in futures]


def merge(instance: Instance, outputs: Iterable[JSONDict]) -> tuple[Allocation, ...]:
    """The real allocations of the parts' outputs (placeholders dropped), in order."""
    real = {o.id for o in instance.offers}
    return tuple(
        sorted(
            (
                Allocation(o, n, int(q), float(km), float(value))
                for out in outputs
                for o, n, q, km, value in out["allocations"]
                if o in real
            ),
            key=lambda a: (a.offer, a.need),
        )
    )


def solve_decomposed(
    instance: Instance,
    *,
    budget: float = 300.0,
    executor: Executor | None = None,
    seed: int = 0,
    rounds: int = 2,
    with_bound: bool = False,
    on_part: Callable[[JSONDict], None] | None = None,
    share_by_relaxation: bool = True,
) -> DecomposedResult:
    """Plan parts, solve them on `executor` (None: in this process), merge, evaluate.

    `budget` is the total solver seconds, split evenly between the rounds and within a
    round among the parts in proportion to their size (each gets 1 to 120 s), so the work
    is the same whatever the number of workers. Round 2 (`share_payloads`) re-solves every
    part with fixed fairness shares from round 1's allocation; the better merged allocation
    is kept. With `with_bound`, the Lagrangian bound jobs run on the same executor.
    With `share_by_relaxation`, the bound jobs first run once with every village priced at
    half the fairness penalty, and wide offers are shared among regions as that relaxation
    of the whole week uses them (`plan_parts` with flows); that bound is kept as well.
    """
    start = time.perf_counter()
    relaxed: list[JSONDict] = []
    if share_by_relaxation:  # round 0: where the whole week's relaxation sends wide offers
        half = {v.id: instance.policy.fairness_penalty / 2 for v in instance.villages}
        relaxed = _run(bound_part, bound_payloads(instance, half), executor)
    flows = [f for out in relaxed for f in out["flows"]] if relaxed else None
    plan = plan_parts(instance, flows, min_pairs=MIN_PART_PAIRS)
    per_round = budget / max(1, rounds)
    payloads = part_payloads(instance, plan, per_round, seed)
    plan_seconds = time.perf_counter() - start
    outputs = _run(solve_part, payloads, executor, on_part)
    chosen = merge(instance, outputs)
    checked = evaluate(instance, chosen)
    history = [checked.objective]
    if rounds >= 2:
        second = _run(
            solve_part, share_payloads(instance, plan, outputs, per_round, seed), executor, on_part
        )
        chosen_2 = merge(instance, second)
        checked_2 = evaluate(instance, chosen_2)
        history.append(checked_2.objective)
        if checked_2.feasible and checked_2.objective > checked.objective:
            chosen, checked, outputs = chosen_2, checked_2, second
    bound = None
    if with_bound:
        prices = fairness_prices(instance, chosen)
        bound = combine_bounds(
            instance, _run(bound_part, bound_payloads(instance, prices), executor)
        )
        first = combine_bounds(instance, relaxed) if relaxed else None
        if bound is not None and first is not None:
            bound = min(bound, first)
    merge_start = time.perf_counter()
    if checked.violations:  # a bug: parts never share an offer or a need
        problems = "; ".join(checked.violations[:5])
        raise AssertionError(f"merged parts break a constraint: {problems}")
    if bound is not None:
        bound = max(bound, checked.objective)
    result = Result(
        status="feasible",
        objective=checked.objective,
        bound=bound,
        seconds=time.perf_counter() - start,
        allocations=chosen,
        metrics={
            **checked.metrics,
            "parts": float(len(payloads)),
            "wide_offers": float(plan.wide_offers),
            **{f"round_{k + 1}_objective": v for k, v in enumerate(history)},
        },
        method="decomposed",
        settings={"budget": budget, "seed": seed, "parts": len(payloads), "rounds": rounds},
    )
    for out in outputs:
        out.pop("allocations")
    return DecomposedResult(result, outputs, plan_seconds, time.perf_counter() - merge_start)
