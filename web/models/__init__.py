"""SQLAlchemy models of duijie, one module per part of the domain."""

from web.models.accounts import Organization, User, organization_villages
from web.models.aid import Category, Household, Need, Offer, offer_counties, offer_villages
from web.models.allocation import Allocation, AllocationRun
from web.models.events import AuditEvent, Notification
from web.models.places import County, Township, Village

__all__ = [
    "Allocation",
    "AllocationRun",
    "AuditEvent",
    "Category",
    "County",
    "Household",
    "Need",
    "Notification",
    "Offer",
    "Organization",
    "Township",
    "User",
    "Village",
    "offer_counties",
    "offer_villages",
    "organization_villages",
]
