"""Honours (issue 17): a donor may appear as 爱心人士; thank-you certificates with a code

Revision ID: h17a00000001
Revises: x18j00000002
Create Date: 2026-12-07 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "h17a00000001"
down_revision = "g17a00000001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organization") as batch_op:
        batch_op.add_column(
            sa.Column("public_anonymous", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("allocation_id", sa.Integer(), nullable=True),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.CheckConstraint("kind IN ('delivery', 'year')", name=op.f("ck_certificate_kind_known")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_certificate_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["allocation_id"],
            ["allocation.id"],
            name=op.f("fk_certificate_allocation_id_allocation"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["wish_claim.id"],
            name=op.f("fk_certificate_claim_id_wish_claim"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
        sa.UniqueConstraint("code", name=op.f("uq_certificate_code")),
        sa.UniqueConstraint("allocation_id", name=op.f("uq_certificate_allocation_id")),
        sa.UniqueConstraint("claim_id", name=op.f("uq_certificate_claim_id")),
    )
    op.create_index(
        op.f("ix_certificate_organization_id"), "certificate", ["organization_id"]
    )
    op.create_index(
        "ix_certificate_organization_year", "certificate", ["organization_id", "year"]
    )


def downgrade() -> None:
    op.drop_index("ix_certificate_organization_year", table_name="certificate")
    op.drop_index(op.f("ix_certificate_organization_id"), table_name="certificate")
    op.drop_table("certificate")
    with op.batch_alter_table("organization") as batch_op:
        batch_op.drop_column("public_anonymous")
