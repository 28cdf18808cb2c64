"""A large sheet imported in the background (issue 24): queued through the app's runner.

An upload above DUIJIE_IMPORT_BACKGROUND_ROWS lines or DUIJIE_IMPORT_BACKGROUND_BYTES bytes is
measured at once (a hostile sheet is still refused in the request), stored in an `import_job`
row with its bytes, and handed to `import_job`, which runs the importer's one public entry
(`run_importer`) all or nothing, writes the lines read as it goes, and stores the report; the
bytes are cleared when the job ends. The job page shows the bar and then the report; only the
uploader and administrators see it. Staff accounts are always imported in the request: their
one-time passwords are shown once and never stored.

    queued --claim--> running --report--> done
       \\                 \\--file refused, crash, found dead--> failed
        \\--queue down--> failed
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale
from sqlalchemy import update
from sqlalchemy.orm import Session

from web import clock
from web.extensions import db
from web.jobs.liveness import QUEUED_GRACE_SECONDS, stale_seconds
from web.jobs.reasons import Failure, Reason
from web.jobs.runner import Job, QueueDown, job_app, runner_of
from web.models import ImportJob, User
from web.services.audit import acting_as
from web.services.sheets import ImportFileError, SheetSettings, import_file

log = logging.getLogger(__name__)

BACKGROUND_ROWS = 1000  # sheets of more lines than this are imported in the background
BACKGROUND_BYTES = 512 * 1024  # and files larger than this
IN_REQUEST_KINDS = ("accounts",)  # their one-time passwords are never stored
ACTIVE = ("queued", "running")
MOVES: dict[str, tuple[str, ...]] = {"queued": ("running", "failed"), "running": ("done", "failed")}
JOB_TIMEOUT_SECONDS = 1800
TICK_SECONDS = 0.5  # progress is written at most this often


def run_importer(session: Session, kind: str, data: bytes, actor: User, progress: Any) -> Any:
    """The importer's public entry: the one place a background import calls it."""
    settings = SheetSettings.from_config(current_app.config, clock.today())
    return import_file(session, kind, data, actor, progress=progress, settings=settings)


def in_background(app: Flask, kind: str, size: int, lines: int) -> bool:
    """Whether an upload of `size` bytes and `lines` lines is imported in the background."""
    rows = int(app.config.get("DUIJIE_IMPORT_BACKGROUND_ROWS") or BACKGROUND_ROWS)
    limit = int(app.config.get("DUIJIE_IMPORT_BACKGROUND_BYTES") or BACKGROUND_BYTES)
    return kind not in IN_REQUEST_KINDS and (lines > rows or size > limit)


@dataclass
class StoredReport:
    """An import's report as the job stored it, shaped for the upload page's template."""

    kind: str
    rows: int = 0
    created: int = 0
    households_created: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    recognised: list[str] = field(default_factory=list)
    passwords: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def stored_report(report: Any) -> dict[str, Any]:
    """The JSON kept of an import's report (the texts in the uploader's language)."""
    return {
        "kind": report.kind,
        "rows": report.rows,
        "created": report.created,
        "households_created": report.households_created,
        "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in report.errors],
        "ignored_columns": list(report.ignored_columns),
        "recognised": [str(r) for r in report.recognised],
    }


def report_of(job: ImportJob) -> StoredReport | None:
    """The job's report, or None while it has none."""
    return StoredReport(**job.report) if job.report else None


def move(
    session: Session, job_id: int, source: str | tuple[str, ...], target: str, **values: Any
) -> bool:
    """Change the job's status from `source` to `target` if no one moved it first."""
    sources = (source,) if isinstance(source, str) else source
    if not all(target in MOVES.get(state, ()) for state in sources):
        raise ValueError(f"an import job does not go from {sources} to {target}")
    done = session.execute(
        update(ImportJob)
        .where(ImportJob.id == job_id, ImportJob.status.in_(sources))
        .values(status=target, **values)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def _failed(failure: Failure) -> dict[str, Any]:
    return {
        "reason": failure.reason.value,
        "error": failure.text,
        "data": None,  # the upload goes with the job
        "finished_at": datetime.now(UTC),
    }


def start_import(
    session: Session, kind: str, data: bytes, actor: User, *, lines: int, locale: str
) -> ImportJob:
    """Store the upload as a queued import job and hand it to the runner."""
    runner = runner_of()
    job = ImportJob(
        kind=kind,
        status="queued",
        created_by_id=actor.id,
        locale=locale,
        data=data,
        size=len(data),
        rows_total=lines,
        heartbeat=time.time(),
    )
    session.add(job)
    session.flush()
    job.job_id = runner.job_id("import", job.id)
    session.commit()  # stored before a worker (another process) can take it
    try:
        runner.submit(
            Job(
                import_job,
                (job.id,),
                job.job_id,
                JOB_TIMEOUT_SECONDS,
                f"import of {kind} ({job.id})",
            )
        )
    except QueueDown as error:
        move(session, job.id, "queued", "failed", **_failed(Failure(Reason.QUEUE_DOWN, str(error))))
        session.commit()
    session.refresh(job)
    return job


def import_job(job_id: int, app: Flask | None = None) -> str:
    """The job: claim the queued import, run it all or nothing, store the report or why not."""
    app = job_app(app)
    with app.app_context():
        try:
            return _run(app, db.session, job_id)
        finally:
            db.session.remove()


def _run(app: Flask, session: Session, job_id: int) -> str:
    job = session.get(ImportJob, job_id)
    if job is None or job.status != "queued":
        return "skipped"
    kind, locale, data, actor_id = job.kind, job.locale, job.data or b"", job.created_by_id
    now = datetime.now(UTC)
    claimed = move(session, job_id, "queued", "running", started_at=now, heartbeat=time.time())
    session.commit()
    if not claimed:
        return "skipped"
    ticker = _Ticker(app, job_id)
    with force_locale(locale), acting_as(actor_id):
        try:
            actor = session.get(User, actor_id)
            assert actor is not None, f"no user {actor_id}"
            report = run_importer(session, kind, data, actor, ticker.read)
        except Exception as error:
            session.rollback()  # nothing half-written: the import is all or nothing
            return _fail(session, job_id, _failure(error))
        if report.ok:
            session.commit()
        else:
            session.rollback()
    values = {"report": stored_report(report), "rows_done": ticker.done, "data": None}
    move(session, job_id, "running", "done", finished_at=datetime.now(UTC), **values)
    session.commit()
    return "done"


def _failure(error: Exception) -> Failure:
    if isinstance(error, ImportFileError):
        return Failure(Reason.FILE_REFUSED, str(error))
    log.exception("import job failed")
    return Failure(Reason.IMPORT_CRASHED, f"{type(error).__name__}: {error}")


def _fail(session: Session, job_id: int, failure: Failure) -> str:
    move(session, job_id, "running", "failed", **_failed(failure))
    session.commit()
    return "failed"


class _Ticker:
    """Writes the lines read (and a heartbeat) beside the import's own transaction."""

    def __init__(self, app: Flask, job_id: int) -> None:
        self.app, self.job_id = app, job_id
        self.done, self.written = 0, 0.0

    def read(self, done: int, total: int) -> None:
        self.done = done
        if time.monotonic() - self.written < TICK_SECONDS and done < total:
            return
        self.written = time.monotonic()
        table = ImportJob.__table__
        try:
            with db.engine.begin() as conn:
                conn.execute(
                    update(table)
                    .where(table.c.id == self.job_id, table.c.status == "running")
                    .values(rows_done=done, rows_total=max(total, done), heartbeat=time.time())
                )
        except Exception:  # a database hiccup: the next tick tries again
            log.exception("progress of import job %s not written", self.job_id)


# --- watching ---


def check_alive(session: Session, job: ImportJob) -> ImportJob:
    """Fail a queued or running import whose job is known dead (nothing was imported)."""
    if job.status not in ACTIVE:
        return job
    failure = _dead(job)
    if failure is not None:
        move(session, job.id, job.status, "failed", **_failed(failure))
        session.commit()
        session.refresh(job)
    return job


def _dead(job: ImportJob) -> Failure | None:
    silent = time.time() - float(job.heartbeat or 0.0)
    runner = runner_of()
    if job.job_id and runner.tracks(job.job_id):
        failure = runner.dead(job.job_id)
        if failure is not None:
            return Failure(failure.reason, f"{failure.detail}; nothing was imported")
    elif job.status == "queued" and silent > QUEUED_GRACE_SECONDS:
        return Failure(Reason.JOB_LOST, "the server stopped before the import started")
    if job.status == "running" and silent > max(stale_seconds(), 60.0):
        return Failure(Reason.WORKER_LOST, f"no news for {silent:.0f} s; nothing was imported")
    return None


def progress(job: ImportJob) -> dict[str, Any]:
    """What the job page's bar shows."""
    total = max(job.rows_total, job.rows_done, 1)
    return {
        "id": job.id,
        "status": job.status,
        "rows_done": job.rows_done,
        "rows_total": job.rows_total,
        "fraction": 1.0 if job.status == "done" else round(min(0.99, job.rows_done / total), 3),
        "done": job.status not in ACTIVE,
        "reason": job.reason,
    }


def visible_to(job: ImportJob, user: Any) -> bool:
    """Only the uploader and administrators see an import job."""
    return bool(getattr(user, "role", None) == "admin" or job.created_by_id == user.id)
