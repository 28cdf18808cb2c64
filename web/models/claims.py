"""The pull side (issue 17): a donor's claim on one micro-wish, and the office's campaigns."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, String
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.models.accounts import _one_of
from web.models.base import Timestamped

if TYPE_CHECKING:
    from web.models.accounts import Organization, User
    from web.models.aid import Need

# claimed -> dispatched -> received; claimed -> expired (not dispatched in time) or cancelled.
CLAIM_STATES = ("claimed", "dispatched", "received", "expired", "cancelled")
HOLDING_STATES = ("claimed", "dispatched")
_HOLDING = sql_text("status IN ('claimed', 'dispatched')")


class WishClaim(Timestamped, db.Model):
    """A donor's claim on one micro-wish: it holds the wish out of the weekly run until the
    village confirms receipt, or until it expires unsent. At most one holding claim per wish
    (a unique partial index: the second of two claims at once fails)."""

    __tablename__ = "wish_claim"
    __table_args__ = (
        CheckConstraint(_one_of("status", CLAIM_STATES), name="status_known"),
        Index(
            "uq_wish_claim_holding",
            "need_id",
            unique=True,
            postgresql_where=_HOLDING,
            sqlite_where=_HOLDING,
        ),
        Index("ix_wish_claim_organization_status", "organization_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    need: Mapped[Need] = relationship()
    organization: Mapped[Organization] = relationship()
    user: Mapped[User] = relationship()


class Campaign(Timestamped, db.Model):
    """A mobilisation campaign (活动): a name, a period and the needs it covers, by category,
    by kind, or micro-wishes only (e.g. 点亮微心愿 before the Spring Festival)."""

    __tablename__ = "campaign"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="period_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(String(1000), default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # Empty lists: every category / every kind.
    categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    kinds: Mapped[list[Any]] = mapped_column(JSON, default=list)
    wishes_only: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
