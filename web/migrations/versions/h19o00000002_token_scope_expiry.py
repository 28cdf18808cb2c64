"""API tokens with a scope (read or write) and an expiry

Revision ID: h19o00000002
Revises: h19o00000001
Create Date: 2026-12-07 15:30:00

Tokens made before keep write access and no expiry (NULL); every new token has both.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "h19o00000002"
down_revision = "h19o00000001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(
            sa.Column("scope", sa.String(length=8), nullable=False, server_default="write")
        )
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("scope")
