"""A province deployment: villages of another city imported by code, and pages that group by
city, then county, only once there is more than one city (Hezhou's pages stay as they were)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from seeds.checklist import CHECKLIST_ITEMS
from tests.web.conftest import Auth
from tests.web.imports.boundary import imported
from tests.web.week_support import committed, memo_solver, user  # noqa: F401  (a fixture)
from web import clock
from web.extensions import db
from web.models import City, County, Township, Village
from web.services.dashboard import DashboardFilter, dashboard
from web.services.ledger import public_summary
from web.services.reports import weekly_report
from web.services.sheets import SheetSettings
from web.services.villages import several_cities

pytestmark = pytest.mark.usefixtures("memo_solver")

HEADER = [
    "村代码",
    "脱贫状态",
    "户籍人口",
    "建档立卡贫困户数",
    "建档立卡贫困人口",
    "贫困发生率（%）",
    "纬度",
    "经度",
    "村名",
    "乡镇",
    "县区",
    "市",
    *(zh for _, zh, _ in CHECKLIST_ITEMS),
]
# 梧州市 藤县 (450422) and 桂林市 龙胜各族自治县 (450328): official city and county codes.
TZ = ["藤州镇", "藤县", "梧州市"]
LJ = ["龙脊镇", "龙胜各族自治县", "桂林市"]
WUZHOU = [
    ["450422100201", "未脱贫", 1500, 90, 320, 21.3, 23.37, 110.91, "太平村", *TZ],
    ["450422100202", "未脱贫", 900, 60, 210, 23.3, 23.41, 110.95, "新马村", *TZ],
    ["450328101203", "未脱贫", 1100, 70, 260, 23.6, 25.80, 110.00, "金江村", *LJ],
]


def _csv(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([HEADER] + [r + ["否"] * len(CHECKLIST_ITEMS) for r in rows])
    return buffer.getvalue().encode("utf-8")


def _import(rows: list[list[Any]], settings: SheetSettings | None = None) -> Any:
    return imported(db.session, "villages", _csv(rows), user("admin"), settings)


def _counts() -> tuple[int, int, int, int]:
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model))
        for model in (City, County, Township, Village)
    )


def test_hezhou_is_one_city_and_its_pages_show_counties_only(
    demo_db: Flask, client: FlaskClient, auth: Auth
) -> None:
    assert [c.name for c in db.session.scalars(select(City))] == ["贺州市"]
    city = db.session.scalar(select(City))
    assert city is not None and city.code == "451100"
    assert all(c.city_id == city.id for c in db.session.scalars(select(County)))
    assert not several_cities(db.session)
    run = committed()
    board = dashboard(db.session, DashboardFilter())
    assert board.coverage_by_city == []
    assert [b.label for b in board.coverage_by_county] == sorted(
        c.name for c in db.session.scalars(select(County))
    )
    report = weekly_report(db.session, run.id)
    assert not report.several_cities
    run_id = run.id
    db.session.remove()
    auth.login("admin")
    html = client.get(f"/admin/runs/{run_id}/report").get_data(as_text=True)
    assert "<th>市</th>" not in html and "<th>City</th>" not in html
    page = client.get("/dashboard").get_data(as_text=True)
    assert "各市需求满足率" not in page and "Coverage by city" not in page


def test_villages_of_other_cities_are_added_with_their_city_county_and_township(
    demo_db: Flask,
) -> None:
    before = _counts()
    report = _import(WUZHOU)
    assert report.ok, report.errors
    db.session.expire_all()
    added = db.session.scalar(select(Village).where(Village.code == "450422100202"))
    assert added is not None and added.name == "新马村" and added.status == "poor"
    assert (added.lat, added.lon, added.population) == (23.41, 110.95, 900)
    assert added.township.name == "藤州镇" and added.township.code == "450422100"
    assert added.county.name == "藤县" and added.county.code == "450422"
    assert added.county.city is not None and added.county.city.name == "梧州市"
    assert added.county.city.code == "450400"
    assert added.poverty_weight >= 1 and abs(added.poverty_incidence - 0.233) < 1e-9
    # Two new cities, two counties, two townships and three villages; Hezhou's untouched.
    assert _counts() == (before[0] + 2, before[1] + 2, before[2] + 2, before[3] + 3)
    assert several_cities(db.session)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({0: "450422100299", 8: ""}, "村名"),  # a new code without its names
        ({0: "440422100201"}, "45"),  # another province's code
        ({0: "45042210020"}, "12"),  # eleven digits
        ({0: "451102100299", 10: "藤县"}, "八步区"),  # Hezhou's 八步区 under another name
        ({6: 27.5}, "纬度"),  # outside the province's box
        ({7: 100.5}, "经度"),
    ],
)
def test_a_bad_new_village_adds_nothing_and_names_the_problem(
    demo_db: Flask, change: dict[int, Any], message: str
) -> None:
    rows = [list(r) for r in WUZHOU]
    for index, value in change.items():
        rows[1][index] = value
    before = _counts()
    report = _import(rows)
    assert not report.ok
    assert {e.row for e in report.errors} == {3}
    text = " ".join(f"{e.column} {e.message}" for e in report.errors)
    assert message in text, text
    db.session.expire_all()
    assert _counts() == before


def test_the_box_is_configurable(demo_db: Flask) -> None:
    demo_db.config["DUIJIE_VILLAGE_BOX"] = (23.0, 24.0, 110.0, 112.0)  # no room for 桂林 25.8
    report = _import(WUZHOU, SheetSettings.from_config(demo_db.config, clock.today()))
    assert not report.ok
    assert [e.row for e in report.errors] == [4]


def test_with_several_cities_pages_group_by_city_then_county(
    demo_db: Flask, client: FlaskClient, auth: Auth
) -> None:
    assert _import(WUZHOU).ok
    run = committed()
    board = dashboard(db.session, DashboardFilter())
    assert [b.label for b in board.coverage_by_city] == sorted(["贺州市", "梧州市", "桂林市"])
    labels = [b.label for b in board.coverage_by_county]
    assert "梧州市 藤县" in labels and "贺州市 八步区" in labels
    assert labels == sorted(labels)  # city, then county
    wuzhou = next(b for b in board.coverage_by_city if b.label == "梧州市")
    assert wuzhou.met == 0  # its villages have no needs yet
    hezhou = next(b for b in board.coverage_by_city if b.label == "贺州市")
    by_county = [b for b in board.coverage_by_county if b.label.startswith("贺州市 ")]
    assert hezhou.wanted == pytest.approx(sum(b.wanted for b in by_county))
    report = weekly_report(db.session, run.id)
    assert report.several_cities and {c.city for c in report.counties} == {"贺州市"}
    run_id = run.id
    db.session.remove()
    auth.login("admin")
    html = client.get(f"/admin/runs/{run_id}/report").get_data(as_text=True)
    assert "<th>市</th>" in html or "<th>City</th>" in html
    page = client.get("/dashboard").get_data(as_text=True)
    assert "各市需求满足率" in page or "Coverage by city" in page


def test_the_public_ledger_names_the_city_only_with_several(demo_db: Flask) -> None:
    from web.services.week import publish_run

    run = committed()
    publish_run(db.session, run.id, user("admin"))
    db.session.commit()
    one = public_summary(db.session)
    assert one.by_village and not any(k.startswith("贺州市") for k in one.by_village)
    assert _import(WUZHOU).ok
    several = public_summary(db.session)
    assert list(several.by_village) == ["贺州市 " + k for k in one.by_village]
