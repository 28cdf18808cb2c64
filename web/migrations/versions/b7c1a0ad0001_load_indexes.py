"""Indexes for the load benchmark's pages (issue 8): need, offer and allocation lists and totals

Revision ID: b7c1a0ad0001
Revises: a0d17e000001
Create Date: 2026-11-25 08:40:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "b7c1a0ad0001"
down_revision = "a0d17e000001"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_offer_organization_status", "offer", ["organization_id", "status"]),
    ("ix_offer_category_status", "offer", ["category_code", "status"]),
    ("ix_need_village_status_verification", "need", ["village_id", "status", "verification"]),
    (
        "ix_need_category_status_verification",
        "need",
        ["category_code", "status", "verification", "village_id"],
    ),
    ("ix_need_updated_at", "need", ["updated_at"]),
    ("ix_allocation_run_status", "allocation", ["run_id", "status", "id"]),
    ("ix_allocation_updated_at", "allocation", ["updated_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
