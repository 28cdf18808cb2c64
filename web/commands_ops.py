"""Operations commands: `duijie prune` (run hourly by deploy/'s timer and scheduler)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_babel import gettext as _


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
    for name, count in counts.items():
        shown = {"count": f"{count:>7}", "name": name, "days": days[name]}
        click.echo(
            _("Would prune %(count)s %(name)s (older than %(days)s days)", **shown)
            if dry_run
            else _("Pruned %(count)s %(name)s (older than %(days)s days)", **shown)
        )


def register(app: Flask) -> None:
    """Add the operations commands."""
    app.cli.add_command(prune_command)
