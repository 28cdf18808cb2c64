"""Seeded generator of province-size weekly instances (specs/allocation-model-v1.md).

    python benchmarks/province_gen.py --seed 1 > province.json
    python benchmarks/province_gen.py --provinces 2 --seed 1 > two-provinces.json

A Guangxi-like province: 14 cities (地级市) with 111 counties in their real proportions,
5,000 poor villages weighted towards the poorest cities, about 8 needs per village (40,000
needs) and 10,000 offers. Quantities, lots, caps and indivisible projects are those of the
Hezhou generator (instance_gen.py). Offers are local as real donors are: most are limited to
the donor's county (县) or city (市), some to a few paired villages (结对帮扶), and a few
(provincial enterprises, the east-west partner province) are province-wide.
`--wide F` makes a share F of the offers province-wide (the rest keep their proportions), as
in provinces where most offers carry no county or village limit.
`--provinces K` repeats the province K times side by side (ids and names prefixed) for the
scaling runs. `--kinds` puts kinds (spec v1.1) on needs and offers as instance_gen does.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from typing import Any

try:
    from benchmarks.instance_gen import CATEGORIES, add_kinds
except ImportError:  # run as a script from benchmarks/
    from instance_gen import CATEGORIES, add_kinds  # type: ignore[no-redef]

# city: (counties, centre lat, centre lon, share of the province's poor villages)
CITIES: dict[str, tuple[int, float, float, float]] = {
    "南宁": (12, 22.82, 108.37, 0.07),
    "柳州": (10, 24.33, 109.41, 0.07),
    "桂林": (17, 25.27, 110.29, 0.09),
    "梧州": (7, 23.48, 111.28, 0.05),
    "北海": (4, 21.48, 109.12, 0.02),
    "防城港": (4, 21.69, 108.35, 0.02),
    "钦州": (4, 21.98, 108.65, 0.05),
    "贵港": (5, 23.11, 109.60, 0.06),
    "玉林": (7, 22.65, 110.18, 0.06),
    "百色": (12, 23.90, 106.62, 0.15),
    "贺州": (5, 24.40, 111.57, 0.05),
    "河池": (11, 24.69, 108.09, 0.15),
    "来宾": (6, 23.75, 109.23, 0.07),
    "崇左": (7, 22.38, 107.36, 0.09),
}
# How often each category is asked for and offered (goods and funds most, projects fewest).
NEED_MIX = {
    "goods": 20,
    "funds": 16,
    "training": 14,
    "jobs": 12,
    "purchase": 12,
    "education": 11,
    "medical": 10,
    "infrastructure": 5,
}
OFFER_MIX = {
    "goods": 22,
    "funds": 15,
    "training": 13,
    "jobs": 12,
    "purchase": 11,
    "education": 12,
    "medical": 10,
    "infrastructure": 5,
}
# Offer scope: own county, own city, a few paired villages, the whole province.
SCOPES = (("county", 0.57), ("city", 0.29), ("villages", 0.12), ("province", 0.02))


def scopes(wide: float | None) -> tuple[tuple[str, float], ...]:
    """The scope mix with a share `wide` of province-wide offers (None: SCOPES as they are)."""
    if wide is None:
        return SCOPES
    if not 0.0 <= wide <= 1.0:
        raise ValueError(f"wide share must be within [0, 1], not {wide}")
    local = sum(w for s, w in SCOPES if s != "province")
    return tuple((s, wide if s == "province" else w * (1.0 - wide) / local) for s, w in SCOPES)
POLICY = {
    "fragmentation_penalty": 20,
    "distance_discount_per_km": 0.002,
    "fairness_floor": 0.5,
    "fairness_penalty": 400,
}


def _weighted(rng: random.Random, mix: dict[str, int]) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def _places(
    rng: random.Random, prefix: str, villages: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Counties with centres, and villages spread over them by city shares."""
    counties: list[dict[str, Any]] = []
    for city, (count, lat, lon, _) in CITIES.items():
        for c in range(count):
            counties.append(
                {
                    "name": f"{prefix}{city}{c + 1:02d}县",
                    "city": city,
                    "lat": lat + rng.gauss(0, 0.35),
                    "lon": lon + rng.gauss(0, 0.35),
                }
            )
    by_city: dict[str, list[dict[str, Any]]] = {}
    for county in counties:
        by_city.setdefault(county["city"], []).append(county)
    cities = list(CITIES)
    shares = [CITIES[c][3] for c in cities]
    village_list = []
    for v in range(villages):
        county = rng.choice(by_city[rng.choices(cities, weights=shares)[0]])
        item: dict[str, Any] = {
            "id": f"{prefix}V{v:05d}",
            "county": county["name"],
            "poverty_weight": rng.choice([1.0, 1.0, 1.2, 1.5, 2.0]),
        }
        if rng.random() > 0.03:
            item["lat"] = round(county["lat"] + rng.gauss(0, 0.12), 5)
            item["lon"] = round(county["lon"] + rng.gauss(0, 0.12), 5)
        village_list.append(item)
    return village_list, {"counties": counties, "by_city": by_city}


def _offer(
    rng: random.Random,
    oid: str,
    villages: list[dict[str, Any]],
    places: dict[str, Any],
    by_county: dict[str, list[dict[str, Any]]],
    prefix: str,
    mix: tuple[tuple[str, float], ...] = SCOPES,
) -> dict[str, Any]:
    category = _weighted(rng, OFFER_MIX)
    low, high = CATEGORIES[category][1]
    item: dict[str, Any] = {
        "id": oid,
        "donor": f"{prefix}D{rng.randint(0, 2_400):05d}",
        "category": category,
        "quantity": rng.randint(low, high),
    }
    scope = rng.choices([s for s, _ in mix], weights=[w for _, w in mix])[0]
    home = rng.choice(places["counties"])
    if scope == "province":
        item["quantity"] *= 2  # provincial donors give more
    roll = rng.random()
    if roll < 0.14:
        item["indivisible"] = True
        item["quantity"] = max(1, item["quantity"] // rng.choice([4, 8, 16]))
    elif roll < 0.28:
        item["min_lot"] = max(1, item["quantity"] // rng.choice([3, 5, 10]))
    if rng.random() < 0.3 and not item.get("indivisible"):
        item["max_villages"] = rng.choice([1, 2, 3, 5])
    if scope == "county":
        item["counties"] = [home["name"]]
    elif scope == "city":
        item["counties"] = [c["name"] for c in places["by_city"][home["city"]]]
    elif scope == "province" and prefix:  # several provinces: stay in this one
        item["counties"] = [c["name"] for c in places["counties"]]
    elif scope == "villages":
        pool = by_county.get(home["name"]) or villages
        item["villages"] = [v["id"] for v in rng.sample(pool, min(len(pool), rng.randint(1, 5)))]
    if rng.random() > 0.03:
        item["lat"] = round(home["lat"] + rng.gauss(0, 0.1), 5)
        item["lon"] = round(home["lon"] + rng.gauss(0, 0.1), 5)
    return item


def generate_province(
    villages: int = 5_000,
    needs: int = 40_000,
    offers: int = 10_000,
    seed: int = 0,
    prefix: str = "",
    wide: float | None = None,
) -> dict[str, Any]:
    """One province-size week: deterministic for a given seed; `wide`: see `scopes`."""
    mix = scopes(wide)
    rng = random.Random(f"province-{seed}-{prefix}")
    village_list, places = _places(rng, prefix, villages)
    by_county: dict[str, list[dict[str, Any]]] = {}
    for v in village_list:
        by_county.setdefault(v["county"], []).append(v)
    per_village = needs / villages
    need_list = []
    for v in village_list:
        for _ in range(max(1, round(rng.gauss(per_village, 2.0)))):
            category = _weighted(rng, NEED_MIX)
            low, high = CATEGORIES[category][0]
            need_list.append(
                {
                    "id": f"{prefix}N{len(need_list):06d}",
                    "village": v["id"],
                    "category": category,
                    "quantity": rng.randint(low, high),
                    "urgency": rng.randint(1, 5),
                }
            )
    offer_list = [
        _offer(rng, f"{prefix}O{o:06d}", village_list, places, by_county, prefix, mix)
        for o in range(offers)
    ]
    return {
        "week": "2026-W48",
        "villages": village_list,
        "needs": need_list,
        "offers": offer_list,
        "policy": dict(POLICY),
    }


def generate(
    provinces: int = 1,
    villages: int = 5_000,
    needs: int = 40_000,
    offers: int = 10_000,
    seed: int = 0,
    kinds: bool = False,
    wide: float | None = None,
) -> dict[str, Any]:
    """`provinces` provinces side by side (each a generate_province), one instance; with
    `kinds`, kinds on its needs and offers (instance_gen.add_kinds); `wide`: the share of
    province-wide offers (default: the local-donor mix of SCOPES)."""
    if provinces == 1:
        data = generate_province(villages, needs, offers, seed, wide=wide)
        return add_kinds(data, seed) if kinds else data
    parts = [
        generate_province(villages, needs, offers, seed, prefix=f"P{p:02d}", wide=wide)
        for p in range(provinces)
    ]
    whole = {
        "week": "2026-W48",
        "villages": [v for p in parts for v in p["villages"]],
        "needs": [n for p in parts for n in p["needs"]],
        "offers": [o for p in parts for o in p["offers"]],
        "policy": dict(POLICY),
    }
    return add_kinds(whole, seed) if kinds else whole


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--provinces", type=int, default=1)
    parser.add_argument("--villages", type=int, default=5_000)
    parser.add_argument("--needs", type=int, default=40_000)
    parser.add_argument("--offers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", action="store_true", help="kinds on needs and offers (v1.1)")
    parser.add_argument(
        "--wide", type=float, default=None, help="share of province-wide offers, e.g. 0.6"
    )
    args = parser.parse_args()
    data = generate(
        args.provinces, args.villages, args.needs, args.offers, args.seed, args.kinds, args.wide
    )
    json.dump(data, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
