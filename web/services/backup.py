"""Backup and restore of the embedded SQLite database, safe while the app runs.

`backup` copies the live database with SQLite's online backup API in one step: it reads a
consistent snapshot (writers wait for the copy, for at most the busy timeout) into a temporary
file beside the target, checks it, and renames it into place. `restore` checks that a file is a
duijie database at the code's Alembic revision, copies it the same way to a temporary file
beside the live database and renames it over it. PostgreSQL databases are backed up with
pg_dump and restored with pg_restore (docs/backup.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

# Tables every duijie database has; a file without them is not one.
DUIJIE_TABLES = frozenset({"alembic_version", "user_account", "village", "offer", "need"})
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 30.0


class BackupError(Exception):
    """A backup or restore was refused or failed; the message says why and what to do."""


@dataclass(frozen=True)
class Report:
    """What was copied: the revision, each table's row count, the file's size."""

    path: Path
    revision: str
    rows: dict[str, int]
    size: int

    def summary(self) -> str:
        total = sum(self.rows.values())
        return (
            f"{self.path}: {len(self.rows)} tables, {total} rows, "
            f"revision {self.revision}, {self.size:,} bytes"
        )


def sqlite_path(database_url: str) -> Path:
    """The file of an SQLite database URL, or BackupError saying how to back up the others."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        raise BackupError(
            f"the database is {url.get_backend_name()}, not the embedded SQLite file: back it "
            "up with pg_dump and restore it with pg_restore (see docs/backup.md)"
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def head_revision() -> str:
    """The Alembic revision this code's migrations end at."""
    from alembic.script import ScriptDirectory

    from web.config import MIGRATIONS_DIR

    head = ScriptDirectory(MIGRATIONS_DIR).get_current_head()
    assert head is not None
    return head


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    mode = "ro" if readonly else "rwc"
    return sqlite3.connect(f"file:{path}?mode={mode}", uri=True, timeout=BUSY_TIMEOUT_S)


def _tables(connection: sqlite3.Connection) -> list[str]:
    query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    return sorted(name for (name,) in connection.execute(query))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_database(path: Path) -> Report:
    """Open a file read-only and check it is an intact duijie database at the head revision."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise BackupError(f"cannot read {path}: {error.strerror}") from None
    if header != SQLITE_HEADER:
        raise BackupError(f"{path} is not an SQLite database")
    with contextlib.closing(_connect(path, readonly=True)) as connection:
        try:
            verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
            tables = _tables(connection)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{path} is damaged: {error}") from None
        if verdict != "ok":
            raise BackupError(f"{path} is damaged: {verdict}")
        missing = sorted(DUIJIE_TABLES - set(tables))
        if missing:
            raise BackupError(f"{path} is not a duijie database (no {', '.join(missing)} table)")
        revisions = [r for (r,) in connection.execute("SELECT version_num FROM alembic_version")]
        head = head_revision()
        if revisions != [head]:
            found = ", ".join(revisions) or "none"
            raise BackupError(
                f"{path} is at database revision {found}, this duijie expects {head}: restore it "
                "with the duijie version that made it, or upgrade it first (duijie db upgrade)"
            )
        # Bandit B608 is silenced: the table names are quoted and read from the file itself.
        rows = {
            t: connection.execute(f"SELECT count(*) FROM {_quoted(t)}").fetchone()[0]  # noqa: S608  # nosec B608
            for t in tables
        }
    return Report(path, head, rows, path.stat().st_size)


def table_digests(path: Path) -> dict[str, tuple[int, str]]:
    """Each table's row count and SHA-256 of its rows sorted by every column (compares copies)."""
    out = {}
    with contextlib.closing(_connect(path, readonly=True)) as connection:
        for table in _tables(connection):
            digest = hashlib.sha256()
            count = 0
            columns = [c[1] for c in connection.execute(f"PRAGMA table_info({_quoted(table)})")]
            order = ", ".join(_quoted(c) for c in columns)
            # Bandit B608 is silenced: only quoted table and column names read from the file.
            query = f"SELECT * FROM {_quoted(table)} ORDER BY {order}"  # noqa: S608  # nosec B608
            for row in connection.execute(query):
                digest.update(repr(row).encode())
                count += 1
            out[table] = (count, digest.hexdigest())
    return out


def _copy(source: Path, target: Path) -> None:
    """Copy an SQLite database with the online backup API to a temporary file, then rename."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        with (
            contextlib.closing(_connect(source, readonly=True)) as src,
            contextlib.closing(_connect(temporary, readonly=False)) as dst,
        ):
            # One step: a consistent snapshot even while another process writes.
            src.backup(dst, pages=-1)
        check_database(temporary)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except sqlite3.OperationalError as error:
        raise BackupError(f"the copy failed: {error}; try again") from None
    finally:
        temporary.unlink(missing_ok=True)


def backup(database_url: str, target: Path, *, replace: bool = False) -> Report:
    """Copy the live SQLite database to `target` (refuses an existing file unless `replace`)."""
    source = sqlite_path(database_url)
    if not source.exists():
        raise BackupError(f"there is no database at {source} to back up")
    check_database(source)
    if target.exists() and not replace:
        raise BackupError(f"{target} already exists; give --yes to replace it")
    if target.resolve() == source.resolve():
        raise BackupError("the backup cannot be the live database itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(source, target)
    return check_database(target)


def restore(database_url: str, backup_file: Path, *, replace: bool = False) -> Report:
    """Replace the SQLite database with a checked backup (refuses to overwrite unless `replace`).

    Stop duijie (web and worker processes) first: connections that are open keep reading the
    file that was replaced.
    """
    target = sqlite_path(database_url)
    if not backup_file.exists():
        raise BackupError(f"there is no backup at {backup_file}")
    check_database(backup_file)
    if backup_file.resolve() == target.resolve():
        raise BackupError("the backup is the live database itself")
    if target.exists() and not replace:
        raise BackupError(f"{target} exists and would be replaced; give --yes to replace it")
    for suffix in ("-journal", "-wal"):
        leftover = target.with_name(target.name + suffix)
        if leftover.exists() and leftover.stat().st_size > 0:
            raise BackupError(
                f"{leftover} exists: duijie is running or did not stop cleanly; stop it, "
                "start it once so SQLite recovers, stop it again, then restore"
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(backup_file, target)
    return check_database(target)
