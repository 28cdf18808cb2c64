"""Seeded generator of Hezhou-like weekly instances of any size (specs/allocation-model-v1.md).

    python benchmarks/instance_gen.py --villages 267 --offers 500 --seed 1 > week.json

Five counties, eight categories with Hezhou-like quantities, lots, village caps, indivisible
projects, county and village restrictions, and a few items without coordinates.
`--kinds` adds kinds (spec v1.1) shaped like ../shared/instances/kinds: every need has a kind
(about 15% also accept a sibling), offers carry one or two leaves, a parent, or none.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from typing import Any

COUNTIES = ["八步区", "平桂区", "昭平县", "钟山县", "富川瑶族自治县"]
# category: (need quantity range, offer quantity range)
CATEGORIES = {
    "funds": ((5_000, 200_000), (40_000, 1_000_000)),
    "goods": ((20, 800), (170, 5_000)),
    "training": ((10, 300), (30, 1_200)),
    "jobs": ((1, 40), (5, 120)),
    "purchase": ((5_000, 300_000), (90_000, 2_000_000)),
    "infrastructure": ((1, 3), (1, 2)),
    "education": ((2, 60), (5, 150)),
    "medical": ((13, 400), (80, 2_000)),
}


# Leaf kinds per category (codes of the platform's catalogue, seeds/data/catalogue.csv).
KINDS = {
    "education": [
        "education.meals", "education.stipend.compulsory", "education.stipend.university",
        "education.tutoring",
    ],
    "funds": ["funds.collective", "funds.education", "funds.industry", "funds.relief"],
    "goods": [
        "goods.agri.fertiliser", "goods.agri.sprayer", "goods.health.glasses",
        "goods.health.hearing_aid", "goods.health.wheelchair", "goods.living.quilt",
        "goods.living.winter_clothes", "goods.school.books", "goods.school.desks",
        "goods.school.stationery", "goods.seedling.herb", "goods.seedling.mushroom",
        "goods.seedling.oiltea", "goods.seedling.orange", "goods.seedling.tea",
    ],
    "infrastructure": [
        "infrastructure.broadband", "infrastructure.clinic", "infrastructure.culture_room",
        "infrastructure.housing", "infrastructure.power", "infrastructure.road",
        "infrastructure.waste", "infrastructure.water.drinking",
        "infrastructure.water.irrigation",
    ],
    "jobs": [
        "jobs.away.construction", "jobs.away.factory", "jobs.away.logistics",
        "jobs.local.seasonal", "jobs.local.workshop",
    ],
    "medical": ["medical.cataract", "medical.checkup", "medical.chronic"],
    "purchase": [
        "purchase.herb", "purchase.mushroom", "purchase.oiltea", "purchase.orange",
        "purchase.poultry", "purchase.tea",
    ],
    "training": [
        "training.crop.herb", "training.crop.mushroom", "training.crop.oiltea",
        "training.crop.orange", "training.crop.tea", "training.ecommerce",
        "training.embroidery", "training.housekeeping",
    ],
}


# Supply regimes of a Hezhou week (267 villages, about 1,900 needs): offers per week.
REGIMES = {"scarce": 250, "normal": 500, "rich": 1000}


def _parent(kind: str) -> str:
    return kind.rsplit(".", 1)[0]


def _siblings(kind: str, category: str) -> list[str]:
    """Other leaves under the same parent, or of the same category for a top-level leaf."""
    return [k for k in KINDS[category] if k != kind and _parent(k) == _parent(kind)] or [
        k for k in KINDS[category] if k != kind
    ]


def add_kinds(data: dict[str, Any], seed: int) -> dict[str, Any]:
    """Put kinds on a generated week, in place (its own random stream, so the week without
    kinds is the same): every need a leaf, about 15% accepting a sibling too; offers one
    leaf (60%), two (20%), a parent such as goods.seedling (15%), or none (5%: general)."""
    rng = random.Random(f"kinds:{seed}")
    for need in data["needs"]:
        kinds = KINDS.get(need["category"])
        if not kinds:
            continue
        need["item"] = rng.choice(kinds)
        if rng.random() < 0.15:
            need["accepts"] = [rng.choice(_siblings(need["item"], need["category"]))]
    for offer in data["offers"]:
        kinds = KINDS.get(offer["category"])
        if not kinds:
            continue
        leaf, roll = rng.choice(kinds), rng.random()
        if roll < 0.6:
            offer["items"] = [leaf]
        elif roll < 0.8:
            offer["items"] = sorted({leaf, rng.choice(_siblings(leaf, offer["category"]))})
        elif roll < 0.95:
            parent = _parent(leaf)
            offer["items"] = [parent if "." in parent else leaf]
    return data


def _point(rng: random.Random) -> dict[str, float]:
    return {"lat": round(rng.uniform(23.9, 24.9), 5), "lon": round(rng.uniform(110.5, 112.0), 5)}


def generate(
    villages: int = 267,
    needs_per_village: float = 7.0,
    offers: int = 500,
    seed: int = 0,
    kinds: bool = False,
) -> dict[str, Any]:
    """A random instance: `villages` villages, about that many needs each, `offers` offers;
    with `kinds`, the same week with kinds on its needs and offers (add_kinds)."""
    rng = random.Random(seed)
    village_list = []
    for v in range(villages):
        item: dict[str, Any] = {
            "id": f"V{v:05d}",
            "county": rng.choice(COUNTIES),
            "poverty_weight": rng.choice([1.0, 1.0, 1.2, 1.5, 2.0]),
        }
        if rng.random() > 0.05:
            item.update(_point(rng))
        village_list.append(item)
    need_list = []
    for v in village_list:
        count = max(1, round(rng.gauss(needs_per_village, 1.5)))
        for category in rng.sample(sorted(CATEGORIES), min(count, len(CATEGORIES))):
            low, high = CATEGORIES[category][0]
            need_list.append({
                "id": f"N{len(need_list):06d}", "village": v["id"], "category": category,
                "quantity": rng.randint(low, high), "urgency": rng.randint(1, 5),
            })
    offer_list = [_offer(rng, o, village_list) for o in range(offers)]
    data = {
        "week": "2026-W48",
        "villages": village_list,
        "needs": need_list,
        "offers": offer_list,
        "policy": {
            "fragmentation_penalty": 20, "distance_discount_per_km": 0.002,
            "fairness_floor": 0.5, "fairness_penalty": 400,
        },
    }
    return add_kinds(data, seed) if kinds else data


def _offer(rng: random.Random, o: int, villages: list[dict[str, Any]]) -> dict[str, Any]:
    category = rng.choice(sorted(CATEGORIES))
    low, high = CATEGORIES[category][1]
    item: dict[str, Any] = {
        "id": f"O{o:05d}", "donor": f"D{rng.randint(0, 120):04d}", "category": category,
        "quantity": rng.randint(low, high),
    }
    roll = rng.random()
    if roll < 0.14:
        item["indivisible"] = True
        item["quantity"] = max(1, item["quantity"] // rng.choice([4, 8, 16]))
    elif roll < 0.28:
        item["min_lot"] = max(1, item["quantity"] // rng.choice([3, 5, 10]))
    if rng.random() < 0.3 and not item.get("indivisible"):
        item["max_villages"] = rng.choice([1, 2, 3, 5])
    if rng.random() < 0.2:
        item["counties"] = rng.sample(COUNTIES, rng.randint(1, 2))
    elif rng.random() < 0.04:
        item["villages"] = [v["id"] for v in rng.sample(villages, rng.randint(1, 3))]
    if rng.random() > 0.05:
        item.update(_point(rng))
    return item


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--villages", type=int, default=267)
    parser.add_argument("--needs-per-village", type=float, default=7.0)
    parser.add_argument("--offers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", action="store_true", help="kinds on needs and offers (v1.1)")
    args = parser.parse_args()
    data = generate(args.villages, args.needs_per_village, args.offers, args.seed, args.kinds)
    json.dump(data, sys.stdout, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    main()
