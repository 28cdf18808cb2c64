"""The `duijie` console script: the Flask CLI group built on the app factory."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from web.app import create_app


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False)
def main() -> None:
    """duijie (对接): social aid matching for Hezhou's poor villages."""
