"""Operations commands: `duijie prune` (run hourly by deploy/'s timer and scheduler) and
`duijie escalate` (daily: tell each county office what waits too long in its county)."""

from __future__ import annotations

import os

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
        days = retention_days(os.environ)  # read when the command runs, as cron sets it
    except RetentionError as error:
        raise click.ClickException(str(error)) from None
    counts = prune(db.session, days, dry_run=dry_run)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
        _flush_token_uses()
    for name, count in counts.items():
        shown = {"count": f"{count:>7}", "name": name, "days": days[name]}
        click.echo(
            _("Would prune %(count)s %(name)s (older than %(days)s days)", **shown)
            if dry_run
            else _("Pruned %(count)s %(name)s (older than %(days)s days)", **shown)
        )
    if not dry_run:
        _run_claims()


def _run_claims() -> None:
    """Expire claims on micro-wishes past their days (the wishes return to the pool) and tell
    donors whose claims expire within a day; one unit of work."""
    from datetime import UTC, datetime

    from web.extensions import db
    from web.services.claims import expire_and_remind

    expired, reminded = expire_and_remind(db.session, datetime.now(UTC))
    db.session.commit()
    click.echo(
        _(
            "Claims: %(expired)s expired, %(reminded)s donors reminded",
            expired=expired,
            reminded=reminded,
        )
    )


@click.command("claims")
@with_appcontext
def claims_command() -> None:
    """Expire claims on micro-wishes not dispatched in time and remind donors a day before
    (also done by `duijie prune`)."""
    _run_claims()


def _flush_token_uses() -> None:
    """Write the API token uses that reads noted in Redis to the tokens' last_used_at."""
    from web.api.access import token_uses
    from web.extensions import db
    from web.services.tokens import flush_uses

    uses = token_uses()
    if uses is None:
        return
    try:
        updated, moved = flush_uses(db.session, uses)
        db.session.commit()
    except Exception as error:
        db.session.rollback()
        click.echo(_("Token uses not written: %(error)s", error=error), err=True)
        return
    if moved is not None:
        uses.delete(moved)
    click.echo(_("Wrote the last use of %(count)s API tokens", count=updated))


@click.command("escalate")
@with_appcontext
def escalate_command() -> None:
    """Notify each county office of its needs unverified past DUIJIE_ESCALATE_VERIFY_DAYS days
    and its overdue pledges (once a day; a second run the same day adds nothing)."""
    from flask import current_app

    from web.extensions import db
    from web.models.base import utcnow
    from web.services.escalation import notify_counties

    days = int(current_app.config.get("DUIJIE_ESCALATE_VERIFY_DAYS") or 7)
    sent = notify_counties(db.session, utcnow(), days, link="/county#escalations")
    db.session.commit()
    click.echo(_("Escalation notices sent to %(count)s county offices", count=sent))


def register(app: Flask) -> None:
    """Add the operations commands."""
    app.cli.add_command(prune_command)
    app.cli.add_command(escalate_command)
    app.cli.add_command(claims_command)
