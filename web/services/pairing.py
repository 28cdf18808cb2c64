"""The pairing register (一帮一联): units paired with villages for a period (单位包村), the
villages' leaders and first secretaries, and the cadres of households (干部包户).

The register is the one source of who supports a village: `Organization.paired_villages`
reads it, an offer of a paired unit goes to its villages by default (web.services.offers), the
village's page shows who is responsible, and a village nobody is paired with is flagged.
Writes only flush; the caller commits. A cadre's household and any phone are staff-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session, joinedload, object_session

from web.models import (
    Allocation,
    County,
    Household,
    HouseholdCadre,
    Need,
    Organization,
    Village,
    VillagePairing,
    VillageResponsible,
)

# Organizations that may be named as a village's paired unit in the register.
PAIRING_KINDS = ("paired_unit", "government")


@dataclass(frozen=True)
class PairingInput:
    """One unit paired with a village for a period."""

    organization: Organization
    starts_on: date
    ends_on: date | None


@dataclass(frozen=True)
class ResponsibleInput:
    """A village's leader (挂点领导) or first secretary (第一书记)."""

    role: str  # "leader" or "secretary"
    name: str
    unit: str
    post: str
    phone: str | None = None


@dataclass
class VillagePlan:
    """What the register holds for one village, as a sheet row set gives it."""

    village: Village
    pairings: list[PairingInput] = field(default_factory=list)
    responsibles: list[ResponsibleInput] = field(default_factory=list)


def current(day: date) -> object:
    """The SQL condition of a pairing holding on `day`."""
    return and_(
        VillagePairing.starts_on <= day,
        or_(VillagePairing.ends_on.is_(None), VillagePairing.ends_on >= day),
    )


def replace_plans(session: Session, plans: Sequence[VillagePlan]) -> None:
    """Replace, for each village named, its pairings and responsible people by the plan's.
    Villages not named keep theirs. Flushes."""
    ids = [p.village.id for p in plans]
    if ids:
        session.execute(delete(VillagePairing).where(VillagePairing.village_id.in_(ids)))
        session.execute(delete(VillageResponsible).where(VillageResponsible.village_id.in_(ids)))
    for plan in plans:
        for pairing in plan.pairings:
            session.add(
                VillagePairing(
                    organization_id=pairing.organization.id,
                    village_id=plan.village.id,
                    starts_on=pairing.starts_on,
                    ends_on=pairing.ends_on,
                )
            )
        for person in plan.responsibles:
            session.add(
                VillageResponsible(
                    village_id=plan.village.id,
                    role=person.role,
                    name=person.name,
                    unit=person.unit,
                    post=person.post,
                    phone=person.phone or None,
                )
            )
    session.flush()
    for plan in plans:
        session.expire(plan.village)
    for organization in {p.organization for plan in plans for p in plan.pairings}:
        session.expire(organization, ["paired_villages"])


def set_cadre(
    session: Session, household: Household, name: str, unit: str, post: str, phone: str | None
) -> HouseholdCadre:
    """Name the cadre who looks after the household (one per household). Flushes."""
    cadre = session.scalar(
        select(HouseholdCadre).where(HouseholdCadre.household_id == household.id)
    )
    if cadre is None:
        cadre = HouseholdCadre(household_id=household.id)
        session.add(cadre)
    cadre.cadre_name, cadre.cadre_unit, cadre.cadre_post = name, unit, post
    cadre.phone = phone or None
    session.flush()
    return cadre


def household_cadre(session: Session, household_id: int) -> HouseholdCadre | None:
    """The cadre who looks after the household (staff pages only), or None."""
    return session.scalar(select(HouseholdCadre).where(HouseholdCadre.household_id == household_id))


def default_villages(organization: Organization, first: date, last: date) -> list[Village]:
    """The villages an offer of the organization, valid from `first` to `last`, goes to when
    it names no place: those of its pairings holding during that time."""
    pairings = organization_pairings(organization)
    return sorted((p.village for p in pairings if p.overlaps(first, last)), key=lambda v: v.code)


def organization_pairings(organization: Organization) -> list[VillagePairing]:
    """The organization's pairings (any period), by village code."""
    session = object_session(organization)
    if session is None or organization.id is None:
        return []
    query = (
        select(VillagePairing)
        .where(VillagePairing.organization_id == organization.id)
        .options(joinedload(VillagePairing.village))
    )
    return sorted(session.scalars(query), key=lambda p: p.village.code)


def current_villages(session: Session, organization_id: int, today: date) -> list[Village]:
    """The villages the organization is paired with today, by code."""
    query = (
        select(Village)
        .join(VillagePairing, VillagePairing.village_id == Village.id)
        .where(VillagePairing.organization_id == organization_id, current(today))
        .order_by(Village.code)
    )
    return list(session.scalars(query))


def unpaired_query(today: date):  # type: ignore[no-untyped-def]
    """Villages still on the list (not marked exited) that no unit is paired with today."""
    paired = select(VillagePairing.village_id).where(current(today))
    return select(Village).where(Village.exited_on.is_(None), Village.id.not_in(paired))


def unpaired_count(session: Session, today: date) -> int:
    """How many villages still on the list nobody is paired with today (the admin board)."""
    query = unpaired_query(today)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


@dataclass(frozen=True)
class Responsibility:
    """Who is responsible for a village (its public page): units, leaders, first secretaries."""

    pairings: list[VillagePairing]
    leaders: list[VillageResponsible]
    secretaries: list[VillageResponsible]

    @property
    def nobody(self) -> bool:
        return not self.pairings


def responsibility(session: Session, village_id: int, today: date) -> Responsibility:
    """The village's units paired today, its leaders and first secretaries."""
    pairings = list(
        session.scalars(
            select(VillagePairing)
            .where(VillagePairing.village_id == village_id, current(today))
            .options(joinedload(VillagePairing.organization))
            .order_by(VillagePairing.starts_on, VillagePairing.id)
        )
    )
    people = list(
        session.scalars(
            select(VillageResponsible)
            .where(VillageResponsible.village_id == village_id)
            .order_by(VillageResponsible.id)
        )
    )
    return Responsibility(
        pairings,
        [p for p in people if p.role == "leader"],
        [p for p in people if p.role == "secretary"],
    )


@dataclass(frozen=True)
class CountyPairing:
    """A county's villages on the list and how many of them nobody is paired with."""

    county: str
    villages: int
    unpaired: int


@dataclass(frozen=True)
class RegisterPage:
    """The administrator's view of the register: figures and the villages to pair."""

    pairings: int
    units: int
    villages_paired: int
    unpaired: list[Village]
    by_county: list[CountyPairing]


def register_page(session: Session, today: date) -> RegisterPage:
    """The register's figures today and the villages still on the list nobody is paired with."""
    held = select(VillagePairing).where(current(today)).subquery()
    pairings = session.scalar(select(func.count()).select_from(held)) or 0
    units = session.scalar(select(func.count(func.distinct(held.c.organization_id)))) or 0
    paired = session.scalar(select(func.count(func.distinct(held.c.village_id)))) or 0
    unpaired = list(
        session.scalars(
            unpaired_query(today)
            .options(joinedload(Village.county), joinedload(Village.township))
            .order_by(Village.code)
        )
    )
    missing: dict[int, int] = {}
    for village in unpaired:
        missing[village.county_id] = missing.get(village.county_id, 0) + 1
    rows = session.execute(
        select(County.id, County.name, func.count(Village.id))
        .join(Village, Village.county_id == County.id)
        .where(Village.exited_on.is_(None))
        .group_by(County.id, County.name)
        .order_by(County.code)
    )
    by_county = [CountyPairing(name, count, missing.get(cid, 0)) for cid, name, count in rows]
    return RegisterPage(pairings, units, paired, unpaired, by_county)


@dataclass(frozen=True)
class Reached:
    """What reached one of a unit's villages: confirmed deliveries and their value."""

    village: Village
    deliveries: int
    value: float
    own_deliveries: int
    own_value: float


@dataclass(frozen=True)
class UnitPage:
    """A paired unit's page: its villages today and what reached them."""

    organization: Organization
    pairings: list[VillagePairing]
    reached: list[Reached]

    @property
    def total_value(self) -> float:
        return sum(r.value for r in self.reached)

    @property
    def own_value(self) -> float:
        return sum(r.own_value for r in self.reached)


def unit_page(session: Session, organization: Organization, today: date) -> UnitPage:
    """The organization's pairings held today and the confirmed deliveries to those villages
    (from any donor, and its own share), by village."""
    pairings = [p for p in organization_pairings(organization) if p.current_on(today)]
    ids = [p.village_id for p in pairings]
    totals: dict[int, tuple[int, float, int, float]] = {}
    if ids:
        own = Allocation.offer.has(organization_id=organization.id)
        query = (
            select(
                Need.village_id,
                func.count(Allocation.id),
                func.coalesce(func.sum(Allocation.value), 0.0),
                func.count(Allocation.id).filter(own),
                func.coalesce(func.sum(Allocation.value).filter(own), 0.0),
            )
            .join(Need, Allocation.need_id == Need.id)
            .where(Need.village_id.in_(ids), Allocation.status == "confirmed")
            .group_by(Need.village_id)
        )
        totals = {
            row[0]: (row[1], float(row[2]), row[3], float(row[4])) for row in session.execute(query)
        }
    reached = [Reached(p.village, *totals.get(p.village_id, (0, 0.0, 0, 0.0))) for p in pairings]
    return UnitPage(organization, pairings, reached)


PlanRow = tuple[Village, list[VillagePairing], list[VillageResponsible]]


def plan_rows(session: Session) -> Iterable[PlanRow]:
    """Every village with its pairings (any period) and responsible people, by code."""
    pairings: dict[int, list[VillagePairing]] = {}
    for p in session.scalars(
        select(VillagePairing)
        .options(joinedload(VillagePairing.organization))
        .order_by(VillagePairing.starts_on, VillagePairing.id)
    ):
        pairings.setdefault(p.village_id, []).append(p)
    people: dict[int, list[VillageResponsible]] = {}
    for r in session.scalars(select(VillageResponsible).order_by(VillageResponsible.id)):
        people.setdefault(r.village_id, []).append(r)
    villages = session.scalars(
        select(Village).options(joinedload(Village.county)).order_by(Village.code)
    )
    for village in villages:
        yield village, pairings.get(village.id, []), people.get(village.id, [])
