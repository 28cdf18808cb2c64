"""Tests of the demo data set: determinism, sizes, keys, foreign keys and privacy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import fields

from matcher.categories import CATEGORY_CODES
from seeds.catalogue import hezhou_catalogue
from seeds.checklist import CHECKLIST_CODES
from seeds.demo import DEMO_LOGINS, WEEK_END, WEEK_START, DemoData, demo_data, wish_value
from seeds.demo_texts import WISH_VALUE_CAP
from seeds.hezhou import point_in_county, village_units

MASKED_NAME = re.compile(r"^(爱心人士)?.\*\*$")
MASKED_PHONE = re.compile(r"^1\d\d\*{4}\d{4}$")


def test_deterministic_and_seed_dependent(data: DemoData) -> None:
    assert demo_data() == data
    assert demo_data(2026) is not data
    assert demo_data(7) != data


def test_sizes_and_categories(data: DemoData) -> None:
    assert data.week == "2026-W48"
    assert 450 <= len(data.offers) <= 550
    assert 1800 <= len(data.needs) <= 2200
    assert {o.category for o in data.offers} == CATEGORY_CODES
    assert {n.category for n in data.needs} == CATEGORY_CODES
    assert 60 <= len(data.organizations) <= 100


def test_supply_covers_part_of_demand_in_value(data: DemoData) -> None:
    # Kinds of one category count in different units (袋, 株, 套...), so a category's supply
    # and demand are compared in 元 at the catalogue's reference values (verified needs only).
    catalogue = hezhou_catalogue()
    supply: Counter[str] = Counter()
    demand: Counter[str] = Counter()
    for offer in data.offers:
        first = offer.items[0] if offer.items else None
        supply[offer.category] += catalogue.value_in_yuan(first, offer.category, offer.quantity)
    for need in data.needs:
        if need.verification == "verified":
            demand[need.category] += catalogue.value_in_yuan(
                need.item, need.category, need.quantity
            )
    ratio = {category: supply[category] / demand[category] for category in CATEGORY_CODES}
    assert all(0.3 <= r <= 1.6 for r in ratio.values()), ratio
    assert ratio["infrastructure"] < 0.6, ratio
    assert ratio["training"] > 1.0 and ratio["jobs"] > 1.0, ratio


def test_unique_keys(data: DemoData) -> None:
    for records, name in (
        (data.organizations, "key"),
        (data.offers, "key"),
        (data.needs, "key"),
        (data.households, "key"),
        (data.users, "username"),
    ):
        keys = [getattr(r, name) for r in records]
        assert len(keys) == len(set(keys)) and all(keys)


def test_quantities_are_positive_ints(data: DemoData) -> None:
    quantities = [o.quantity for o in data.offers] + [n.quantity for n in data.needs]
    assert all(type(q) is int and q >= 1 for q in quantities)
    for offer in data.offers:
        assert offer.min_lot is None or 1 <= offer.min_lot <= offer.quantity
        assert offer.max_villages is None or offer.max_villages >= 1
        if offer.indivisible:
            assert offer.max_villages == 1


def test_offers_resolve_and_cover_the_week(data: DemoData) -> None:
    orgs = {o.key: o for o in data.organizations}
    poor = {v.code for v in data.villages}
    for offer in data.offers:
        org = orgs[offer.organization_key]
        assert org.vetting == "approved"
        assert set(offer.village_codes) <= poor
        if org.kind == "paired_unit":
            assert offer.village_codes == org.paired_villages
        assert offer.valid_from <= WEEK_START and offer.valid_until >= WEEK_END
        assert (offer.dispatch_lat is None) == (offer.dispatch_lon is None)
        if offer.dispatch_lat is not None and offer.dispatch_lon is not None:
            assert any(
                point_in_county(c, offer.dispatch_lon, offer.dispatch_lat)
                for c in ("451102", "451103", "451121", "451122", "451123")
            )


def test_organizations_and_pairings(data: DemoData) -> None:
    poor = {v.code for v in data.villages}
    kinds = Counter(o.kind for o in data.organizations)
    assert set(kinds) == {"enterprise", "ngo", "paired_unit", "individual", "government"}
    assert Counter(o.vetting for o in data.organizations)["pending"] >= 3
    for org in data.organizations:
        if org.kind == "paired_unit":
            assert 1 <= len(org.paired_villages) <= 5 and set(org.paired_villages) <= poor
        else:
            assert org.paired_villages == ()


def test_needs_resolve(data: DemoData) -> None:
    poor = {v.code: v for v in data.villages}
    households = {h.key: h for h in data.households}
    for need in data.needs:
        assert need.village_code in poor
        assert 1 <= need.urgency <= 5 and need.deadline > WEEK_END
        assert need.verification in {"verified", "pending", "rejected"}
        if need.checklist_item is not None:
            assert need.checklist_item in CHECKLIST_CODES
            assert not poor[need.village_code].checklist[need.checklist_item]
        if need.household_key is not None:
            assert households[need.household_key].village_code == need.village_code
            assert need.evidence
    assert {n.village_code for n in data.needs} == set(poor)
    assert {h.key for h in data.households} == {n.household_key for n in data.needs} - {None}


def test_micro_wishes_and_verification_mix(data: DemoData) -> None:
    wishes = [n for n in data.needs if n.household_key is not None]
    assert 200 <= len(wishes) <= 500
    for wish in wishes:
        value = int(re.search(r"估价约(\d+)元", wish.description).group(1))  # type: ignore[union-attr]
        assert wish.verification == "rejected" or value <= WISH_VALUE_CAP
    states = Counter(n.verification for n in data.needs)
    assert 0.8 <= states["verified"] / len(data.needs) <= 0.9
    assert states["pending"] > 100 and states["rejected"] > 0
    assert sum(n.checklist_item is not None for n in data.needs) > 100


def test_no_unmasked_personal_data(data: DemoData) -> None:
    for household in data.households:
        assert MASKED_NAME.match(household.display_name)
        assert household.phone_masked is None or MASKED_PHONE.match(household.phone_masked)
    for org in data.organizations:
        assert MASKED_NAME.match(org.contact_name)
        assert org.phone_masked is None or MASKED_PHONE.match(org.phone_masked)
        if org.kind == "individual":
            assert MASKED_NAME.match(org.name)


def test_users_connect_the_journeys(data: DemoData) -> None:
    users = {u.username: u for u in data.users}
    roles = Counter(u.role for u in data.users)
    assert roles == {
        "admin": 1, "county": 1, "township": 1, "village": 1, "donor": roles["donor"],
        "auditor": 1,
    }  # fmt: skip
    assert [login[0] for login in DEMO_LOGINS] == [
        "admin",
        "county",
        "township",
        "village",
        "donor",
        "auditor",
    ]
    for role, username, password in DEMO_LOGINS:
        assert users[username].role == role and users[username].password == password
    township_of = {u.code: u.township_code for u in village_units()}
    village, township = users["village"], users["township"]
    assert village.village_code in {v.code for v in data.villages}
    assert township_of[village.village_code or ""] == village.township_code
    assert village.township_code == township.township_code
    assert users["county"].county_code == "451102"  # 八步区
    orgs = {o.key: o for o in data.organizations}
    donors = [u for u in data.users if u.role == "donor"]
    assert orgs[users["donor"].organization_key or ""].kind == "enterprise"
    assert {orgs[u.organization_key or ""].kind for u in donors} == {
        "enterprise",
        "ngo",
        "paired_unit",
        "individual",
        "government",
    }
    assert village.village_code in orgs[users["donor-unit"].organization_key or ""].paired_villages
    pending = [
        n
        for n in data.needs
        if n.village_code == village.village_code and n.verification == "pending"
    ]
    assert pending, "the township journey needs pending needs in the demo village"
    assert all(
        wish_value(n) is not None
        for n in data.needs
        if n.village_code == village.village_code and n.household_key is not None
    ), "the demo village's wishes carry a value, so its exported needs import again"


def test_records_are_frozen(data: DemoData) -> None:
    for record in (data.villages[0], data.offers[0], data.needs[0], data.users[0]):
        name = fields(record)[0].name
        try:
            setattr(record, name, "x")
        except AttributeError:
            continue
        raise AssertionError("record is mutable")


def test_independent_of_hash_seed() -> None:
    code = "import hashlib; from seeds.demo import demo_data; "
    code += "print(hashlib.sha256(repr(demo_data()).encode()).hexdigest())"
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1
