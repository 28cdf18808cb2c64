"""Builders of instance dicts for tests: hand-made tiny cases and random small ones."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
# ../shared next to the checkout (a git worktree may sit one level deeper).
SHARED = next(
    (p / "shared" for p in HERE.parents if (p / "shared" / "instances").is_dir()),
    HERE.parents[2].parent / "shared",
)
INSTANCES = SHARED / "instances"


def village(id: str, county: str = "c1", **extra: Any) -> dict[str, Any]:
    return {"id": id, "county": county, **extra}


def need(
    id: str, village: str, quantity: int, urgency: int = 1, category: str = "goods",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "id": id, "village": village, "category": category, "quantity": quantity,
        "urgency": urgency, **extra,
    }


def offer(
    id: str, quantity: int, category: str = "goods", donor: str = "d1", **extra: Any
) -> dict[str, Any]:
    return {"id": id, "donor": donor, "category": category, "quantity": quantity, **extra}


def instance(
    villages: list[dict[str, Any]],
    needs: list[dict[str, Any]],
    offers: list[dict[str, Any]],
    **policy: float,
) -> dict[str, Any]:
    """An instance dict; the policy defaults to no penalties so values are easy to see."""
    base = {
        "fragmentation_penalty": 0,
        "distance_discount_per_km": 0,
        "fairness_floor": 0,
        "fairness_penalty": 0,
    }
    return {"villages": villages, "needs": needs, "offers": offers, "policy": {**base, **policy}}


# A small kind tree for random weeks: a parent and leaves, a prefix that is no parent
# (goods.school / goods.schoolbus), and a kind of another category on purpose.
KINDS = {
    "goods": ["goods.school.desks", "goods.school.books", "goods.schoolbus", "goods.seedling.tea"],
    "funds": ["funds.relief", "funds.industry"],
}
OFFER_KINDS = {
    "goods": [*KINDS["goods"], "goods.school", "goods.seedling", "goods", "funds.relief"],
    "funds": [*KINDS["funds"], "funds", "goods.school.desks"],
}


def add_kinds(data: dict[str, Any], seed: int) -> dict[str, Any]:
    """Kinds on a random week (own random stream): most needs a kind, some alternatives, and
    offers general or with one or two kinds (leaves, parents, roots, other categories')."""
    rng = random.Random(f"kinds:{seed}")
    for item in data["needs"]:
        if rng.random() < 0.85:
            item["item"] = rng.choice(KINDS[item["category"]])
        if rng.random() < 0.25:
            item["accepts"] = [rng.choice(KINDS[item["category"]])]
    for item in data["offers"]:
        if rng.random() < 0.8:
            item["items"] = rng.sample(OFFER_KINDS[item["category"]], rng.randint(1, 2))
    return data


def random_instance(seed: int, kinds: bool = False) -> dict[str, Any]:
    """A random small instance exercising every rule of the model (with `kinds`, v1.1's)."""
    rng = random.Random(seed)
    counties = ["c1", "c2"]
    categories = ["goods", "funds"][: rng.randint(1, 2)]
    villages = []
    for v in range(rng.randint(2, 5)):
        item = village(f"V{v}", rng.choice(counties), poverty_weight=rng.choice([1, 1.2, 1.5, 2]))
        if rng.random() < 0.8:
            item.update(lat=24 + rng.random() * 0.8, lon=111 + rng.random() * 0.8)
        villages.append(item)
    needs = [
        need(f"N{n}", rng.choice(villages)["id"], rng.randint(1, 12), rng.randint(1, 5),
             rng.choice(categories))
        for n in range(rng.randint(2, 8))
    ]
    offers = []
    for o in range(rng.randint(1, 5)):
        item = offer(f"O{o}", rng.randint(1, 20), rng.choice(categories), f"d{rng.randint(1, 3)}")
        roll = rng.random()
        if roll < 0.2:
            item["indivisible"] = True
            item["quantity"] = rng.randint(1, 8)
        elif roll < 0.45:
            item["min_lot"] = rng.randint(2, 6)
        if rng.random() < 0.3:
            item["max_villages"] = rng.randint(1, 2)
        if rng.random() < 0.2:
            item["counties"] = [rng.choice(counties)]
        if rng.random() < 0.15:
            item["villages"] = [rng.choice(villages)["id"]]
        if rng.random() < 0.8:
            item.update(lat=24 + rng.random() * 0.8, lon=111 + rng.random() * 0.8)
        offers.append(item)
    policy = {
        "fragmentation_penalty": rng.choice([0, 5, 20, 60]),
        "distance_discount_per_km": rng.choice([0, 0.001, 0.004, 0.02]),
        "fairness_floor": rng.choice([0, 0.3, 0.5, 1]),
        "fairness_penalty": rng.choice([0, 200, 400]),
    }
    data = {"villages": villages, "needs": needs, "offers": offers, "policy": policy}
    return add_kinds(data, seed) if kinds else data
