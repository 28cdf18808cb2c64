"""Build the demo organizations (with paired villages) and the demo users."""

from __future__ import annotations

import random
from collections.abc import Sequence

from seeds.demo_model import DemoOrganization, DemoUser, PoorVillage
from seeds.demo_org_specs import ALL_SPECS, KEY_PREFIX, OrgSpec
from seeds.hezhou import townships, village_short_name, village_units
from seeds.masking import masked_name, masked_phone

# The primary login per role, printed by the CLI; every password is a public demo-only value.
DEMO_LOGINS: tuple[tuple[str, str, str], ...] = (
    ("admin", "admin", "demo-admin-2026"),
    ("county", "county", "demo-county-2026"),
    ("township", "township", "demo-township-2026"),
    ("village", "village", "demo-village-2026"),
    ("donor", "donor", "demo-donor-2026"),
    ("auditor", "auditor", "demo-auditor-2026"),
)
# Extra donor logins, one per kind of organization, and one whose organization awaits vetting.
DONOR_LOGINS: tuple[tuple[str, str], ...] = (
    ("donor", "ent-01"),
    ("donor-ngo", "ngo-01"),
    ("donor-unit", "unit-01"),
    ("donor-person", "ind-01"),
    ("donor-gov", "gov-01"),
    ("donor-pending", "ent-27"),
)
MAX_PAIRED = 5
# The county office (县区扶贫办) of the demo: 八步区, the city's seat (issue 16).
DEMO_COUNTY = "451102"


def org_keys() -> tuple[tuple[str, OrgSpec], ...]:
    """Give each organization spec its stable key, e.g. ent-01, unit-03."""
    counters: dict[str, int] = {}
    keyed = []
    for spec in ALL_SPECS:
        counters[spec.kind] = counters.get(spec.kind, 0) + 1
        keyed.append((f"{KEY_PREFIX[spec.kind]}-{counters[spec.kind]:02d}", spec))
    return tuple(keyed)


def primary_village(villages: Sequence[PoorVillage]) -> PoorVillage:
    """Pick the demo village: the poorest 'poor' village of the township with most of them."""
    township_of = {u.code: u.township_code for u in village_units()}
    poor = [v for v in villages if v.status == "poor"]
    counts: dict[str, int] = {}
    for village in poor:
        counts[township_of[village.code]] = counts.get(township_of[village.code], 0) + 1
    township = min(counts, key=lambda t: (-counts[t], t))
    in_township = [v for v in poor if township_of[v.code] == township]
    return min(in_township, key=lambda v: (-v.poverty_incidence, v.code))


def pair_villages(
    rng: random.Random, villages: Sequence[PoorVillage], first: PoorVillage
) -> dict[str, tuple[str, ...]]:
    """Pair each paired unit with 1..5 'poor' villages in its district; unit-01 gets `first`."""
    free = [v.code for v in villages if v.status == "poor" and v.code != first.code]
    rng.shuffle(free)
    pairs: dict[str, tuple[str, ...]] = {}
    for key, spec in org_keys():
        if spec.kind != "paired_unit":
            continue
        wanted = rng.randint(1, MAX_PAIRED - 1) if key == "unit-01" else rng.randint(1, MAX_PAIRED)
        mine = [c for c in free if not spec.home or c.startswith(spec.home)][:wanted]
        free = [c for c in free if c not in mine]
        chosen = ([first.code] if key == "unit-01" else []) + mine
        pairs[key] = tuple(sorted(chosen))
    return pairs


def make_organizations(
    rng: random.Random, villages: Sequence[PoorVillage], first: PoorVillage
) -> tuple[DemoOrganization, ...]:
    """Build every demo organization; paired units carry their paired villages."""
    pairs = pair_villages(rng, villages, first)
    return tuple(
        DemoOrganization(
            key=key,
            name=spec.name,
            kind=spec.kind,
            vetting="pending" if spec.pending else "approved",
            paired_villages=pairs.get(key, ()),
            contact_name=spec.name if spec.kind == "individual" else masked_name(rng),
            phone_masked=masked_phone(rng) if rng.random() < 0.9 else None,
        )
        for key, spec in org_keys()
    )


def make_users(
    organizations: Sequence[DemoOrganization], first: PoorVillage
) -> tuple[DemoUser, ...]:
    """Build the demo logins; township and village users share the demo village's township."""
    unit = next(u for u in village_units() if u.code == first.code)
    township = next(t for t in townships() if t.code == unit.township_code)
    names = {o.key: o.name for o in organizations}
    village_name = village_short_name(unit.name)
    users = [
        DemoUser("admin", "demo-admin-2026", "admin", "贺州市扶贫办管理员", None, None, None),
        DemoUser(
            "county", "demo-county-2026", "county", "八步区扶贫办", None, None, None,
            county_code=DEMO_COUNTY,
        ),
        DemoUser(
            "township",
            "demo-township-2026",
            "township",
            f"{township.name}扶贫工作站",
            None,
            None,
            township.code,
        ),
        DemoUser(
            "village",
            "demo-village-2026",
            "village",
            f"{village_name}两委",
            None,
            unit.code,
            township.code,
        ),
    ]
    users.extend(
        DemoUser(name, f"demo-{name}-2026", "donor", names[key], key, None, None)
        for name, key in DONOR_LOGINS
    )
    users.append(
        DemoUser("auditor", "demo-auditor-2026", "auditor", "贺州市扶贫办审计员", None, None, None)
    )
    return tuple(users)
