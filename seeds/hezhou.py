"""Real Hezhou reference data: districts, townships, village-level units and outlines."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from seeds.geometry import Shape, shape_of

CITY_CODE = "451100"  # 贺州市 (GB/T 2260): the first 4 digits of every code below, then 00
CITY_NAME = "贺州市"
VILLAGES_FILE = "hezhou-villages.csv"
OUTLINES_FILE = "hezhou-counties.geojson"


@dataclass(frozen=True)
class County:
    """A county-level district (区/县) with its 6-digit code and map label point."""

    code: str
    name: str
    label_lon: float
    label_lat: float


@dataclass(frozen=True)
class Township:
    """A township-level unit (镇/乡/街道) with its 9-digit code."""

    code: str
    name: str
    county_code: str


@dataclass(frozen=True)
class VillageUnit:
    """A village-level unit with its 12-digit code; kind is 'village' or 'community'."""

    code: str
    name: str
    township_code: str
    county_code: str
    kind: str


def _read_text(name: str) -> str:
    """Return the text of a data file shipped in seeds/data."""
    return resources.files("seeds").joinpath("data", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _rows() -> tuple[dict[str, str], ...]:
    """Return the rows of the village CSV."""
    return tuple(csv.DictReader(io.StringIO(_read_text(VILLAGES_FILE))))


@lru_cache(maxsize=1)
def _outlines_text() -> str:
    """Return the raw GeoJSON text of the district outlines."""
    return _read_text(OUTLINES_FILE)


@lru_cache(maxsize=1)
def _county_codes_by_name() -> dict[str, str]:
    """Map each district name to its 6-digit code."""
    return {row["county"]: row["county_code"] for row in _rows()}


@lru_cache(maxsize=1)
def counties() -> tuple[County, ...]:
    """Return the five districts sorted by code."""
    codes = _county_codes_by_name()
    found = []
    for feature in json.loads(_outlines_text())["features"]:
        name = feature["properties"]["name"]
        lon, lat = feature["properties"]["cp"]
        found.append(County(codes[name], name, float(lon), float(lat)))
    return tuple(sorted(found, key=lambda c: c.code))


@lru_cache(maxsize=1)
def townships() -> tuple[Township, ...]:
    """Return the townships sorted by code."""
    seen = {row["township_code"]: row for row in _rows()}
    return tuple(
        Township(code, row["township"], row["county_code"]) for code, row in sorted(seen.items())
    )


@lru_cache(maxsize=1)
def village_units() -> tuple[VillageUnit, ...]:
    """Return all village-level units sorted by code; the source's 'other' counts as community."""
    return tuple(
        VillageUnit(
            row["code"],
            row["name"],
            row["township_code"],
            row["county_code"],
            "village" if row["kind"] == "village" else "community",
        )
        for row in sorted(_rows(), key=lambda r: r["code"])
    )


def village_short_name(unit_name: str) -> str:
    """Turn a committee name like 厦良村村委会 into the village's name, 厦良村."""
    if unit_name.endswith("村村委会"):
        return unit_name.removesuffix("村委会")
    return unit_name.removesuffix("委会")


def county_outlines() -> dict[str, Any]:
    """Return a fresh copy of the district outlines GeoJSON with `code` added to each feature."""
    data: dict[str, Any] = json.loads(_outlines_text())
    codes = _county_codes_by_name()
    for feature in data["features"]:
        feature["properties"]["code"] = codes[feature["properties"]["name"]]
    return data


@lru_cache(maxsize=1)
def _shapes() -> dict[str, Shape]:
    """Map each district code to its indexed outline."""
    return {f["properties"]["code"]: shape_of(f["geometry"]) for f in county_outlines()["features"]}


def point_in_county(county_code: str, lon: float, lat: float) -> bool:
    """Return True if (lon, lat) lies inside the district's outline."""
    shape = _shapes().get(county_code)
    if shape is None:
        raise KeyError(f"unknown county code {county_code!r}")
    return shape.contains(lon, lat)
