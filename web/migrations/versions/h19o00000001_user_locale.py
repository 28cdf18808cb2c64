"""A user's language, for the notices and e-mail sent to them

Revision ID: h19o00000001
Revises: c4a1d5000002
Create Date: 2026-12-07 15:10:00

NULL: Chinese (the platform's first language) until the user chooses a language while signed in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "h19o00000001"
down_revision = "c4a1d5000002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("locale")
