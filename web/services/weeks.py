"""Which weeks may be previewed: the current one and later ones. The one home of that rule;
the week page, the API and `duijie allocate` call it with today's date (web.clock.today)."""

from __future__ import annotations

from datetime import date

from matcher.weeks import current_week
from web.services.translate import _
from web.services.week_instance import WeekError, week_days


class PastWeek(WeekError):
    """A preview of a week that has already ended (its Sunday is before today)."""

    def __init__(self, week: str, ended: date, today: date) -> None:
        self.week, self.ended, self.current = week, ended, current_week(today)
        super().__init__(
            _(
                "Week %(week)s ended on %(ended)s: preview the current week (%(current)s) "
                "or a later one.",
                week=week,
                ended=ended.isoformat(),
                current=self.current,
            )
        )


def check_preview_week(week: str, today: date) -> None:
    """Refuse a preview of `week`: WeekError when it is not an ISO week (2026-48, or 2025-W53:
    2025 has 52 weeks), PastWeek when it ended before `today`."""
    _monday, sunday = week_days(week)
    if sunday < today:
        raise PastWeek(week, sunday, today)
