"""`duijie backup PATH` and `duijie restore PATH`: the embedded SQLite database (docs/backup.md)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace PATH if it exists.")
@with_appcontext
def backup_command(path: Path, yes: bool) -> None:
    """Copy the running SQLite database to PATH (online; PostgreSQL: use pg_dump)."""
    from web.services.backup import BackupError, backup

    try:
        report = backup(current_app.config["SQLALCHEMY_DATABASE_URI"], path, replace=yes)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(_("Backed up to %(summary)s", summary=report.summary()))


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the current database.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace the SQLite database with the backup at PATH (stop duijie first)."""
    from web.extensions import db
    from web.services.backup import BackupError, restore

    db.engine.dispose()  # this process's own connections must not outlive the old file
    try:
        report = restore(current_app.config["SQLALCHEMY_DATABASE_URI"], path, replace=yes)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(_("Restored %(summary)s", summary=report.summary()))


def register(app: Flask) -> None:
    """Add the backup and restore commands."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
