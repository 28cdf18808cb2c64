"""Build the demo offers of approved organizations, each of its kinds, calibrated per kind.

Every organization posts offers of the kinds its spec lists (demo_org_specs: a tea company
buys tea and trains tea growers, a paired unit funds, a hospital runs clinics). Supply is then
scaled kind by kind against verified demand: a few kinds are scarce (hearing aids, desks,
infrastructure), some in surplus (training, jobs), most in between, and two get no offer at all
this week (ABSENT). An offer of several kinds, of a parent kind or a general one counts towards
every kind it reaches, in proportion to their demand.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from matcher.kinds import category_of, offer_fits
from seeds.demo_model import WEEK_END, WEEK_START, DemoNeed, DemoOffer, DemoOrganization
from seeds.demo_org_specs import OrgSpec, line_category, line_items
from seeds.demo_texts import OFFER_TEXTS, as_template, product_of, product_words
from seeds.hezhou import townships
from seeds.quantities import OFFER_FACTORS, PROJECT_WEIGHTS, draw, nearest, nice, range_of

# How many offers each kind of organization posts (inclusive range).
OFFERS_PER_ORG: dict[str, tuple[int, int]] = {
    "enterprise": (6, 10),
    "ngo": (5, 9),
    "paired_unit": (4, 8),
    "government": (7, 11),
    "individual": (1, 4),
}
# Share of verified demand the supply of a kind covers, drawn per kind from its class; a kind
# takes its nearest listed ancestor's class, USUAL if none (scarcity matters to the solver).
SCARCE = (0.25, 0.5)
USUAL = (0.55, 0.95)
SURPLUS = (1.1, 1.5)
COVERAGE: dict[str, tuple[float, float]] = {
    "funds": USUAL,
    "goods": USUAL,
    "goods.health.hearing_aid": SCARCE,
    "goods.health.wheelchair": SCARCE,
    "goods.school.desks": SCARCE,
    "goods.school.computer": SCARCE,
    "training": SURPLUS,
    "jobs": SURPLUS,
    "purchase": USUAL,
    "infrastructure": SCARCE,
    "education": USUAL,
    "education.tutoring": SURPLUS,
    "medical": USUAL,
    "medical.checkup": SURPLUS,
    "medical.cataract": SCARCE,
}
# Kinds nobody offers this week, deliberately: 户户通 is a county programme of its own, and no
# donor has small farm machines; their needs stay open (and the matcher must not stretch
# another kind over them).
ABSENT: frozenset[str] = frozenset({"infrastructure.tv", "goods.agri.tools"})
CITY_SEAT = "451102"  # city-level actors dispatch from 八步区, the seat of the city government
NO_DISPATCH = frozenset({"funds", "purchase"})
# Why: few actors fund students, so those who can are drawn to it more often; projects are
# big, so actors who build them post few of them (most of their offers are of other kinds).
EMPHASIS: dict[str, float] = {"infrastructure": 0.4, "education": 1.5}
CALIBRATION_ROUNDS = 30


@dataclass(frozen=True)
class Actor:
    """An approved organization with its spec."""

    org: DemoOrganization
    spec: OrgSpec


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


def offer_text(rng: random.Random, line: str, actor: Actor) -> tuple[str, str]:
    """(title, description) of an offer line, from the texts of its kinds."""
    items = line_items(line)
    key = "+".join(as_template(kind) for kind in items) if items else line
    title, text = rng.choice(OFFER_TEXTS[key])
    words = product_words(product_of(items[0]) if items else None)
    fields = {"org": actor.org.name, "crop": actor.spec.product or "农产品", **words}
    return title.format(**fields), text.format(**fields)


def draft_quantity(rng: random.Random, line: str, org: DemoOrganization) -> int:
    """An offer's first quantity in its first kind's unit (calibration scales it)."""
    category = line_category(line)
    if category == "infrastructure":
        return rng.choices((1, 2, 3), weights=PROJECT_WEIGHTS)[0]
    items = line_items(line)
    low, high = range_of(items[0] if items else category)
    scale = 0.1 if org.kind == "individual" else 1.0
    low_factor, high_factor = OFFER_FACTORS
    return draw(rng, max(1, low * low_factor * scale), max(1, high * high_factor * scale))


def one_offer(
    rng: random.Random,
    actor: Actor,
    centres: dict[str, tuple[float, float]],
    line: str | None = None,
) -> DemoOffer:
    """Draw one offer of an organization (of `line`, else a line drawn from its spec)."""
    if line is None:
        lines = actor.spec.lines
        weights = [EMPHASIS.get(line_category(x), 1.0) for x in lines]
        line = rng.choices(lines, weights=weights)[0]
    category = line_category(line)
    title, text = offer_text(rng, line, actor)
    counties, villages = restriction(rng, actor.org, actor.spec)
    lat, lon = dispatch(rng, actor.spec, category, centres)
    return DemoOffer(
        key="",
        organization_key=actor.org.key,
        category=category,
        items=line_items(line),
        title=title,
        description=text,
        quantity=draft_quantity(rng, line, actor.org),
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


def fits(offer: DemoOffer, kind: str) -> bool:
    """True when the offer's kinds reach a need of `kind` (same category, an item covering it)."""
    return offer.category == category_of(kind) and offer_fits(offer.items, kind)


def line_fits(line: str, kind: str) -> bool:
    """True when an offer of this line would reach a need of `kind`."""
    return line_category(line) == category_of(kind) and offer_fits(line_items(line), kind)


def reaches(offer: DemoOffer, need: DemoNeed) -> bool:
    """True when the offer may serve this need by kind and by place (spec v1.1 eligibility)."""
    if offer.category != need.category:
        return False
    if not offer_fits(offer.items, need.item, need.accepts):
        return False
    if offer.county_codes and need.village_code[:6] not in offer.county_codes:
        return False
    return not offer.village_codes or need.village_code in offer.village_codes


def verified_demand(needs: Sequence[DemoNeed]) -> dict[str, int]:
    """Total quantity of verified needs per kind (in the kind's unit)."""
    demand: dict[str, int] = {}
    for need in needs:
        if need.verification == "verified":
            demand[need.item] = demand.get(need.item, 0) + need.quantity
    return demand


def supply_by_kind(offers: Sequence[DemoOffer], demand: Mapping[str, int]) -> dict[str, float]:
    """Each offer's quantity shared among the demanded kinds it reaches, by their demand."""
    supply = dict.fromkeys(demand, 0.0)
    for offer in offers:
        reached = [k for k in sorted(demand) if fits(offer, k)]
        total = sum(demand[k] for k in reached)
        for kind in reached:
            supply[kind] += offer.quantity * demand[kind] / total
    return supply


def coverage_of(kind: str) -> tuple[float, float]:
    """The (low, high) share of demand a kind's supply is drawn to cover."""
    return (0.0, 0.0) if kind in ABSENT else nearest(kind, COVERAGE)


def add_missing(
    rng: random.Random,
    drafts: list[DemoOffer],
    actors: Sequence[Actor],
    needs: Sequence[DemoNeed],
    centres: dict[str, tuple[float, float]],
) -> list[DemoOffer]:
    """Add an offer for each kind with verified needs no draft reaches (but the ABSENT ones).

    The offer comes from an organization whose spec offers the kind, an unpaired one if any;
    it is not restricted to a county, so it reaches the kind's needs wherever they are.
    """
    verified = [n for n in needs if n.verification == "verified"]
    for kind in sorted({n.item for n in verified} - ABSENT):
        wanted = [n for n in verified if n.item == kind]
        if any(reaches(o, n) for o in drafts for n in wanted):
            continue
        options = [(a, line) for a in actors for line in a.spec.lines if line_fits(line, kind)]
        free = [(a, line) for a, line in options if a.org.kind != "paired_unit"]
        if not free:
            raise ValueError(f"no unpaired organization offers {kind}")
        actor, line = rng.choice(free)
        drafts.append(replace(one_offer(rng, actor, centres, line), county_codes=()))
    return drafts


def calibrate(
    rng: random.Random, offers: list[DemoOffer], needs: Sequence[DemoNeed]
) -> list[DemoOffer]:
    """Scale the supply of each kind to a drawn share of its verified demand, then draw lots.

    Offers with the same kinds scale together; an offer reaching several kinds shares itself
    among them by demand, and a few rounds of proportional fitting settle the shared ones.
    """
    demand = verified_demand(needs)
    target = {k: rng.uniform(*coverage_of(k)) * demand[k] for k in sorted(demand)}
    pools: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for index, offer in enumerate(offers):
        pools.setdefault((offer.category, offer.items), []).append(index)
    reach = {
        pool: [k for k in sorted(demand) if fits(offers[members[0]], k)]
        for pool, members in pools.items()
    }
    base = {pool: sum(offers[i].quantity for i in members) for pool, members in pools.items()}
    scale = dict.fromkeys(pools, 1.0)
    for _ in range(CALIBRATION_ROUNDS):
        supply = dict.fromkeys(demand, 0.0)
        for pool, kinds in reach.items():
            total = sum(demand[k] for k in kinds)
            for kind in kinds:
                supply[kind] += scale[pool] * base[pool] * demand[kind] / total
        for pool, kinds in reach.items():
            total = sum(demand[k] for k in kinds)
            if total:
                scale[pool] *= sum(demand[k] * target[k] / supply[k] for k in kinds) / total
    result = []
    for index, offer in enumerate(offers):
        factor = scale[(offer.category, offer.items)]
        if offer.category == "infrastructure":  # projects are counted, not rounded to 2 digits
            quantity = max(1, round(offer.quantity * factor))
        else:
            quantity = nice(offer.quantity * factor)
        min_lot, max_villages, indivisible = lots(rng, offer.category, quantity)
        result.append(
            replace(
                offers[index],
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
    actors = [
        Actor(org, spec)
        for org, spec in zip(organizations, specs, strict=True)
        if org.vetting == "approved"
    ]
    drafts: list[DemoOffer] = []
    for actor in actors:
        count = rng.randint(*OFFERS_PER_ORG[actor.org.kind])
        drafts.extend(one_offer(rng, actor, centres) for _ in range(count))
    drafts = add_missing(rng, drafts, actors, needs, centres)
    order = {actor.org.key: i for i, actor in enumerate(actors)}
    drafts.sort(key=lambda o: order[o.organization_key])
    calibrated = calibrate(rng, drafts, needs)
    return tuple(replace(o, key=f"offer-{i:04d}") for i, o in enumerate(calibrated, start=1))
