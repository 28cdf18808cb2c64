"""The `duijie` console script: the Flask CLI group built on the app factory.

`duijie solve` is run without building the app: it needs no database, and its time limit
bounds the whole command's wall time, start-up included.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo


def _create_app() -> Flask:
    from web.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def cli() -> None:
    """duijie (对接): social aid matching for Hezhou's poor villages."""


def main() -> None:
    """The console script's entry point."""
    if sys.argv[1:2] == ["solve"]:
        from web.solve_command import leave, solve_command

        try:
            # Built only for --distributed, which reads the deployment's queue settings.
            info = ScriptInfo(create_app=_create_app)
            solve_command.main(args=sys.argv[2:], prog_name="duijie solve", obj=info)
        except SystemExit as done:
            leave(done.code)
        leave(0)
    if sys.argv[1:2] == ["allocate"]:  # its time limit too covers the whole command
        from web.solve_command import leave

        try:
            cli.main()
        except SystemExit as done:
            leave(done.code)
        leave(0)
    cli.main()
