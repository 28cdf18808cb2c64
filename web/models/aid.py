"""What moves: aid categories, offers of aid, village and household needs."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.models.accounts import _one_of
from web.models.base import Timestamped

if TYPE_CHECKING:
    from web.models.accounts import Organization
    from web.models.places import County, Village

ITEM_STATES = ("open", "withdrawn", "closed")
VERIFICATION_STATES = ("pending", "verified", "rejected")
HELP_REQUEST_STATES = ("received", "accepted", "merged", "declined", "withdrawn")

offer_counties = Table(
    "offer_county",
    db.metadata,
    Column("offer_id", ForeignKey("offer.id"), primary_key=True),
    Column("county_id", ForeignKey("county.id"), primary_key=True),
)
# Spec v1.1 kinds: what an offer gives (none = general, by the donor's explicit choice) and
# what else a need accepts beside its own kind.
offer_items = Table(
    "offer_item",
    db.metadata,
    Column("offer_id", ForeignKey("offer.id"), primary_key=True),
    Column("kind_code", ForeignKey("kind.code"), primary_key=True),
)
need_accepts = Table(
    "need_accept",
    db.metadata,
    Column("need_id", ForeignKey("need.id"), primary_key=True),
    Column("kind_code", ForeignKey("kind.code"), primary_key=True),
)
offer_villages = Table(
    "offer_village",
    db.metadata,
    Column("offer_id", ForeignKey("offer.id"), primary_key=True),
    Column("village_id", ForeignKey("village.id"), primary_key=True),
)


class Category(db.Model):
    """A kind of aid and its integer unit (see matcher.categories for the taxonomy)."""

    __tablename__ = "category"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(32))
    unit_zh: Mapped[str] = mapped_column(String(16))
    unit_en: Mapped[str] = mapped_column(String(16))


class Kind(Timestamped, db.Model):
    """One entry of the catalogue (品类): what exactly is needed or offered inside a category.

    The code is dot-separated, most general first (``goods.school.desks``); its first part is
    the category. Quantities of a kind are counted in its unit; ``ref_value`` (元 per unit) puts
    different kinds on one scale (折合金额). A kind in use is retired, never deleted.
    """

    __tablename__ = "kind"
    __table_args__ = (CheckConstraint("ref_value > 0", name="ref_value_positive"),)

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("kind.code"), index=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    unit_zh: Mapped[str] = mapped_column(String(16))
    unit_en: Mapped[str] = mapped_column(String(32))
    ref_value: Mapped[float] = mapped_column(Float)
    # '|'-separated, as in the import sheet: words that name it in a title, alternative kinds.
    synonyms: Mapped[str] = mapped_column(Text, default="")
    alternatives: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    category: Mapped[Category] = relationship()

    @property
    def retired(self) -> bool:
        """True once the administrator retired it (kept for the needs and offers that name it)."""
        return self.retired_at is not None


class Offer(Timestamped, db.Model):
    """An aid offer: how much of one category a donor gives, where it may go, until when."""

    __tablename__ = "offer"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("allocated >= 0", name="allocated_nonnegative"),
        CheckConstraint("allocated <= quantity", name="not_over_allocated"),
        CheckConstraint("min_lot >= 1", name="min_lot_positive"),
        CheckConstraint("max_villages IS NULL OR max_villages >= 1", name="max_villages_positive"),
        CheckConstraint(_one_of("status", ITEM_STATES), name="status_known"),
        # Load (issue 8): a donor's offers by state; the offer lists' category and state filters.
        Index("ix_offer_organization_status", "organization_id", "status"),
        Index("ix_offer_category_status", "category_code", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(64), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[int] = mapped_column(Integer)
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    min_lot: Mapped[int] = mapped_column(Integer, default=1)
    max_villages: Mapped[int | None] = mapped_column(Integer)
    indivisible: Mapped[bool] = mapped_column(Boolean, default=False)
    dispatch_lat: Mapped[float | None] = mapped_column(Float)
    dispatch_lon: Mapped[float | None] = mapped_column(Float)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    # No items: a general offer of its category, only when the donor says so; otherwise an
    # offer without items waits in the administrator's review list, out of every week.
    general: Mapped[bool] = mapped_column(Boolean, default=False)
    # Items recognised from the title by the platform (API without items, import, migration).
    items_inferred: Mapped[bool] = mapped_column(Boolean, default=False)

    organization: Mapped[Organization] = relationship()
    category: Mapped[Category] = relationship()
    counties: Mapped[list[County]] = relationship(secondary=offer_counties)
    villages: Mapped[list[Village]] = relationship(secondary=offer_villages)
    items: Mapped[list[Kind]] = relationship(secondary=offer_items, order_by=Kind.code)

    @property
    def item_codes(self) -> list[str]:
        """The codes of the kinds it gives (empty: general or not yet classified)."""
        return [k.code for k in self.items]

    @property
    def classified(self) -> bool:
        """True when it names its kinds, or is general by the donor's choice."""
        return self.general or bool(self.items)

    @property
    def remaining(self) -> int:
        """Units not yet pledged to any need."""
        return self.quantity - self.allocated


class Household(Timestamped, db.Model):
    """A registered poor household (建档立卡户), kept to the minimum: masked name and size."""

    __tablename__ = "household"
    __table_args__ = (CheckConstraint("people >= 1", name="people_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(64), unique=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    display_name: Mapped[str] = mapped_column(String(32))
    people: Mapped[int] = mapped_column(Integer, default=1)
    # For contact by the committee only; never shown on a public page or in a log.
    phone: Mapped[str | None] = mapped_column(String(32))
    # The household's own sign-in (issue 10): a one-time invitation code, then a short PIN.
    # Only hashes are stored; bumping session_version ends the household's sessions.
    invite_hash: Mapped[str | None] = mapped_column(String(256))
    invite_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pin_hash: Mapped[str | None] = mapped_column(String(256))
    sign_in_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    village: Mapped[Village] = relationship()


class Need(Timestamped, db.Model):
    """A village's need, or a household's micro-wish (微心愿) posted by its committee."""

    __tablename__ = "need"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("allocated >= 0", name="allocated_nonnegative"),
        CheckConstraint("allocated <= quantity", name="not_over_filled"),
        CheckConstraint("urgency BETWEEN 1 AND 5", name="urgency_range"),
        CheckConstraint(_one_of("status", ITEM_STATES), name="status_known"),
        CheckConstraint(_one_of("verification", VERIFICATION_STATES), name="verification_known"),
        # Load (issue 8): a village's and a township's needs by state and verification; the
        # need lists' category filters counted from the index (village_id included); the
        # latest change, read by web.services.page_cache.
        Index("ix_need_village_status_verification", "village_id", "status", "verification"),
        Index(
            "ix_need_category_status_verification",
            "category_code",
            "status",
            "verification",
            "village_id",
        ),
        Index("ix_need_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(64), unique=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[int] = mapped_column(Integer)
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    urgency: Mapped[int] = mapped_column(Integer, default=3)
    deadline: Mapped[date | None] = mapped_column(Date)
    checklist_item: Mapped[str | None] = mapped_column(String(32))
    evidence: Mapped[str] = mapped_column(Text, default="")
    verification: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    verification_note: Mapped[str] = mapped_column(Text, default="")
    # When its township (or county) last verified or rejected it: the lead time of the weekly
    # bulletin (issue 16). NULL while pending, and for needs decided before it was kept.
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    # A micro-wish's estimated value in yuan, held under the per-wish cap.
    estimated_value: Mapped[float | None] = mapped_column(Float)
    # Its kind (None: not yet classified, waiting in the township's review list, out of weeks).
    item_code: Mapped[str | None] = mapped_column(ForeignKey("kind.code"), index=True)
    item_inferred: Mapped[bool] = mapped_column(Boolean, default=False)

    village: Mapped[Village] = relationship(back_populates="needs")
    household: Mapped[Household | None] = relationship()
    category: Mapped[Category] = relationship()
    item: Mapped[Kind | None] = relationship()
    accepts: Mapped[list[Kind]] = relationship(secondary=need_accepts, order_by=Kind.code)

    @property
    def accept_codes(self) -> list[str]:
        """The alternative kinds it also takes."""
        return [k.code for k in self.accepts]

    @property
    def remaining(self) -> int:
        """Units still wanted."""
        return self.quantity - self.allocated

    @property
    def is_wish(self) -> bool:
        """True for a household micro-wish (微心愿)."""
        return self.household_id is not None


class HelpRequest(Timestamped, db.Model):
    """A household's own request for help, waiting for its committee to accept, merge or decline.

    Nothing here enters an allocation: the committee turns it into a micro-wish (``need_id``) or
    merges it into a village need, and the township verifies that need as any other.
    """

    __tablename__ = "help_request"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(_one_of("status", HELP_REQUEST_STATES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"), index=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"))
    # Recognised from the household's words; the committee confirms it when accepting.
    item_code: Mapped[str | None] = mapped_column(ForeignKey("kind.code"))
    what: Mapped[str] = mapped_column(Text)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    photo_path: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    need_id: Mapped[int | None] = mapped_column(ForeignKey("need.id"), index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    household: Mapped[Household] = relationship()
    village: Mapped[Village] = relationship()
    category: Mapped[Category] = relationship()
    item: Mapped[Kind | None] = relationship()
    need: Mapped[Need | None] = relationship()
