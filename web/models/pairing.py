"""The pairing register (一帮一联, 定点帮扶方案): which unit supports which village and for how
long (单位包村), the leader and first secretary responsible for each village (领导挂点, 第一书记),
and which cadre looks after which household (干部包户: household data, staff only)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db

if TYPE_CHECKING:
    from web.models.accounts import Organization
    from web.models.aid import Household
    from web.models.places import Village

RESPONSIBLE_ROLES = ("leader", "secretary")  # 挂点领导, 第一书记


class VillagePairing(db.Model):
    """A unit paired with a village (单位包村) from `starts_on` until `ends_on` (None: open)."""

    __tablename__ = "village_pairing"
    __table_args__ = (
        UniqueConstraint("organization_id", "village_id"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="period_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)

    organization: Mapped[Organization] = relationship()
    village: Mapped[Village] = relationship()

    def current_on(self, day: date) -> bool:
        """Whether the pairing holds on this day."""
        return self.starts_on <= day and (self.ends_on is None or self.ends_on >= day)

    def overlaps(self, first: date, last: date) -> bool:
        """Whether the pairing holds on some day between first and last."""
        return self.starts_on <= last and (self.ends_on is None or self.ends_on >= first)


class VillageResponsible(db.Model):
    """A person responsible for a village: its leader (挂点领导) or first secretary (第一书记).
    Name, unit and post are public (the village's page); the phone is for staff only."""

    __tablename__ = "village_responsible"
    __table_args__ = (CheckConstraint("role IN ('leader', 'secretary')", name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(128), default="")
    post: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str | None] = mapped_column(String(32))

    village: Mapped[Village] = relationship()


class HouseholdCadre(db.Model):
    """The cadre who looks after a household (干部包户). A household's data: staff only (the
    village's committee and administrators), never on a public page or export."""

    __tablename__ = "household_cadre"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True, unique=True)
    cadre_name: Mapped[str] = mapped_column(String(32))
    cadre_unit: Mapped[str] = mapped_column(String(128), default="")
    cadre_post: Mapped[str] = mapped_column(String(64), default="")
    phone: Mapped[str | None] = mapped_column(String(32))

    household: Mapped[Household] = relationship()
