"""Liveness, readiness and metrics, for load balancers, orchestrators and Prometheus.

- ``/healthz``: liveness and the database; 200 while the process answers and the database does.
- ``/readyz``: ready to serve: the database answers, its migrations are at the code's head, Redis
  answers and at least one worker listens (when a Redis queue is configured). 503 otherwise,
  with each check's result in the JSON body.
- ``/metrics``: Prometheus text, only to DUIJIE_METRICS_ALLOW addresses (404 to anyone else).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from web.extensions import db

health = Blueprint("health", __name__)


def _database() -> dict[str, Any]:
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True}
    except SQLAlchemyError as error:
        db.session.rollback()
        return {"ok": False, "error": type(error).__name__}


def _migrations() -> dict[str, Any]:
    from alembic.script import ScriptDirectory

    from web.config import MIGRATIONS_DIR

    heads = set(ScriptDirectory(MIGRATIONS_DIR).get_heads())
    try:
        applied = set(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError:
        db.session.rollback()
        applied = set()
    ok = applied == heads
    result: dict[str, Any] = {"ok": ok, "database": sorted(applied), "code": sorted(heads)}
    if not ok:
        result["error"] = "the database is not at the code's migrations: run `duijie db upgrade`"
    return result


def _redis_and_workers() -> tuple[dict[str, Any], dict[str, Any]]:
    from web import jobs

    if not jobs.uses_redis():
        inline = {"ok": True, "detail": "no DUIJIE_REDIS_URL: jobs run in the web process"}
        return inline, inline
    try:
        jobs.redis_connection().ping()
        redis_check: dict[str, Any] = {"ok": True}
    except Exception as error:  # any failure to reach Redis is a failed check
        redis_check = {"ok": False, "error": type(error).__name__}
    count = jobs.workers_listening() if redis_check["ok"] else None
    workers: dict[str, Any] = {"ok": bool(count), "listening": count, "queue": jobs.queue_name()}
    if not count:
        workers["error"] = f"no `duijie worker` listens on queue {jobs.queue_name()!r}"
    return redis_check, workers


@health.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report whether the app is up and its database answers."""
    database = _database()
    ok = database["ok"]
    body = {"status": "ok" if ok else "degraded", "database": "ok" if ok else "unreachable"}
    return jsonify(body), 200 if ok else 503


@health.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Each check's result; 200 only when every one passes."""
    checks: dict[str, dict[str, Any]] = {"database": _database()}
    checks["migrations"] = (
        _migrations() if checks["database"]["ok"] else {"ok": False, "error": "no database"}
    )
    checks["redis"], checks["workers"] = _redis_and_workers()
    ready = all(check["ok"] for check in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


@health.get("/metrics")
def metrics() -> Response:
    """Prometheus text exposition, for the deployment's own network only."""
    from web.observability import metrics_allowed
    from web.views.metrics import metrics_text

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not metrics_allowed(app, request.remote_addr):
        abort(404)
    return Response(metrics_text(app), mimetype="text/plain; version=0.0.4; charset=utf-8")
