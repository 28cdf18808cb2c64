"""Commands moving data in and out: `duijie import`, `duijie export`, `duijie send-mail`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from web.extensions import db
from web.models import User


def _actor(username: str | None) -> User | None:
    if username is None:
        return None
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(_("no user %(username)s", username=repr(username)))
    return user


@click.command("import")
@click.argument(
    "kind",
    type=click.Choice(["accounts", "offers", "needs", "villages", "pairing", "cadres"]),
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as",
    "username",
    default="admin",
    show_default=True,
    help="Who imports: an administrator (accounts, needs, villages, the pairing plan, cadres), "
    "a vetted donor (its offers), a village committee (its needs, its households' cadres).",
)
@click.option(
    "--lang",
    type=click.Choice(["zh_CN", "en"]),
    default=lambda: os.environ.get("DUIJIE_LANG") or "zh_CN",
    show_default="DUIJIE_LANG, else zh_CN",
    help="The language of the messages (the sheet's headers may be in either).",
)
@with_appcontext
def import_command(kind: str, file: Path, username: str, lang: str) -> None:
    """Import KIND from an XLSX or UTF-8 CSV FILE: every row checked, all or nothing.

    Exit 1 with one line per problem (row, column, what is wrong) when any row is invalid.
    """
    with force_locale(lang):
        _import(kind, file, username)


def _import(kind: str, file: Path, username: str) -> None:
    from web import clock
    from web.services.audit import acting_as
    from web.services.sheets import ImportDenied, ImportFileError, SheetSettings, import_file

    actor = _actor(username)
    assert actor is not None
    try:
        with acting_as(actor):  # the audit trail names who imported
            settings = SheetSettings.from_config(current_app.config, clock.today())
            report = import_file(db.session, kind, file.read_bytes(), actor, settings=settings)
            if report.ok:
                db.session.commit()  # the command commits what the import wrote
    except (ImportDenied, ImportFileError) as error:
        raise click.ClickException(str(error)) from None
    for name in report.ignored_columns:
        click.echo(_("Ignored a column that is not in the template: %(name)s", name=name), err=True)
    for recognised in report.recognised:  # the kinds filled from titles, for the user to check
        click.echo(str(recognised))
    if not report.ok:
        for problem in report.errors:
            click.echo(str(problem), err=True)
        click.echo(
            _("%(count)s problems: nothing was imported.", count=len(report.errors)), err=True
        )
        sys.exit(1)
    click.echo(
        _("All %(rows)s rows are valid: %(created)s records imported.",
          rows=report.rows, created=report.created)
    )  # fmt: skip
    if report.households_created:
        click.echo(
            _("%(count)s poor households newly registered.", count=report.households_created)
        )
    for account, password in report.passwords:
        click.echo(_("Initial password %(account)s\t%(password)s", account=account,
                     password=password))  # fmt: skip


@click.command("export")
@click.argument(
    "kind",
    type=click.Choice(
        ["offers", "needs", "accounts", "ledger", "villages", "pairing", "cadres"]
    ),
)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--as",
    "username",
    default=None,
    help="Export what this user may see (a committee: its needs with masked household "
    "names). Without it offers and needs are exported for the public: no household.",
)
@with_appcontext
def export_command(kind: str, file: Path, username: str | None) -> None:
    """Export KIND to FILE; .csv or .xlsx by the file's suffix."""
    from web.services.sheets import (
        KIND_NAMES,
        ImportDenied,
        ImportFileError,
        export_table_of,
        table_bytes,
    )

    suffix = file.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise click.ClickException(_("FILE must end in .csv or .xlsx"))
    try:
        table = export_table_of(db.session, kind, _actor(username))
    except (ImportDenied, ImportFileError) as error:
        raise click.ClickException(str(error)) from None
    file.write_bytes(table_bytes(table, suffix, KIND_NAMES[kind]))
    click.echo(_("Exported %(rows)s %(kind)s to %(file)s.", rows=len(table) - 1, kind=kind,
                 file=file))  # fmt: skip


@click.command("send-mail")
@click.option("--limit", type=click.IntRange(min=1), default=500, show_default=True)
@with_appcontext
def send_mail_command(limit: int) -> None:
    """Send pending outbox e-mail; a message that fails stays pending with its error.

    Exit 1 when any message failed (run it again later, e.g. from cron).
    """
    from web.services.outbox import MailConfigError, mail_settings, pending_count, send_pending

    settings = mail_settings(current_app.config)
    if settings is None:
        raise click.ClickException(
            _("mail is not configured: set DUIJIE_SMTP_URL and DUIJIE_MAIL_FROM")
        )
    try:
        report = send_pending(db.session, settings.smtp_url, settings.sender, limit=limit)
    except MailConfigError as error:
        raise click.ClickException(str(error)) from None
    left = pending_count(db.session)
    click.echo(
        _("Sent %(sent)s, failed %(failed)s, still pending %(left)s.", sent=report.sent,
          failed=report.failed, left=left)
    )  # fmt: skip
    if report.stopped:
        click.echo(
            _("Stopped: the mail server could not be reached (%(reason)s).",
              reason=report.stopped),
            err=True,
        )  # fmt: skip
    if report.failed:
        sys.exit(1)


def register(app: Flask) -> None:
    """Add the data and mail commands to the app's CLI."""
    for command in (import_command, export_command, send_mail_command):
        app.cli.add_command(command)
