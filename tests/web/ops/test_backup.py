"""`duijie backup` and `duijie restore`: an online copy of the SQLite database, checked restores."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from flask import Flask

from web import create_app
from web.commands_backup import backup_command, restore_command
from web.services.backup import head_revision, sqlite_path, table_digests

WRITER_TABLE = "notification"

pytestmark = pytest.mark.usefixtures("english_commands")


def _stamp(path: Path, revision: str) -> None:
    """Record the Alembic revision, as `duijie db upgrade` does (the test schema is create_all)."""
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) PRIMARY KEY)"
        )
        connection.execute("DELETE FROM alembic_version")
        connection.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
    connection.close()


class Writer(threading.Thread):
    """Writes pairs of notifications, each pair in one transaction, until stopped."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.pairs = 0
        self.stop = threading.Event()

    def run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        user = connection.execute("SELECT min(id) FROM user_account").fetchone()[0]
        while not self.stop.is_set():
            connection.execute("BEGIN IMMEDIATE")
            for half in ("a", "b"):
                connection.execute(
                    "INSERT INTO notification (user_id, kind, message, created_at) "
                    "VALUES (?, 'backup_test', ?, '2026-11-25 08:00:00')",
                    (user, f"pair {self.pairs} {half}"),
                )
            connection.execute("COMMIT")
            self.pairs += 1
            time.sleep(0.002)
        connection.close()

    def wait_for(self, pairs: int) -> None:
        deadline = time.monotonic() + 60
        while self.pairs < pairs and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.pairs >= pairs, "the writer made no progress"


def _pairs_in(path: Path) -> list[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT message FROM notification WHERE kind = 'backup_test' ORDER BY id"
        ).fetchall()
    connection.close()
    return [message for (message,) in rows]


def _app_on(path: Path) -> Flask:
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "test", "TESTING": True}
    )


def test_backup_while_a_writer_is_active_restores_every_table_exactly(
    demo_app: Flask, backend: str, tmp_path: Path
) -> None:
    runner = demo_app.test_cli_runner()
    copy = tmp_path / "backups" / "duijie-2026-11-25.sqlite3"
    if backend == "postgresql":
        for command, args in (
            (backup_command, [str(copy)]),
            (restore_command, [str(copy), "--yes"]),
        ):
            result = runner.invoke(command, args)
            assert result.exit_code == 1 and "pg_dump" in result.output, result.output
            assert "Traceback" not in result.output
        return
    live = sqlite_path(demo_app.config["SQLALCHEMY_DATABASE_URI"])
    _stamp(live, head_revision())
    writer = Writer(live)
    writer.start()
    try:
        writer.wait_for(20)
        result = runner.invoke(backup_command, [str(copy)])
        writer.wait_for(writer.pairs + 20)  # still writing after the copy
    finally:
        writer.stop.set()
        writer.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert "Backed up to" in result.output and "tables" in result.output

    # The copy is one consistent moment: whole pairs only, none missing before the last one.
    saved = _pairs_in(copy)
    count = len(saved) // 2
    assert saved == [f"pair {i} {h}" for i in range(count) for h in "ab"]
    assert 20 <= count < writer.pairs
    live_tables, saved_tables = table_digests(live), table_digests(copy)
    assert set(saved_tables) == set(live_tables)
    for table, digest in live_tables.items():
        if table != WRITER_TABLE:
            assert saved_tables[table] == digest, table

    # Restored into a new place, every table's rows and checksum equal the backup's.
    fresh = tmp_path / "restored" / "duijie.sqlite3"
    restored = _app_on(fresh).test_cli_runner().invoke(restore_command, [str(copy)])
    assert restored.exit_code == 0, restored.output
    assert table_digests(fresh) == saved_tables
    assert sum(n for n, _digest in saved_tables.values()) > 5000


def test_backup_and_restore_refuse_what_would_lose_or_damage_data(
    demo_app: Flask, backend: str, tmp_path: Path
) -> None:
    if backend == "postgresql":
        return  # the PostgreSQL answer is checked above
    runner = demo_app.test_cli_runner()
    live = sqlite_path(demo_app.config["SQLALCHEMY_DATABASE_URI"])
    _stamp(live, head_revision())
    copy = tmp_path / "copy.sqlite3"
    assert runner.invoke(backup_command, [str(copy)]).exit_code == 0
    before = table_digests(live)

    again = runner.invoke(backup_command, [str(copy)])
    assert again.exit_code == 1 and "--yes" in again.output
    assert runner.invoke(backup_command, [str(copy), "--yes"]).exit_code == 0

    over_live = runner.invoke(restore_command, [str(copy)])
    assert over_live.exit_code == 1 and "--yes" in over_live.output

    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database", encoding="utf-8")
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()
    old = tmp_path / "old.sqlite3"
    old.write_bytes(copy.read_bytes())
    _stamp(old, "ccaaa608a9d0")
    refusals = {
        text_file: "not an SQLite database",
        other: "not a duijie database",
        old: "revision ccaaa608a9d0",
        tmp_path / "missing.sqlite3": "no backup",
    }
    for path, reason in refusals.items():
        result = runner.invoke(restore_command, [str(path), "--yes"])
        assert result.exit_code == 1 and reason in result.output, result.output
        assert "Traceback" not in result.output
    assert table_digests(live) == before  # nothing was touched by the refusals

    done = runner.invoke(restore_command, [str(copy), "--yes"])
    assert done.exit_code == 0 and "Restored" in done.output, done.output
    assert table_digests(live) == before


def test_backup_and_restore_are_duijie_commands(demo_app: Flask, backend: str) -> None:
    if backend == "postgresql":
        return
    runner = demo_app.test_cli_runner()
    for name in ("backup", "restore"):
        result = runner.invoke(args=[name, "--help"])
        assert result.exit_code == 0 and "--yes" in result.output, result.output
