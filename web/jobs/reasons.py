"""Why a job failed, as a code, and what each code tells the person: the one home of both.

A failed run stores its `Reason` in `allocation_run.reason` (a failed commit, in its
`progress["commit_reason"]`; a failed import, in `import_job.reason`) and the technical detail
as English text beside it (`error`, `commit_error`, `detail`), shown under "Details". Pages and
the API name the failure with `run_message`, `commit_message` or `import_message`; nothing
decodes the detail text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from web.services.translate import _


class Reason(StrEnum):
    """A failure's code, as stored (at most 24 characters)."""

    WORKER_LOST = "worker_lost"  # no heartbeat: the worker was stopped, killed or its machine
    WORKER_FAILED = "worker_failed"  # RQ put the job in its failed registry
    QUEUE_DOWN = "queue_down"  # Redis could not be reached to queue the job or its parts
    JOB_LOST = "job_lost"  # the queue no longer has the job, or the server stopped first
    SOLVE_FAILED = "solve_failed"  # the optimizer raised
    REFUSED = "refused"  # the week service refused (the detail says why)
    ALREADY_COMMITTED = "already_committed"  # the week was committed meanwhile
    STALE_RUN = "stale_run"  # offers or needs changed since the preview
    COMMIT_CRASHED = "commit_crashed"  # the commit's transaction raised
    FILE_REFUSED = "file_refused"  # an import's file cannot be read (the detail says why)
    IMPORT_CRASHED = "import_crashed"  # an import raised


REASONS = tuple(reason.value for reason in Reason)

# The English detail's first words (stored in `error` for the administrator; never decoded).
_DETAIL_START = {
    Reason.WORKER_LOST: "the worker stopped responding",
    Reason.WORKER_FAILED: "the worker failed",
    Reason.QUEUE_DOWN: "the job queue (Redis) could not be reached",
    Reason.JOB_LOST: "the job was lost",
    Reason.SOLVE_FAILED: "the solve failed",
    Reason.COMMIT_CRASHED: "the commit failed",
    Reason.IMPORT_CRASHED: "the import failed",
}


@dataclass(frozen=True)
class Failure:
    """A failure's code and its detail (English, for the administrator)."""

    reason: Reason
    detail: str = ""

    @property
    def text(self) -> str:
        """The detail as stored: the reason's words, then the particulars."""
        start = _DETAIL_START.get(self.reason)
        if start is None:
            return self.detail
        return f"{start}: {self.detail}" if self.detail else start


def _known(code: str | None) -> Reason | None:
    return Reason(code) if code in REASONS else None


def run_message(code: str | None, detail: str | None) -> str:
    """Why a preview run failed, in the user's language."""
    reason = _known(code)
    if reason is Reason.WORKER_LOST:
        return _(
            "The worker stopped responding (stopped, or its machine failed). "
            "Nothing was stored; retry the run."
        )
    if reason is Reason.WORKER_FAILED:
        return _("The worker failed while solving. Nothing was stored; retry the run.")
    if reason is Reason.QUEUE_DOWN:
        return _("The job queue could not be reached. Nothing was stored; retry when it is back.")
    if reason is Reason.JOB_LOST:
        return _("The job was lost before it finished. Nothing was stored; retry the run.")
    if reason is Reason.SOLVE_FAILED:
        return _("The optimizer failed. Nothing was stored; retry the run.")
    return _("The allocation could not be done: %(reason)s", reason=detail or "")


def commit_message(code: str | None, detail: str | None) -> str:
    """Why a commit job failed, in the user's language; the preview can be committed again."""
    reason = _known(code)
    if reason is Reason.ALREADY_COMMITTED:
        return _("This week is already committed; it cannot be committed again.")
    if reason is Reason.STALE_RUN:
        return _("Offers or needs changed since this preview; preview the week again.")
    if reason is Reason.WORKER_LOST:
        return _(
            "The commit's worker stopped responding. Nothing was pledged; you can commit again."
        )
    if reason in (Reason.WORKER_FAILED, Reason.JOB_LOST, Reason.QUEUE_DOWN, Reason.COMMIT_CRASHED):
        return _("The commit did not finish. Nothing was pledged; you can commit again.")
    text = detail or ""
    return _("The allocation could not be done: %(reason)s", reason=text.partition(": ")[2] or text)


def import_message(code: str | None, detail: str | None) -> str:
    """Why a background import failed, in the user's language; nothing was imported."""
    reason = _known(code)
    if reason is Reason.FILE_REFUSED:
        return detail or ""
    if reason is Reason.WORKER_LOST:
        return _(
            "The worker importing the file stopped responding. Nothing was imported; "
            "upload the file again."
        )
    if reason is Reason.QUEUE_DOWN:
        return _(
            "The job queue could not be reached. Nothing was imported; upload the file again "
            "when it is back."
        )
    return _("The import did not finish. Nothing was imported; upload the file again.")
