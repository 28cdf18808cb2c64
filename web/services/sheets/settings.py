"""What a deployment sets for its imports, handed in by the boundary (page, command, job)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

Box = tuple[float, float, float, float]  # lat min, lat max, lon min, lon max
PROVINCE_BOX: Box = (20.5, 26.5, 104.0, 113.0)  # Guangxi, with a margin


@dataclass(frozen=True)
class SheetSettings:
    """An import's settings: where a village's coordinates may lie (DUIJIE_VILLAGE_BOX), and
    the day the rules of time judge by (web.clock.today(), which the boundary passes)."""

    village_box: Box = PROVINCE_BOX
    today: date = field(kw_only=True)

    @classmethod
    def from_config(cls, config: object, today: date) -> SheetSettings:
        """From a Flask app's config and today's date (the boundary calls this, never a
        service)."""
        box = getattr(config, "get", lambda _key: None)("DUIJIE_VILLAGE_BOX")
        return cls(village_box=tuple(box) if box else PROVINCE_BOX, today=today)  # type: ignore[arg-type]
