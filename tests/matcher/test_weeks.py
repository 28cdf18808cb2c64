"""The ISO week a day falls in: the week box's default and the start of the past-week rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from matcher.weeks import current_week


@pytest.mark.parametrize(
    ("day", "week"),
    [
        (date(2026, 11, 23), "2026-W48"),  # the demo week's Monday
        (date(2026, 11, 29), "2026-W48"),  # ... and its Sunday
        (date(2026, 11, 30), "2026-W49"),
        (date(2026, 12, 7), "2026-W50"),
        # Year boundaries: the ISO year is the year of the week's Thursday.
        (date(2026, 12, 31), "2026-W53"),  # 2026 has 53 ISO weeks (it starts on a Thursday)
        (date(2027, 1, 3), "2026-W53"),  # a Sunday of January still in last year's week 53
        (date(2027, 1, 4), "2027-W01"),
        (date(2024, 12, 30), "2025-W01"),  # a Monday of December already in next year's week 1
        (date(2025, 12, 28), "2025-W52"),  # 2025 has 52 weeks
        (date(2025, 12, 29), "2026-W01"),
        (date(2020, 12, 31), "2020-W53"),
        (date(2021, 1, 1), "2020-W53"),
        (date(2021, 1, 4), "2021-W01"),
        (date(2026, 1, 5), "2026-W02"),  # numbers below ten are written with two digits
    ],
)
def test_current_week_is_the_iso_week_of_the_day(day: date, week: str) -> None:
    assert current_week(day) == week


def test_the_seven_days_of_a_week_share_it_and_the_next_monday_does_not() -> None:
    monday = date(2026, 12, 28)
    assert {current_week(monday + timedelta(days=n)) for n in range(7)} == {"2026-W53"}
    assert current_week(monday + timedelta(days=7)) == "2027-W01"
