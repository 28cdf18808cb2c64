"""Claims on micro-wishes and campaigns (issue 17)

Revision ID: g17a00000001
Revises: x18j00000002
Create Date: 2026-12-07 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "g17a00000001"
down_revision = "p16a00000001"
branch_labels = None
depends_on = None

STATES = ("claimed", "dispatched", "received", "expired", "cancelled")
HOLDING = sa.text("status IN ('claimed', 'dispatched')")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "wish_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in("status", STATES), name=op.f("ck_wish_claim_status_known")),
        sa.ForeignKeyConstraint(["need_id"], ["need.id"], name=op.f("fk_wish_claim_need_id_need")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_wish_claim_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_wish_claim_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wish_claim")),
    )
    op.create_index(op.f("ix_wish_claim_need_id"), "wish_claim", ["need_id"])
    op.create_index(op.f("ix_wish_claim_user_id"), "wish_claim", ["user_id"])
    op.create_index(op.f("ix_wish_claim_expires_at"), "wish_claim", ["expires_at"])
    op.create_index(
        "ix_wish_claim_organization_status", "wish_claim", ["organization_id", "status"]
    )
    op.create_index(
        "uq_wish_claim_holding",
        "wish_claim",
        ["need_id"],
        unique=True,
        postgresql_where=HOLDING,
        sqlite_where=HOLDING,
    )
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("wishes_only", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_campaign_period_ordered")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_campaign_created_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )


def downgrade() -> None:
    op.drop_table("campaign")
    op.drop_index("uq_wish_claim_holding", table_name="wish_claim")
    op.drop_index("ix_wish_claim_organization_status", table_name="wish_claim")
    op.drop_index(op.f("ix_wish_claim_expires_at"), table_name="wish_claim")
    op.drop_index(op.f("ix_wish_claim_user_id"), table_name="wish_claim")
    op.drop_index(op.f("ix_wish_claim_need_id"), table_name="wish_claim")
    op.drop_table("wish_claim")
