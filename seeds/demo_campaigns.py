"""The demo's campaign (活动, issue 17): lighting up micro-wishes before the Spring Festival."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class DemoCampaign:
    """A campaign: its name, period and what it covers (empty: every category / kind)."""

    name: str
    description: str
    starts_on: date
    ends_on: date
    categories: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    wishes_only: bool = False


DEMO_CAMPAIGNS: tuple[DemoCampaign, ...] = (
    DemoCampaign(
        name="帮扶贫困户・点亮微心愿",
        description="春节前，为建档立卡户点亮一个微心愿。",
        starts_on=date(2026, 11, 16),
        ends_on=date(2027, 2, 5),  # the eve of the 2027 Spring Festival
        wishes_only=True,
    ),
)
