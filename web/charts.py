"""What the charts and the map are drawn from: plain data a page embeds as JSON
(`<script type="application/json">`, escaped with |tojson) and web/static/js/charts.js draws
with the vendored Apache ECharts. Templates build bar and week specs themselves; the map's
spec (district outlines as GeoJSON in the map's own projected plane, dots grouped by legend
entry) is built here, from the same data the SVG fallback is drawn from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _

from seeds.hezhou import county_outlines
from web.services.mapping import _rings, district_map

THIN = 1.0  # viewBox units (the map is 800 wide): finer detail is below a screen pixel


def _get(item: Any, name: str, default: Any = None) -> Any:
    """A field of a dot or legend entry, whether it is a mapping or an object."""
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


@lru_cache(maxsize=1)
def outlines_geojson() -> dict[str, Any]:
    """The district outlines in the map's projected plane (x, -y: ECharts' y grows north),
    thinned to whole viewBox units, with each feature named by its district code."""
    projection, _outlines = district_map()
    features = []
    for feature in county_outlines()["features"]:
        polygons = []
        for ring in _rings(feature["geometry"]):
            points: list[list[float]] = []
            for lon, lat, *_rest in ring:
                x, y = projection.point(lon, lat)
                xy = [round(x / THIN) * THIN, -round(y / THIN) * THIN]
                if not points or xy != points[-1]:
                    points.append(xy)
            if len(points) >= 4:
                polygons.append([points])
        props = feature["properties"]
        features.append(
            {
                "type": "Feature",
                "properties": {"name": props["code"], "label": props["name"]},
                "geometry": {"type": "MultiPolygon", "coordinates": polygons},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _coverage_tip(dot: Any) -> str:
    coverage = _get(dot, "coverage")
    if coverage is None:
        return _("no data")
    return _("coverage %(percent)s%%", percent=round(coverage * 100))


def _xy(map_: Any, dot: Any) -> list[float] | None:
    """A dot's place in the projected plane: its x/y, or its lon/lat through the projection."""
    x, y = _get(dot, "x"), _get(dot, "y")
    if x is None or y is None:
        lon, lat = _get(dot, "lon"), _get(dot, "lat")
        if lon is None or lat is None:
            return None
        x, y = _get(map_, "projection").point(lon, lat)
    return [x, -y]


def map_chart(
    map_: Any, title: str, highlight: str | None = None, legend: Iterable[Any] | None = None
) -> dict[str, Any]:
    """The map's spec: outlines, one scatter series per legend entry (by colour), tooltips.

    A dot's tooltip is its `tip` if it has one, else its coverage; the legend is `legend`
    (entries with colour and label, or (colour, label) pairs), else `map_.legend`, else none.
    """
    entries: list[tuple[str, str]] = []
    for entry in legend if legend is not None else (_get(map_, "legend") or ()):
        if isinstance(entry, Sequence) and not isinstance(entry, str):
            entries.append((str(entry[0]), str(entry[1])))
        else:
            entries.append((str(_get(entry, "colour")), str(_get(entry, "label"))))
    series: dict[str, dict[str, Any]] = {
        colour: {"name": label, "colour": colour, "dots": []} for colour, label in entries
    }
    for dot in _get(map_, "dots") or ():
        place = _xy(map_, dot)
        if place is None:
            continue
        colour = str(_get(dot, "colour") or "#5b6470")
        tip = str(_get(dot, "tip") or _coverage_tip(dot))
        group = series.setdefault(colour, {"name": "", "colour": colour, "dots": []})
        group["dots"].append({"value": place, "name": str(_get(dot, "name", "")), "tip": tip})
    names = {o.code: o.name for o in district_map()[1]}
    projection = _get(map_, "projection")
    return {
        "type": "map",
        "title": title,
        "geo": outlines_geojson(),
        "districts": names,
        "highlight": highlight,
        "series": list(series.values()),
        "legend": bool(entries),
        "ratio": round(projection.height / projection.width, 3),
    }


def coverage_legend(bands: Iterable[tuple[float, str]], no_data: str) -> list[tuple[str, str]]:
    """The coverage map's legend entries: (colour, label) per band, then "no data"."""
    found = [(hex_, _("at least %(percent)s%%", percent=int(floor * 100))) for floor, hex_ in bands]
    return [*found, (no_data, _("no data"))]
