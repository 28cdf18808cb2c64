"""Point-in-polygon tests on GeoJSON Polygon and MultiPolygon geometries (ray casting)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Ring = tuple[tuple[float, float], ...]
_BANDS = 128


@dataclass(frozen=True)
class BandedRing:
    """A closed ring whose edges are bucketed by latitude band so a test visits few edges."""

    min_lat: float
    band_height: float
    bands: tuple[tuple[tuple[float, float, float, float], ...], ...]

    def contains(self, lon: float, lat: float) -> bool:
        """Return True if (lon, lat) is inside the ring (even-odd rule)."""
        index = int((lat - self.min_lat) / self.band_height)
        if index < 0 or index >= len(self.bands):
            return False
        inside = False
        for x1, y1, x2, y2 in self.bands[index]:
            if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
                inside = not inside
        return inside


@dataclass(frozen=True)
class Shape:
    """Polygons as (outer ring, holes) pairs; a point is inside if inside any polygon."""

    polygons: tuple[tuple[BandedRing, tuple[BandedRing, ...]], ...]

    def contains(self, lon: float, lat: float) -> bool:
        """Return True if (lon, lat) is inside an outer ring and outside that polygon's holes."""
        return any(
            outer.contains(lon, lat) and not any(h.contains(lon, lat) for h in holes)
            for outer, holes in self.polygons
        )


def band_ring(points: Sequence[Sequence[float]]) -> BandedRing:
    """Index a ring's edges by latitude band."""
    ring: Ring = tuple((float(p[0]), float(p[1])) for p in points)
    lats = [p[1] for p in ring]
    low, high = min(lats), max(lats)
    height = (high - low) / _BANDS or 1.0
    buckets: list[list[tuple[float, float, float, float]]] = [[] for _ in range(_BANDS)]
    for i, (x1, y1) in enumerate(ring):
        x2, y2 = ring[i - 1]
        first = int((min(y1, y2) - low) / height)
        last = int((max(y1, y2) - low) / height)
        for b in range(max(first, 0), min(last, _BANDS - 1) + 1):
            buckets[b].append((x1, y1, x2, y2))
    return BandedRing(low, height, tuple(tuple(b) for b in buckets))


def shape_of(geometry: dict[str, Any]) -> Shape:
    """Build a Shape from a GeoJSON Polygon or MultiPolygon geometry."""
    if geometry["type"] == "Polygon":
        polygons = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        polygons = geometry["coordinates"]
    else:
        raise ValueError(f"unsupported geometry type {geometry['type']!r}")
    return Shape(
        tuple(
            (band_ring(rings[0]), tuple(band_ring(hole) for hole in rings[1:]))
            for rings in polygons
        )
    )
