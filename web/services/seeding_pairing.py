"""Writing the demo pairing plan (seeds.demo_pairing) into the register, idempotently: a
pairing or a village's leader and first secretary already there is left as it is."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from seeds.demo_model import DemoData
from seeds.demo_pairing import DemoCadre, make_plan
from web.models import (
    Household,
    HouseholdCadre,
    Organization,
    Village,
    VillagePairing,
    VillageResponsible,
)


def seed_plan(session: Session, data: DemoData) -> tuple[int, int]:
    """Add the demo plan's missing pairings and responsible people; (pairings, people) added."""
    plan = make_plan(data)
    orgs = {k: i for k, i in session.execute(select(Organization.key, Organization.id)) if k}
    villages = {c: i for c, i in session.execute(select(Village.code, Village.id))}
    have = set(session.execute(select(VillagePairing.organization_id, VillagePairing.village_id)))
    added = 0
    for pairing in plan.pairings:
        org_id, village_id = orgs.get(pairing.organization_key), villages.get(pairing.village_code)
        if org_id is None or village_id is None or (org_id, village_id) in have:
            continue
        session.add(
            VillagePairing(
                organization_id=org_id,
                village_id=village_id,
                starts_on=pairing.starts_on,
                ends_on=pairing.ends_on,
            )
        )
        have.add((org_id, village_id))
        added += 1
    staffed = set(session.scalars(select(VillageResponsible.village_id)))
    people = 0
    for person in plan.people:
        village_id = villages.get(person.village_code)
        if village_id is None or village_id in staffed:
            continue
        session.add(
            VillageResponsible(
                village_id=village_id,
                role=person.role,
                name=person.name,
                unit=person.unit,
                post=person.post,
            )
        )
        people += 1
    _seed_cadres(session, plan.cadres)
    session.flush()
    return added, people


def _seed_cadres(session: Session, cadres: tuple[DemoCadre, ...]) -> None:
    """The demo village's households' cadres (干部包户), for households that have none."""
    households = {
        k: i for k, i in session.execute(select(Household.key, Household.id)) if k is not None
    }
    have = set(session.scalars(select(HouseholdCadre.household_id)))
    for cadre in cadres:
        household_id = households.get(cadre.household_key)
        if household_id is None or household_id in have:
            continue
        session.add(
            HouseholdCadre(
                household_id=household_id,
                cadre_name=cadre.name,
                cadre_unit=cadre.unit,
                cadre_post=cadre.post,
            )
        )
        have.add(household_id)
