"""Settings the boundaries hand to services (services never read current_app or os.environ)."""

from __future__ import annotations

from flask import Flask, current_app


def invitation_key(app: Flask | None = None) -> bytes:
    """The key of the households' invitation-code hashes: the app's SECRET_KEY."""
    return str((app or current_app).config["SECRET_KEY"]).encode()
