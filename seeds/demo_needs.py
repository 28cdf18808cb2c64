"""Build the demo needs: village needs (some closing a checklist item) and micro-wishes."""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence
from dataclasses import replace

from seeds.checklist import CHECKLIST_ITEMS
from seeds.demo_model import WEEK_END, DemoHousehold, DemoNeed, PoorVillage
from seeds.demo_texts import (
    CHECKLIST_NEEDS,
    FRIVOLOUS_WISHES,
    NEED_TEXTS,
    PRODUCTS,
    WISH_ITEMS,
    WISH_VALUE_CAP,
)
from seeds.masking import masked_name, masked_phone
from seeds.quantities import NEED_RANGES, draw

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


def verification(rng: random.Random) -> str:
    """Draw a verification state: about 85% verified, 12% pending, 3% rejected."""
    x = rng.random()
    return "verified" if x < 0.85 else "pending" if x < 0.97 else "rejected"


def deadline(rng: random.Random, latest_days: int) -> datetime.date:
    """Draw a deadline after the allocation week."""
    return WEEK_END + datetime.timedelta(days=rng.randint(7, latest_days))


def checklist_need(rng: random.Random, v: PoorVillage, name: str, item: str) -> DemoNeed:
    """Build a need that would close one missing checklist item."""
    category, title, text = CHECKLIST_NEEDS[item]
    product = rng.choice(PRODUCTS)
    low, high = NEED_RANGES[category]
    return DemoNeed(
        key="",
        village_code=v.code,
        category=category,
        title=title.format(product=product),
        description=text.format(village=name, product=product),
        quantity=draw(rng, low, high),
        urgency=min(5, 3 + int(v.poverty_weight >= 1.5) + int(rng.random() < 0.3)),
        deadline=deadline(rng, 240),
        checklist_item=item,
        household_key=None,
        verification=verification(rng),
        evidence=f"乡镇扶贫工作站2026年10月核查：{LABELS[item]}未达标。",
    )


def plain_need(rng: random.Random, v: PoorVillage, name: str) -> DemoNeed:
    """Build an ordinary village need in a category drawn by CATEGORY_WEIGHTS."""
    cats = sorted(CATEGORY_WEIGHTS)
    category = rng.choices(cats, weights=[CATEGORY_WEIGHTS[c] for c in cats])[0]
    title, text = rng.choice(NEED_TEXTS[category])
    product = rng.choice(PRODUCTS)
    low, high = NEED_RANGES[category]
    evidence = "村两委会议纪要及入户调查表（2026年10月）。" if rng.random() < 0.6 else None
    return DemoNeed(
        key="",
        village_code=v.code,
        category=category,
        title=title.format(product=product),
        description=text.format(village=name, product=product),
        quantity=max(1, round(draw(rng, low, high) * (0.6 + 0.4 * v.poverty_weight) / 1.4)),
        urgency=max(1, min(5, round(rng.gauss(1.5 + v.poverty_weight, 0.9)))),
        deadline=deadline(rng, 300),
        checklist_item=None,
        household_key=None,
        verification=verification(rng),
        evidence=evidence,
    )


def village_needs(rng: random.Random, v: PoorVillage, name: str) -> list[DemoNeed]:
    """Build one village's needs: poorer villages post more, and close missing items first."""
    count = max(2, round(NEEDS_PER_WEIGHT * v.poverty_weight * rng.uniform(0.7, 1.3)))
    missing = [code for code, ok in v.checklist.items() if not ok and code in CHECKLIST_NEEDS]
    tied = rng.sample(missing, min(len(missing), rng.randint(0, 2)))
    needs = [checklist_need(rng, v, name, item) for item in tied]
    needs.extend(plain_need(rng, v, name) for _ in range(max(0, count - len(needs))))
    return needs


def wish(rng: random.Random, hh: DemoHousehold, frivolous: bool) -> DemoNeed:
    """Build one household's micro-wish (微心愿), capped in value unless frivolous."""
    item, measure, price, reason = rng.choice(FRIVOLOUS_WISHES if frivolous else WISH_ITEMS)
    quantity = 1 if frivolous else rng.randint(1, max(1, min(3, WISH_VALUE_CAP // price)))
    if frivolous:
        evidence = f"未附入户核实材料，估价超过微心愿上限{WISH_VALUE_CAP}元。"
    else:
        evidence = f"第一书记2026年11月入户核实：{reason}，附照片。"
    return DemoNeed(
        key="",
        village_code=hh.village_code,
        category="goods",
        title=f"微心愿：{item}",
        description=f"{hh.display_name}户：{reason}，希望得到{item}{quantity}{measure}"
        f"（估价约{price * quantity}元）。",
        quantity=quantity,
        urgency=rng.randint(2, 4),
        deadline=deadline(rng, 70),
        checklist_item=None,
        household_key=hh.key,
        verification="rejected" if frivolous else verification(rng),
        evidence=evidence,
    )


def make_households_and_wishes(
    rng: random.Random, villages: Sequence[PoorVillage]
) -> tuple[tuple[DemoHousehold, ...], list[DemoNeed]]:
    """Draw households in proportion to poor households and give each a micro-wish or two."""
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
        wishes.append(wish(rng, hh, frivolous=i % (WISH_COUNT // FRIVOLOUS_COUNT) == 7))
    return tuple(households), wishes


def make_needs(
    rng: random.Random, villages: Sequence[PoorVillage], names: dict[str, str]
) -> tuple[tuple[DemoHousehold, ...], tuple[DemoNeed, ...]]:
    """Build all households and needs, keyed need-00001.. in village-code order."""
    needs = [n for v in villages for n in village_needs(rng, v, names[v.code])]
    households, wishes = make_households_and_wishes(rng, villages)
    ordered = sorted(needs + wishes, key=lambda n: n.village_code)
    keyed = tuple(replace(n, key=f"need-{i:05d}") for i, n in enumerate(ordered, start=1))
    return households, keyed


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
