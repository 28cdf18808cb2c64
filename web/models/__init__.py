"""SQLAlchemy models of duijie, one module per part of the domain."""

from web.models.accounts import ApiToken, Organization, SignIn, User
from web.models.aid import (
    Category,
    HelpRequest,
    Household,
    Kind,
    Need,
    Offer,
    need_accepts,
    offer_counties,
    offer_items,
    offer_villages,
)
from web.models.allocation import Allocation, AllocationRun, ImportJob
from web.models.claims import Campaign, WishClaim
from web.models.events import (
    AuditEvent,
    HouseholdEvent,
    IdempotencyRecord,
    Notification,
    OutboxEmail,
    ThrottleEvent,
)
from web.models.pairing import HouseholdCadre, VillagePairing, VillageResponsible
from web.models.places import City, County, Township, Village, city_code
from web.models.recognition import Certificate

__all__ = [
    "Allocation",
    "AllocationRun",
    "ApiToken",
    "AuditEvent",
    "Campaign",
    "Category",
    "Certificate",
    "City",
    "County",
    "HelpRequest",
    "Household",
    "HouseholdCadre",
    "HouseholdEvent",
    "IdempotencyRecord",
    "ImportJob",
    "Kind",
    "Need",
    "Notification",
    "Offer",
    "Organization",
    "OutboxEmail",
    "SignIn",
    "ThrottleEvent",
    "Township",
    "User",
    "Village",
    "VillagePairing",
    "VillageResponsible",
    "WishClaim",
    "city_code",
    "need_accepts",
    "offer_counties",
    "offer_items",
    "offer_villages",
]
