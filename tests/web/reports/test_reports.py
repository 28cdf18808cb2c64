"""The printable weekly report of a committed run: figures against the greedy baseline, the
multi-actor evaluation, allocations by county; who may read it; no household data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.web.conftest import Auth
from tests.web.week_support import committed, memo_solver, preview, user  # noqa: F401  (a fixture)
from web.extensions import db
from web.models import Allocation, County, Household, Need, Village
from web.services.delivery import confirm_receipt
from web.services.reports import weekly_report
from web.services.week import publish_run

pytestmark = pytest.mark.usefixtures("memo_solver")
CSS = Path(__file__).resolve().parents[3] / "web" / "static" / "css" / "duijie.css"


def published_run(app: Flask) -> int:
    with app.app_context():
        run = committed()
        publish_run(db.session, run.id, user("admin"))
        db.session.commit()  # services flush; the caller commits
        run_id = run.id
        db.session.remove()
    return run_id


@pytest.mark.parametrize(
    ("username", "status"),
    [(None, 302), ("donor", 403), ("village", 403), ("admin", 200), ("auditor", 200),
     ("township", 200)],
)  # fmt: skip
def test_who_may_read_the_report(
    demo_app: Flask, client: FlaskClient, auth: Auth, username: str | None, status: int
) -> None:
    run_id = published_run(demo_app)
    if username:
        auth.login(username)
    response = client.get(f"/admin/runs/{run_id}/report")
    assert response.status_code == status
    if username is None:
        assert "/login" in response.headers["Location"]


def test_only_committed_runs_have_a_report(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    with demo_app.app_context():
        draft = preview().id
        db.session.remove()
    auth.login("admin")
    assert client.get(f"/admin/runs/{draft}/report").status_code == 404
    assert client.get("/admin/runs/999999/report").status_code == 404


def _cells(html: str, label: str) -> list[str]:
    """The cells of the table row headed by `label`."""
    row = re.search(rf"<th>{re.escape(label)}</th>(.*?)</tr>", html, re.S)
    assert row, label
    return [re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row[1])]


def test_report_compares_with_greedy_and_evaluates_each_actor(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    run_id = published_run(demo_app)
    with demo_app.app_context():
        village = user("village")
        own = db.session.scalar(
            select(Allocation.id)
            .join(Need, Need.id == Allocation.need_id)
            .where(Need.village_id == village.village_id)
        )
        assert own is not None
        confirm_receipt(db.session, own, village, "收到", 4)
        db.session.commit()  # services flush; the caller commits
        served = db.session.scalar(
            select(func.count(func.distinct(Need.village_id))).join(
                Allocation, Allocation.need_id == Need.id
            )
        )
        pledges = db.session.scalar(select(func.count(Allocation.id)))
        counties = db.session.scalar(select(func.count(County.id)))
        report = weekly_report(db.session, run_id)
        names = set(db.session.scalars(select(Household.display_name)))
        phones = {p for p in db.session.scalars(select(Household.phone)) if p}
        db.session.remove()

    assert report.plan is not None and report.greedy is not None
    assert report.plan.villages_reached == served
    assert report.plan.pledges == pledges
    # The optimizer does at least as well as the first-come baseline for the villages.
    assert report.plan.villages_reached >= report.greedy.villages_reached
    assert report.plan.mean_coverage >= report.greedy.mean_coverage
    kinds = {k.kind for k in report.plan.by_kind}
    assert kinds == {"enterprise", "ngo", "paired_unit", "individual", "government"}
    assert sum(k.pledges for k in report.plan.by_kind) == pledges
    assert sum(d.pledges for d in report.delivery) == pledges
    assert sum(d.confirmed for d in report.delivery) == 1
    assert [d.mean_rating for d in report.delivery if d.confirmed] == [4.0]
    assert sum(c.pledges for c in report.counties) == pledges and len(report.counties) == counties

    auth.login("auditor")
    html = client.get(f"/admin/runs/{run_id}/report").get_data(as_text=True)
    assert "周报" in html and "贪心基线" in html
    for heading in ("对村", "对捐赠方（按主体类型）", "对扶贫办：避免碎片化", "按县区统计分配"):
        assert heading in html
    reached = _cells(html, "覆盖村数 / 可覆盖村数")
    assert reached[0].startswith(f"{served:,} / ")
    assert reached[1].startswith(f"{report.greedy.villages_reached:,} / ")
    assert _cells(html, "重复帮扶：一个村同一类别来自多个帮扶资源") == [
        f"{report.plan.duplicates:,}",
        f"{report.greedy.duplicates:,}",
    ]
    for kind in ("企业", "社会组织", "帮扶单位", "爱心人士", "政府机关"):
        assert kind in html
    assert html.count('class="county-row"') == counties
    assert "补齐的十一有一低于指标" in html
    # No household's name or phone, no inline style or script (CSP).
    assert not any(name in html for name in names)
    assert not any(phone in html for phone in phones)
    assert "style=" not in html
    # A chart's data is a JSON block (never run); every script that runs is a file.
    assert not re.findall(r'<script(?![^>]*\b(?:src=|type="application/json"))', html), "inline"


def test_township_officer_reads_only_its_own_villages(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    run_id = published_run(demo_app)
    with demo_app.app_context():
        township = user("township")
        ours = db.session.scalar(
            select(func.count(Allocation.id))
            .join(Need, Need.id == Allocation.need_id)
            .join(Village, Village.id == Need.village_id)
            .where(Village.township_id == township.township_id)
        )
        name = township.township.name
        city = weekly_report(db.session, run_id)
        db.session.remove()
    assert ours and city.plan is not None and ours < city.plan.pledges
    auth.login("township")
    html = client.get(f"/admin/runs/{run_id}/report").get_data(as_text=True)
    assert name in html and "贺州市全部267个贫困村" not in html
    assert html.count('class="county-row"') == 1
    assert _cells(html, "对接数")[0] == str(ours)
    assert "本周分配与贪心基线对比" not in html  # the city-wide solver figures are not shown


def test_report_prints_on_a4_without_the_menu() -> None:
    css = CSS.read_text(encoding="utf-8")
    assert re.search(r"@page\s*\{[^}]*size:\s*A4", css)
    ours = css[css.index("issue 5: follow-up") :]
    printing = ours[ours.index("@media print") :]
    assert re.match(r"@media print \{[^@]*\.topbar[^{]*\{ display: none; \}", printing)


def test_a_run_without_its_stored_plan_still_reports_its_pledges(demo_db: Flask) -> None:
    """A committed run stored without its input still reports its pledges."""
    run = committed()
    run.input = None
    db.session.commit()
    report = weekly_report(db.session, run.id)
    assert report.plan is None and report.greedy is None
    assert sum(d.pledges for d in report.delivery) == len(run.allocations)


def test_the_run_page_links_to_its_report_once_committed(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    with demo_app.app_context():
        draft = preview().id
        db.session.remove()
    auth.login("admin")
    assert f"/admin/runs/{draft}/report" not in client.get(f"/admin/runs/{draft}").text
    run_id = published_run(demo_app)
    assert f'href="/admin/runs/{run_id}/report"' in client.get(f"/admin/runs/{run_id}").text


def test_the_report_opened_again_is_served_until_a_delivery_changes(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    run_id = published_run(demo_app)
    auth.login("admin")
    path = f"/admin/runs/{run_id}/report"
    client.get(path)  # the first render also makes the session's form token: not kept
    stored, again = client.get(path), client.get(path)
    assert stored.headers["X-Page-Cache"] == "miss" and again.headers["X-Page-Cache"] == "hit"
    assert again.data == stored.data
    with demo_app.app_context():
        pledge = db.session.scalars(select(Allocation).where(Allocation.run_id == run_id)).first()
        assert pledge is not None
        pledge.status = "dispatched"
        db.session.commit()
        db.session.remove()
    after = client.get(path)
    assert after.headers["X-Page-Cache"] == "miss", "a delivery change makes the report again"
