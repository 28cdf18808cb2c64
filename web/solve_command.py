"""`duijie solve`: a command that needs neither the app nor its database.

The console script runs it without building the Flask app (web.cli), so the time limit a user
sets covers a start-up of a few tenths of a second rather than the whole platform's imports.
"""

from __future__ import annotations

import os
import sys

import click


@click.command("solve")
@click.argument("instance", type=click.Path(dir_okay=False))
@click.option("--output", type=click.Path(dir_okay=False), help="Write the result here.")
@click.option(
    "--time-limit", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
    help="Seconds of wall time for the whole command, start-up and output included.",
)
@click.option(
    "--distributed",
    is_flag=True,
    help="Cut the week into parts solved by `duijie worker` processes on the RQ queue "
    "DUIJIE_QUEUE of DUIJIE_REDIS_URL; the time limit bounds the whole command.",
)
def solve_command(instance: str, output: str | None, time_limit: float, distributed: bool) -> None:
    """Solve a weekly allocation instance (allocation model v1) and write its result JSON."""
    from optimizer.cli import process_start, run_solve

    if distributed:  # the queue's settings are the deployment's: read as the app reads them
        from flask.cli import ScriptInfo

        from web.commands_solve import run_distributed

        # The app's CLI (tests, `flask`) or web.cli.main (run alone) passes how to build the app.
        info = click.get_current_context().find_object(ScriptInfo)
        if info is None:
            raise click.UsageError("--distributed needs the app: run it as `duijie solve`")
        app = info.load_app()
        sys.exit(
            run_distributed(
                instance,
                output,
                time_limit,
                redis_url=app.config.get("DUIJIE_REDIS_URL"),
                queue=str(app.config.get("DUIJIE_QUEUE") or "duijie"),
                part_seconds=app.config.get("DUIJIE_PART_SECONDS"),
                stdout=sys.stdout,
                stderr=sys.stderr,
            )
        )

    code = run_solve(
        instance, output, time_limit, stdout=sys.stdout, stderr=sys.stderr,
        started=process_start(),
    )
    sys.exit(code)


def leave(code: object) -> None:
    """Exit at once once the output is flushed: tearing down the solve's objects takes up to
    half a second on a loaded machine, and the time limit covers the whole command."""
    if isinstance(code, str):
        sys.stderr.write(code + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else (0 if code is None else 1))
