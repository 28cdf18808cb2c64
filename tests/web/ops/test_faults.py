"""Fault injection: a commit killed midway or cut off from the database leaves nothing half-written.

The commit runs in a child process built with the app factory. DUIJIE_FAULT makes it SIGKILL
itself at a fault point inside commit_run (web/services/faults.py): after taking the locks,
after writing the pledges and counters, just before COMMIT. On PostgreSQL the child also pauses
at a point (DUIJIE_FAULT_PAUSE) while the test cuts its connection with pg_terminate_backend.
After each fault: no pledges of the run, every offer's and need's counter unchanged, the run
still a preview; and at the end the same run commits cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from tests.web.week.test_concurrency import assert_totals_exact
from tests.web.week_support import FAST, memo_solver, user  # noqa: F401  (fixture)
from web.extensions import db
from web.models import Allocation, AllocationRun, AuditEvent, Need, Offer
from web.services.audit import verify
from web.services.week import preview_week

ROOT = Path(__file__).resolve().parents[3]
FAULT_POINTS = ("commit:locked", "commit:pledged", "commit:before-commit")
CHILD = """
import sys
from sqlalchemy import select
from web import create_app
from web.extensions import db
from web.models import User
from web.services.week import commit_run

app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1]})
with app.app_context():
    admin = db.session.scalars(select(User).where(User.username == "admin")).one()
    run = commit_run(db.session, int(sys.argv[2]), admin)
    db.session.commit()  # the boundary commits: commit_run only flushes
    print("committed", run.id, len(run.allocations))
"""


def _child(url: str, run_id: int, **env: str) -> subprocess.Popen[str]:
    """The commit of `run_id` in a fresh process, with the fault variables given."""
    environment = {**os.environ, "DUIJIE_SECRET_KEY": "fault-test", **env}
    for name in ("DUIJIE_FAULT", "DUIJIE_FAULT_PAUSE"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(run_id)],
        cwd=ROOT,
        env=environment,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _state(run_id: int) -> dict[str, Any]:
    """What a half-written commit would change: pledges, counters, the run's state."""
    db.session.remove()
    return {
        "allocations": db.session.scalar(select(func.count(Allocation.id))),
        "audit events": db.session.scalar(select(func.count(AuditEvent.id))),
        "offers": dict(db.session.execute(select(Offer.id, Offer.allocated)).all()),
        "needs": dict(db.session.execute(select(Need.id, Need.allocated)).all()),
        "run": db.session.execute(
            select(AllocationRun.status, AllocationRun.committed_week).where(
                AllocationRun.id == run_id
            )
        ).one(),
    }


def _assert_untouched(before: dict[str, Any], run_id: int, fault: str) -> None:
    after = _state(run_id)
    assert after["run"] == ("preview", None), f"{fault}: the run is {after['run']}"
    assert after["allocations"] == before["allocations"], f"{fault}: pledges were left behind"
    assert after["offers"] == before["offers"], f"{fault}: offer counters moved"
    assert after["needs"] == before["needs"], f"{fault}: need counters moved"
    assert after["audit events"] == before["audit events"], f"{fault}: audit events left behind"
    assert_totals_exact(db.session)


@pytest.mark.slow
@pytest.mark.usefixtures("memo_solver")
def test_a_commit_killed_at_any_point_leaves_nothing_half_written(demo_db: Flask) -> None:
    run = preview_week(db.session, "2026-W48", None, user("admin"), time_limit=FAST)
    db.session.commit()  # services flush; the caller commits
    run_id, pledges = run.id, len(run.output["allocations"])  # type: ignore[index]
    url = str(demo_db.config["SQLALCHEMY_DATABASE_URI"])
    before = _state(run_id)

    for fault in FAULT_POINTS:
        child = _child(url, run_id, DUIJIE_FAULT=fault)
        out, err = child.communicate(timeout=300)
        assert child.returncode == -signal.SIGKILL, f"{fault}: {child.returncode} {err[-2000:]}"
        assert "committed" not in out
        _assert_untouched(before, run_id, fault)

    clean = _child(url, run_id)
    out, err = clean.communicate(timeout=300)
    assert clean.returncode == 0, err[-2000:]
    assert out.split() == ["committed", str(run_id), str(pledges)]
    db.session.remove()
    assert db.session.scalar(select(func.count(Allocation.id))) == before["allocations"] + pledges
    assert db.session.get(AllocationRun, run_id).status == "committed"  # type: ignore[union-attr]
    assert_totals_exact(db.session)
    assert verify(db.session).ok  # the audit trail is whole: no event of a killed commit


# an embedded SQLite database has no connection to cut
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@pytest.mark.slow
@pytest.mark.usefixtures("memo_solver")
def test_a_commit_whose_connection_is_cut_leaves_nothing_half_written(
    demo_db: Flask, backend: str
) -> None:
    run = preview_week(db.session, "2026-W48", None, user("admin"), time_limit=FAST)
    db.session.commit()  # services flush; the caller commits
    run_id, pledges = run.id, len(run.output["allocations"])  # type: ignore[index]
    url = str(demo_db.config["SQLALCHEMY_DATABASE_URI"])
    before = _state(run_id)
    tagged = f"{url}?application_name=duijie_fault_test"

    for fault in FAULT_POINTS:
        child = _child(tagged, run_id, DUIJIE_FAULT_PAUSE=fault)
        assert child.stderr is not None and child.stdin is not None
        line = child.stderr.readline()
        while line and "paused at" not in line:
            line = child.stderr.readline()
        assert f"paused at {fault}" in line, f"{fault}: the child never got there"
        cut = db.session.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'duijie_fault_test' AND datname = current_database()"
            )
        )
        db.session.commit()
        assert cut == 1, f"{fault}: {cut} connections cut"
        out, err = child.communicate("\n", timeout=300)
        assert child.returncode != 0 and "committed" not in out, f"{fault}: {out} {err[-500:]}"
        assert "terminat" in err or "closed" in err or "OperationalError" in err, err[-2000:]
        _assert_untouched(before, run_id, f"cut at {fault}")

    clean = _child(tagged, run_id)
    out, err = clean.communicate(timeout=300)
    assert clean.returncode == 0, err[-2000:]
    assert out.split() == ["committed", str(run_id), str(pledges)]
    db.session.remove()
    assert_totals_exact(db.session)
    assert verify(db.session).ok
