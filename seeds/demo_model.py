"""The demo data set's records: plain frozen dataclasses keyed by stable codes and keys."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

WEEK = "2026-W48"
WEEK_START = datetime.date(2026, 11, 23)
WEEK_END = datetime.date(2026, 11, 29)


@dataclass(frozen=True)
class PoorVillage:
    """A registered poor village (贫困村), keyed by its real 12-digit code; figures are synthetic.

    status is 'poor' or 'exited' (exit_year 2016..2020, else None); poverty_incidence is a
    fraction; poverty_weight in [1.0, 2.0] grows with it; checklist maps the 12 CHECKLIST_ITEMS
    codes to whether the village meets them.
    """

    code: str
    population: int
    poor_households: int
    poor_population: int
    poverty_incidence: float
    poverty_weight: float
    ethnic_minority: bool
    status: str
    exit_year: int | None
    checklist: dict[str, bool]
    lat: float
    lon: float


@dataclass(frozen=True)
class DemoOrganization:
    """An aid actor; kind is enterprise, ngo, paired_unit, individual or government.

    vetting is 'approved' or 'pending'; paired_villages holds poor-village codes (paired units).
    """

    key: str
    name: str
    kind: str
    vetting: str
    paired_villages: tuple[str, ...]
    contact_name: str
    phone_masked: str | None


@dataclass(frozen=True)
class DemoUser:
    """A demo login; the passwords are public demo-only values, never for a real deployment.

    role is admin, county, township, village, donor or auditor; organization_key is set for
    donors, village_code for village users, township_code for township and village users,
    county_code for the county office.
    """

    username: str
    password: str
    role: str
    display_name: str
    organization_key: str | None
    village_code: str | None
    township_code: str | None
    county_code: str | None = None


@dataclass(frozen=True)
class DemoOffer:
    """An open offer of aid in one category, counted in the integer unit of its first kind.

    items are the catalogue kinds it offers (spec v1.1: each covers itself and its descendants);
    empty only for a donor's explicitly general offer, which any need of its category may take.

    min_lot is the smallest amount worth sending to one village (None: any); max_villages caps
    how many villages may share it (None: no cap); an indivisible offer goes whole to one
    village. Empty county_codes / village_codes mean no restriction. The dispatch point may be
    None (funds and orders need none).
    """

    key: str
    organization_key: str
    category: str
    items: tuple[str, ...]
    title: str
    description: str
    quantity: int
    min_lot: int | None
    max_villages: int | None
    indivisible: bool
    county_codes: tuple[str, ...]
    village_codes: tuple[str, ...]
    dispatch_lat: float | None
    dispatch_lon: float | None
    valid_from: datetime.date
    valid_until: datetime.date


@dataclass(frozen=True)
class DemoHousehold:
    """A registered poor household (建档立卡贫困户) with minimal, masked personal data."""

    key: str
    village_code: str
    display_name: str
    people: int
    phone_masked: str | None


@dataclass(frozen=True)
class DemoNeed:
    """An open need posted by a village, or a household's micro-wish (微心愿) if household_key.

    urgency is 1 (can wait) .. 5 (urgent); checklist_item is the CHECKLIST_ITEMS code the need
    closes, if any; verification is 'verified', 'pending' or 'rejected'. item is the catalogue
    kind it asks for (its quantity counts in that kind's unit); accepts are sibling kinds it
    also takes.
    """

    key: str
    village_code: str
    category: str
    item: str
    title: str
    description: str
    quantity: int
    urgency: int
    deadline: datetime.date
    checklist_item: str | None
    household_key: str | None
    verification: str
    evidence: str | None
    accepts: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoData:
    """The whole demo data set for one allocation week."""

    villages: tuple[PoorVillage, ...]
    organizations: tuple[DemoOrganization, ...]
    users: tuple[DemoUser, ...]
    offers: tuple[DemoOffer, ...]
    households: tuple[DemoHousehold, ...]
    needs: tuple[DemoNeed, ...]
    week: str = WEEK
