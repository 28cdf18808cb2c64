"""County office accounts (县区扶贫办, issue 16): the role `county`, a user's county, and when a
need was verified (the weekly bulletin's lead time)

Revision ID: c16a00000001
Revises: x18j00000002
Create Date: 2026-12-07 22:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c16a00000001"
down_revision = "x18j00000002"
branch_labels = None
depends_on = None

BEFORE = ("admin", "township", "village", "donor", "auditor")
AFTER = ("admin", "county", "township", "village", "donor", "auditor")


def _roles(roles: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{role}'" for role in roles)
    return f"role IN ({quoted})"


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("county_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_user_account_county_id_county"), "county", ["county_id"], ["id"]
        )
        batch.create_index(op.f("ix_user_account_county_id"), ["county_id"], unique=False)
        batch.drop_constraint(op.f("ck_user_account_role_known"), type_="check")
        batch.create_check_constraint(op.f("ck_user_account_role_known"), _roles(AFTER))
    with op.batch_alter_table("need") as batch:
        batch.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # A county account cannot keep its role: it is kept (its notices and audit entries name
    # it) as an inactive auditor, which signs nobody in.
    op.execute(
        sa.text("UPDATE user_account SET role = 'auditor', active = :no WHERE role = 'county'")
        .bindparams(no=False)
    )
    with op.batch_alter_table("need") as batch:
        batch.drop_column("verified_at")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_constraint(op.f("ck_user_account_role_known"), type_="check")
        batch.create_check_constraint(op.f("ck_user_account_role_known"), _roles(BEFORE))
        batch.drop_index(op.f("ix_user_account_county_id"))
        batch.drop_constraint(op.f("fk_user_account_county_id_county"), type_="foreignkey")
        batch.drop_column("county_id")
