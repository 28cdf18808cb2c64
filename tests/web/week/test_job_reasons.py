"""Failure reasons are codes, named to the user in one place; earlier English text is converted."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from flask import Flask

from web.jobs import Reason, commit_message, import_message, run_message
from web.models.allocation import FAILURE_REASONS

MIGRATION = Path(__file__).parents[3] / "web/migrations/versions/x18j00000001_failure_reasons.py"


def test_the_column_allows_exactly_the_codes_the_jobs_store() -> None:
    assert set(FAILURE_REASONS) == {reason.value for reason in Reason}


def test_every_code_has_its_own_message_in_chinese(app: Flask) -> None:
    with app.test_request_context():
        generic = run_message("refused", "x")
        for reason in (Reason.WORKER_LOST, Reason.QUEUE_DOWN, Reason.JOB_LOST, Reason.SOLVE_FAILED):
            text = run_message(reason, "detail")
            assert text != generic and "没有保存任何结果" in text, (reason, text)
        assert "detail" not in commit_message(Reason.STALE_RUN, "StaleRun: detail")
        assert commit_message(Reason.REFUSED, "WeekError: 不行") == "无法完成分配：不行"
        assert "没有导入" in import_message(Reason.WORKER_LOST, None)
    with app.test_request_context("/?lang=en"):
        assert run_message(None, "the week is closed") == (
            "The allocation could not be done: the week is closed"
        )


def test_the_migration_reads_the_code_from_the_old_english_text() -> None:
    spec = importlib.util.spec_from_file_location("x18j", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    old = {
        "the worker stopped responding (no progress for 40 s): it was probably": "worker_lost",
        "the worker failed: MemoryError": "worker_failed",
        "the job queue (Redis) could not be reached: Connection refused": "queue_down",
        "the job was lost: it is no longer in the queue; nothing was stored": "job_lost",
        "the solve failed: MemoryError: out of memory": "solve_failed",
        "the commit failed: OSError: gone": "commit_crashed",
        "AlreadyCommitted: run 3 is committed": "already_committed",
        "StaleRun: offers changed": "stale_run",
        "no offers this week": "refused",
    }
    assert {text: migration.code_of(text) for text in old} == old
    assert migration.code_of(None) is None
    assert set(migration.REASONS) == set(FAILURE_REASONS)
