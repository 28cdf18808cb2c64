"""The pairing register (一帮一联, issue 16): pairings with their period replace
organization_village; the villages' leaders and first secretaries; the cadres of households;
the day a village was marked exited on the exit list.

Revision ID: p16a00000001
Revises: x18j00000002
Create Date: 2026-12-07 22:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "p16a00000001"
down_revision = "c16a00000001"
branch_labels = None
depends_on = None

# Pairings made before the register had periods: held since the first registration (建档立卡).
FIRST_DAY = "2016-01-01"


def upgrade() -> None:
    op.create_table(
        "village_pairing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on",
            name=op.f("ck_village_pairing_period_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_village_pairing_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["village.id"], name=op.f("fk_village_pairing_village_id_village")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_pairing")),
        sa.UniqueConstraint(
            "organization_id", "village_id", name=op.f("uq_village_pairing_organization_id")
        ),
    )
    op.create_index(
        op.f("ix_village_pairing_organization_id"), "village_pairing", ["organization_id"]
    )
    op.create_index(op.f("ix_village_pairing_village_id"), "village_pairing", ["village_id"])
    op.execute(
        "INSERT INTO village_pairing (organization_id, village_id, starts_on) "
        f"SELECT organization_id, village_id, '{FIRST_DAY}' FROM organization_village"
    )
    op.drop_table("organization_village")
    op.create_table(
        "village_responsible",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=128), nullable=False),
        sa.Column("post", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.CheckConstraint(
            "role IN ('leader', 'secretary')", name=op.f("ck_village_responsible_role_known")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["village.id"], name=op.f("fk_village_responsible_village_id_village")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_village_responsible")),
    )
    op.create_index(
        op.f("ix_village_responsible_village_id"), "village_responsible", ["village_id"]
    )
    op.create_table(
        "household_cadre",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("cadre_name", sa.String(length=32), nullable=False),
        sa.Column("cadre_unit", sa.String(length=128), nullable=False),
        sa.Column("cadre_post", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["household.id"],
            name=op.f("fk_household_cadre_household_id_household"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_cadre")),
    )
    op.create_index(
        op.f("ix_household_cadre_household_id"), "household_cadre", ["household_id"], unique=True
    )
    with op.batch_alter_table("village") as batch_op:
        batch_op.add_column(sa.Column("exited_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("village") as batch_op:
        batch_op.drop_column("exited_on")
    op.drop_index(op.f("ix_household_cadre_household_id"), table_name="household_cadre")
    op.drop_table("household_cadre")
    op.drop_index(op.f("ix_village_responsible_village_id"), table_name="village_responsible")
    op.drop_table("village_responsible")
    op.create_table(
        "organization_village",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_organization_village_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["village.id"], name=op.f("fk_organization_village_village_id_village")
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "village_id", name=op.f("pk_organization_village")
        ),
    )
    op.execute(
        "INSERT INTO organization_village (organization_id, village_id) "
        "SELECT DISTINCT organization_id, village_id FROM village_pairing"
    )
    op.drop_index(op.f("ix_village_pairing_village_id"), table_name="village_pairing")
    op.drop_index(op.f("ix_village_pairing_organization_id"), table_name="village_pairing")
    op.drop_table("village_pairing")
