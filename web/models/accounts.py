"""Who acts: organizations that give aid and the users who sign in."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.models.base import Timestamped, utcnow

if TYPE_CHECKING:
    from web.models.places import County, Township, Village

ORGANIZATION_KINDS = ("enterprise", "ngo", "paired_unit", "individual", "government")
VETTING_STATES = ("pending", "approved", "suspended", "rejected")
ROLES = ("admin", "county", "township", "village", "donor", "auditor")

def shown_anonymously(kind: str, public_anonymous: bool | None) -> bool:
    """Whether a donor appears in public as 爱心人士: an individual always (a person's name is
    personal data), any other donor when it chose to (Organization.public_anonymous)."""
    return kind == "individual" or bool(public_anonymous)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL text of a CHECK that keeps a column within a fixed vocabulary."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Organization(Timestamped, db.Model):
    """An aid giver: enterprise, NGO, paired unit, individual donor or government body."""

    __tablename__ = "organization"
    __table_args__ = (
        CheckConstraint(_one_of("kind", ORGANIZATION_KINDS), name="kind_known"),
        CheckConstraint(_one_of("vetting", VETTING_STATES), name="vetting_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    vetting: Mapped[str] = mapped_column(String(16), default="pending")
    contact_name: Mapped[str | None] = mapped_column(String(64))
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    # The donor chose to appear in public as 爱心人士 (honour roll, certificates' check page,
    # the public record); issue 17.
    public_anonymous: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    # A paired unit (帮扶单位) supports its villages first: every village of its pairings in the
    # register (web.models.pairing.VillagePairing, the one source; any period: the services
    # choose the pairings current on a day, web.services.pairing).
    paired_villages: Mapped[list[Village]] = relationship(
        secondary="village_pairing", viewonly=True, order_by="Village.code"
    )
    members: Mapped[list[User]] = relationship(back_populates="organization")


class User(Timestamped, db.Model):
    """A person who signs in, with one role and the organization, village, township or county
    behind it."""

    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(64), default="")
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("village.id"), index=True)
    township_id: Mapped[int | None] = mapped_column(ForeignKey("township.id"), index=True)
    # A county office (县区扶贫办) account's county (issue 16); NULL for every other role.
    county_id: Mapped[int | None] = mapped_column(ForeignKey("county.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped at logout and password change: sessions carrying an older value are ended.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Where the e-mail outbox sends this user's notices, when mail is configured.
    email: Mapped[str | None] = mapped_column(String(254))
    # The language of this user's notices and e-mail ("zh_CN" or "en"; NULL: Chinese), the one
    # last chosen while signed in (web.i18n).
    locale: Mapped[str | None] = mapped_column(String(8))

    organization: Mapped[Organization | None] = relationship(back_populates="members")
    village: Mapped[Village | None] = relationship()
    township: Mapped[Township | None] = relationship()
    county: Mapped[County | None] = relationship()

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class ApiToken(db.Model):
    """A personal access token: only its SHA-256 is stored; it acts with its user's role."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    # The first characters of the token, shown in lists so a user can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # "read": GET only; "write": whatever its user's role may do. Tokens expire (NULL: made
    # before expiries, kept as they were).
    scope: Mapped[str] = mapped_column(String(8), default="write", server_default="write")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class SignIn(db.Model):
    """One signed-in browser of a staff account (issue 24): listed on the account page, where
    its holder can end it. The session cookie names the row; a cookie whose row is gone is
    signed out. Rows go when they are ended, at every sign-out and password change, and by
    `duijie prune` once past the retention (web.services.retention: sign_in)."""

    __tablename__ = "sign_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The last request, rewritten at most once a minute (web.sessions.REFRESH_SECONDS).
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    agent: Mapped[str] = mapped_column(String(120), default="")  # browser and system, short
    address: Mapped[str] = mapped_column(String(64), default="")
