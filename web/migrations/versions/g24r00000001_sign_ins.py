"""Sign-ins: one row per signed-in staff browser, listed on the account page (issue 24)

Revision ID: g24r00000001
Revises: f15p00000001
Create Date: 2026-12-07 16:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "g24r00000001"
down_revision = "f15p00000001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_sign_in_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in")),
    )
    op.create_index(op.f("ix_sign_in_user_id"), "sign_in", ["user_id"])
    op.create_index(op.f("ix_sign_in_seen_at"), "sign_in", ["seen_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sign_in_seen_at"), table_name="sign_in")
    op.drop_index(op.f("ix_sign_in_user_id"), table_name="sign_in")
    op.drop_table("sign_in")
