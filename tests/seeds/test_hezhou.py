"""Tests of the real Hezhou reference data and the point-in-outline test."""

from __future__ import annotations

from seeds.geometry import shape_of
from seeds.hezhou import (
    counties,
    county_outlines,
    point_in_county,
    townships,
    village_short_name,
    village_units,
)


def test_five_districts_with_label_inside_own_outline_only() -> None:
    names = ["八步区", "平桂区", "昭平县", "钟山县", "富川瑶族自治县"]
    assert [c.name for c in counties()] == names
    for county in counties():
        inside = [point_in_county(o.code, county.label_lon, county.label_lat) for o in counties()]
        assert inside == [o.code == county.code for o in counties()]


def test_village_units_counts_and_codes() -> None:
    units = village_units()
    assert len(units) == 770
    assert sum(u.kind == "village" for u in units) == 707
    assert {u.kind for u in units} == {"village", "community"}
    township_codes = {t.code for t in townships()}
    for unit in units:
        assert len(unit.code) == 12 and unit.code.startswith(unit.township_code)
        assert unit.township_code in township_codes and unit.township_code[:6] == unit.county_code


def test_outlines_carry_codes_and_are_fresh_copies() -> None:
    outlines = county_outlines()
    assert {f["properties"]["code"] for f in outlines["features"]} == {c.code for c in counties()}
    outlines["features"].clear()
    assert len(county_outlines()["features"]) == 5


def test_point_far_away_is_outside() -> None:
    assert not point_in_county("451102", 116.4, 39.9)


def test_polygon_hole_and_multipolygon() -> None:
    square = [[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]]
    hole = [[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]
    far = [[10, 10], [11, 10], [11, 11], [10, 11], [10, 10]]
    polygon = shape_of({"type": "Polygon", "coordinates": [square, hole]})
    assert polygon.contains(0.5, 0.5) and not polygon.contains(2, 2)
    multi = shape_of({"type": "MultiPolygon", "coordinates": [[square, hole], [far]]})
    assert multi.contains(10.5, 10.5) and not multi.contains(2, 2) and not multi.contains(7, 7)


def test_village_short_name() -> None:
    assert village_short_name("厦良村村委会") == "厦良村"
    assert village_short_name("新里村委会") == "新里村"
