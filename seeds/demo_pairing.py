"""The demo pairing plan (定点帮扶方案, 一帮一联) for all poor villages: each paired unit keeps
its villages, the other villages are paired with their county's government, each paired
village gets a leader (挂点领导) and a first secretary (第一书记), and a few villages are left
unpaired so the register's flag shows. Names are placeholders (张某某): never real people."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from seeds.demo_model import DemoData, DemoOrganization
from seeds.demo_orgs import org_keys

PLAN_STARTS = datetime.date(2024, 1, 1)
PLAN_ENDS = datetime.date(2027, 12, 31)
UNPAIRED = 5  # villages left without a unit, so the register's flag shows
SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高梁韦莫覃蒙"


@dataclass(frozen=True)
class DemoPairing:
    """A unit (by organization key) paired with a village for a period."""

    organization_key: str
    village_code: str
    starts_on: datetime.date
    ends_on: datetime.date | None


@dataclass(frozen=True)
class DemoResponsible:
    """A village's leader or first secretary, with a placeholder name (姓 + 某某)."""

    village_code: str
    role: str  # "leader" or "secretary"
    name: str
    unit: str
    post: str


@dataclass(frozen=True)
class DemoCadre:
    """The cadre (placeholder name) who looks after a household (干部包户)."""

    household_key: str
    name: str
    unit: str
    post: str


@dataclass(frozen=True)
class DemoPlan:
    pairings: tuple[DemoPairing, ...]
    people: tuple[DemoResponsible, ...]
    unpaired: tuple[str, ...]
    # the demo village's households' cadres, from its paired unit
    cadres: tuple[DemoCadre, ...] = ()


def leader_post(unit: str) -> str:
    """A plausible post of a unit's leader, e.g. 市财政局副局长, 钟山县副县长."""
    short = unit.removeprefix("贺州市").removeprefix("广西壮族自治区")
    if unit.endswith("人民政府"):
        place = unit.removesuffix("人民政府")
        return f"{place}副{'区长' if place.endswith('区') else '县长'}"
    if unit.endswith(("医院", "学院")):
        return f"{short}副院长"
    if unit.endswith("委员会"):
        return f"{short}副主任"
    prefix = "市" if unit.startswith("贺州市") else ("自治区" if unit.startswith("广西") else "")
    if short.endswith(("局", "厅")):
        return f"{prefix}{short}副局长" if short.endswith("局") else f"{prefix}{short}副厅长"
    return f"{short}副职领导"


def _governments(orgs: tuple[DemoOrganization, ...]) -> dict[str, DemoOrganization]:
    """Each county's government, by county code."""
    homes = {key: spec.home for key, spec in org_keys() if spec.kind == "government" and spec.home}
    by_key = {o.key: o for o in orgs}
    return {home: by_key[key] for key, home in homes.items()}


def make_plan(data: DemoData, seed: int = 16) -> DemoPlan:
    """The plan for every village of the demo data (its own random stream: the rest of the
    demo data does not change)."""
    rng = random.Random(seed)
    pairings: list[DemoPairing] = []
    unit_of: dict[str, DemoOrganization] = {}
    for org in data.organizations:
        for code in org.paired_villages:
            pairings.append(DemoPairing(org.key, code, PLAN_STARTS, PLAN_ENDS))
            unit_of.setdefault(code, org)
    demo_village = next((u.village_code for u in data.users if u.role == "village"), None)
    free = sorted(v.code for v in data.villages if v.code not in unit_of and v.code != demo_village)
    unpaired = tuple(sorted(rng.sample(free, UNPAIRED)))
    governments = _governments(data.organizations)
    for code in free:
        government = governments.get(code[:6])
        if code in unpaired or government is None:
            continue
        pairings.append(DemoPairing(government.key, code, PLAN_STARTS, PLAN_ENDS))
        unit_of[code] = government
    people = []
    for code in sorted(unit_of):
        unit = unit_of[code].name
        people.append(
            DemoResponsible(code, "leader", f"{rng.choice(SURNAMES)}某某", unit, leader_post(unit))
        )
        people.append(
            DemoResponsible(code, "secretary", f"{rng.choice(SURNAMES)}某某", unit, "驻村第一书记")
        )
    cadres = tuple(
        DemoCadre(h.key, f"{rng.choice(SURNAMES)}某某", unit_of[h.village_code].name, "帮扶干部")
        for h in data.households
        if h.village_code == demo_village and h.village_code in unit_of
    )
    return DemoPlan(tuple(pairings), tuple(people), unpaired, cadres)
