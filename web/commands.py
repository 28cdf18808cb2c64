"""duijie's own commands, added to the Flask CLI group next to Flask-Migrate's `db`."""

from __future__ import annotations

import sys
import time
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import pgettext

from web.extensions import db
from web.solve_command import solve_command
from web.unit_of_work import unit_of_work


@click.command("seed")
@click.option("--demo", is_flag=True, help="Also add demo organizations, users, offers and needs.")
@with_appcontext
def seed_command(demo: bool) -> None:
    """Load Hezhou's villages (and with --demo the demo week); seeding twice adds nothing."""
    from seeds.demo import DEMO_LOGINS
    from web.services.seeding import seed

    with unit_of_work():
        report = seed(db.session, demo=demo)
    added = ", ".join(f"{kind} {n}" for kind, n in report.added.items() if n) or _("nothing")
    click.echo(_("Seeded: %(added)s.", added=added))
    if demo:
        click.echo(_("Demo logins (username / password):"))
        for role, username, password in DEMO_LOGINS:
            click.echo(f"  {role:<9} {username:<10} {password}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Serve the app with the development server (production: gunicorn, see README)."""
    from flask_babel import force_locale
    from werkzeug.serving import run_simple

    from web.i18n import command_language

    with force_locale(command_language()):  # only the banner: requests pick their own
        click.echo(_("duijie at %(url)s  (Ctrl+C stops it)", url=f"http://{host}:{port}/"))
    # Flask refuses app.run() inside its own CLI, so the development server is started directly.
    run_simple(host, port, current_app._get_current_object(), threaded=True)


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
    click.echo(_("Administrator %(username)s created.", username=username))


@click.command("dedupe")
@click.argument("file", type=click.Path(dir_okay=False))
def dedupe_command(file: str) -> None:
    """Find groups of duplicate needs in a CSV or XLSX list; prints {"groups": [...]}."""
    from matcher.cli import run_dedupe

    sys.exit(run_dedupe(file, stdout=sys.stdout, stderr=sys.stderr))


class BadWeek(click.ClickException):
    """A week `duijie allocate` may not preview: one line on stderr, exit status 2."""

    exit_code = 2


def _week_to_preview(week: str | None) -> str:
    """The week `duijie allocate` previews: --week, else the current one; a week that has ended
    exits 2 with one line, one that is not an ISO week exits 1."""
    from matcher.weeks import current_week
    from web.clock import today
    from web.services.weeks import PastWeek, WeekError, check_preview_week

    week = week or current_week(today())
    try:
        check_preview_week(week, today())
    except PastWeek as error:
        raise BadWeek(str(error)) from None
    except WeekError as error:
        raise click.ClickException(str(error)) from None
    return week


@click.command("allocate")
@click.option("--week", help="ISO week, e.g. 2026-W48 (default: the current week).")
@click.option("--commit", "do_commit", is_flag=True, help="Commit the previewed allocation.")
@click.option(
    "--time-limit", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
    help="Seconds of wall time for the preview, from the command's start.",
)
@click.option("--as", "username", default="admin", show_default=True, help="Acting administrator.")
@with_appcontext
def allocate_command(week: str | None, do_commit: bool, time_limit: float, username: str) -> None:
    """Preview the week's allocation (and with --commit commit it as pledges)."""
    from sqlalchemy import select

    from web.commands_solve import PartsBar, WeekBar, is_terminal, process_started
    from web.jobs import spread_for
    from web.models import User
    from web.services.distributed import QueueUnavailable
    from web.services.week import WeekError, commit_run, preview_week

    week = _week_to_preview(week)
    actor = db.session.scalar(select(User).where(User.username == username))
    if actor is None:
        raise click.ClickException(_("no user %(username)s", username=repr(username)))
    from web.services.audit import acting_as

    # On a terminal a one-line bar follows the solve: parts done when the week is cut into
    # parts, else seconds against the limit; closed before the summary is printed.
    started, terminal = process_started(), is_terminal(sys.stderr)
    words = {
        "parts": pgettext("progress bar", "parts"),
        "best": pgettext("progress bar", "best"),
        "bound": pgettext("progress bar", "bound"),
        "lost": pgettext("progress bar", "lost"),
    }
    bar = PartsBar(sys.stderr, words) if terminal else None
    whole = WeekBar(sys.stderr, time_limit, started, words) if terminal else None
    try:
        with acting_as(actor):  # the audit trail names the acting administrator
            # The limit covers the whole command: what starting the app took is spent, and
            # storing the preview and printing its summary come after the solve.
            left = time_limit - (time.monotonic() - started) - (0.3 + 0.03 * time_limit)
            try:
                with unit_of_work():
                    run = preview_week(
                        db.session,
                        week,
                        None,
                        actor,
                        time_limit=max(0.1, left),
                        progress=whole,
                        spread=spread_for(on_parts=bar),
                    )
            finally:
                for drawn in (bar, whole):
                    if drawn is not None:
                        drawn.close()
            click.echo(_run_summary(run))
            if do_commit:
                with unit_of_work():
                    run = commit_run(db.session, run.id, actor)
                pledges = len(run.allocations)
                click.echo(
                    _("Committed run %(run)s: %(pledges)s pledges for week %(week)s.",
                      run=run.id, pledges=pledges, week=week)
                )  # fmt: skip
    except (WeekError, QueueUnavailable) as error:
        raise click.ClickException(str(error)) from None


def _run_summary(run: Any) -> str:
    """A few lines on a previewed run: objective against bound and greedy, villages, links."""
    figures = run.metrics["figures"]
    ratio = (
        _("%(share)s of bound", share=f"{run.objective / run.bound:.2%}")
        if run.bound
        else _("no bound")
    )
    spread = run.metrics.get("distributed")
    parts: tuple[str, ...] = ()
    if spread:
        parts = (
            "  "
            + _("parts %(solved)s / %(parts)s solved by %(workers)s worker(s), %(retried)s retried",
                solved=spread["parts"] - len(spread["lost"]), parts=spread["parts"],
                workers=len(spread["workers"]), retried=spread["retried"]),
            *(
                "  "
                + _("part %(key)s (%(needs)s needs) given nothing: %(reason)s",
                    key=lost["key"], needs=lost["needs"], reason=lost["reason"])
                for lost in spread["lost"]
            ),
        )  # fmt: skip
    return "\n".join(
        (
            *parts,
            _("Preview run %(run)s for week %(week)s (%(status)s, %(seconds)s s)", run=run.id,
              week=run.week, status=run.solver_status, seconds=f"{run.seconds:.1f}"),
            "  " + _("objective %(objective)s (%(ratio)s %(bound)s)",
                     objective=f"{run.objective:,.1f}", ratio=ratio,
                     bound=f"{run.bound or 0:,.1f}"),
            "  " + _("greedy (first come, first served) %(objective)s",
                     objective=f"{run.metrics['greedy']['objective']:,.1f}"),
            "  " + _("villages served / reachable %(served)s / %(reachable)s",
                     served=figures["served"], reachable=figures["reachable"]),
            "  " + _("links %(links)s, allocations %(allocations)s", links=figures["links"],
                     allocations=len(run.output["allocations"])),
        )
    )


@click.group("audit")
def audit_group() -> None:
    """Check the audit trail (every change to offers, needs, accounts, runs, deliveries)."""


@audit_group.command("verify")
@click.option(
    "--expect",
    metavar="COUNT:HASH",
    help="A head printed earlier by `duijie audit head` and kept outside the database.",
)
@with_appcontext
def audit_verify_command(expect: str | None) -> None:
    """Walk the hash chain and report the first edited, inserted or deleted event.

    \b
    Found, with exit status 1:
    - an edited event: its hash no longer matches its contents;
    - an inserted or deleted event: the next event's previous-hash no longer links;
    - deleted newest events: each committed or published run records the chain's
      length and head (its anchor), so a chain shorter than an anchor, or with
      another event at the anchored position, is reported; and every audited row
      must look as its events say (an offer whose `allocated` differs from its last
      event, or changed with no event at all, means the newest events are gone).
    An attacker who can write the whole database can rewrite the chain, the anchors
    and the rows together. Against that, keep the output of `duijie audit head`
    outside the database (print it into the weekly report, mail it to the auditor)
    and pass it back with --expect COUNT:HASH.
    """
    from web.services.audit import verify

    if expect is not None:
        count, _colon, digest = expect.partition(":")
        if not count.isdigit() or len(digest) != 64:
            raise click.BadParameter(_("give COUNT:HASH as printed by `duijie audit head`"))
    verdict = verify(db.session, expect=expect)
    if not verdict.ok:
        click.echo(
            _("audit trail BROKEN (%(events)s events): %(problem)s", events=verdict.events,
              problem=verdict.problems[0]),
            err=True,
        )  # fmt: skip
        sys.exit(1)
    click.echo(
        _("audit trail intact: %(events)s events, head %(head)s", events=verdict.events,
          head=f"{verdict.events}:{verdict.head}")
    )  # fmt: skip


@audit_group.command("rotate-key")
@with_appcontext
def audit_rotate_key_command() -> None:
    """Start signing new audit events with a new HMAC key (the old ones stay, to verify).

    The keys live in DUIJIE_AUDIT_KEY_FILE (instance/audit_keys by default), never in the
    database: back the file up apart from the database, and rotate when a person who could
    read it leaves.
    """
    from web.services import audit_keys
    from web.services.audit import head, key_file

    path = key_file()
    assert path is not None  # with_appcontext
    count, _digest = head(db.session)
    key = audit_keys.add(path, count)
    click.echo(
        _("audit key %(key)s signs events from now on (keys kept in %(path)s)", key=key.id,
          path=path)
    )  # fmt: skip


@audit_group.command("head")
@with_appcontext
def audit_head_command() -> None:
    """Print COUNT:HASH of the newest event, to keep outside the database."""
    from web.services.audit import head

    count, digest = head(db.session)
    click.echo(f"{count}:{digest}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Quit once the queue is empty.")
@click.option("--name", default=None, help="Worker name shown by RQ (default: host and pid).")
@with_appcontext
def worker_command(burst: bool, name: str | None) -> None:
    """Run background jobs (weekly previews, the parts of a large week, commits) from Redis;
    start any number, on any machine."""
    from flask_babel import force_locale
    from rq import Queue, Worker

    from web.i18n import command_language
    from web.jobs import queue_name, redis_connection

    # The worker's own messages only: the jobs (forked from here) pick their readers' language.
    with force_locale(command_language()):
        url = current_app.config.get("DUIJIE_REDIS_URL")
        if not url:
            raise click.ClickException(
                _("no Redis is configured: set DUIJIE_REDIS_URL (e.g. "
                  "redis://127.0.0.1:6379/0). Without it previews run in a thread of the web "
                  "process and no worker is needed.")
            )  # fmt: skip
        connection = redis_connection()
        where = "{host}:{port}/{db}".format(
            **{"db": 0, **connection.connection_pool.connection_kwargs}
        )
        try:
            connection.ping()
        except Exception as error:
            raise click.ClickException(
                _("Redis at %(where)s cannot be reached: %(error)s", where=where, error=error)
            ) from None
        db.engine.dispose()  # each job runs in a forked process: share no pooled connection
        queue = Queue(queue_name(), connection=connection)
        worker = Worker([queue], connection=connection, name=name)
        click.echo(
            _("duijie worker %(worker)s on Redis %(where)s, queue %(queue)s",
              worker=worker.name, where=where, queue=repr(queue.name))
        )  # fmt: skip
    worker.work(burst=burst)


def register(app: Flask) -> None:
    """Add every duijie command to the app's CLI."""
    for command in (
        seed_command,
        serve_command,
        create_admin_command,
        solve_command,
        dedupe_command,
        allocate_command,
        audit_group,
        worker_command,
    ):
        app.cli.add_command(command)
    from web.api.commands import token_group

    app.cli.add_command(token_group)
    from web.commands_data import register as register_data_commands

    register_data_commands(app)
    from web.commands_backup import register as register_backup_commands

    register_backup_commands(app)
    from web.commands_ops import register as register_ops_commands

    register_ops_commands(app)
    from web.i18n import speaking_the_command_language

    # Their messages in DUIJIE_LANG (else Chinese). Not `solve` and `dedupe` (no app; solve's
    # output is read by programs), nor the long-running `serve` and `worker` (their banners
    # only, see there: a forced language would stay with the requests and jobs they run).
    for name, command in app.cli.commands.items():
        if name not in ("solve", "dedupe", "serve", "worker"):
            speaking_the_command_language(command)
