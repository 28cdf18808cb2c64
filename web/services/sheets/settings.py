"""What a deployment sets for its imports, handed in by the boundary (page, command, job)."""

from __future__ import annotations

from dataclasses import dataclass

Box = tuple[float, float, float, float]  # lat min, lat max, lon min, lon max
PROVINCE_BOX: Box = (20.5, 26.5, 104.0, 113.0)  # Guangxi, with a margin


@dataclass(frozen=True)
class SheetSettings:
    """An import's settings: where a village's coordinates may lie (DUIJIE_VILLAGE_BOX)."""

    village_box: Box = PROVINCE_BOX

    @classmethod
    def from_config(cls, config: object) -> SheetSettings:
        """From a Flask app's config (the boundary calls this, never a service)."""
        box = getattr(config, "get", lambda _key: None)("DUIJIE_VILLAGE_BOX")
        return cls(village_box=tuple(box)) if box else cls()  # type: ignore[arg-type]
