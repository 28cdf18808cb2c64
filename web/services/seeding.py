"""Writing the Hezhou reference data and the demo set into the database, idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.categories import CATEGORIES
from seeds.demo import demo_data, wish_value
from seeds.demo_campaigns import DEMO_CAMPAIGNS
from seeds.demo_model import DemoData
from seeds.hezhou import (
    CITY_CODE,
    CITY_NAME,
    counties,
    townships,
    village_short_name,
    village_units,
)
from web.models import (
    Campaign,
    Category,
    City,
    County,
    Household,
    Kind,
    Need,
    Offer,
    Organization,
    Township,
    User,
    Village,
)
from web.services.accounts import hash_password
from web.services.kinds import seed_catalogue
from web.services.seeding_pairing import seed_plan


@dataclass
class SeedReport:
    """How many rows of each kind a seeding call added."""

    added: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, n: int) -> None:
        """Record that `n` rows of `kind` were added."""
        self.added[kind] = self.added.get(kind, 0) + n


def _existing(session: Session, column: object) -> set[str]:
    """The values of a unique key column already stored."""
    return {value for value in session.scalars(select(column)) if value is not None}  # type: ignore[call-overload]


def _ids(session: Session, key: object, id_column: object) -> dict[str, int]:
    """Map each stored key to its row id."""
    return {k: i for k, i in session.execute(select(key, id_column))}  # type: ignore[call-overload]


def seed_reference(session: Session, data: DemoData, report: SeedReport) -> None:
    """Add categories, counties, townships and the poor villages that are missing."""
    _seed_categories(session, report)
    county_ids = _seed_counties(session, report)
    township_ids = _seed_townships(session, county_ids, report)
    _seed_villages(session, data, county_ids, township_ids, report)


def _seed_categories(session: Session, report: SeedReport) -> None:
    """The categories that are missing, then the catalogue's kinds."""
    have = _existing(session, Category.code)
    new_categories = [
        Category(
            code=c.code, name_zh=c.name_zh, name_en=c.name_en, unit_zh=c.unit_zh, unit_en=c.unit_en
        )
        for c in CATEGORIES
        if c.code not in have
    ]
    session.add_all(new_categories)
    report.count("categories", len(new_categories))
    session.flush()
    report.count("kinds", seed_catalogue(session))


def _seed_counties(session: Session, report: SeedReport) -> dict[str, int]:
    """The city and its missing counties; every county's id by code."""
    city = session.scalar(select(City).where(City.code == CITY_CODE))
    if city is None:
        city = City(code=CITY_CODE, name=CITY_NAME)
        session.add(city)
        session.flush()
    have = _existing(session, County.code)
    new_counties = [
        County(
            code=c.code,
            name=c.name,
            city_id=city.id,
            label_lon=c.label_lon,
            label_lat=c.label_lat,
        )
        for c in counties()
        if c.code not in have
    ]
    session.add_all(new_counties)
    session.flush()
    report.count("counties", len(new_counties))
    return _ids(session, County.code, County.id)


def _seed_townships(
    session: Session, county_ids: dict[str, int], report: SeedReport
) -> dict[str, int]:
    """The missing townships; every township's id by code."""
    have = _existing(session, Township.code)
    new_townships = [
        Township(code=t.code, name=t.name, county_id=county_ids[t.county_code])
        for t in townships()
        if t.code not in have
    ]
    session.add_all(new_townships)
    session.flush()
    report.count("townships", len(new_townships))
    return _ids(session, Township.code, Township.id)


def _seed_villages(
    session: Session,
    data: DemoData,
    county_ids: dict[str, int],
    township_ids: dict[str, int],
    report: SeedReport,
) -> None:
    """The poor villages that are missing."""
    units = {u.code: u for u in village_units()}
    have = _existing(session, Village.code)
    new_villages = []
    for poor in data.villages:
        if poor.code in have:
            continue
        unit = units[poor.code]
        new_villages.append(
            Village(
                code=poor.code,
                name=village_short_name(unit.name),
                township_id=township_ids[unit.township_code],
                county_id=county_ids[unit.county_code],
                lat=poor.lat,
                lon=poor.lon,
                population=poor.population,
                poor_households=poor.poor_households,
                poor_population=poor.poor_population,
                poverty_incidence=poor.poverty_incidence,
                poverty_weight=poor.poverty_weight,
                ethnic_minority=poor.ethnic_minority,
                status=poor.status,
                exit_year=poor.exit_year,
                checklist=dict(poor.checklist),
            )
        )
    session.add_all(new_villages)
    session.flush()
    report.count("villages", len(new_villages))


def seed_demo(session: Session, data: DemoData, report: SeedReport) -> None:
    """Add the demo organizations, users, households, offers and needs that are missing."""
    villages = _ids(session, Village.code, Village.id)
    village_rows = {v.code: v for v in session.scalars(select(Village))}
    orgs = _seed_organizations(session, data, village_rows, report)
    _seed_users(session, data, orgs, villages, report)
    households = _seed_households(session, data, villages, report)
    kinds = {k.code: k for k in session.scalars(select(Kind))}
    _seed_offers(session, data, orgs, village_rows, kinds, report)
    _seed_needs(session, data, villages, households, kinds, report)
    pairings, people = seed_plan(session, data)
    report.count("pairings", pairings)
    report.count("responsible people", people)
    _seed_campaigns(session, report)


def _seed_campaigns(session: Session, report: SeedReport) -> None:
    """The missing demo campaigns (by name)."""
    existing = _existing(session, Campaign.name)
    new = [
        Campaign(
            name=c.name,
            description=c.description,
            starts_on=c.starts_on,
            ends_on=c.ends_on,
            categories=list(c.categories),
            kinds=list(c.kinds),
            wishes_only=c.wishes_only,
        )
        for c in DEMO_CAMPAIGNS
        if c.name not in existing
    ]
    session.add_all(new)
    report.count("campaigns", len(new))


def _seed_organizations(
    session: Session, data: DemoData, village_rows: dict[str, Village], report: SeedReport
) -> dict[str, int]:
    """The missing demo organizations; every organization's id by key."""
    have = _existing(session, Organization.key)
    for org in data.organizations:
        if org.key in have:
            continue
        session.add(
            Organization(
                key=org.key,
                name=org.name,
                kind=org.kind,
                vetting=org.vetting,
                contact_name=org.contact_name,
                phone_masked=org.phone_masked,
            )
        )
        report.count("organizations", 1)
    session.flush()
    return _ids(session, Organization.key, Organization.id)


def _seed_users(
    session: Session,
    data: DemoData,
    orgs: dict[str, int],
    villages: dict[str, int],
    report: SeedReport,
) -> None:
    """The missing demo users (flushed with the households that follow)."""
    townships = _ids(session, Township.code, Township.id)
    counties = _ids(session, County.code, County.id)
    have = _existing(session, User.username)
    for user in data.users:
        if user.username in have:
            continue
        session.add(
            User(
                username=user.username,
                password_hash=hash_password(user.password),
                role=user.role,
                display_name=user.display_name,
                organization_id=orgs.get(user.organization_key) if user.organization_key else None,
                village_id=villages.get(user.village_code) if user.village_code else None,
                township_id=townships.get(user.township_code) if user.township_code else None,
                county_id=counties.get(user.county_code) if user.county_code else None,
            )
        )
        report.count("users", 1)


def _seed_households(
    session: Session, data: DemoData, villages: dict[str, int], report: SeedReport
) -> dict[str, int]:
    """The missing demo households; every household's id by key."""
    have = _existing(session, Household.key)
    new_households = [
        Household(
            key=h.key,
            village_id=villages[h.village_code],
            display_name=h.display_name,
            people=h.people,
            phone=h.phone_masked,
        )
        for h in data.households
        if h.key not in have
    ]
    session.add_all(new_households)
    session.flush()
    report.count("households", len(new_households))
    return _ids(session, Household.key, Household.id)


def _seed_offers(
    session: Session,
    data: DemoData,
    orgs: dict[str, int],
    village_rows: dict[str, Village],
    kinds: dict[str, Kind],
    report: SeedReport,
) -> None:
    """The missing demo offers."""
    counties_by_code = {c.code: c for c in session.scalars(select(County))}
    have = _existing(session, Offer.key)
    for o in data.offers:
        if o.key in have:
            continue
        session.add(
            Offer(
                key=o.key,
                organization_id=orgs[o.organization_key],
                category_code=o.category,
                title=o.title,
                description=o.description,
                quantity=o.quantity,
                min_lot=o.min_lot or 1,
                max_villages=o.max_villages,
                indivisible=o.indivisible,
                dispatch_lat=o.dispatch_lat,
                dispatch_lon=o.dispatch_lon,
                valid_from=o.valid_from,
                valid_until=o.valid_until,
                counties=[counties_by_code[c] for c in o.county_codes],
                villages=[village_rows[c] for c in o.village_codes],
                items=[kinds[code] for code in o.items],
                general=not o.items,
            )
        )
        report.count("offers", 1)


def _seed_needs(
    session: Session,
    data: DemoData,
    villages: dict[str, int],
    households: dict[str, int],
    kinds: dict[str, Kind],
    report: SeedReport,
) -> None:
    """The missing demo needs."""
    have = _existing(session, Need.key)
    new_needs = [
        Need(
            key=n.key,
            village_id=villages[n.village_code],
            household_id=households[n.household_key] if n.household_key else None,
            category_code=n.category,
            title=n.title,
            description=n.description,
            quantity=n.quantity,
            urgency=n.urgency,
            deadline=n.deadline,
            checklist_item=n.checklist_item,
            evidence=n.evidence or "",
            estimated_value=wish_value(n),
            verification=n.verification,
            item_code=n.item,
            accepts=[kinds[code] for code in n.accepts],
        )
        for n in data.needs
        if n.key not in have
    ]
    session.add_all(new_needs)
    report.count("needs", len(new_needs))


def seed(session: Session, *, demo: bool) -> SeedReport:
    """Seed the villages (and with `demo` the demo actors and open week), flushed; the caller
    commits it as one transaction."""
    data = demo_data()
    report = SeedReport()
    seed_reference(session, data, report)
    if demo:
        seed_demo(session, data, report)
    session.flush()
    return report
