"""Thank-you certificates (捐赠证书, issue 17): issued for one confirmed delivery or for a donor's
year, each with a code anyone can check at /certificates/<code>.

The code is random (80 bits from `secrets`, in Crockford's base 32) and stored: a code is
genuine exactly when a certificate with it was issued here, so a code cannot be guessed and a
changed code finds nothing. What a certificate says is stored with it when it is issued
(`Certificate.facts`), so its figures never change afterwards. The donor's name is shown on the
public check page only when the donor does not appear as 爱心人士 (its current choice).
No household is named: a micro-wish is only 微心愿 and its kind.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matcher.kinds import Catalogue
from web.models import (
    Allocation,
    Certificate,
    Need,
    Offer,
    Organization,
    User,
    Village,
    WishClaim,
)
from web.models.accounts import shown_anonymously
from web.services.honours import ZONE, Period, ranking, villages_reached
from web.services.kinds import load_catalogue
from web.services.week import NotAllowed

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U
CODE_LENGTH = 16  # 80 bits
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


class CertificateError(ValueError):
    """A certificate cannot be issued; `code` says why (not_confirmed, nothing_confirmed)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def new_code() -> str:
    """A fresh random code of CODE_LENGTH characters."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str | None) -> str | None:
    """A code as typed (any case, with spaces or dashes, O for 0, I or L for 1) in its stored
    form, or None when it cannot be a code."""
    cleaned = "".join((text or "").split()).replace("-", "").upper().translate(_READ_AS)
    if len(cleaned) != CODE_LENGTH or any(c not in ALPHABET for c in cleaned):
        return None
    return cleaned


def shown_code(code: str) -> str:
    """The code in groups of four, as printed: ABCD-EFGH-JKMN-PQRS."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def local_day(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZONE).date().isoformat()


def _what(catalogue: Catalogue, need: Need) -> dict[str, str]:
    """What was given, by kind (a micro-wish only as 微心愿 and its kind), in both languages."""
    kind = catalogue.unit_of(need.item_code, need.category_code)
    name_zh, name_en = (kind.name_zh, kind.name_en) if kind else (need.category_code,) * 2
    return {
        "what_zh": f"微心愿・{name_zh}" if need.is_wish else name_zh,
        "what_en": f"Micro-wish: {name_en}" if need.is_wish else name_en,
        "unit_zh": kind.unit_zh if kind else "",
        "unit_en": kind.unit_en if kind else "",
    }


def _donor(organization: Organization) -> dict[str, Any]:
    return {"donor": organization.name, "donor_kind": organization.kind}


def _may_issue(actor: User, organization_id: int) -> None:
    """A member of the donor organization or an administrator; NotAllowed otherwise."""
    own = actor.role == "donor" and actor.organization_id == organization_id
    if not actor.active or not (actor.role == "admin" or own):
        raise NotAllowed("only the donor's members or an administrator may issue its certificates")


def _facts(
    catalogue: Catalogue, organization: Organization, need: Need, quantity: int,
    confirmed_at: datetime | None,
) -> dict[str, Any]:
    kind = catalogue.unit_of(need.item_code, need.category_code)
    village = need.village
    return {
        **_donor(organization),
        **_what(catalogue, need),
        "quantity": quantity,
        "value": round(quantity * float(kind.ref_value if kind else 0.0), 2),
        "villages": [f"{village.county.name} {village.name}" if village.county else village.name],
        "confirmed_on": local_day(confirmed_at),
    }  # fmt: skip


def delivery_facts(session: Session, allocation: Allocation) -> dict[str, Any]:
    """What a delivery's certificate says, from the pledge as it is now."""
    return _facts(
        load_catalogue(session), allocation.offer.organization, allocation.need,
        allocation.quantity, allocation.confirmed_at,
    )  # fmt: skip


def claim_facts(session: Session, claim: WishClaim) -> dict[str, Any]:
    """What a fulfilled micro-wish's certificate says (the wish is given whole)."""
    return _facts(
        load_catalogue(session), claim.organization, claim.need, claim.need.quantity,
        claim.received_at,
    )  # fmt: skip


def issue_for_delivery(session: Session, allocation_id: int, actor: User) -> Certificate:
    """The certificate of one confirmed delivery: the one already issued, or a new one."""
    allocation = session.get(Allocation, allocation_id)
    if allocation is None:
        raise NotAllowed(f"no allocation {allocation_id}")
    _may_issue(actor, allocation.offer.organization_id)
    if allocation.status != "confirmed" or allocation.confirmed_at is None:
        raise CertificateError("not_confirmed", f"allocation {allocation_id} is not confirmed")
    found = session.scalars(
        select(Certificate).where(Certificate.allocation_id == allocation_id)
    ).first()
    if found is not None:
        return found
    facts = delivery_facts(session, allocation)
    certificate = Certificate(
        code=new_code(),
        kind="delivery",
        organization_id=allocation.offer.organization_id,
        allocation_id=allocation.id,
        year=int(facts["confirmed_on"][:4]),
        facts=facts,
    )
    session.add(certificate)
    session.flush()
    return certificate


def issue_for_claim(session: Session, claim_id: int, actor: User) -> Certificate:
    """The certificate of one micro-wish the donor claimed and the village received: the one
    already issued, or a new one."""
    claim = session.get(WishClaim, claim_id)
    if claim is None:
        raise NotAllowed(f"no claim {claim_id}")
    _may_issue(actor, claim.organization_id)
    if claim.status != "received" or claim.received_at is None:
        raise CertificateError("not_confirmed", f"claim {claim_id} is not received")
    found = session.scalars(select(Certificate).where(Certificate.claim_id == claim_id)).first()
    if found is not None:
        return found
    facts = claim_facts(session, claim)
    certificate = Certificate(
        code=new_code(),
        kind="delivery",
        organization_id=claim.organization_id,
        claim_id=claim.id,
        year=int(facts["confirmed_on"][:4]),
        facts=facts,
    )
    session.add(certificate)
    session.flush()
    return certificate


def year_facts(session: Session, organization: Organization, year: int) -> dict[str, Any]:
    """What a year's certificate says: the year's confirmed deliveries of the donor (pledges
    and received micro-wishes)."""
    period = Period(year)
    row = next((r for r in ranking(session, period) if r.organization_id == organization.id), None)
    village_ids = villages_reached(session, period, organization.id).get(organization.id, set())
    names = sorted(
        f"{v.county.name} {v.name}" if v.county else v.name
        for v in session.scalars(select(Village).where(Village.id.in_(list(village_ids))))
    )
    return {
        **_donor(organization),
        "year": year,
        "value": row.value if row else 0.0,
        "confirmations": row.confirmations if row else 0,
        "units": row.units if row else 0,
        "villages": names,
    }


def issue_for_year(
    session: Session, organization_id: int, year: int, actor: User
) -> Certificate:
    """The certificate of a donor's year: the latest one when its figures still hold, else a
    new one (an earlier certificate keeps the figures it was issued with)."""
    _may_issue(actor, organization_id)
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise NotAllowed(f"no organization {organization_id}")
    facts = year_facts(session, organization, year)
    if not facts["confirmations"]:
        raise CertificateError("nothing_confirmed", f"no confirmed delivery in {year}")
    latest = session.scalars(
        select(Certificate)
        .where(
            Certificate.organization_id == organization_id,
            Certificate.kind == "year",
            Certificate.year == year,
        )
        .order_by(Certificate.id.desc())
    ).first()
    if latest is not None and latest.facts == facts:
        return latest
    certificate = Certificate(
        code=new_code(), kind="year", organization_id=organization_id, year=year, facts=facts
    )
    session.add(certificate)
    session.flush()
    return certificate


@dataclass(frozen=True)
class CheckedCertificate:
    """What the public check page says of a code: genuine or not, and if genuine, its facts
    with the donor's name only when the donor does not appear as 爱心人士."""

    code: str
    genuine: bool
    kind: str | None = None
    donor: str | None = None
    donor_kind: str | None = None
    facts: dict[str, Any] | None = None
    issued_on: str | None = None


def check(session: Session, typed: str | None) -> CheckedCertificate:
    """Look a typed code up: genuine when a certificate was issued with it."""
    code = normalise_code(typed)
    certificate = (
        session.scalars(
            select(Certificate)
            .where(Certificate.code == code)
            .options(selectinload(Certificate.organization))
        ).first()
        if code
        else None
    )
    if certificate is None:
        return CheckedCertificate(code=(typed or "").strip()[:40], genuine=False)
    organization = certificate.organization
    anonymous = shown_anonymously(organization.kind, organization.public_anonymous)
    return CheckedCertificate(
        code=shown_code(certificate.code),
        genuine=True,
        kind=certificate.kind,
        donor=None if anonymous else certificate.facts.get("donor"),
        donor_kind=certificate.facts.get("donor_kind"),
        facts=certificate.facts,
        issued_on=local_day(certificate.issued_at),
    )


def own_certificate(session: Session, code: str, actor: User) -> Certificate | None:
    """The certificate with the code if the actor may download it (its donor's members and
    administrators), else None."""
    certificate = session.scalars(select(Certificate).where(Certificate.code == code)).first()
    if certificate is None:
        return None
    try:
        _may_issue(actor, certificate.organization_id)
    except NotAllowed:
        return None
    return certificate


@dataclass(frozen=True)
class ConfirmedDelivery:
    """A donor's confirmed delivery and the code of its certificate if one was issued."""

    allocation_id: int | None
    what: str
    quantity: int
    village: str
    confirmed_on: str
    code: str | None
    claim_id: int | None = None  # a claimed micro-wish the village received


@dataclass(frozen=True)
class DonorCertificates:
    """The page model of /donor/certificates."""

    organization: Organization | None
    deliveries: list[ConfirmedDelivery]
    years: list[int]
    year_certificates: list[Certificate]


def _received_claims(
    session: Session, catalogue: Catalogue, organization_id: int
) -> list[ConfirmedDelivery]:
    """The donor's claimed micro-wishes its villages received, each with its certificate's code."""
    claims = session.scalars(
        select(WishClaim)
        .where(WishClaim.organization_id == organization_id, WishClaim.status == "received")
        .options(selectinload(WishClaim.need).selectinload(Need.village))
    ).all()
    codes = dict(
        session.execute(
            select(Certificate.claim_id, Certificate.code).where(
                Certificate.organization_id == organization_id, Certificate.claim_id.is_not(None)
            )
        ).all()
    )
    return [
        ConfirmedDelivery(
            allocation_id=None,
            what=_what(catalogue, c.need)["what_zh"],
            quantity=c.need.quantity,
            village=c.need.village.name,
            confirmed_on=local_day(c.received_at),
            code=codes.get(c.id),
            claim_id=c.id,
        )
        for c in claims
    ]


def donor_certificates(session: Session, organization_id: int | None) -> DonorCertificates:
    """A donor organization's confirmed deliveries (newest first), the years it may have a
    year's certificate for, and the year certificates issued so far."""
    organization = session.get(Organization, organization_id or 0)
    if organization is None:
        return DonorCertificates(None, [], [], [])
    catalogue = load_catalogue(session)
    allocations = session.scalars(
        select(Allocation)
        .join(Offer, Offer.id == Allocation.offer_id)
        .where(Offer.organization_id == organization.id, Allocation.status == "confirmed")
        .order_by(Allocation.confirmed_at.desc(), Allocation.id.desc())
        .options(selectinload(Allocation.need).selectinload(Need.village))
    ).all()
    codes = dict(
        session.execute(
            select(Certificate.allocation_id, Certificate.code).where(
                Certificate.organization_id == organization.id,
                Certificate.allocation_id.is_not(None),
            )
        ).all()
    )
    deliveries = [
        ConfirmedDelivery(
            allocation_id=a.id,
            what=_what(catalogue, a.need)["what_zh"],
            quantity=a.quantity,
            village=a.need.village.name,
            confirmed_on=local_day(a.confirmed_at),
            code=codes.get(a.id),
        )
        for a in allocations
    ]
    deliveries += _received_claims(session, catalogue, organization.id)
    deliveries.sort(key=lambda d: d.confirmed_on, reverse=True)
    years = sorted({int(d.confirmed_on[:4]) for d in deliveries if d.confirmed_on}, reverse=True)
    issued = session.scalars(
        select(Certificate)
        .where(Certificate.organization_id == organization.id, Certificate.kind == "year")
        .order_by(Certificate.year.desc(), Certificate.id.desc())
    ).all()
    return DonorCertificates(organization, deliveries, years, list(issued))


def set_public_anonymous(session: Session, actor: User, anonymous: bool) -> Organization:
    """The donor's choice to appear in public as 爱心人士 (members of the donor only)."""
    organization = actor.organization
    if actor.role != "donor" or organization is None or not actor.active:
        raise NotAllowed("only a donor's member may choose how the donor appears in public")
    organization.public_anonymous = anonymous
    session.flush()
    return organization
