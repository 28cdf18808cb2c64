"""The sheets' public entry points where they used to live: see web.services.sheets."""

from __future__ import annotations

from web.services.sheets import *  # noqa: F403
from web.services.sheets import __all__  # noqa: F401
