"""Fixtures for web tests: a fresh app and database per test, on SQLite and on PostgreSQL.

PostgreSQL runs when DUIJIE_TEST_DATABASE_URL names a server (CI sets it). Each xdist worker
gets its own databases; a seeded template is built once and cloned per test, so tests that need
the demo week stay fast.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from web import create_app
from web.extensions import db
from web.services.seeding import seed

PG_URL = os.environ.get("DUIJIE_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"]


def _worker() -> str:
    """A database-name suffix unique to this worker of this run (parallel runs don't collide)."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))[:8]
    return f"{run}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"


def _make_app(url: str, instance: Path) -> Flask:
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "DUIJIE_UPLOAD_DIR": str(instance / "uploads"),
        }
    )


def _build(url: str, instance: Path, *, demo: bool) -> None:
    app = _make_app(url, instance)
    with app.app_context():
        db.create_all()
        # Stamped at the migrations' head, as `duijie db upgrade` leaves it (/readyz checks).
        from flask_migrate import stamp

        stamp()
        seed(db.session, demo=demo)
        db.session.commit()  # seeding flushes; its caller commits
        db.engine.dispose()


class PgDatabases:
    """Creates per-worker PostgreSQL databases and clones them from templates."""

    def __init__(self, admin_url: str) -> None:
        self.admin = make_url(admin_url).set(drivername="postgresql+psycopg")
        self.engine = create_engine(self.admin, isolation_level="AUTOCOMMIT")
        self.created: set[str] = set()

    def url(self, name: str) -> str:
        return self.admin.set(database=name).render_as_string(hide_password=False)

    def recreate(self, name: str, template: str | None = None) -> str:
        with self.engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            suffix = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
        self.created.add(name)
        return self.url(name)

    def drop_all(self) -> None:
        """Drop every database this worker created."""
        with self.engine.connect() as conn:
            for name in sorted(self.created):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg() -> Iterator[PgDatabases]:
    if not PG_URL:
        if os.environ.get("DUIJIE_REQUIRE_SERVICES"):
            pytest.fail("DUIJIE_REQUIRE_SERVICES is set but DUIJIE_TEST_DATABASE_URL is not")
        pytest.skip("PostgreSQL tests need DUIJIE_TEST_DATABASE_URL (CI sets it)")
    databases = PgDatabases(PG_URL)
    yield databases
    databases.drop_all()
    databases.engine.dispose()


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Any:
    """Lazily built empty and demo-seeded template databases, per backend."""
    built: dict[tuple[str, bool], str] = {}
    root = tmp_path_factory.mktemp("db-templates")

    def get(backend: str, demo: bool) -> str:
        key = (backend, demo)
        if key not in built:
            name = f"duijie_tpl_{'demo' if demo else 'empty'}_{_worker()}"
            if backend == "sqlite":
                path = root / f"{name}.sqlite3"
                _build(f"sqlite:///{path}", root, demo=demo)
                built[key] = str(path)
            else:
                pg = request.getfixturevalue("pg")
                url = pg.recreate(name)
                _build(url, root, demo=demo)
                built[key] = name
        return built[key]

    return get


def _app_for(
    backend: str, demo: bool, templates: Any, tmp_path: Path, request: Any
) -> Iterator[Flask]:
    template = templates(backend, demo)
    if backend == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg").recreate(f"duijie_test_{_worker()}", template)
    app = _make_app(url, tmp_path)
    yield app
    # Requests must not share a long-lived app context (g would leak between them), so tests
    # that touch the database push their own; here only the pooled connections are closed.
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        request.getfixturevalue("pg")
    return str(request.param)


@pytest.fixture
def app(
    backend: str, templates: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Flask]:
    """An app on an empty database with the schema (no rows)."""
    yield from _app_for(backend, False, templates, tmp_path, request)


@pytest.fixture
def demo_app(
    backend: str, templates: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Flask]:
    """An app on a database seeded with the Hezhou demo week."""
    yield from _app_for(backend, True, templates, tmp_path, request)


@pytest.fixture
def demo_db(demo_app: Flask) -> Iterator[Flask]:
    """The demo app with an app context pushed, for tests that query the database directly."""
    with demo_app.app_context():
        yield demo_app
        db.session.remove()


@pytest.fixture
def client(demo_app: Flask) -> FlaskClient:
    return demo_app.test_client()


class Auth:
    """Signs a test client in and out as a demo user."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, username: str, password: str | None = None) -> Any:
        return self.client.post(
            "/login",
            data={"username": username, "password": password or f"demo-{username}-2026"},
        )

    def logout(self) -> Any:
        return self.client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture
def english_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """duijie's commands print English (DUIJIE_LANG=en; Chinese is their default): for the
    tests that read what a command prints, in this process or in the ones it starts."""
    monkeypatch.setenv("DUIJIE_LANG", "en")


@pytest.fixture(autouse=True)
def commands_start_when_invoked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command run in this process (the CLI runner) counts its time limit from its own start:
    the limit covers the process's start-up (web.commands_solve.process_started), and pytest's
    process started long before. Commands run as processes keep the real start."""
    import time

    import optimizer.cli
    import web.commands_solve

    monkeypatch.setattr(web.commands_solve, "process_started", time.monotonic)
    monkeypatch.setattr(optimizer.cli, "process_start", time.perf_counter)
