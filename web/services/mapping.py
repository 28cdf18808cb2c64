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


TILE_ZOOM = 10  # Hezhou at zoom 10: about 40 tiles, each ~180 viewBox units (sharp on screen)


@dataclass(frozen=True)
class Tile:
    """One base-map tile: its address and the viewBox box its corners project to."""

    href: str
    x: float
    y: float
    width: float
    height: float


def tile_corner(x: int, y: int, zoom: int) -> tuple[float, float]:
    """The (lon, lat) of the north-west corner of Web Mercator tile (x, y) at `zoom`."""
    n = 2**zoom
    lon = x / n * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
    return lon, lat


def tile_index(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """The (x, y) of the Web Mercator tile holding (lon, lat) at `zoom`."""
    n = 2**zoom
    x = int((lon + 180.0) / 360.0 * n)
    rad = math.radians(lat)
    y = int((1 - math.asinh(math.tan(rad)) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def bounds(projection: Projection) -> tuple[float, float, float, float]:
    """The (west, south, east, north) in degrees that the whole viewBox shows."""
    west = projection.west - PAD / (projection.cos_lat * projection.scale)
    north = projection.north + PAD / projection.scale
    east = projection.west + (projection.width - PAD) / (projection.cos_lat * projection.scale)
    south = projection.north - (projection.height - PAD) / projection.scale
    return west, south, east, north


def tiles(projection: Projection, template: str | None, zoom: int = TILE_ZOOM) -> tuple[Tile, ...]:
    """The XYZ tiles (template with {z}, {x}, {y}, optionally {s} for a, b, c) covering the
    map, each placed by projecting its own north-west and south-east corners; none without a
    template (the map is offline)."""
    if not template:
        return ()
    west, south, east, north = bounds(projection)
    x0, y0 = tile_index(west, north, zoom)
    x1, y1 = tile_index(east, south, zoom)
    found = []
    for ty in range(y0, y1 + 1):
        for tx in range(x0, x1 + 1):
            left, top = projection.point(*tile_corner(tx, ty, zoom))
            right, bottom = projection.point(*tile_corner(tx + 1, ty + 1, zoom))
            href = template.replace("{z}", str(zoom)).replace("{x}", str(tx))
            href = href.replace("{y}", str(ty)).replace("{s}", "abc"[(tx + ty) % 3])
            found.append(Tile(href, left, top, round(right - left, 1), round(bottom - top, 1)))
    return tuple(found)
