"""The /metrics figures read when scraped: the queue, the workers, the runs, the outbox.

Beside the health check that serves them: they ask the services (jobs, outbox), which the
request metrics and logs of web.observability, used by those services, must not import.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from web.observability import request_metrics


class StateCollector:
    """Figures read when scraped: the queue, the workers, the runs, the outbox."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
        from sqlalchemy import func, select

        from web import jobs
        from web.extensions import db
        from web.models import AllocationRun
        from web.services.outbox import pending_count

        depth = GaugeMetricFamily("duijie_queue_depth", "Jobs waiting in the RQ queue")
        workers = GaugeMetricFamily(
            "duijie_workers_listening", "RQ workers listening on the queue (-1: no Redis)"
        )
        count = _queue_depth(self.app)
        depth.add_metric([], -1 if count is None else count)
        listening = jobs.workers_listening(self.app)
        workers.add_metric([], -1 if listening is None else listening)
        yield depth
        yield workers
        outbox = GaugeMetricFamily("duijie_outbox_pending", "E-mail waiting to be sent")
        outbox.add_metric([], pending_count(db.session))
        yield outbox
        by_status = GaugeMetricFamily(
            "duijie_runs", "Allocation runs by status", labels=["status"]
        )
        for status, n in db.session.execute(
            select(AllocationRun.status, func.count()).group_by(AllocationRun.status)
        ):
            by_status.add_metric([status], n)
        yield by_status
        # Durations of the runs finished in the last 7 days, as a histogram.
        bounds = (5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
        since = datetime.now(UTC) - timedelta(days=7)
        rows = db.session.execute(
            select(AllocationRun.started_at, AllocationRun.finished_at).where(
                AllocationRun.finished_at.is_not(None),
                AllocationRun.started_at.is_not(None),
                AllocationRun.finished_at >= since,
            )
        ).all()
        seconds = [max(0.0, (end - start).total_seconds()) for start, end in rows]
        buckets = [(str(b), float(sum(1 for s in seconds if s <= b))) for b in bounds]
        buckets.append(("+Inf", float(len(seconds))))
        durations = HistogramMetricFamily(
            "duijie_run_duration_seconds",
            "Wall time of allocation runs finished in the last 7 days (start to finish)",
        )
        durations.add_metric([], buckets, sum_value=sum(seconds))
        yield durations
        db.session.rollback()  # a scrape holds no transaction open


def _queue_depth(app: Flask) -> int | None:
    from web import jobs

    if not jobs.uses_redis(app):
        return None
    try:
        from rq import Queue

        return int(Queue(jobs.queue_name(app), connection=jobs.redis_connection(app)).count)
    except Exception:  # Redis unreachable: the readiness check says so
        return None


def metrics_text(app: Flask) -> bytes:
    """The exposition text: the request metrics (all processes') and the state figures."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry, _, _ = request_metrics()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector(app))  # type: ignore[arg-type]
    return generate_latest(registry) + generate_latest(state)
