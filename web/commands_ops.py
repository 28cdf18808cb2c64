"""Operations commands: `duijie prune` (run hourly by deploy/'s timer and scheduler)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext


@click.command("prune")
@click.option("--dry-run", is_flag=True, help="Count what would go; change nothing.")
@with_appcontext
def prune_command(dry_run: bool) -> None:
    """Delete events and keys past their retention (DUIJIE_RETAIN_<NAME>_DAYS); the audit
    trail is kept."""
    from web.extensions import db
    from web.services.retention import RetentionError, prune, retention_days

    try:
        days = retention_days()
    except RetentionError as error:
        raise click.ClickException(str(error)) from None
    counts = prune(db.session, days, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    verb = "Would prune" if dry_run else "Pruned"
    for name, count in counts.items():
        click.echo(f"{verb} {count:>7} {name} (older than {days[name]} days)")


def register(app: Flask) -> None:
    """Add the operations commands."""
    app.cli.add_command(prune_command)
