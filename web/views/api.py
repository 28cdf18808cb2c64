"""The JSON API lives in the web.api package (one module per resource); the app mounts it here."""

from __future__ import annotations

from web.api import api

__all__ = ["api"]
