"""The JSON API, version 1: one module per resource, each operation declared in one place.

Importing the resource modules registers their operations on the blueprint.
"""

from __future__ import annotations

from web.api import (  # noqa: F401
    account,
    allocations,
    claims,
    docs,
    kinds,
    needs,
    offers,
    public,
    runs,
)
from web.api.blueprint import api, ops

__all__ = ["api", "ops"]
