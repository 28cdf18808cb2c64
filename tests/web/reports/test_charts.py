"""Issue 23: the map macro's data interface, for every page that draws villages on the map.

`village_map(map, title, highlight, tiles, legend)` takes dots with x/y or lon/lat, a colour, a
name, and coverage or their own tooltip text; the ECharts spec it embeds (and the SVG drawn
without JavaScript) carry each dot's own text and the page's own legend, nothing hard-wired to
coverage.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from flask import Flask, render_template_string

from web.services.mapping import district_map

MACRO = (
    '{% from "_map.html" import village_map with context %}'
    "{{ village_map(m, title, highlight, legend=legend) }}"
)


@dataclass(frozen=True)
class ExitMap:
    """A page's own map: villages coloured by what they exited with, no coverage."""

    projection: object
    outlines: tuple
    dots: list


def _spec(html: str) -> dict:
    found = re.search(r'<script type="application/json">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found[1])


def test_a_page_colours_villages_with_its_own_tooltips_and_legend(app: Flask) -> None:
    projection, outlines = district_map()
    dots = [
        {"name": "河西村", "lon": 111.55, "lat": 24.41, "colour": "#1a9850", "tip": "已退出：饮水"},
        {"name": "东岸村", "x": 200.0, "y": 300.0, "colour": "#d73027", "tip": "未退出：住房 <b>"},
    ]
    legend = [("#1a9850", "已退出"), {"colour": "#d73027", "label": "未退出"}]
    with app.test_request_context("/"):
        html = render_template_string(
            MACRO, m=ExitMap(projection, outlines, dots), title="退出清单",
            highlight="451102", legend=legend,
        )  # fmt: skip
    spec = _spec(html)
    assert spec["type"] == "map" and spec["highlight"] == "451102" and spec["legend"] is True
    assert [(s["name"], s["colour"]) for s in spec["series"]] == [
        ("已退出", "#1a9850"),
        ("未退出", "#d73027"),
    ]
    west, east = spec["series"]
    assert west["dots"][0]["tip"] == "已退出：饮水"
    # lon/lat goes through the map's projection; x/y is taken as it is (y flipped for ECharts).
    x, y = projection.point(111.55, 24.41)
    assert west["dots"][0]["value"] == [x, -y]
    assert east["dots"][0]["value"] == [200.0, -300.0]
    assert east["dots"][0]["tip"] == "未退出：住房 <b>"
    assert "<b>" not in html  # the JSON block and the SVG escape it
    # Every district is in the outlines the map registers, named by its code.
    codes = {f["properties"]["name"] for f in spec["geo"]["features"]}
    assert codes == {o.code for o in outlines} and "451102" in codes
    # Without JavaScript: the SVG with each dot's own text and the legend as a list.
    assert html.count('class="village-dot"') == 2
    assert "<title>河西村：已退出：饮水</title>" in html
    assert re.search(r'fill="#d73027"/></svg> 未退出</li>', html)
    assert 'data-code="451102" d="' in html and "#fde7e7" in html


def test_without_a_legend_or_tips_a_dot_says_its_coverage(app: Flask) -> None:
    projection, outlines = district_map()
    dots = [
        {"name": "河西村", "x": 10.0, "y": 20.0, "colour": "#bdbdbd", "coverage": 0.456},
        {"name": "东岸村", "x": 12.0, "y": 22.0, "colour": "#bdbdbd"},  # nothing to say
    ]
    with app.test_request_context("/"):
        html = render_template_string(
            MACRO, m=ExitMap(projection, outlines, dots), title="t", highlight=None, legend=None
        )
    spec = _spec(html)
    assert spec["legend"] is False and '<ul class="legend">' not in html
    assert [d["tip"] for d in spec["series"][0]["dots"]] == ["满足率 46%", "无数据"]
    assert "<title>东岸村：无数据</title>" in html
