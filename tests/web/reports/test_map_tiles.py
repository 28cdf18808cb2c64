"""The optional base map: XYZ tiles placed under the districts, allowed by the CSP only when set."""

from __future__ import annotations

import math
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import Auth
from web.security import CSP, content_security_policy, tile_origin
from web.services.mapping import bounds, district_map, tile_corner, tile_index, tiles

TEMPLATE = "https://tiles.example.org/{z}/{x}/{y}.png"
IMAGE = re.compile(r'<image class="map-tile" href="([^"]+)"')


def test_tile_corners_round_trip_and_match_known_values() -> None:
    assert tile_corner(0, 0, 0) == pytest.approx((-180.0, 85.0511287798))
    assert tile_corner(1, 1, 1) == pytest.approx((0.0, 0.0), abs=1e-9)
    # Hezhou's city centre (111.57E, 24.40N) at zoom 10.
    x, y = tile_index(111.57, 24.40, 10)
    west, north = tile_corner(x, y, 10)
    east, south = tile_corner(x + 1, y + 1, 10)
    assert west <= 111.57 < east and south < 24.40 <= north


def test_tiles_cover_the_map_edge_to_edge_with_no_gaps() -> None:
    projection, _ = district_map()
    laid = tiles(projection, TEMPLATE)
    assert 9 <= len(laid) <= 60  # a few dozen tiles, not hundreds
    assert len({t.href for t in laid}) == len(laid)
    assert all(re.fullmatch(r"https://tiles\.example\.org/10/\d+/\d+\.png", t.href) for t in laid)
    # Together they cover the whole viewBox.
    assert min(t.x for t in laid) <= 0 and min(t.y for t in laid) <= 0
    assert max(t.x + t.width for t in laid) >= projection.width
    assert max(t.y + t.height for t in laid) >= projection.height
    # Neighbours meet: a tile's right edge is the next tile's left edge (to the rounding).
    by_column: dict[float, list[float]] = {}
    for t in laid:
        by_column.setdefault(t.y, []).append(t.x)
    for t in laid:
        right = t.x + t.width
        if right < projection.width:
            assert any(math.isclose(right, x, abs_tol=0.2) for x in by_column[t.y])
    west, south, east, north = bounds(projection)
    assert west < projection.west < east and south < projection.north <= north


def test_subdomains_are_spread_over_a_b_c() -> None:
    projection, _ = district_map()
    laid = tiles(projection, "https://{s}.tile.example.org/{z}/{x}/{y}.png")
    hosts = {t.href.split("/")[2] for t in laid}
    assert hosts == {f"{s}.tile.example.org" for s in "abc"}


def test_no_template_means_no_tiles() -> None:
    projection, _ = district_map()
    assert tiles(projection, None) == ()
    assert tiles(projection, "") == ()


def test_csp_names_the_tile_origin_only_when_configured() -> None:
    assert content_security_policy(None) == CSP
    assert (
        tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    )
    assert tile_origin("javascript:alert(1)") is None
    policy = content_security_policy(TEMPLATE)
    assert "img-src 'self' data: blob: https://tiles.example.org;" in policy


def test_dashboard_draws_tiles_and_allows_them_only_when_configured(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.login("admin")
    offline = client.get("/dashboard")
    assert IMAGE.findall(offline.get_data(as_text=True)) == []
    assert "tiles.example.org" not in offline.headers["Content-Security-Policy"]
    assert offline.headers["Content-Security-Policy"] == CSP

    demo_app.config["DUIJIE_MAP_TILE_URL"] = TEMPLATE
    online = client.get("/dashboard")
    html = online.get_data(as_text=True)
    hrefs = IMAGE.findall(html)
    assert len(hrefs) >= 9 and all(h.startswith("https://tiles.example.org/10/") for h in hrefs)
    # The tiles come before (under) the district outlines.
    assert html.index('class="map-tile"') < html.index('class="district"')
    assert (
        "img-src 'self' data: blob: https://tiles.example.org;"
        in (online.headers["Content-Security-Policy"])
    )
