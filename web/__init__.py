"""The duijie web platform: Flask app, models, services, pages, API and command line."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # The app is imported on first use, so `duijie solve` (web.cli) starts without Flask's stack.
    if name == "create_app":
        from web.app import create_app

        return create_app
    raise AttributeError(f"module 'web' has no attribute {name!r}")
