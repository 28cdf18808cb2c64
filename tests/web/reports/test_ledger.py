"""The ledger: who may see it, and its CSV and Excel exports parse back with the filters applied."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from seeds.demo import WEEK
from tests.web.conftest import Auth
from tests.web.week_support import committed, memo_solver, user  # noqa: F401  (a fixture)
from web.extensions import db
from web.models import Allocation, County, Need, Village

ROUTES = ("/ledger", "/ledger.csv", "/ledger.xlsx")


@pytest.mark.parametrize(
    ("username", "status"),
    [
        (None, 302),
        ("donor", 403),
        ("village", 403),
        ("admin", 200),
        ("township", 200),
        ("auditor", 200),
    ],
)
def test_ledger_access(client: FlaskClient, auth: Auth, username: str | None, status: int) -> None:
    if username:
        auth.login(username)
    for route in ROUTES:
        response = client.get(route)
        assert response.status_code == status, route
        if username is None:
            assert "/login" in response.headers["Location"]


def _csv(client: FlaskClient, query: str = "") -> list[list[str]]:
    body = client.get(f"/ledger.csv{query}").data
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx(client: FlaskClient, query: str = "") -> list[tuple[object, ...]]:
    body = client.get(f"/ledger.xlsx{query}").data
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


@pytest.mark.usefixtures("memo_solver")
def test_exports_parse_back_with_the_filters(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    with demo_app.app_context():
        run = committed()
        ids = sorted(a.id for a in run.allocations)
        first = db.session.get(Allocation, ids[0])
        assert first is not None
        first.status = "dispatched"
        county = db.session.scalars(select(County).order_by(County.code)).first()
        assert county is not None
        in_county = sorted(
            a.id
            for a in db.session.scalars(
                select(Allocation).join(Need).join(Village).where(Village.county_id == county.id)
            )
        )
        category = first.need.category_code
        of_category = sorted(a.id for a in run.allocations if a.need.category_code == category)
        township = user("township")
        of_township = sorted(
            a.id for a in run.allocations if a.need.village.township_id == township.township_id
        )
        db.session.commit()
        county_code, county_name = county.code, county.name
        db.session.remove()
    assert 0 < len(in_county) < len(ids) and of_township

    auth.login("admin")
    rows = _csv(client)
    assert rows[0][:3] == ["编号", "周次", "捐赠方"]
    assert sorted(int(r[0]) for r in rows[1:]) == ids
    assert all(r[1] == WEEK for r in rows[1:])
    sheet = _xlsx(client)
    assert sheet[0][0] == "编号"
    assert sorted(int(str(r[0])) for r in sheet[1:]) == ids
    assert ["" if c is None else str(c) for c in sheet[1]] == rows[1]

    by_county = _csv(client, f"?county={county_code}")
    assert sorted(int(r[0]) for r in by_county[1:]) == in_county
    assert {r[5] for r in by_county[1:]} == {county_name}
    assert sorted(int(str(r[0])) for r in _xlsx(client, f"?county={county_code}")[1:]) == in_county
    assert [int(r[0]) for r in _csv(client, "?state=dispatched")[1:]] == [ids[0]]
    assert sorted(int(r[0]) for r in _csv(client, f"?category={category}")[1:]) == of_category
    assert len(_csv(client, f"?week={WEEK}")) == len(ids) + 1
    assert _csv(client, "?week=2000-W01")[1:] == []
    html = client.get(f"/ledger?county={county_code}&per_page=500").get_data(as_text=True)
    assert html.count('class="ledger-row"') == len(in_county)

    auth.logout()
    auth.login("township")
    assert sorted(int(r[0]) for r in _csv(client)[1:]) == of_township


@pytest.mark.usefixtures("memo_solver")
def test_ledger_pages_keep_the_filters_and_count_the_total(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    with demo_app.app_context():
        run = committed()
        ids = sorted(a.id for a in run.allocations)
        county = db.session.scalars(select(County).order_by(County.code)).first()
        assert county is not None
        in_county = sorted(
            a.id
            for a in db.session.scalars(
                select(Allocation).join(Need).join(Village).where(Village.county_id == county.id)
            )
        )
        code = county.code
        db.session.remove()
    per_page = 40
    assert len(in_county) > 2 * per_page
    auth.login("admin")
    first = client.get(f"/ledger?county={code}&per_page={per_page}").get_data(as_text=True)
    assert first.count('class="ledger-row"') == per_page
    pages = -(-len(in_county) // per_page)
    assert f"第 1 页，共 {pages} 页，{len(in_county)} 条对接" in first
    assert f"{len(in_county)} 笔对接" in first  # the heading counts every match, not the page
    nxt = re.search(r'<a href="(/ledger\?[^"]+)" rel="next">', first)
    assert nxt, "a link to the next page"
    link = nxt[1].replace("&amp;", "&")
    assert f"county={code}" in link and f"per_page={per_page}" in link and "page=2" in link
    last = client.get(f"/ledger?county={code}&per_page={per_page}&page={pages}").get_data(
        as_text=True
    )
    assert last.count('class="ledger-row"') == len(in_county) - (pages - 1) * per_page
    assert 'rel="next"' not in last and 'rel="prev"' in last
    # Every row of the filter, once, across the pages; the CSV is not paged.
    seen = []
    for page in range(1, pages + 1):
        html = client.get(f"/ledger?county={code}&per_page={per_page}&page={page}").get_data(
            as_text=True
        )
        seen += [int(i) for i in re.findall(r'data-id="(\d+)"', html)]
    assert sorted(seen) == in_county
    assert len(_csv(client)) == len(ids) + 1
    for bad in ("page=0", "per_page=abc", "per_page=100000"):
        response = client.get(f"/ledger?{bad}")
        assert response.status_code == 400 and "per_page" in response.get_data(as_text=True)


@pytest.mark.usefixtures("memo_solver")
def test_a_micro_wish_is_marked_once_in_the_export(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    with demo_app.app_context():
        committed()
        db.session.commit()
        db.session.remove()
    auth.login("admin")
    rows = list(csv.reader(io.StringIO(client.get("/ledger.csv").data.decode("utf-8-sig"))))
    titles = [cell for row in rows[1:] for cell in row if cell.startswith("微心愿")]
    assert titles, "the demo week pledges micro-wishes: the test proves nothing without them"
    assert not [t for t in titles if t.startswith("微心愿：微心愿")]
