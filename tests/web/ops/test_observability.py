"""What the IT staff watch duijie by: request ids in JSON logs, metrics, liveness and readiness."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import text

from web import create_app, observability
from web.extensions import db


def test_request_id_is_taken_from_the_caller_or_made_and_returned(client: FlaskClient) -> None:
    given = client.get("/healthz", headers={"X-Request-Id": "nginx-4f2a.17"})
    assert given.headers["X-Request-Id"] == "nginx-4f2a.17"
    made = client.get("/healthz")
    other = client.get("/healthz")
    assert len(made.headers["X-Request-Id"]) == 32
    assert made.headers["X-Request-Id"] != other.headers["X-Request-Id"]
    # Something that is no token (spaces, a line break, too long) is replaced, not echoed.
    for bad in ("two words", "x" * 200, "a\u00e9b"):
        answer = client.get("/healthz", headers={"X-Request-Id": bad})
        assert answer.headers["X-Request-Id"] != bad
        assert len(answer.headers["X-Request-Id"]) == 32


def test_every_log_line_of_a_request_carries_its_id_user_and_route(demo_app: Flask) -> None:
    def noisy() -> str:
        current_app.logger.warning("looked at %s", "something")
        logging.getLogger("web.services.example").info("a service line")
        return "ok"

    demo_app.add_url_rule("/test-noisy", "test_noisy", noisy)
    client = demo_app.test_client()
    client.post("/login", data={"username": "admin", "password": "demo-admin-2026"})
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "duijie-json")
    stream = io.StringIO()
    old = handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        client.get("/test-noisy", headers={"X-Request-Id": "req-77"})
    finally:
        handler.setStream(old)  # type: ignore[attr-defined]
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    mine = [line for line in lines if line.get("request_id") == "req-77"]
    messages = {line["message"] for line in mine}
    assert {"looked at something", "a service line", "GET /test-noisy 200"} <= messages
    with demo_app.app_context():
        from web.models import User

        admin_id = db.session.execute(
            text("SELECT id FROM user_account WHERE username = 'admin'")
        ).scalar_one()
        assert db.session.get(User, admin_id) is not None
    access = next(line for line in mine if line["logger"] == "web.access")
    assert access["route"] == "/test-noisy" and access["status"] == 200
    assert access["user_id"] == admin_id and access["duration_ms"] >= 0
    assert all(line["level"] in ("INFO", "WARNING") and line["time"] for line in mine)


def test_database_values_stay_redacted_in_json_lines(demo_app: Flask) -> None:
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "duijie-json")
    stream = io.StringIO()
    old = handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        # Any logger, not only those the filter was put on: the handler redacts too.
        logging.getLogger("some.library").error(
            'duplicate key: Key (phone)=(13900001111) already exists'
        )
        try:
            raise ValueError("Failing row contains (7, 张三, 13900002222).")
        except ValueError:
            logging.getLogger("web").exception("insert failed")
    finally:
        handler.setStream(old)  # type: ignore[attr-defined]
    out = stream.getvalue()
    assert "13900001111" not in out and "13900002222" not in out and "张三" not in out
    assert "value hidden" in out and "values hidden" in out


def test_a_job_carries_the_request_id_of_the_request_that_queued_it(
    demo_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo_app.test_request_context("/", headers={"X-Request-Id": "queued-by-9"}):
        observability._start()
        meta = observability.job_meta()
    assert meta["request_id"] == "queued-by-9"
    # In the work horse, outside any request, the log lines read the job's meta.
    job = SimpleNamespace(id="duijie-run-3-1", meta=meta)
    monkeypatch.setattr(observability, "_current_job", lambda: job)
    record = logging.LogRecord("rq.worker", logging.INFO, __file__, 1, "solving", None, None)
    observability.RequestContext().filter(record)
    line = json.loads(observability.JsonFormatter().format(record))
    assert line["request_id"] == "queued-by-9" and line["job_id"] == "duijie-run-3-1"


def _metric(body: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in body.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        metric, _, rest = series.partition("{")
        if metric != name:
            continue
        found = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
        if found == wanted:
            return float(value)
    return 0.0


def test_metrics_count_requests_and_read_the_state(client: FlaskClient) -> None:
    before = client.get("/metrics").get_data(as_text=True)
    for _ in range(3):
        client.get("/healthz")
    client.get("/no-such-page")
    body = client.get("/metrics").get_data(as_text=True)
    route = {"route": "/healthz", "method": "GET", "status": "200"}
    assert _metric(body, "duijie_http_requests_total", **route) - _metric(
        before, "duijie_http_requests_total", **route
    ) == 3
    assert _metric(body, "duijie_http_requests_total", route="<unmatched>", method="GET",
                   status="404") >= 1  # fmt: skip
    assert _metric(body, "duijie_http_request_duration_seconds_count", route="/healthz") >= 3
    # No Redis in this app: the queue figures say -1 (unknown), not 0 (none).
    assert _metric(body, "duijie_queue_depth") == -1
    assert _metric(body, "duijie_workers_listening") == -1
    assert "duijie_outbox_pending" in body
    assert "duijie_run_duration_seconds_bucket" in body


def test_metrics_are_only_for_the_deployments_network(demo_app: Flask) -> None:
    client = demo_app.test_client()
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert outside.status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 404
    demo_app.config["DUIJIE_METRICS_ALLOW"] = "10.0.0.0/8, 192.168.0.0/16"
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 404


def test_readyz_checks_database_migrations_redis_and_workers(demo_app: Flask) -> None:
    client = demo_app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    body = ready.get_json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "migrations", "redis", "workers"}
    with demo_app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = 'an_old_one'"))
        db.session.commit()
    stale = client.get("/readyz")
    assert stale.status_code == 503
    assert "duijie db upgrade" in stale.get_json()["checks"]["migrations"]["error"]
    assert client.get("/healthz").status_code == 200  # alive all the same
    # A Redis that does not answer: not ready, and it says which check failed.
    demo_app.config["DUIJIE_REDIS_URL"] = "redis://127.0.0.1:1/0"
    down = client.get("/readyz").get_json()
    assert down["checks"]["redis"]["ok"] is False and down["checks"]["workers"]["ok"] is False


@pytest.mark.redis
def test_readyz_wants_a_worker_listening(demo_app: Flask) -> None:
    import os

    url = os.environ.get("DUIJIE_TEST_REDIS_URL")
    if not url:
        if os.environ.get("DUIJIE_REQUIRE_SERVICES"):
            pytest.fail("DUIJIE_REQUIRE_SERVICES is set but DUIJIE_TEST_REDIS_URL is not")
        pytest.skip("needs DUIJIE_TEST_REDIS_URL")
    demo_app.config["DUIJIE_REDIS_URL"] = url
    demo_app.config["DUIJIE_QUEUE"] = "duijie-readyz-test-nobody"
    body = demo_app.test_client().get("/readyz").get_json()
    assert body["checks"]["redis"] == {"ok": True}
    assert body["checks"]["workers"]["ok"] is False and body["checks"]["workers"]["listening"] == 0
    assert "duijie worker" in body["checks"]["workers"]["error"]


def test_instance_folder_is_set_by_duijie_instance_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "var" / "duijie"
    monkeypatch.setenv("DUIJIE_INSTANCE_PATH", str(folder))
    monkeypatch.delenv("DUIJIE_SECRET_KEY", raising=False)
    monkeypatch.delenv("DUIJIE_DATABASE_URL", raising=False)
    app = create_app()
    assert app.instance_path == str(folder)
    assert (folder / "secret_key").exists()  # the generated key is kept there
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{folder / 'duijie.sqlite3'}"
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    monkeypatch.setenv("DUIJIE_INSTANCE_PATH", str(a_file))
    with pytest.raises(ValueError, match="DUIJIE_INSTANCE_PATH"):
        create_app()


def test_a_jobs_end_is_logged_with_the_request_that_queued_it(demo_app: Flask) -> None:
    from datetime import UTC, datetime, timedelta

    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "duijie-json")
    stream = io.StringIO()
    old = handler.setStream(stream)  # type: ignore[attr-defined]
    job = SimpleNamespace(
        id="duijie-run-4-1", description="preview of week 2026-W48 (run 4)",
        meta={"request_id": "from-the-page", "user_id": 1},
        started_at=datetime.now(UTC) - timedelta(seconds=5),
    )  # fmt: skip
    try:
        observability.job_succeeded(job, None, "preview")
        observability.job_failed(job, None, TimeoutError, TimeoutError("late"), None)
    finally:
        handler.setStream(old)  # type: ignore[attr-defined]
    done, failed = (json.loads(line) for line in stream.getvalue().splitlines())
    assert done["message"] == "job done: preview of week 2026-W48 (run 4)"
    assert done["request_id"] == failed["request_id"] == "from-the-page"
    assert done["job_id"] == "duijie-run-4-1" and 5 <= done["seconds"] < 60
    assert failed["level"] == "WARNING" and failed["error"] == "TimeoutError"
    # Every job duijie queues asks for these callbacks.
    callbacks = observability.job_callbacks()
    assert set(callbacks) == {"on_success", "on_failure"}
