"""The files in deploy/ are checked without building or starting anything.

- the systemd units pass `systemd-analyze verify` (their programs pointed at this checkout's);
- the compose file validates against the Compose Specification's JSON schema (vendored in
  tests/data, no network) and runs what the units run;
- the nginx sample passes `nginx -t` (CI installs Debian's nginx);
- the backup script makes a dump pg_restore can read (PostgreSQL);
- the Dockerfile copies only what exists and starts gunicorn with the config that gunicorn
  itself accepts.

A tool that is missing skips its test, unless DUIJIE_REQUIRE_SERVICES is set (CI).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
SCHEDULED = ("send-mail", "prune", "audit-verify", "backup")


def _tool(name: str) -> str:
    path = shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if path is None:
        if os.environ.get("DUIJIE_REQUIRE_SERVICES"):
            pytest.fail(f"{name} is not installed (CI requires it: see .ci/run)")
        pytest.skip(f"{name} is not installed")
    return path


def _units(tmp_path: Path) -> Path:
    """The units with their programs pointed at this checkout (verify checks they exist)."""
    out = tmp_path / "units"
    out.mkdir()
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text(encoding="utf-8")
        text = text.replace("/opt/duijie/venv/bin/", f"{BIN}/")
        text = text.replace("/usr/local/bin/duijie-backup", str(DEPLOY / "backup.sh"))
        (out / unit.name).write_text(text, encoding="utf-8")
    return out


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    tool = _tool("systemd-analyze")
    units = _units(tmp_path)
    names = sorted(p.name for p in units.iterdir())
    # A template is verified through an instance of it.
    targets = [str(units / n.replace("@.service", "@1.service")) for n in names]
    shutil.copy(units / "duijie-worker@.service", units / "duijie-worker@1.service")
    result = subprocess.run(
        [tool, "verify", "--man=no", *targets], capture_output=True, text=True, timeout=60
    )
    problems = [line for line in (result.stdout + result.stderr).splitlines() if "duijie" in line]
    assert result.returncode == 0 and not problems, result.stdout + result.stderr


def test_every_scheduled_job_has_a_timer_and_a_scheduler_turn() -> None:
    units = {p.name for p in (DEPLOY / "systemd").iterdir()}
    scheduler = (DEPLOY / "scheduler.sh").read_text(encoding="utf-8")
    for job in SCHEDULED:
        assert f"duijie-{job}.service" in units and f"duijie-{job}.timer" in units, job
        assert f"run {job} " in scheduler, job
        service = (DEPLOY / "systemd" / f"duijie-{job}.service").read_text(encoding="utf-8")
        assert "Type=oneshot" in service
    for name in units:
        text = (DEPLOY / "systemd" / name).read_text(encoding="utf-8")
        if name.endswith(".service"):
            assert "EnvironmentFile=/etc/duijie/env" in text and "User=duijie" in text, name
    assert subprocess.run(["sh", "-n", str(DEPLOY / "scheduler.sh")]).returncode == 0
    assert subprocess.run(["sh", "-n", str(DEPLOY / "backup.sh")]).returncode == 0


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_file_validates_against_the_compose_schema() -> None:
    schema = json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text("utf-8"))
    document = _compose()
    jsonschema.Draft7Validator(schema).validate(document)
    # The schema is not a rubber stamp: a misspelt key is refused.
    broken = json.loads(json.dumps(document))
    broken["services"]["web"]["comand"] = ["gunicorn"]
    with pytest.raises(jsonschema.ValidationError, match="comand"):
        jsonschema.Draft7Validator(schema).validate(broken)


def test_compose_stack_runs_the_whole_deployment() -> None:
    services = _compose()["services"]
    assert {"db", "redis", "migrate", "web", "worker", "scheduler", "nginx"} <= set(services)
    assert services["web"]["command"][0] == "gunicorn"
    assert services["worker"]["command"] == ["duijie", "worker"]
    assert services["scheduler"]["command"] == ["duijie-scheduler"]
    assert services["migrate"]["command"] == ["duijie", "db", "upgrade"]
    for name in ("web", "worker", "scheduler"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        env = services[name]["environment"]
        assert (
            env["DUIJIE_DATABASE_URL"].startswith("postgresql://")
            and "@db:" in env["DUIJIE_DATABASE_URL"]
        )
        assert env["DUIJIE_REDIS_URL"].startswith("redis://redis:")
        assert env["DUIJIE_INSTANCE_PATH"]
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])


def test_dockerfile_copies_what_exists_and_gunicorn_accepts_its_config() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"
    assert "-c requirements.lock" in dockerfile
    result = subprocess.run(
        [str(BIN / "gunicorn"), "--config", "python:web.gunicorn_conf", "--check-config",
         "web:create_app()"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "DUIJIE_DATABASE_URL": "sqlite://", "DUIJIE_SECRET_KEY": "x" * 64},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_nginx_sample_passes_nginx_t(tmp_path: Path) -> None:
    nginx = _tool("nginx")
    sample = (DEPLOY / "nginx" / "duijie.conf").read_text(encoding="utf-8")
    # Logs into the temporary folder: the test needs no /var/log/nginx.
    sample = sample.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "duijie.conf").write_text(sample, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  include {tmp_path}/duijie.conf;\n}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0 and "test is successful" in result.stderr, result.stderr
    # /metrics stays inside: the proxy answers it with 404.
    assert re.search(r"location = /metrics \{\s*return 404;", sample)


@pytest.mark.postgres
def test_backup_script_writes_a_dump_pg_restore_reads(pg: object, tmp_path: Path) -> None:
    _tool("pg_dump")
    from sqlalchemy import create_engine, text

    url = pg.recreate("duijie_backup_script")  # type: ignore[attr-defined]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE kept (id integer primary key, note text)"))
        conn.execute(text("INSERT INTO kept VALUES (1, '对接')"))
    engine.dispose()
    old = tmp_path / "duijie-2000-01-01T000000Z.dump"
    old.write_bytes(b"old")
    os.utime(old, (946684800, 946684800))
    env = {**os.environ, "DUIJIE_DATABASE_URL": url, "DUIJIE_BACKUP_DIR": str(tmp_path),
           "DUIJIE_BACKUP_KEEP_DAYS": "30"}  # fmt: skip
    result = subprocess.run(
        ["sh", str(DEPLOY / "backup.sh")], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    dumps = sorted(tmp_path.glob("duijie-*.dump"))
    assert len(dumps) == 1 and dumps[0] != old  # the old one was removed, the new one is whole
    assert not list(tmp_path.glob("*.part"))
    listing = subprocess.run(
        ["pg_restore", "--list", str(dumps[0])], capture_output=True, text=True, timeout=60
    )
    assert listing.returncode == 0 and "TABLE public kept" in listing.stdout
