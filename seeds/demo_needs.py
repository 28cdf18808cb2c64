"""Build the demo needs: village needs (some closing a checklist item) and micro-wishes."""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence
from dataclasses import replace

from seeds.catalogue import hezhou_catalogue
from seeds.checklist import CHECKLIST_ITEMS
from seeds.demo_model import WEEK_END, DemoHousehold, DemoNeed, PoorVillage
from seeds.demo_texts import (
    BY_PRODUCT,
    CHECKLIST_NEEDS,
    FRIVOLOUS_WISHES,
    NEED_TEXTS,
    WISH_ITEMS,
    WISH_VALUE_CAP,
    NeedText,
    Product,
    Wish,
    product_words,
    with_product,
)
from seeds.masking import masked_name, masked_phone
from seeds.quantities import draw, range_of

# Relative frequency of each category among needs not tied to a checklist item.
CATEGORY_WEIGHTS: dict[str, float] = {
    "funds": 0.15,
    "goods": 0.14,
    "training": 0.14,
    "jobs": 0.13,
    "purchase": 0.15,
    "infrastructure": 0.03,
    "education": 0.14,
    "medical": 0.12,
}
NEEDS_PER_WEIGHT = 4.7  # village needs per unit of poverty weight, before micro-wishes
WISH_COUNT = 320
REUSE_HOUSEHOLD = 0.2
FRIVOLOUS_COUNT = 6
LABELS = {code: zh for code, zh, _ in CHECKLIST_ITEMS}
# Each county's pillar products and how common they are among its villages (a village grows
# two of them; its product needs name one of those, so a tea village asks for tea things).
COUNTY_PRODUCTS: dict[str, dict[str, float]] = {
    "451102": {"tea": 3, "mushroom": 2, "orange": 2, "oiltea": 1, "herb": 1},  # 八步区
    "451103": {"herb": 3, "oiltea": 2, "orange": 2, "mushroom": 1, "tea": 1},  # 平桂区
    "451121": {"tea": 4, "oiltea": 3, "mushroom": 1, "herb": 1, "orange": 1},  # 昭平县
    "451122": {"orange": 4, "herb": 2, "oiltea": 1, "mushroom": 1, "tea": 1},  # 钟山县
    "451123": {"orange": 3, "mushroom": 2, "oiltea": 2, "tea": 1, "herb": 1},  # 富川县
}
# Sibling kinds a need of a kind may also accept (beyond the catalogue's 替代品类 column), and
# how often a need whose kind has alternatives names them.
SIBLING_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "goods.living.heater": ("goods.living.quilt",),
    "goods.school.stationery": ("goods.school.books",),
    "goods.school.books": ("goods.school.stationery",),
    "jobs.local.workshop": ("jobs.local.seasonal",),
    "jobs.local.seasonal": ("jobs.local.workshop",),
    "jobs.away.logistics": ("jobs.away.factory",),
    "jobs.away.construction": ("jobs.away.factory",),
    "medical.checkup": ("medical.chronic",),
    "medical.chronic": ("medical.checkup",),
    "funds.industry": ("funds.collective",),
    "funds.collective": ("funds.industry",),
    "purchase.poultry": ("purchase.produce",),
    "purchase.produce": ("purchase.poultry",),
    "training.housekeeping": ("training.trades",),
}
ACCEPT_SHARE = 0.28


def verification(rng: random.Random) -> str:
    """Draw a verification state: about 85% verified, 12% pending, 3% rejected."""
    x = rng.random()
    return "verified" if x < 0.85 else "pending" if x < 0.97 else "rejected"


def deadline(rng: random.Random, latest_days: int) -> datetime.date:
    """Draw a deadline after the allocation week."""
    return WEEK_END + datetime.timedelta(days=rng.randint(7, latest_days))


def alternatives_of(kind: str) -> tuple[str, ...]:
    """The sibling kinds a need of this kind may accept: the catalogue's, else the seeds'."""
    known = hezhou_catalogue().get(kind)
    return (known.alternatives if known else ()) or SIBLING_ALTERNATIVES.get(kind, ())


def draw_accepts(rng: random.Random, template: NeedText, kind: str) -> tuple[str, ...]:
    """A need's alternatives: its template's, or now and then its kind's siblings."""
    if template.accepts:
        return template.accepts
    options = alternatives_of(kind)
    return options if options and rng.random() < ACCEPT_SHARE else ()


def accepts_note(accepts: tuple[str, ...]) -> str:
    """The sentence a description gains when a need takes alternatives (unless its title says)."""
    names = "或".join(hezhou_catalogue()[code].name_zh for code in accepts)
    return f"{names}亦可。"


def village_products(rng: random.Random, v: PoorVillage) -> tuple[Product, Product]:
    """A village's two pillar products, drawn by its county's mix (main product first)."""
    mix = COUNTY_PRODUCTS[v.code[:6]]
    codes = sorted(mix)
    first = rng.choices(codes, weights=[mix[c] for c in codes])[0]
    rest = [c for c in codes if c != first]
    second = rng.choices(rest, weights=[mix[c] for c in rest])[0]
    return BY_PRODUCT[first], BY_PRODUCT[second]


def pick_product(rng: random.Random, products: tuple[Product, Product]) -> Product:
    """One of a village's products, its main one twice as often."""
    return products[0] if rng.random() < 2 / 3 else products[1]


def need_text(
    template: NeedText, product: Product, name: str, accepts: tuple[str, ...]
) -> tuple[str, str, str]:
    """(kind, title, description) of a template for one village and product."""
    words = product_words(product)
    description = template.description.format(village=name, **words)
    if accepts and not template.accepts:
        description += accepts_note(accepts)
    return with_product(template.kind, product), template.title.format(**words), description


def checklist_need(
    rng: random.Random, v: PoorVillage, name: str, item: str, products: tuple[Product, Product]
) -> DemoNeed:
    """Build a need that would close one missing checklist item."""
    template = CHECKLIST_NEEDS[item]
    kind, title, text = need_text(template, pick_product(rng, products), name, ())
    low, high = range_of(kind)
    return DemoNeed(
        key="",
        village_code=v.code,
        category=kind.split(".", 1)[0],
        item=kind,
        title=title,
        description=text,
        quantity=draw(rng, low, high),
        urgency=min(5, 3 + int(v.poverty_weight >= 1.5) + int(rng.random() < 0.3)),
        deadline=deadline(rng, 240),
        checklist_item=item,
        household_key=None,
        verification=verification(rng),
        evidence=f"乡镇扶贫工作站2026年10月核查：{LABELS[item]}未达标。",
    )


def plain_need(
    rng: random.Random, v: PoorVillage, name: str, products: tuple[Product, Product]
) -> DemoNeed:
    """Build an ordinary village need: a category by CATEGORY_WEIGHTS, then one of its kinds."""
    cats = sorted(CATEGORY_WEIGHTS)
    category = rng.choices(cats, weights=[CATEGORY_WEIGHTS[c] for c in cats])[0]
    options = [t for t in NEED_TEXTS if t.kind.split(".", 1)[0] == category]
    template = rng.choices(options, weights=[t.weight for t in options])[0]
    product = pick_product(rng, products)
    accepts = draw_accepts(rng, template, with_product(template.kind, product))
    kind, title, text = need_text(template, product, name, accepts)
    low, high = range_of(kind)
    evidence = "村两委会议纪要及入户调查表（2026年10月）。" if rng.random() < 0.6 else None
    return DemoNeed(
        key="",
        village_code=v.code,
        category=category,
        item=kind,
        title=title,
        description=text,
        quantity=max(1, round(draw(rng, low, high) * (0.6 + 0.4 * v.poverty_weight) / 1.4)),
        urgency=max(1, min(5, round(rng.gauss(1.5 + v.poverty_weight, 0.9)))),
        deadline=deadline(rng, 300),
        checklist_item=None,
        household_key=None,
        verification=verification(rng),
        evidence=evidence,
        accepts=accepts,
    )


def village_needs(rng: random.Random, v: PoorVillage, name: str) -> list[DemoNeed]:
    """Build one village's needs: poorer villages post more, and close missing items first."""
    products = village_products(rng, v)
    count = max(2, round(NEEDS_PER_WEIGHT * v.poverty_weight * rng.uniform(0.7, 1.3)))
    missing = [code for code, ok in v.checklist.items() if not ok and code in CHECKLIST_NEEDS]
    tied = rng.sample(missing, min(len(missing), rng.randint(0, 2)))
    needs = [checklist_need(rng, v, name, item, products) for item in tied]
    needs.extend(plain_need(rng, v, name, products) for _ in range(max(0, count - len(needs))))
    return needs


def wish(rng: random.Random, hh: DemoHousehold, frivolous: bool) -> DemoNeed:
    """Build one household's micro-wish (微心愿), capped in value unless frivolous."""
    chosen: Wish = rng.choice(FRIVOLOUS_WISHES if frivolous else WISH_ITEMS)
    unit = hezhou_catalogue()[chosen.kind].unit_zh
    most = max(1, min(chosen.most, WISH_VALUE_CAP // chosen.price))
    quantity = 1 if frivolous else rng.randint(1, most)
    accepts = () if frivolous else draw_accepts(rng, NeedText(chosen.kind, "", ""), chosen.kind)
    if frivolous:
        evidence = f"未附入户核实材料，估价超过微心愿上限{WISH_VALUE_CAP}元。"
    else:
        evidence = f"第一书记2026年11月入户核实：{chosen.reason}，附照片。"
    note = accepts_note(accepts) if accepts else ""
    return DemoNeed(
        key="",
        village_code=hh.village_code,
        category="goods",
        item=chosen.kind,
        title=f"微心愿：{chosen.item}",
        description=f"{hh.display_name}户：{chosen.reason}，希望得到{chosen.item}{quantity}{unit}"
        f"（估价约{chosen.price * quantity}元）。{note}",
        quantity=quantity,
        urgency=rng.randint(2, 4),
        deadline=deadline(rng, 70),
        checklist_item=None,
        household_key=hh.key,
        verification="rejected" if frivolous else verification(rng),
        evidence=evidence,
        accepts=accepts,
    )


def make_households_and_wishes(
    rng: random.Random, villages: Sequence[PoorVillage], demo_village: str | None = None
) -> tuple[tuple[DemoHousehold, ...], list[DemoNeed]]:
    """Draw households in proportion to poor households and give each a micro-wish or two.

    The demo village (the village login's) gets no over-cap wish: such a wish has no estimated
    value, and its committee's export of needs must import again (an import insists on one).
    """
    households: list[DemoHousehold] = []
    by_village: dict[str, list[DemoHousehold]] = {}
    wishes = []
    weights = [v.poor_households for v in villages]
    for i in range(WISH_COUNT):
        village = rng.choices(villages, weights=weights)[0]
        known = by_village.setdefault(village.code, [])
        if known and rng.random() < REUSE_HOUSEHOLD:
            hh = rng.choice(known)
        else:
            hh = DemoHousehold(
                key=f"hh-{len(households) + 1:04d}",
                village_code=village.code,
                display_name=masked_name(rng),
                people=rng.randint(1, 7),
                phone_masked=masked_phone(rng) if rng.random() < 0.7 else None,
            )
            households.append(hh)
            known.append(hh)
        frivolous = i % (WISH_COUNT // FRIVOLOUS_COUNT) == 7 and village.code != demo_village
        wishes.append(wish(rng, hh, frivolous=frivolous))
    return tuple(households), wishes


def make_needs(
    rng: random.Random,
    villages: Sequence[PoorVillage],
    names: dict[str, str],
    demo_village: str | None = None,
) -> tuple[tuple[DemoHousehold, ...], tuple[DemoNeed, ...]]:
    """Build all households and needs, keyed need-00001.. in village-code order."""
    needs = [n for v in villages for n in village_needs(rng, v, names[v.code])]
    if demo_village is not None:
        needs.append(paired_need(demo_village, names[demo_village]))
    households, wishes = make_households_and_wishes(rng, villages, demo_village)
    ordered = sorted(needs + wishes, key=lambda n: n.village_code)
    keyed = tuple(replace(n, key=f"need-{i:05d}") for i, n in enumerate(ordered, start=1))
    return households, keyed


def paired_need(village_code: str, name: str) -> DemoNeed:
    """The demo village's verified need that its paired unit (unit-01, 贺州市农业农村局) funds, so
    the journeys always see the pairing at work (一帮一联); drawn from no random stream."""
    return DemoNeed(
        key="",
        village_code=village_code,
        category="funds",
        item="funds.industry",
        title="产业奖补资金缺口",
        description=f"{name}贫困户发展特色种养产业，奖补资金尚缺一部分。",
        quantity=30_000,
        urgency=4,
        deadline=WEEK_END + datetime.timedelta(days=60),
        checklist_item=None,
        household_key=None,
        verification="verified",
        evidence="村两委会议纪要及入户调查表（2026年10月）。",
    )


def ensure_pending(
    needs: Sequence[DemoNeed], village_code: str, count: int = 3
) -> tuple[DemoNeed, ...]:
    """Mark the demo village's first needs pending so the township journey has work to verify."""
    marked = 0
    result = []
    for need in needs:
        if need.village_code == village_code and marked < count and need.verification != "rejected":
            need = replace(need, verification="pending")
            marked += 1
        result.append(need)
    return tuple(result)
