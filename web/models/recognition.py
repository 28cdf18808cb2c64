"""Recognition of donors (issue 17): thank-you certificates (捐赠证书) with a code anyone can check.

A certificate's facts are stored as a snapshot when it is issued, so its figures never change
afterwards, whatever happens to the rows it was made from.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.models.accounts import _one_of
from web.models.base import utcnow

if TYPE_CHECKING:
    from web.models.accounts import Organization

CERTIFICATE_KINDS = ("delivery", "year")


class Certificate(db.Model):
    """One issued certificate: for one confirmed delivery (a pledge, or a claimed micro-wish
    the village received), or for a donor's year."""

    __tablename__ = "certificate"
    __table_args__ = (
        CheckConstraint(_one_of("kind", CERTIFICATE_KINDS), name="kind_known"),
        Index("ix_certificate_organization_year", "organization_id", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A random code (web.services.certificates.new_code): checking a certificate looks it up.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    # A delivery's certificate: the one confirmed pledge it thanks for (one certificate each).
    allocation_id: Mapped[int | None] = mapped_column(
        ForeignKey("allocation.id", ondelete="SET NULL"), unique=True
    )
    # A fulfilled micro-wish's certificate: the claim the village confirmed (one each).
    claim_id: Mapped[int | None] = mapped_column(
        ForeignKey("wish_claim.id", ondelete="SET NULL"), unique=True
    )
    year: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # What the certificate says, fixed at issue: donor, items, value, villages, dates.
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)

    organization: Mapped[Organization] = relationship()
