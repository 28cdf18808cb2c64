"""A week's allocation run and the pledges it makes, followed until receipt is confirmed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from web.extensions import db
from web.models.accounts import _one_of
from web.models.base import Timestamped

if TYPE_CHECKING:
    from web.models.accounts import User
    from web.models.aid import Need, Offer

RUN_STATES = ("queued", "running", "preview", "committed", "published", "failed", "cancelled")
# Why a job failed (web.jobs.reasons.Reason, where each is named to the user).
FAILURE_REASONS = (
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
DELIVERY_STATES = ("pledged", "dispatched", "received", "confirmed", "cancelled")


class AllocationRun(Timestamped, db.Model):
    """One solve of a week: its policy, exact input and output, and what became of it."""

    __tablename__ = "allocation_run"
    __table_args__ = (
        CheckConstraint(_one_of("status", RUN_STATES), name="status_known"),
        CheckConstraint(
            "reason IS NULL OR " + _one_of("reason", FAILURE_REASONS), name="reason_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(10), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    # Set to the week when committed: the unique constraint lets a week be committed only once.
    committed_week: Mapped[str | None] = mapped_column(String(10), unique=True)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    solver_status: Mapped[str | None] = mapped_column(String(16))
    objective: Mapped[float | None] = mapped_column(Float)
    bound: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float | None] = mapped_column(Float)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    input: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    output: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)  # a failure's detail, in English
    reason: Mapped[str | None] = mapped_column(String(24))  # a failure's code (FAILURE_REASONS)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    committed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Background job (issue 8): the queue's job id, live progress (stage, elapsed seconds, best
    # objective, bound), and a flag the solver polls to stop early.
    job_id: Mapped[str | None] = mapped_column(String(64))
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    created_by: Mapped[User | None] = relationship()
    allocations: Mapped[list[Allocation]] = relationship(back_populates="run")


class Allocation(Timestamped, db.Model):
    """A pledge of some units of one offer to one need, and its delivery state."""

    __tablename__ = "allocation"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint(_one_of("status", DELIVERY_STATES), name="status_known"),
        # Load (issue 8): a run's pledges by state in id order (dashboard, ledger, run page);
        # the latest change, read by web.services.page_cache.
        Index("ix_allocation_run_status", "run_id", "status", "id"),
        Index("ix_allocation_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_run.id"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"), index=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    km: Mapped[float] = mapped_column(Float, default=0.0)
    value: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16), default="pledged", index=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    receipt_note: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[int | None] = mapped_column(Integer)
    photo_path: Mapped[str | None] = mapped_column(String(128))
    # A problem the village reported with this delivery (wrong goods, short, damaged, late).
    problem_note: Mapped[str | None] = mapped_column(Text)
    problem_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    run: Mapped[AllocationRun] = relationship(back_populates="allocations")
    offer: Mapped[Offer] = relationship()
    need: Mapped[Need] = relationship()


IMPORT_STATES = ("queued", "running", "done", "failed")


class ImportJob(Timestamped, db.Model):
    """A large sheet imported in the background: its bytes until the job ends, its progress
    (rows read of the sheet's rows), and the import's report or why it failed (issue 24)."""

    __tablename__ = "import_job"
    __table_args__ = (
        CheckConstraint(_one_of("status", IMPORT_STATES), name="status_known"),
        CheckConstraint(
            "reason IS NULL OR " + _one_of("reason", FAILURE_REASONS), name="reason_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    created_by_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    locale: Mapped[str] = mapped_column(String(16), default="zh_CN")  # the report's language
    data: Mapped[bytes | None] = mapped_column(LargeBinary)  # the upload; cleared at the end
    size: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(24))  # a failure's code
    error: Mapped[str | None] = mapped_column(Text)  # a failure's detail
    job_id: Mapped[str | None] = mapped_column(String(64))
    heartbeat: Mapped[float | None] = mapped_column(Float)  # time.time() of the job's last news
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    created_by: Mapped[User] = relationship()
