"""The audit chain keyed: each event names the HMAC key its hash was made with

Revision ID: g24h00000001
Revises: h19o00000002
Create Date: 2026-12-07 15:30:00

Events written before are plain SHA-256 (key_id NULL) and verify as before; from the first
keyed event on (web.services.audit_keys) every event must be keyed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "g24h00000001"
down_revision = "h19o00000002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy): SQLite keeps the table's append-only triggers.
    op.add_column("audit_event", sa.Column("key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("key_id")
