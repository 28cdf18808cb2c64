"""ISO weeks, the unit the allocation is planned in. Pure functions of dates: the clock is read
by the callers (web.clock), never here."""

from __future__ import annotations

from datetime import date


def current_week(today: date) -> str:
    """The ISO week `today` falls in, like 2026-W50 (2027-01-01 is in 2026-W53)."""
    year, number, _day = today.isocalendar()
    return f"{year}-W{number:02d}"
