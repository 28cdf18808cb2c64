"""Project longitude and latitude onto an SVG viewBox: equirectangular, scaled by cos(latitude)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from seeds.hezhou import county_outlines

WIDTH = 800.0
PAD = 10.0


@dataclass(frozen=True)
class Projection:
    """Maps (lon, lat) to (x, y) in a viewBox of `width` by `height`."""

    west: float
    north: float
    scale: float
    cos_lat: float
    width: float
    height: float

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        """The viewBox position of a point, y growing southward."""
        x = PAD + (lon - self.west) * self.cos_lat * self.scale
        y = PAD + (self.north - lat) * self.scale
        return round(x, 1), round(y, 1)

    @property
    def view_box(self) -> str:
        """The SVG viewBox attribute."""
        return f"0 0 {self.width:.0f} {self.height:.0f}"


@dataclass(frozen=True)
class Outline:
    """A district's outline as an SVG path."""

    code: str
    name: str
    path: str


def fit(points: Iterable[tuple[float, float]], width: float = WIDTH) -> Projection:
    """The projection that fits all (lon, lat) points into `width`, keeping their shape."""
    lons, lats = zip(*points, strict=True)
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    cos_lat = math.cos(math.radians((north + south) / 2))
    span_x = max((east - west) * cos_lat, 1e-9)
    scale = (width - 2 * PAD) / span_x
    height = (north - south) * scale + 2 * PAD
    return Projection(west, north, scale, cos_lat, width, math.ceil(height))


def _rings(geometry: dict) -> list[Sequence[Sequence[float]]]:  # type: ignore[type-arg]
    """The rings of a Polygon or MultiPolygon."""
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


def _path(projection: Projection, rings: list[Sequence[Sequence[float]]]) -> str:
    """An SVG path of the rings, dropping points that land on the previous one."""
    parts = []
    for ring in rings:
        points: list[tuple[float, float]] = []
        for lon, lat, *_ in ring:
            xy = projection.point(lon, lat)
            if not points or xy != points[-1]:
                points.append(xy)
        parts.append("M" + "L".join(f"{x:g},{y:g}" for x, y in points) + "Z")
    return "".join(parts)


@lru_cache(maxsize=1)
def district_map() -> tuple[Projection, tuple[Outline, ...]]:
    """The projection fitted to the five district outlines, and their paths."""
    features = county_outlines()["features"]
    every = [(pt[0], pt[1]) for f in features for ring in _rings(f["geometry"]) for pt in ring]
    projection = fit(every)
    outlines = tuple(
        Outline(
            f["properties"]["code"],
            f["properties"]["name"],
            _path(projection, _rings(f["geometry"])),
        )
        for f in features
    )
    return projection, outlines
