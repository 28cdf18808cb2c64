"""A preview job's live state, written to its run every TICK_SECONDS by a thread of its own."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from optimizer import Progress
from web.extensions import db
from web.models import AllocationRun
from web.services import distributed

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5  # progress is written at most this often


class Tracker:
    """The job's live state: stage, objective, bound, parts, and a heartbeat.

    The solver's callbacks only touch memory (they run inside OR-Tools' threads); the ticker
    does the database work and brings back whether a cancel was asked for.
    """

    def __init__(self, app: Flask, run_id: int, time_limit: float) -> None:
        self.app, self.run_id, self.time_limit = app, run_id, time_limit
        self.started = time.monotonic()
        self.state: dict[str, Any] = {"stage": "building", "objective": None, "bound": None}
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.cancelled = False
        self.lost = False  # the run was marked failed behind our back: stop early
        self.thread = threading.Thread(target=self._loop, name=f"progress-{run_id}", daemon=True)

    def progress(self, progress: Progress) -> None:
        with self.lock:
            if progress.objective is not None:
                self.state["objective"] = progress.objective
            if progress.bound is not None:
                self.state["bound"] = progress.bound

    def parts(self, parts: distributed.PartsProgress) -> None:
        """The parts' progress of a week cut into parts: done / total, objective, bound."""
        with self.lock:
            self.state.update(
                parts_done=parts.done,
                parts_total=parts.total,
                parts_lost=parts.lost,
                objective=parts.objective,
                bound=parts.bound,
            )

    def set_stage(self, name: str) -> None:
        with self.lock:
            self.state["stage"] = name

    def should_stop(self) -> bool:
        return self.cancelled or self.lost

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            state = dict(self.state)
        state["elapsed"] = round(time.monotonic() - self.started, 2)
        state["time_limit"] = self.time_limit
        state["heartbeat"] = time.time()
        return state

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.halt.set()
        self.thread.join(timeout=10)

    def _loop(self) -> None:
        while not self.halt.wait(TICK_SECONDS):
            self.flush()

    def flush(self) -> None:
        """Write the snapshot while the run is running; read back cancel_requested and status."""
        table = AllocationRun.__table__
        try:
            with self.app.app_context(), db.engine.begin() as conn:
                conn.execute(
                    update(table)
                    .where(table.c.id == self.run_id, table.c.status == "running")
                    .values(progress=self.snapshot())
                )
                row = conn.execute(
                    select(table.c.status, table.c.cancel_requested).where(
                        table.c.id == self.run_id
                    )
                ).one_or_none()
        except Exception:  # a database hiccup: the next tick tries again
            log.exception("progress of run %s not written", self.run_id)
            return
        if row is None or row.status != "running":
            self.lost = True
        elif row.cancel_requested:
            self.cancelled = True
