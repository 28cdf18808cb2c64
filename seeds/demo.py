"""The deterministic demo data set: 267 synthetic poor villages with their actors, offers, needs."""

from __future__ import annotations

import random

from seeds.checklist import CHECKLIST_CODES, CHECKLIST_ITEMS
from seeds.demo_model import (
    WEEK,
    WEEK_END,
    WEEK_START,
    DemoData,
    DemoHousehold,
    DemoNeed,
    DemoOffer,
    DemoOrganization,
    DemoUser,
    PoorVillage,
)
from seeds.demo_needs import ensure_pending, make_needs
from seeds.demo_offers import make_offers
from seeds.demo_org_specs import ALL_SPECS
from seeds.demo_orgs import DEMO_LOGINS, make_organizations, make_users, primary_village
from seeds.demo_texts import WISH_ITEMS, WISH_VALUE_CAP
from seeds.demo_villages import district_boxes, make_villages, township_centres
from seeds.hezhou import village_short_name, village_units

DEFAULT_SEED = 2026


def demo_data(seed: int = DEFAULT_SEED) -> DemoData:
    """Build the whole demo data set (about 0.2 s); the same seed always gives equal records."""
    rng = random.Random(seed)
    centres = township_centres(rng, district_boxes())
    villages = make_villages(rng, village_units(), centres)
    first = primary_village(villages)
    organizations = make_organizations(rng, villages, first)
    names = {u.code: village_short_name(u.name) for u in village_units()}
    households, needs = make_needs(rng, villages, names, first.code)
    offers = make_offers(rng, organizations, ALL_SPECS, centres, needs)
    return DemoData(
        villages=villages,
        organizations=organizations,
        users=make_users(organizations, first),
        offers=offers,
        households=households,
        needs=ensure_pending(needs, first.code),
        week=WEEK,
    )


_WISH_PRICES = {wish.item: wish.price for wish in WISH_ITEMS}
WISH_PREFIX = "微心愿："


def wish_value(need: DemoNeed) -> int | None:
    """A demo micro-wish's estimated value in yuan (price of its item times its quantity).

    None for a village need, and for the frivolous wishes above the cap (their evidence note
    says they exceed it, and the township rejected them), so every stored value is within it.
    """
    if need.household_key is None or not need.title.startswith(WISH_PREFIX):
        return None
    price = _WISH_PRICES.get(need.title.removeprefix(WISH_PREFIX))
    if price is None or price * need.quantity > WISH_VALUE_CAP:
        return None
    return price * need.quantity


__all__ = [
    "CHECKLIST_CODES",
    "CHECKLIST_ITEMS",
    "DEFAULT_SEED",
    "DEMO_LOGINS",
    "WEEK",
    "WEEK_END",
    "WEEK_START",
    "DemoData",
    "DemoHousehold",
    "DemoNeed",
    "DemoOffer",
    "DemoOrganization",
    "DemoUser",
    "PoorVillage",
    "demo_data",
    "wish_value",
]
