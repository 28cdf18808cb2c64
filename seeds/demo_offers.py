"""Build the demo offers of approved organizations, calibrated against the needs' totals."""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence
from dataclasses import replace

from seeds.demo_model import WEEK_END, WEEK_START, DemoNeed, DemoOffer, DemoOrganization
from seeds.demo_org_specs import OrgSpec
from seeds.demo_texts import OFFER_TEXTS, PRODUCTS
from seeds.hezhou import townships
from seeds.quantities import OFFER_RANGES, draw, nice

# How many offers each kind of organization posts (inclusive range).
OFFERS_PER_ORG: dict[str, tuple[int, int]] = {
    "enterprise": (6, 10),
    "ngo": (5, 9),
    "paired_unit": (4, 8),
    "government": (7, 11),
    "individual": (1, 4),
}
# Share of demand the supply of each category covers, drawn per category (scarcity matters).
COVERAGE = (0.45, 0.85)
CITY_SEAT = "451102"  # city-level actors dispatch from 八步区, the seat of the city government
NO_DISPATCH = frozenset({"funds", "purchase"})
# Why: few actors build projects or fund students, so those who can are drawn to it more often.
EMPHASIS: dict[str, float] = {"infrastructure": 3.0, "education": 1.5}
# Projects per infrastructure offer: (1, 2, 3) with these weights.
PROJECT_WEIGHTS = (0.6, 0.25, 0.15)


def restriction(
    rng: random.Random, org: DemoOrganization, spec: OrgSpec
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return (county_codes, village_codes): paired units give to their villages first."""
    if org.kind == "paired_unit":
        return (), org.paired_villages
    if spec.home and (org.kind == "government" or rng.random() < 0.35):
        return (spec.home,), ()
    return (), ()


def dispatch(
    rng: random.Random, spec: OrgSpec, category: str, centres: dict[str, tuple[float, float]]
) -> tuple[float | None, float | None]:
    """Return (lat, lon) of a township centre in the home district, or None for money."""
    if category in NO_DISPATCH or rng.random() < 0.15:
        return None, None
    home = spec.home or CITY_SEAT
    options = [t.code for t in townships() if t.county_code == home]
    lon, lat = centres[rng.choice(options)]
    return lat, lon


def lots(rng: random.Random, category: str, quantity: int) -> tuple[int | None, int | None, bool]:
    """Draw (min_lot, max_villages, indivisible) for an offer of this size."""
    if category == "infrastructure" and quantity == 1 and rng.random() < 0.7:
        return None, 1, True
    if category == "infrastructure":
        return None, None, False
    if quantity > 1 and rng.random() < 0.04:
        return None, 1, True
    min_lot = nice(quantity * rng.uniform(0.05, 0.25)) if rng.random() < 0.3 else None
    max_villages = rng.randint(2, 10) if rng.random() < 0.25 else None
    return min_lot, max_villages, False


def one_offer(
    rng: random.Random,
    org: DemoOrganization,
    spec: OrgSpec,
    centres: dict[str, tuple[float, float]],
) -> DemoOffer:
    """Draw one offer of an organization, without its key or its calibrated lot sizes."""
    weights = [EMPHASIS.get(c, 1.0) for c in spec.categories]
    category = rng.choices(spec.categories, weights=weights)[0]
    title, text = rng.choice(OFFER_TEXTS[category])
    product = spec.product or rng.choice(PRODUCTS)
    low, high = OFFER_RANGES[category]
    scale = 0.1 if org.kind == "individual" else 1.0
    if category == "infrastructure":
        low = high = rng.choices((1, 2, 3), weights=PROJECT_WEIGHTS)[0]
    counties, villages = restriction(rng, org, spec)
    lat, lon = dispatch(rng, spec, category, centres)
    return DemoOffer(
        key="",
        organization_key=org.key,
        category=category,
        title=title.format(org=org.name, product=product),
        description=text.format(org=org.name, product=product),
        quantity=draw(rng, max(1, low * scale), max(1, high * scale)),
        min_lot=None,
        max_villages=None,
        indivisible=False,
        county_codes=counties,
        village_codes=villages,
        dispatch_lat=lat,
        dispatch_lon=lon,
        valid_from=WEEK_START - datetime.timedelta(days=rng.randint(0, 60)),
        valid_until=WEEK_END + datetime.timedelta(days=rng.randint(14, 200)),
    )


def calibrate(
    rng: random.Random, offers: list[DemoOffer], needs: Sequence[DemoNeed]
) -> list[DemoOffer]:
    """Scale each category's supply to a drawn share of demand, then draw lot sizes."""
    demand: dict[str, int] = {}
    supply: dict[str, int] = {}
    for need in needs:
        demand[need.category] = demand.get(need.category, 0) + need.quantity
    for offer in offers:
        supply[offer.category] = supply.get(offer.category, 0) + offer.quantity
    factor = {c: rng.uniform(*COVERAGE) * demand.get(c, 0) / supply[c] for c in sorted(supply)}
    result = []
    for offer in offers:
        quantity = nice(offer.quantity * factor[offer.category])
        if offer.category == "infrastructure":  # projects are counted, not scaled
            quantity = offer.quantity
        min_lot, max_villages, indivisible = lots(rng, offer.category, quantity)
        result.append(
            replace(
                offer,
                quantity=quantity,
                min_lot=min_lot,
                max_villages=max_villages,
                indivisible=indivisible,
            )
        )
    return result


def make_offers(
    rng: random.Random,
    organizations: Sequence[DemoOrganization],
    specs: Sequence[OrgSpec],
    centres: dict[str, tuple[float, float]],
    needs: Sequence[DemoNeed],
) -> tuple[DemoOffer, ...]:
    """Build the offers of approved organizations, keyed offer-0001.. in organization order."""
    drafts: list[DemoOffer] = []
    for org, spec in zip(organizations, specs, strict=True):
        if org.vetting != "approved":
            continue
        count = rng.randint(*OFFERS_PER_ORG[org.kind])
        drafts.extend(one_offer(rng, org, spec, centres) for _ in range(count))
    calibrated = calibrate(rng, drafts, needs)
    return tuple(replace(o, key=f"offer-{i:04d}") for i, o in enumerate(calibrated, start=1))
