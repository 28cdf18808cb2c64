"""Browser tests: Debian's chromium driven by Playwright against the app on a real server.

Each test module gets its own server (werkzeug in a thread, CSRF on, as in production) on a
fresh SQLite database migrated with Alembic and seeded with the demo week. Pages are checked
for console errors, failed requests and server errors while a test runs; screenshots of key
steps go under ``build/browser-screenshots/<test>/``, printed at the end of the run.

The browser is never downloaded: without /usr/bin/chromium these tests are skipped with the
reason (``apt-get install -y chromium``), except in CI (DUIJIE_REQUIRE_SERVICES=1), where a
missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "browser-screenshots"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = "chromium not installed at /usr/bin/chromium (apt-get install -y chromium)"
    if os.environ.get("DUIJIE_REQUIRE_SERVICES"):
        pytest.fail(f"{reason}; CI requires the browser tests to run")
    pytest.skip(reason)


@dataclass
class LiveServer:
    """The app served on a free local port, and its Flask app for checking the database."""

    url: str
    app: Any

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A fresh demo database behind a real HTTP server, one per test module."""
    from flask_migrate import upgrade

    from web import create_app
    from web.extensions import db
    from web.services.seeding import seed

    folder = tmp_path_factory.mktemp("live")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'duijie.sqlite3'}",
            "SECRET_KEY": "browser-test-secret",
            "DUIJIE_UPLOAD_DIR": str(folder / "uploads"),
        }
    )
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parents[2] / "web" / "migrations"))
        seed(db.session, demo=True)
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless chromium per test process."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@dataclass
class PageWatch:
    """What went wrong on the pages of one test: console errors, failed or refused requests."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    # Statuses a test provokes on purpose (a form refused with 400, say), by URL pattern.
    allowed: list[tuple[int, re.Pattern[str]]] = field(default_factory=list)

    def allow(self, status: int, url_pattern: str = ".*") -> None:
        self.allowed.append((status, re.compile(url_pattern)))

    def record_response(self, response: Any) -> None:
        if response.status < 400:
            return
        if any(s == response.status and p.search(response.url) for s, p in self.allowed):
            return
        self.bad_responses.append(f"{response.status} {response.request.method} {response.url}")

    def record_failure(self, request: Any) -> None:
        # A request cut short because the page moved on (net::ERR_ABORTED: the favicon of a
        # page the user has already left, say) is not a failure the user could notice.
        if request.failure and "ERR_ABORTED" in request.failure:
            return
        self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def problems(self) -> list[str]:
        return [
            *(f"console error: {text}" for text in self.console_errors),
            *(f"request failed: {text}" for text in self.failed_requests),
            *(f"bad response: {text}" for text in self.bad_responses),
        ]


class Browse:
    """A signed-out browser tab at a given size, with screenshots and page checks."""

    def __init__(self, browser: Any, server: LiveServer, name: str, watch: PageWatch) -> None:
        self.browser = browser
        self.server = server
        self.name = name
        self.watch = watch
        self.contexts: list[Any] = []
        self.shots = 0

    def tab(self, viewport: dict[str, int] | None = None) -> Any:
        """A new page in a fresh context (its own cookies), watched for errors."""
        context = self.browser.new_context(
            viewport=viewport or DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        context.set_default_timeout(30_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                self.watch.console_errors.append(f"{message.text} ({page.url})")
                if message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: self.watch.console_errors.append(str(error)))
        page.on("requestfailed", self.watch.record_failure)
        page.on("response", self.watch.record_response)
        return page

    def shot(self, page: Any, step: str) -> Path:
        """Save a full-page screenshot of a key step."""
        self.shots += 1
        folder = SCREENSHOTS / self.name
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.shots:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True, timeout=60_000)
        return path

    def sign_in(self, page: Any, username: str, password: str | None = None) -> None:
        """Sign in through the login form, by its Chinese labels."""
        page.goto(self.server("/login"))
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password or f"demo-{username}-2026")
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        assert "/login" not in page.url, f"{username} could not sign in"

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browse(
    browser: Any, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Browse]:
    """Tabs for one test; at the end, every page visited must have been free of errors."""
    watch = PageWatch()
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name).strip("-")
    session = Browse(browser, live_server, name, watch)
    yield session
    session.close()
    problems = watch.problems()
    assert not problems, "errors on the pages visited:\n" + "\n".join(problems)


def no_sideways_scroll(page: Any) -> None:
    """Fail if the page is wider than the viewport (a phone user would have to scroll sideways)."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth, location.pathname]"
    )
    assert widths[0] <= widths[1], f"{widths[2]} is {widths[0]} px wide on a {widths[1]} px screen"
