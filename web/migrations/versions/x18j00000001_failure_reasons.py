"""Failure reasons as codes: allocation_run.reason, and a commit's in its progress (issue 18)

The English reason text stored so far is kept as the detail (`error`, `commit_error`); its code
is read from the words it begins with, once, here.

Revision ID: x18j00000001
Revises: g24r00000001
Create Date: 2026-12-07 18:40:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "x18j00000001"
down_revision = "g24r00000001"
branch_labels = None
depends_on = None

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
# How the English text of earlier versions began, and the code it means.
STARTS = (
    ("the worker stopped responding", "worker_lost"),
    ("the worker failed", "worker_failed"),
    ("the job queue (Redis) could not be reached", "queue_down"),
    ("the job was lost", "job_lost"),
    ("the solve failed", "solve_failed"),
    ("the commit failed", "commit_crashed"),
    ("AlreadyCommitted", "already_committed"),
    ("StaleRun", "stale_run"),
)


def code_of(text: str | None) -> str | None:
    """The code of a stored reason text; "refused" for any other (a refusal's own words)."""
    if not text:
        return None
    for start, code in STARTS:
        if text.startswith(start):
            return code
    return "refused"


def _check() -> str:
    quoted = ", ".join(f"'{reason}'" for reason in REASONS)
    return f"reason IS NULL OR reason IN ({quoted})"


def upgrade() -> None:
    with op.batch_alter_table("allocation_run") as batch:
        batch.add_column(sa.Column("reason", sa.String(length=24), nullable=True))
        batch.create_check_constraint(op.f("ck_allocation_run_reason_known"), _check())
    runs = sa.table(
        "allocation_run",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("error", sa.Text),
        sa.column("reason", sa.String),
        sa.column("progress", sa.JSON),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(runs.c.id, runs.c.status, runs.c.error, runs.c.progress))
    for run_id, status, error, progress in list(rows):
        values: dict[str, Any] = {}
        if status == "failed":
            values["reason"] = code_of(error)
        if isinstance(progress, dict) and progress.get("commit_error"):
            values["progress"] = {**progress, "commit_reason": code_of(progress["commit_error"])}
        if values:
            connection.execute(sa.update(runs).where(runs.c.id == run_id).values(**values))


def downgrade() -> None:
    with op.batch_alter_table("allocation_run") as batch:
        batch.drop_constraint(op.f("ck_allocation_run_reason_known"), type_="check")
        batch.drop_column("reason")
