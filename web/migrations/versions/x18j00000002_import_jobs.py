"""Import jobs: a large sheet imported in the background, its bytes kept until it ends (issue 24)

Revision ID: x18j00000002
Revises: x18j00000001
Create Date: 2026-12-07 18:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "x18j00000002"
down_revision = "x18j00000001"
branch_labels = None
depends_on = None

STATES = ("queued", "running", "done", "failed")
REASONS = (
    "worker_lost",
    "worker_failed",
    "queue_down",
    "job_lost",
    "solve_failed",
    "refused",
    "already_committed",
    "stale_run",
    "commit_crashed",
    "file_refused",
    "import_crashed",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "import_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("reason", sa.String(length=24), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("heartbeat", sa.Float(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(_in("status", STATES), name=op.f("ck_import_job_status_known")),
        sa.CheckConstraint(
            "reason IS NULL OR " + _in("reason", REASONS), name=op.f("ck_import_job_reason_known")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_import_job_created_by_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_job")),
    )
    op.create_index(op.f("ix_import_job_created_by_id"), "import_job", ["created_by_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_import_job_created_by_id"), table_name="import_job")
    op.drop_table("import_job")
