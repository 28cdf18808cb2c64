"""`duijie token create USERNAME`: a personal access token for scripts and operators."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from web.extensions import db
from web.models import User
from web.services import tokens as service
from web.unit_of_work import unit_of_work


@click.group("token", cls=AppGroup)
def token_group() -> None:
    """Personal access tokens for the API."""


@token_group.command("create")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="A name to tell the token apart.")
@click.option(
    "--scope",
    type=click.Choice(service.SCOPES),
    default="write",
    show_default=True,
    help="read: GET only; write: whatever the user's role may do.",
)
@click.option(
    "--days", type=click.IntRange(1, service.MAX_DAYS), default=service.DEFAULT_DAYS,
    show_default=True, help="How long the token is valid.",
)  # fmt: skip
def create_command(username: str, name: str, scope: str, days: int) -> None:
    """Create a token for USERNAME and print it on the last line (it is shown only once)."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(_("no user %(username)s", username=repr(username)))
    try:
        with unit_of_work():
            made = service.create_token(db.session, user, name, scope=scope, days=days)
    except service.TokenError as error:
        reason = (
            _("the user is inactive")
            if error.code == "inactive"
            else _("give a --name of 1-64 characters")
        )
        raise click.ClickException(reason) from None
    click.echo(
        _("Token %(prefix)s… for %(user)s (%(role)s), %(scope)s, valid %(days)s days, shown "
          "only once:", prefix=made.token.prefix, user=user.username, role=user.role,
          scope=scope, days=days),
        err=True,
    )  # fmt: skip
    click.echo(made.secret)
