"""Units and values everywhere, and donors see why (issue 22).

Every quantity a page shows carries its kind's unit; no total adds quantities of different
kinds: totals across kinds or categories are 折合金额 in 元 (quantity × the kind's reference
value). The donor's allocations page says why each pledge went where it went, and why an offer
that got nothing in the latest committed week got nothing.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import select

from matcher.kinds import offer_fits
from seeds.demo import WEEK
from tests.web.conftest import Auth
from tests.web.week_support import committed, memo_solver, user  # noqa: F401  (memo_solver: a fixture)
from web.extensions import db
from web.models import Allocation, Kind, Need, Offer
from web.services.dashboard import DashboardFilter, dashboard
from web.services.kinds import load_catalogue
from web.services.week import publish_run
from web.services.week_instance import week_days

pytestmark = pytest.mark.usefixtures("memo_solver")

NUMBER_WITH_UNIT = re.compile(r"^-?[\d,.]+ \S+$")


def _cells(html: str, table_class: str) -> list[str]:
    """The texts of the numeric cells of the table with this class."""
    start = html.index(f'class="{table_class}')
    table = html[start : html.index("</table>", start)]
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r'<td class="num">(.*?)</td>', table, re.S)
    ]


def _chart_values(html: str, title: str) -> list[str]:
    """The value labels of the bar chart with this title: in the JSON the chart is drawn from,
    and the same in the table shown without JavaScript."""
    start = html.index(f'aria-label="{title}"')
    chart = html[start : html.index("</figure>", start)]
    found = re.search(r'<script type="application/json">(.*?)</script>', chart, re.S)
    assert found is not None, f"no chart data for {title}"
    texts = [row["text"] for row in json.loads(found[1])["rows"]]
    table = re.findall(r'<td class="num">([^<]*)</td>', chart)
    assert table == [escape(t) for t in texts], (table, texts)
    return texts


def _goods_value(catalogue_owner: Flask) -> float:
    """折合金额 of the open verified goods needs' remaining units, by the catalogue."""
    with catalogue_owner.app_context():
        catalogue = load_catalogue(db.session)
        needs = db.session.scalars(
            select(Need).where(
                Need.category_code == "goods",
                Need.verification == "verified",
                Need.status == "open",
            )
        ).all()
        return sum(
            catalogue.value_in_yuan(n.item_code, "goods", n.quantity - n.allocated) for n in needs
        )


def test_every_total_is_in_one_unit_or_in_yuan(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    with demo_app.app_context():
        run = committed()
        publish_run(db.session, run.id, user("admin"))
        db.session.commit()  # services flush; the caller commits
        run_id = run.id
        board = dashboard(db.session, DashboardFilter())
        goods = next(b for b in board.unmet_by_category if b.label == "goods")
        db.session.remove()
    # The goods category's unmet need is its value in 元, not a sum of 套, 袋, 台 ... as 件.
    assert goods.value == pytest.approx(_goods_value(demo_app))

    auth.login("admin")
    html = client.get("/dashboard").get_data(as_text=True)
    unmet = _chart_values(html, "各类别未满足需求")
    assert unmet and all(v.endswith(" 元") for v in unmet), unmet
    assert f"{round(goods.value):,} 元" in unmet
    county = _chart_values(html, "各县区需求满足率")
    assert county and all(re.search(r"\(.+ 元 / .+ 元\)$", v) for v in county), county
    row = re.search(r'<tr class="week-row">(.*?)</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row[1])
    assert cells[3].endswith(" 元") and cells[4].endswith(" 元"), cells

    report = client.get(f"/admin/runs/{run_id}/report").get_data(as_text=True)
    by_category = _cells(report, "all-cols unmet-by-category")
    assert by_category and all(c.endswith(" 元") for c in by_category), by_category
    by_kind = _cells(report, "all-cols unmet-by-kind")
    assert by_kind and all(NUMBER_WITH_UNIT.match(c) for c in by_kind), by_kind
    assert "件" not in "".join(by_kind)  # goods kinds count in 套, 袋, 台 ..., never 件
    counties = re.findall(r'<tr class="county-row">.*?</tr>', report, re.S)
    assert counties and all(" 元" in c and " 件" not in c for c in counties)

    ledger = client.get("/ledger?per_page=500").get_data(as_text=True)
    quantities = _cells(ledger, "ledger")
    assert quantities and all(NUMBER_WITH_UNIT.match(q) for q in quantities)
    assert " 件" not in "".join(quantities)

    public = client.get("/public").get_data(as_text=True)
    totals = _cells(public, "by-category")
    assert totals and all(t.endswith(" 元") for t in totals), totals
    assert all(NUMBER_WITH_UNIT.match(q) for q in _cells(public, "by-kind"))

    auth.logout()
    auth.login("donor")
    donor = client.get("/donor/allocations").get_data(as_text=True)
    assert all(NUMBER_WITH_UNIT.match(q) for q in _cells(donor, "all-cols"))


def test_a_pledge_says_its_kinds_urgency_poverty_weight_and_distance(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    with demo_app.app_context():
        run = committed()
        publish_run(db.session, run.id, user("admin"))
        db.session.commit()  # services flush; the caller commits
        catalogue = load_catalogue(db.session)
        mine = db.session.scalars(
            select(Allocation)
            .join(Offer, Offer.id == Allocation.offer_id)
            .where(
                Offer.organization_id == user("donor").organization_id,
                Offer.dispatch_lat.is_not(None),  # goods from a place: the distance is told
            )
            .order_by(Allocation.id)
        ).first()
        assert mine is not None
        need, offer = mine.need, mine.offer
        assert need.item_code is not None
        fitting = [i for i in offer.item_codes if need.item_code.startswith(i)]
        given = catalogue[fitting[0]].name_zh if fitting else None
        wanted = catalogue[need.item_code].name_zh
        expected = [
            f"紧急程度 {need.urgency}/5",
            f"贫困权重 {need.village.poverty_weight:.2f}",
            f"距离 {mine.km:.1f} 公里",
        ]
        db.session.remove()
    auth.login("donor")
    html = client.get("/donor/allocations").get_data(as_text=True)
    why = re.findall(r'<td class="why"><small>(.*?)</small></td>', html, re.S)
    assert why
    sentence = next(w for w in why if all(e in w for e in expected))
    if given is not None:
        assert f"供给{given} → 需求{wanted}" in sentence
    else:
        assert f"需求{wanted}" in sentence


def test_an_offer_that_got_nothing_says_why(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    monday, sunday = week_days(WEEK)
    with demo_app.app_context():
        catalogue = load_catalogue(db.session)
        needs = db.session.scalars(
            select(Need).where(Need.category_code == "goods", Need.status == "open")
        ).all()

        # A goods kind no need of the week asks for or accepts: the kind fewest needs fit,
        # whose needs the villages withdraw.
        def fitting(code: str) -> list[Need]:
            return [n for n in needs if offer_fits([code], n.item_code, n.accept_codes)]

        unwanted = min(
            (k for k in catalogue.leaves() if k.category == "goods" and not k.retired),
            key=lambda k: len(fitting(k.code)),
        )
        for need in fitting(unwanted.code):
            need.status = "withdrawn"
        donor = user("donor")

        def offer(title: str, **fields: object) -> Offer:
            values: dict[str, object] = {
                "organization_id": donor.organization_id,
                "category_code": "goods",
                "title": title,
                "quantity": 20,
                "valid_from": monday - timedelta(days=30),
                "valid_until": sunday + timedelta(days=30),
            }
            values.update(fields)
            row = Offer(**values)
            db.session.add(row)
            return row

        offer("无人需要的品类", items=[db.session.get(Kind, unwanted.code)])
        offer("待审核的捐赠")  # neither kinds nor general: waits for review
        offer("已过期的捐赠", general=True, valid_until=monday - timedelta(days=3))
        db.session.commit()
        run = committed()
        publish_run(db.session, run.id, user("admin"))
        db.session.commit()  # services flush; the caller commits
        db.session.remove()

    auth.login("donor")
    html = client.get("/donor/allocations").get_data(as_text=True)
    assert f"{WEEK} 未分配到的供给" in html
    cards = dict(
        re.findall(
            r'<div class="card idle-offer"[^>]*>\s*<p><strong>([^<]+)</strong>(.*?)</div>',
            html,
            re.S,
        )
    )
    assert (
        f"本周没有与其品类（{unwanted.name_zh}）相符的已审核待对接需求" in cards["无人需要的品类"]
    )
    assert f"品类不符：供给是{unwanted.name_zh}" in cards["无人需要的品类"]
    assert f"20 {unwanted.unit_zh}" in cards["无人需要的品类"]
    assert "正等待扶贫办审核" in cards["待审核的捐赠"]
    expired = (monday - timedelta(days=3)).isoformat()
    assert f"捐赠有效期已过（截至 {expired}" in cards["已过期的捐赠"]
