"""Background jobs: a week's preview, a preview's commit, a large sheet's import.

- `runner`: where jobs run (RQ, a thread, right away), chosen once per app in `create_app`.
- `reasons`: why a job failed, as codes, and the one place that names them to the user.
- `preview`, `commit`: the two jobs of a run, each a small state machine over the run's row.
- `watch`: the progress a page shows, and runs whose job is known dead.
"""

from __future__ import annotations

from web.jobs.commit import (
    COMMIT_FAILED,
    COMMITTING,
    CommitInProgress,
    commit_job,
    commit_state,
    start_commit,
    wait_for_commit,
)
from web.jobs.liveness import STALE_SECONDS
from web.jobs.preview import (
    ACTIVE,
    JobQueueDown,
    TimeLimitTooLong,
    max_time_limit,
    preview_job,
    request_cancel,
    retry,
    spread_for,
    start_preview,
)
from web.jobs.reasons import Failure, Reason, commit_message, import_message, run_message
from web.jobs.runner import (
    QUEUE_NAME,
    Job,
    Runner,
    install_runner,
    queue_name,
    redis_connection,
    runner_of,
    uses_redis,
    workers_listening,
)
from web.jobs.watch import check_alive, progress_of

__all__ = [
    "ACTIVE",
    "COMMITTING",
    "COMMIT_FAILED",
    "QUEUE_NAME",
    "STALE_SECONDS",
    "CommitInProgress",
    "Failure",
    "Job",
    "JobQueueDown",
    "Reason",
    "Runner",
    "TimeLimitTooLong",
    "check_alive",
    "commit_job",
    "commit_message",
    "commit_state",
    "import_message",
    "install_runner",
    "max_time_limit",
    "preview_job",
    "progress_of",
    "queue_name",
    "redis_connection",
    "request_cancel",
    "retry",
    "run_message",
    "runner_of",
    "spread_for",
    "start_commit",
    "start_preview",
    "uses_redis",
    "wait_for_commit",
    "workers_listening",
]
