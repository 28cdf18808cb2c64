"""Today's date for the boundaries (views, API operations, commands), read from the clock in the
app's time zone, or the day DUIJIE_TODAY pins (demos and tests replay the demo week). Services
never read the clock for week rules: the boundary passes `today` in."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from matcher.weeks import current_week


def today() -> date:
    """The day it is for the app: DUIJIE_TODAY when set, else the date in Asia/Shanghai."""
    pinned = current_app.config.get("DUIJIE_TODAY")
    if isinstance(pinned, date):
        return pinned
    if isinstance(pinned, str) and pinned.strip():
        return date.fromisoformat(pinned.strip())
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai")
    return datetime.now(zone).date()


def this_week() -> str:
    """The ISO week of today, like 2026-W50: the week box's default."""
    return current_week(today())
