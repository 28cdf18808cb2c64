"""The demo data set's kinds (spec v1.1): every need and offer names catalogue kinds that fit
its category, its text and its unit, and supply is calibrated kind by kind."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import pytest

from matcher.kinds import Catalogue, category_of, covers, offer_fits, parent_of
from seeds.catalogue import hezhou_catalogue
from seeds.demo import DemoData, DemoNeed, DemoOffer
from seeds.demo_offers import ABSENT
from seeds.demo_org_specs import ALL_SPECS, line_category, line_items
from seeds.demo_texts import (
    BY_PRODUCT,
    CHECKLIST_NEEDS,
    FRIVOLOUS_WISHES,
    NEED_TEXTS,
    OFFER_TEXTS,
    PRODUCTS,
    WISH_ITEMS,
    WISH_VALUE_CAP,
    as_template,
    with_product,
)
from seeds.quantities import range_of


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return hezhou_catalogue()


def names_of(catalogue: Catalogue, code: str) -> tuple[str, ...]:
    kind = catalogue[code]
    return (kind.name_zh, *kind.synonyms)


def verified(data: DemoData) -> list[DemoNeed]:
    return [n for n in data.needs if n.verification == "verified"]


def reaches(offer: DemoOffer, need: DemoNeed) -> bool:
    """Spec v1.1 eligibility without distance (every demo distance factor is positive)."""
    return (
        offer.category == need.category
        and offer_fits(offer.items, need.item, need.accepts)
        and (not offer.county_codes or need.village_code[:6] in offer.county_codes)
        and (not offer.village_codes or need.village_code in offer.village_codes)
    )


def per_kind(data: DemoData) -> tuple[dict[str, int], dict[str, float]]:
    """Verified demand per kind, and supply per kind: each offer shared among the kinds it
    covers in proportion to their demand."""
    demand: Counter[str] = Counter()
    for need in verified(data):
        demand[need.item] += need.quantity
    supply: dict[str, float] = defaultdict(float)
    for offer in data.offers:
        reached = [
            k for k in demand if category_of(k) == offer.category and offer_fits(offer.items, k)
        ]
        total = sum(demand[k] for k in reached)
        for kind in reached:
            supply[kind] += offer.quantity * demand[kind] / total
    return dict(demand), dict(supply)


def test_every_need_names_an_active_kind_of_its_category(
    data: DemoData, catalogue: Catalogue
) -> None:
    active = catalogue.active()
    for need in data.needs:
        assert need.item in active, need
        assert category_of(need.item) == need.category, need
        for alt in need.accepts:
            assert alt in active and alt != need.item, need
            assert parent_of(alt) == parent_of(need.item), f"{need.key}: {alt} is no sibling"


def test_every_offer_names_active_kinds_of_its_category(
    data: DemoData, catalogue: Catalogue
) -> None:
    active = catalogue.active()
    general = [o for o in data.offers if not o.items]
    assert 1 <= len(general) <= 10  # a donor's explicitly general offer is rare
    assert {o.category for o in general} == {"funds"}
    for offer in data.offers:
        assert len(set(offer.items)) == len(offer.items)
        for kind in offer.items:
            assert kind in active and category_of(kind) == offer.category, offer
            assert kind != "funds.general"  # a general offer names no kind at all


def test_offers_name_leaves_parents_and_pairs(data: DemoData, catalogue: Catalogue) -> None:
    leaves = {k.code for k in catalogue.leaves()}
    single = [o for o in data.offers if len(o.items) == 1]
    assert sum(o.items[0] not in leaves for o in single) >= 10  # e.g. goods.seedling, jobs.away
    assert sum(len(o.items) == 2 for o in data.offers) >= 5  # e.g. rice cookers and kettles
    assert sum(o.items[0] in leaves for o in single) > 0.8 * len(data.offers)


def test_an_offers_kinds_count_in_one_unit(data: DemoData, catalogue: Catalogue) -> None:
    # Its quantity is one number: every kind it covers (a parent's children too) shares a unit.
    for offer in data.offers:
        if offer.items:
            assert len(catalogue.units_covered(offer.items)) == 1, offer.items


def test_need_titles_name_their_kind(data: DemoData, catalogue: Catalogue) -> None:
    for need in data.needs:
        assert any(name in need.title for name in names_of(catalogue, need.item)), (
            need.item,
            need.title,
        )


def test_offer_titles_name_one_of_their_kinds(data: DemoData, catalogue: Catalogue) -> None:
    for offer in data.offers:
        if offer.items:
            names = [n for kind in offer.items for n in names_of(catalogue, kind)]
            assert any(name in offer.title for name in names), (offer.items, offer.title)


def test_every_template_expands_to_catalogue_kinds(catalogue: Catalogue) -> None:
    kinds = [
        with_product(t.kind, p) for t in (*NEED_TEXTS, *CHECKLIST_NEEDS.values()) for p in PRODUCTS
    ]
    kinds += [w.kind for w in (*WISH_ITEMS, *FRIVOLOUS_WISHES)]
    assert all(k in catalogue for k in kinds), sorted(
        set(kinds) - {k.code for k in catalogue.kinds}
    )
    for text in (*NEED_TEXTS, *CHECKLIST_NEEDS.values()):
        for product in PRODUCTS:
            title = text.title.format(
                product=product.name, produce=product.produce, seedling=product.seedling
            )
            kind = with_product(text.kind, product)
            assert any(n in title for n in names_of(catalogue, kind)), (kind, title)
    for spec in ALL_SPECS:
        for line in spec.lines:
            items = line_items(line)
            key = "+".join(as_template(k) for k in items) if items else line
            assert key in OFFER_TEXTS, (spec.name, line)
            assert all(k in catalogue and category_of(k) == line_category(line) for k in items)


def test_wishes_have_their_kinds(data: DemoData, catalogue: Catalogue) -> None:
    wishes = {w.item: w for w in (*WISH_ITEMS, *FRIVOLOUS_WISHES)}
    expected = {
        "书包": "goods.school.stationery",
        "棉被": "goods.living.quilt",
        "助听器": "goods.health.hearing_aid",
        "轮椅": "goods.health.wheelchair",
        "冬衣": "goods.living.winter_clothes",
        "儿童绘本": "goods.school.books",
    }
    assert {item: wishes[item].kind for item in expected} == expected
    for need in data.needs:
        if need.household_key is None:
            continue
        wish = wishes[need.title.removeprefix("微心愿：")]
        assert need.item == wish.kind and need.category == "goods"
        unit = catalogue[wish.kind].unit_zh
        assert f"{wish.item}{need.quantity}{unit}" in need.description  # counted in its unit
        if need.verification != "rejected":
            assert need.quantity <= wish.most and wish.price * need.quantity <= WISH_VALUE_CAP


def test_quantities_are_whole_units_in_their_kinds_range(data: DemoData) -> None:
    for need in data.needs:
        assert type(need.quantity) is int and need.quantity >= 1
        if need.household_key is None:
            low, high = range_of(need.item)
            assert 0.6 * low <= need.quantity <= high, (need.item, need.quantity)
    for offer in data.offers:
        assert type(offer.quantity) is int and offer.quantity >= 1
    desks = [n.quantity for n in data.needs if n.item == "goods.school.desks"]
    seedlings = [n.quantity for n in data.needs if n.item == "goods.seedling.tea"]
    assert desks and max(desks) <= 100  # sets of desks, not plants
    assert seedlings and min(seedlings) >= 1000  # plants, not sets


def test_some_needs_accept_a_sibling(data: DemoData) -> None:
    share = sum(bool(n.accepts) for n in data.needs) / len(data.needs)
    assert 0.08 <= share <= 0.18
    quilts = [n for n in data.needs if n.item == "goods.living.quilt"]
    assert any("goods.living.winter_clothes" in n.accepts for n in quilts)


def test_villages_ask_for_their_own_products(data: DemoData) -> None:
    products: dict[str, set[str]] = defaultdict(set)
    for need in data.needs:
        last = need.item.rsplit(".", 1)[-1]
        if last in BY_PRODUCT:
            products[need.village_code].add(last)
    assert products and all(len(p) <= 2 for p in products.values())


def test_organizations_offer_kinds_that_fit_them(data: DemoData) -> None:
    orgs = {o.key: o.name for o in data.organizations}
    for offer in data.offers:
        name = orgs[offer.organization_key]
        if "茶业" in name or "茶叶" in name:
            assert all(
                k.endswith(".tea") or category_of(k) == "jobs" or k.startswith("funds")
                for k in offer.items
            ), (name, offer.items)
        if "医院" in name:
            assert offer.category == "medical"
    tea_buyers = {orgs[o.organization_key] for o in data.offers if "purchase.tea" in o.items}
    assert tea_buyers and all("茶" in name for name in tea_buyers)


def test_every_demanded_kind_is_reached_but_the_absent_ones(data: DemoData) -> None:
    demanded = {n.item for n in verified(data)}
    assert demanded >= ABSENT and len(ABSENT) <= 3
    for kind in sorted(demanded - ABSENT):
        wanted = [n for n in verified(data) if n.item == kind]
        assert any(reaches(o, n) for o in data.offers for n in wanted), kind
    for offer in data.offers:
        assert not any(offer.items and covers(g, k) for g in offer.items for k in ABSENT)
    _, supply = per_kind(data)
    assert all(supply.get(kind, 0.0) == 0.0 for kind in ABSENT)


def test_per_kind_supply_has_scarce_and_surplus_kinds(data: DemoData) -> None:
    demand, supply = per_kind(data)
    ratio = {k: supply.get(k, 0.0) / demand[k] for k in demand if k not in ABSENT}
    scarce = [k for k, r in ratio.items() if r < 0.5]
    surplus = [k for k, r in ratio.items() if r > 1.1]
    assert len(scarce) >= 4 and len(surplus) >= 10, ratio
    assert all(0.2 <= r <= 2.0 for r in ratio.values()), ratio
    assert ratio["goods.school.desks"] < 0.6
    assert ratio["goods.health.hearing_aid"] < 0.8
    assert all(ratio[k] > 1.0 for k in ratio if k.startswith(("training.", "jobs.")))
    infra = [k for k in ratio if k.startswith("infrastructure.")]
    projects = sum(supply.get(k, 0.0) for k in infra) / sum(demand[k] for k in infra)
    assert projects < 0.6


def test_descriptions_carry_no_unfilled_slots(data: DemoData) -> None:
    slot = re.compile(r"\{\w+\}")
    for record in (*data.needs, *data.offers):
        assert not slot.search(record.title) and not slot.search(record.description), record
