"""What the IT staff watch duijie by: JSON logs with a request id, Prometheus metrics, readiness.

- Every request has an id: the caller's ``X-Request-Id`` when it is a sane token (nginx sends
  its own), else a new one. It is returned in the response's ``X-Request-Id``, is in every log
  line written while the request runs (with the user id and the route), and travels with the
  background jobs the request queues (RQ job meta), so a worker's lines carry it too.
- Logs are one JSON object per line on stderr (``DUIJIE_LOG_FORMAT=json``, the default;
  ``text`` for a human at a terminal), level ``DUIJIE_LOG_LEVEL`` (INFO). The database-value
  redaction of web.security runs on the handler, so it covers every logger.
- Metrics (prometheus_client): requests by route, method and status, a latency histogram, and
  read when scraped: queue depth, workers listening, runs' durations, outbox pending. Served at
  ``/metrics`` only to addresses in ``DUIJIE_METRICS_ALLOW`` (by default the machine itself);
  anyone else gets 404. Under gunicorn set ``PROMETHEUS_MULTIPROC_DIR`` so the workers' counts
  are added up (deploy/ does).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-Id"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
DEFAULT_METRICS_ALLOW = "127.0.0.0/8,::1/128"
HANDLER_NAME = "duijie-json"
access_log = logging.getLogger("web.access")

# --- the request id ---


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id() -> str | None:
    """This request's id; in a background job, the id of the request that queued it."""
    if has_request_context():
        return g.get("request_id")
    job = _current_job()
    if job is not None:
        return (job.meta or {}).get("request_id")
    return None


def job_meta() -> dict[str, Any]:
    """What a job queued now carries with it: the request id and the user who asked."""
    return {"request_id": request_id(), "user_id": _user_id()}


def job_callbacks() -> dict[str, Any]:
    """RQ callbacks that log a job's end with the request id it carries (in the work horse)."""
    from rq import Callback

    return {"on_success": Callback(job_succeeded), "on_failure": Callback(job_failed)}


def _job_line(job: Any, message: str, level: int, **extra: Any) -> None:
    meta = job.meta or {}
    started = getattr(job, "started_at", None)
    seconds = None
    if started is not None:
        began = started if started.tzinfo else started.replace(tzinfo=UTC)
        seconds = round((datetime.now(UTC) - began).total_seconds(), 3)
    logging.getLogger("web.jobs").log(
        level, "%s: %s", message, job.description or job.id,
        extra={"request_id": meta.get("request_id"), "user_id": meta.get("user_id"),
               "job_id": job.id, "seconds": seconds, **extra},
    )  # fmt: skip


def job_succeeded(job: Any, connection: Any, result: Any, *args: Any, **kwargs: Any) -> None:
    """RQ's success callback: one line saying the job is done, and how long it took."""
    _job_line(job, "job done", logging.INFO, result=str(result)[:200])


def job_failed(job: Any, connection: Any, kind: Any, value: Any, *args: Any) -> None:
    """RQ's failure callback: one line naming the error (its traceback is RQ's own line)."""
    _job_line(job, "job failed", logging.WARNING, error=getattr(kind, "__name__", str(kind)))


def _current_job() -> Any:
    if "rq" not in sys.modules:
        return None
    try:
        from rq import get_current_job

        return get_current_job()
    except Exception:  # not in a work horse, or RQ cannot tell
        return None


def _user_id() -> int | str | None:
    """The staff account's id; a signed-in household as "household:<id>"."""
    if has_request_context():
        user = g.get("_login_user")  # Flask-Login's, only when the request loaded it
        if user is not None and getattr(user, "is_authenticated", False):
            if getattr(user, "role", None) == "household":
                return f"household:{getattr(user, 'household_id', '?')}"
            return int(user.id)
        token = g.get("api_token")
        if token is not None:
            return int(token.user_id)
        return None
    job = _current_job()
    if job is not None:
        return (job.meta or {}).get("user_id")
    return None


def _route() -> str | None:
    if not has_request_context():
        return None
    rule = request.url_rule
    return rule.rule if rule is not None else None


# --- logs ---


class RequestContext(logging.Filter):
    """Put the request id, user id and route (or the job's) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            self._add(record)
        except Exception:  # a log line is never worth failing the request it describes
            record.context_error = True
        return True

    def _add(self, record: logging.LogRecord) -> None:
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        if not hasattr(record, "user_id"):
            record.user_id = _user_id()
        if not hasattr(record, "route"):
            record.route = _route()
        if not hasattr(record, "job_id"):
            job = _current_job()
            record.job_id = job.id if job is not None else None


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, context and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and value is not None:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")


def configure_logging(app: Flask) -> None:
    """One handler on the root logger (once per process): JSON or text, redacted, with context."""
    from web.security import REDACT_FILTER

    root = logging.getLogger()
    level = str(app.config.get("DUIJIE_LOG_LEVEL") or "INFO").upper()
    handler = next((h for h in root.handlers if h.get_name() == HANDLER_NAME), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.set_name(HANDLER_NAME)
        handler.addFilter(RequestContext())
        handler.addFilter(REDACT_FILTER)
        root.addHandler(handler)
    fmt = str(app.config.get("DUIJIE_LOG_FORMAT") or "json").lower()
    handler.setFormatter(TextFormatter() if fmt == "text" else JsonFormatter())
    root.setLevel(level)
    logging.getLogger("web").setLevel(level)
    # The app's own logger goes through the root handler, not Flask's default one as well.
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)


# --- metrics ---


def request_metrics() -> Any:
    """The request metrics, made once per process (prometheus_client refuses twins)."""
    cached = _METRICS.get("request")
    if cached is None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        registry = CollectorRegistry(auto_describe=True)
        requests_total = Counter(
            "duijie_http_requests_total", "HTTP requests answered, by route, method and status",
            ["route", "method", "status"], registry=registry,
        )  # fmt: skip
        latency = Histogram(
            "duijie_http_request_duration_seconds", "Time to answer a request, by route",
            ["route"], registry=registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )  # fmt: skip
        cached = _METRICS["request"] = (registry, requests_total, latency)
    return cached


_METRICS: dict[str, Any] = {}


def metrics_allowed(app: Flask, address: str | None) -> bool:
    """Whether an address is inside DUIJIE_METRICS_ALLOW (comma-separated networks)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    allow = str(app.config.get("DUIJIE_METRICS_ALLOW") or DEFAULT_METRICS_ALLOW)
    for network in allow.split(","):
        network = network.strip()
        if network and ip in ipaddress.ip_network(network, strict=False):
            return True
    return False


# --- the hooks ---


def _start() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if _SANE_ID.fullmatch(given) else new_request_id()
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    if "request_id" not in g:  # answered by a hook that ran before _start
        _start()
    rid = g.request_id
    response.headers[REQUEST_ID_HEADER] = rid
    elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
    route = _route() or "<unmatched>"
    _, requests_total, latency = request_metrics()
    requests_total.labels(route, request.method, str(response.status_code)).inc()
    latency.labels(route).observe(elapsed)
    if current_app.config.get("DUIJIE_ACCESS_LOG", True):
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 1),
                "remote_addr": request.remote_addr,
            },
        )
    return response


def init_app(app: Flask) -> None:
    configure_logging(app)
    app.before_request(_start)
    app.after_request(_finish)
