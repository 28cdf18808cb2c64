"""Organizations and staff accounts: self-registration, vetting, accounts made by an admin."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import County, Offer, Organization, Township, User, Village
from web.models.accounts import ORGANIZATION_KINDS
from web.services.accounts import AccountError, create_user
from web.services.locking import begin_write, lock_rows

# Kinds an organization may pick when it registers itself (government bodies are added by staff).
SELF_REGISTER_KINDS = tuple(k for k in ORGANIZATION_KINDS if k != "government")
# Vetting decisions an administrator can take, and the state each leads to.
DECISIONS = {"approve": "approved", "reject": "rejected", "suspend": "suspended"}
STAFF_ROLES = ("village", "township", "auditor")


class OrganizationError(ValueError):
    """A registration or vetting step was refused; `code` names the reason."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


def register_organization(
    session: Session, name: str, kind: str, username: str, password: str
) -> Organization:
    """Register an organization, pending vetting, with its first donor user; the caller commits."""
    if kind not in SELF_REGISTER_KINDS:
        raise OrganizationError("kind")
    if not name.strip():
        raise OrganizationError("name")
    try:
        user = create_user(session, username.strip(), password, "donor", name.strip())
    except AccountError as error:
        session.rollback()
        raise OrganizationError("account", str(error)) from error
    organization = Organization(name=name.strip(), kind=kind, vetting="pending")
    user.organization = organization
    session.add(organization)
    session.flush()
    return organization


def can_post_offers(user: User) -> bool:
    """True when the user belongs to an approved organization."""
    return user.organization is not None and user.organization.vetting == "approved"


def list_organizations(session: Session, vetting: str | None = None) -> Sequence[Organization]:
    """Organizations, pending first then by name, optionally of one vetting state."""
    query = select(Organization).order_by(Organization.vetting != "pending", Organization.name)
    if vetting:
        query = query.where(Organization.vetting == vetting)
    return session.scalars(query).all()


def unapproved(session: Session, organization_ids: Iterable[int]) -> set[int]:
    """Which of these organizations are not approved now, read from the database (not from
    objects loaded earlier in the session)."""
    wanted = sorted(set(organization_ids))
    if not wanted:
        return set()
    query = select(Organization.id).where(
        Organization.id.in_(wanted), Organization.vetting != "approved"
    )
    return set(session.scalars(query))


def decide_vetting(session: Session, organization_id: int, decision: str) -> Organization:
    """Approve, reject or suspend an organization; the caller commits.

    The organization's open offers are locked first, so a weekly commit or a manual pledge
    using them finishes before the decision lands (its pledges came first) or sees it (and
    pledges nothing of a suspended organization's).
    """
    if decision not in DECISIONS:
        raise OrganizationError("decision")
    begin_write(session)
    organization = lock_rows(session, Organization, [organization_id]).get(organization_id)
    if organization is None:
        raise LookupError(organization_id)
    offers = select(Offer.id).where(
        Offer.organization_id == organization_id, Offer.status == "open"
    )
    lock_rows(session, Offer, session.scalars(offers))
    organization.vetting = DECISIONS[decision]
    session.flush()
    return organization


def create_staff_account(
    session: Session,
    username: str,
    password: str,
    role: str,
    display_name: str,
    *,
    village_code: str | None = None,
    township_code: str | None = None,
    county_code: str | None = None,
) -> User:
    """Create a village committee, township officer, county office or auditor account; the
    caller commits."""
    if role not in (*STAFF_ROLES, "county"):
        raise OrganizationError("role")
    village = township = county = None
    if role == "village":
        village = session.scalar(select(Village).where(Village.code == (village_code or "")))
        if village is None:
            raise OrganizationError("village")
        township = village.township
    elif role == "township":
        township = session.scalar(select(Township).where(Township.code == (township_code or "")))
        if township is None:
            raise OrganizationError("township")
    elif role == "county":
        county = session.scalar(select(County).where(County.code == (county_code or "")))
        if county is None:
            raise OrganizationError("county")
    try:
        user = create_user(session, username.strip(), password, role, display_name.strip())
    except AccountError as error:
        session.rollback()
        raise OrganizationError("account", str(error)) from error
    user.village = village
    user.township = township
    user.county = county
    session.flush()
    return user


def list_staff(session: Session) -> Sequence[User]:
    """Accounts that are not donors, by role and name."""
    query = select(User).where(User.role != "donor").order_by(User.role, User.username)
    return session.scalars(query).all()
