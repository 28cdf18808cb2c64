"""duijie's own commands, added to the Flask CLI group next to Flask-Migrate's `db`."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from web.extensions import db


@click.command("seed")
@click.option("--demo", is_flag=True, help="Also add demo organizations, users, offers and needs.")
@with_appcontext
def seed_command(demo: bool) -> None:
    """Load Hezhou's villages (and with --demo the demo week); seeding twice adds nothing."""
    from seeds.demo import DEMO_LOGINS
    from web.services.seeding import seed

    report = seed(db.session, demo=demo)
    added = ", ".join(f"{kind} {n}" for kind, n in report.added.items() if n) or "nothing"
    click.echo(f"Seeded: {added}.")
    if demo:
        click.echo("Demo logins (username / password):")
        for role, username, password in DEMO_LOGINS:
            click.echo(f"  {role:<9} {username:<10} {password}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the app with the development server (production: gunicorn, see README)."""
    click.echo(f"duijie at http://{host}:{port}/  (Ctrl+C stops it)")
    current_app.run(host=host, port=port, debug=False, use_reloader=False)


@click.command("create-admin")
@click.argument("username")
@click.password_option()
@with_appcontext
def create_admin_command(username: str, password: str) -> None:
    """Create an administrator account."""
    from web.services.accounts import AccountError, create_user

    try:
        create_user(db.session, username, password, "admin", display_name=username)
        db.session.commit()
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    click.echo(f"Administrator {username} created.")


@click.command("solve")
@click.argument("instance", type=click.Path(dir_okay=False))
@click.option("--output", type=click.Path(dir_okay=False), help="Write the result here.")
@click.option("--time-limit", type=click.FloatRange(min=0.1), default=30.0, show_default=True)
def solve_command(instance: str, output: str | None, time_limit: float) -> None:
    """Solve a weekly allocation instance (allocation model v1) and write its result JSON."""
    from optimizer.cli import run_solve

    sys.exit(run_solve(instance, output, time_limit, stdout=sys.stdout, stderr=sys.stderr))


@click.command("dedupe")
@click.argument("file", type=click.Path(dir_okay=False))
def dedupe_command(file: str) -> None:
    """Find groups of duplicate needs in a CSV or XLSX list; prints {"groups": [...]}."""
    from matcher.cli import run_dedupe

    sys.exit(run_dedupe(file, stdout=sys.stdout, stderr=sys.stderr))


def register(app: Flask) -> None:
    """Add every duijie command to the app's CLI."""
    for command in (
        seed_command,
        serve_command,
        create_admin_command,
        solve_command,
        dedupe_command,
    ):
        app.cli.add_command(command)
