"""The production stack end to end: gunicorn and `duijie worker` on PostgreSQL and Redis.

A fresh PostgreSQL database is migrated and seeded with the demo by the CLI, gunicorn serves the
app with two workers, and `duijie worker` processes take the jobs from Redis (db 15). Over HTTP,
as the administrator: a preview's progress is watched until done; a work horse killed mid-job
(RQ reports it) and a whole worker machine killed mid-job (its heartbeat goes silent) each
leave the run failed with its reason and nothing stored, and each retry succeeds; one preview is
committed, a second commit of the week is refused, and the database holds exactly the pledges.

Runs only when PostgreSQL and Redis answer; CI sets DUIJIE_REQUIRE_SERVICES=1 to require it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from seeds.demo import WEEK

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.xdist_group("redis"),  # shares Redis db 15 with test_jobs' RQ test
]

PG_URL = os.environ.get("DUIJIE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("DUIJIE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BIN = Path(sys.executable).parent
STALE = 6  # seconds of heartbeat silence after which the stack takes a job for dead
PASSWORD = "demo-admin-2026"


def _services_or_skip() -> None:
    """Skip unless PostgreSQL and Redis answer (fail instead when CI requires them)."""
    import redis

    problems = []
    try:
        engine = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"))
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:
        problems.append(f"PostgreSQL at {PG_URL}: {error}")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as error:
        problems.append(f"Redis at {REDIS_URL}: {error}")
    if problems:
        if os.environ.get("DUIJIE_REQUIRE_SERVICES"):
            pytest.fail("DUIJIE_REQUIRE_SERVICES is set but " + "; ".join(problems))
        pytest.skip("needs PostgreSQL and Redis: " + "; ".join(problems))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    """The processes of the stack and their environment; stopped whatever happens."""

    def __init__(self, tmp: Path, database_url: str) -> None:
        self.tmp = tmp
        self.port = _free_port()
        self.queue = f"duijie-stack-{uuid.uuid4().hex[:8]}"  # its own: the Redis may be shared
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DUIJIE_DATABASE_URL": database_url,
            "DUIJIE_REDIS_URL": REDIS_URL,
            "DUIJIE_QUEUE": self.queue,
            "DUIJIE_SECRET_KEY": "stack-test-secret",
            "DUIJIE_JOB_STALE_SECONDS": str(STALE),
            "DUIJIE_UPLOAD_DIR": str(tmp / "uploads"),
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def cli(self, *args: str) -> str:
        """Run a duijie command to completion; its output."""
        done = subprocess.run(
            [str(BIN / "duijie"), *args],
            env=self.env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """Start a long-running process in its own session (so a kill takes its children)."""
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115  (closed with the process)
        process = subprocess.Popen(
            list(args),
            env=self.env,
            cwd=self.tmp,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes.append(process)
        return process

    def gunicorn(self) -> subprocess.Popen[bytes]:
        process = self.start(
            "gunicorn",
            str(BIN / "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "60",
            "web:create_app()",
        )
        wait_until(lambda: _answers(self.base + "/healthz"), 60, "gunicorn to answer", self)
        return process

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        return self.start(name, str(BIN / "duijie"), "worker", "--name", f"{name}-{os.getpid()}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                _kill_tree(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _kill_tree(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        for pid in _orphaned_horses():
            os.killpg(pid, signal.SIGKILL)

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.tmp.glob("*.log"))
        )


_started_children: set[int] = set()


def _children(pid: int) -> list[int]:
    """Direct children of a process, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _kill_tree(pid: int, sig: int) -> None:
    """Signal a process's group and its children's groups (RQ's work horse has its own)."""
    for child in _children(pid):
        _started_children.add(child)
        try:
            os.killpg(child, sig)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, sig)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _orphaned_horses() -> list[int]:
    """Work horses we saw that outlived their worker (each leads its own process group)."""
    alive = []
    for pid in sorted(_started_children):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"worker" in cmdline and os.getpgid(pid) == pid:
            alive.append(pid)
    return alive


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def wait_until(check: Callable[[], Any], seconds: float, what: str, stack: Stack) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` with the logs."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}\n{stack.logs()}")


@pytest.fixture
def database() -> Iterator[tuple[str, Engine]]:
    """A fresh PostgreSQL database for the stack, dropped afterwards."""
    _services_or_skip()
    admin_url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    name = f"duijie_stack_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name)
    engine = create_engine(url)
    yield url.render_as_string(hide_password=False), engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def stack(tmp_path: Path, database: tuple[str, Engine]) -> Iterator[Stack]:
    import redis

    from tests.web.week.test_jobs import forget_queue

    connection = redis.Redis.from_url(REDIS_URL)
    running = Stack(tmp_path, database[0])
    try:
        yield running
    finally:
        running.stop()
        forget_queue(connection, running.queue)
        connection.close()


class Admin:
    """An HTTP session signed in as the demo administrator, with the pages' CSRF tokens."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def csrf(self, path: str) -> str:
        page = self.http.get(self.base + path, timeout=30)
        assert page.status_code == 200, page.text[:500]
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        assert found is not None, page.text[:500]
        return found.group(1)

    def post(self, path: str, data: dict[str, str], token_from: str) -> requests.Response:
        form = {**data, "csrf_token": self.csrf(token_from)}
        return self.http.post(self.base + path, data=form, allow_redirects=False, timeout=60)

    def login(self) -> None:
        response = self.post("/login", {"username": "admin", "password": PASSWORD}, "/login")
        assert response.status_code == 302, response.text[:500]

    def preview(self, time_limit: int) -> int:
        form = {
            "week": WEEK,
            "fragmentation_penalty": "5",
            "distance_discount_per_km": "0.001",
            "fairness_floor": "0.3",
            "fairness_penalty": "200",
            "time_limit": str(time_limit),
        }
        response = self.post("/admin/week", form, "/admin/week")
        found = re.search(r"/admin/runs/(\d+)$", response.headers.get("Location", ""))
        assert response.status_code == 302 and found, response.text[:500]
        return int(found.group(1))

    def progress(self, run: int) -> dict[str, Any]:
        response = self.http.get(f"{self.base}/admin/runs/{run}/progress", timeout=30)
        assert response.status_code == 200, response.text[:500]
        return response.json()  # type: ignore[no-any-return]

    def page(self, run: int) -> str:
        return self.http.get(f"{self.base}/admin/runs/{run}", timeout=30).text


def watch(admin: Admin, run: int, stack: Stack, until: Callable[[dict], bool]) -> list[dict]:
    """The run's progress states, polled until `until` holds (3 minutes at most)."""
    seen: list[dict] = []

    def check() -> bool:
        seen.append(admin.progress(run))
        return until(seen[-1])

    wait_until(check, 180, f"run {run}", stack)
    return seen


def test_stack_previews_commits_and_survives_killed_workers(
    stack: Stack, database: tuple[str, Engine]
) -> None:
    _url, engine = database
    stack.cli("db", "upgrade")
    stack.cli("seed", "--demo")
    stack.gunicorn()
    first_worker = stack.worker("worker-a")
    admin = Admin(stack.base)
    admin.login()

    # 1. A preview, watched live until done.
    run = admin.preview(time_limit=3)
    seen = watch(admin, run, stack, lambda s: s["done"])
    assert seen[-1]["status"] == "preview", f"{seen[-1]['error']}\n{stack.logs()}"
    live = [s for s in seen if s["status"] == "running" and s["stage"] == "solving"]
    assert live, seen  # the bar moved: the page saw the solve running
    assert any(s["elapsed"] > 0 for s in live)
    assert seen[-1]["objective"] is not None and seen[-1]["fraction"] == 1.0
    assert "提交分配" in admin.page(run)

    # 2. The work horse dies mid-solve (out of memory, say): RQ reports it, the run fails.
    horse_run = admin.preview(time_limit=5)
    watch(admin, horse_run, stack, lambda s: s["stage"] == "solving")
    horses = _children(first_worker.pid)
    assert horses, stack.logs()
    for horse in horses:
        _started_children.add(horse)
        os.killpg(horse, signal.SIGKILL)
    failed = watch(admin, horse_run, stack, lambda s: s["done"])[-1]
    assert failed["status"] == "failed" and failed["error"].startswith("the worker failed")
    assert "计算进程在求解时出错" in admin.page(horse_run)

    # 3. A whole worker machine dies mid-solve: no heartbeat, the run fails after STALE s.
    machine_run = admin.preview(time_limit=5)
    watch(admin, machine_run, stack, lambda s: s["stage"] == "solving")
    _kill_tree(first_worker.pid, signal.SIGKILL)
    first_worker.wait(timeout=10)
    killed_at = time.monotonic()
    failed = watch(admin, machine_run, stack, lambda s: s["done"])[-1]
    assert failed["status"] == "failed", failed
    assert failed["error"].startswith("the worker stopped responding"), failed
    assert time.monotonic() - killed_at < STALE + 30
    page = admin.page(machine_run)
    assert "计算进程已无响应" in page and "重试" in page
    with engine.connect() as conn:
        for lost in (horse_run, machine_run):
            row = conn.execute(
                text("SELECT output, input FROM allocation_run WHERE id = :id"), {"id": lost}
            ).one()
            assert row.output is None and row.input is None  # nothing half-written

    # 4. Retries on a fresh worker (another machine) succeed.
    stack.worker("worker-b")
    retried = []
    for lost in (horse_run, machine_run):
        response = admin.post(f"/admin/runs/{lost}/retry", {}, f"/admin/runs/{lost}")
        found = re.search(r"/admin/runs/(\d+)$", response.headers.get("Location", ""))
        assert response.status_code == 302 and found and int(found.group(1)) != lost
        retried.append(int(found.group(1)))
    for new in retried:
        state = watch(admin, new, stack, lambda s: s["done"])[-1]
        assert state["status"] == "preview", f"{state['error']}\n{stack.logs()}"

    # 5. Commit one preview; a second commit of the week is refused; the database agrees.
    chosen = retried[-1]
    with engine.connect() as conn:
        before = conn.execute(text("SELECT coalesce(sum(allocated), 0) FROM offer")).scalar()
    response = admin.post(
        f"/admin/runs/{chosen}/commit", {"confirm": "yes"}, f"/admin/runs/{chosen}"
    )
    assert response.status_code == 302
    assert "已提交" in admin.page(chosen)
    response = admin.post(f"/admin/runs/{run}/commit", {"confirm": "yes"}, f"/admin/runs/{run}")
    page = admin.http.get(stack.base + response.headers["Location"], timeout=30).text
    assert "本周已提交分配，不能再次提交" in page
    with engine.connect() as conn:
        runs = dict(conn.execute(text("SELECT id, status FROM allocation_run")).all())
        assert runs[chosen] == "committed" and runs[run] == "preview"
        assert runs[horse_run] == runs[machine_run] == "failed"
        committed = conn.execute(
            text("SELECT count(*) FROM allocation_run WHERE committed_week = :w"), {"w": WEEK}
        ).scalar()
        assert committed == 1
        pledges = conn.execute(
            text("SELECT count(*), coalesce(sum(quantity), 0) FROM allocation WHERE run_id = :r"),
            {"r": chosen},
        ).one()
        output = conn.execute(
            text("SELECT output FROM allocation_run WHERE id = :r"), {"r": chosen}
        ).scalar()
        assert pledges[0] == len(output["allocations"]) > 0
        assert pledges[1] == sum(int(a["quantity"]) for a in output["allocations"])
        allocated = conn.execute(text("SELECT coalesce(sum(allocated), 0) FROM offer")).scalar()
        assert allocated == before + pledges[1]
