"""The JSON API, version 1: one module per resource, each operation declared in one place.

Importing the resource modules registers their operations on the blueprint.
"""

from __future__ import annotations

from web.api import account, allocations, docs, kinds, needs, offers, public, runs  # noqa: F401
from web.api.blueprint import api, ops

__all__ = ["api", "ops"]
