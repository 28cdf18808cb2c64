"""The `duijie` console script: the Flask CLI group built on the app factory.

`duijie solve` is run without building the app: it needs no database, and its time limit
bounds the whole command's wall time, start-up included.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click
    from flask import Flask


def _create_app() -> Flask:
    from web.app import create_app

    return create_app()


@cache
def _group() -> click.Group:
    """The Flask CLI group: built only when a command other than `duijie solve` runs (Flask's
    and click's imports take a quarter of a second of a 10-s solve's budget on a loaded
    machine)."""
    import click
    from flask.cli import FlaskGroup

    @click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
    def cli() -> None:
        """duijie (对接): social aid matching for Hezhou's poor villages."""

    return cli


def __getattr__(name: str) -> object:
    if name == "cli":
        return _group()
    raise AttributeError(name)


def main() -> None:
    """The console script's entry point."""
    if sys.argv[1:2] == ["solve"]:
        from web.solve_command import leave, solve_command

        info = None
        if "--distributed" in sys.argv[2:]:  # it reads the deployment's queue settings
            from flask.cli import ScriptInfo

            info = ScriptInfo(create_app=_create_app)
        try:
            solve_command.main(args=sys.argv[2:], prog_name="duijie solve", obj=info)
        except SystemExit as done:
            leave(done.code)
        leave(0)
    if sys.argv[1:2] == ["allocate"]:  # its time limit too covers the whole command
        from web.solve_command import leave

        try:
            _group().main()
        except SystemExit as done:
            leave(done.code)
        leave(0)
    _group().main()
