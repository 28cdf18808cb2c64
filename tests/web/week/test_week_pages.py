"""Journey 3 pages: the administrator previews, compares, re-runs, commits and publishes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from seeds.demo import WEEK
from tests.web.week_support import memo_solver  # noqa: F401  (a fixture)
from web.extensions import db
from web.models import AllocationRun

pytestmark = pytest.mark.usefixtures("memo_solver")

ADMIN_ROUTES = [
    ("get", "/admin/week"),
    ("post", "/admin/week"),
    ("get", "/admin/runs/1"),
    ("post", "/admin/runs/1/rerun"),
    ("post", "/admin/runs/1/commit"),
    ("post", "/admin/runs/1/publish"),
    ("get", "/admin/runs/1/progress"),
    ("post", "/admin/runs/1/cancel"),
    ("post", "/admin/runs/1/retry"),
    ("post", "/admin/allocations/1/cancel"),
]


def policy_form(**changes: Any) -> dict[str, Any]:
    """The week form with the spec's default weights and a short solve (long enough for the LP
    bound the page shows, on a loaded machine)."""
    data = {
        "week": WEEK,
        "fragmentation_penalty": "5",
        "distance_discount_per_km": "0.001",
        "fairness_floor": "0.3",
        "fairness_penalty": "200",
        "time_limit": "5",
    }
    data.update(changes)
    return data


def run_id(response: Any) -> int:
    """The run id a preview redirected to."""
    assert response.status_code == 302, response.text
    found = re.search(r"/admin/runs/(\d+)$", response.headers["Location"])
    assert found is not None, response.headers["Location"]
    return int(found.group(1))


def run_status(app: Flask, run: int) -> str:
    """A run's stored status."""
    with app.app_context():
        found = db.session.get(AllocationRun, run)
        assert found is not None
        status = found.status
        db.session.remove()
    return status


def test_admin_previews_compares_reruns_commits_and_publishes(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    auth.login("admin")
    page = client.get("/admin/week")
    assert page.status_code == 200
    assert "每周分配" in page.text and WEEK in page.text
    assert "碎片化惩罚" in page.text and "公平底线" in page.text and 'value="200.0"' in page.text

    first = run_id(client.post("/admin/week", data=policy_form()))
    page = client.get(f"/admin/runs/{first}")
    assert "预览" in page.text and "贪心基线" in page.text and "优化器" in page.text
    assert "已服务/可到达的村" in page.text and "基尼系数" in page.text
    assert re.search(r"最优可能值的 \d+\.\d%", page.text)
    assert "提交分配" in page.text and "下载全部" in page.text

    second = run_id(
        client.post(f"/admin/runs/{first}/rerun", data=policy_form(fairness_floor="0.5"))
    )
    assert second != first
    page = client.get(f"/admin/runs/{second}")
    assert 'value="0.5"' in page.text

    page = client.post(
        f"/admin/runs/{second}/commit", data={"confirm": "yes"}, follow_redirects=True
    )
    assert "已提交" in page.text and "发布" in page.text
    assert "取消对接" in page.text
    assert run_status(demo_app, second) == "committed"

    page = client.post(
        f"/admin/runs/{first}/commit", data={"confirm": "yes"}, follow_redirects=True
    )
    assert page.status_code == 200
    assert "本周已提交分配，不能再次提交" in page.text
    assert run_status(demo_app, first) == "preview"

    page = client.post(
        f"/admin/runs/{second}/publish", data={"confirm": "yes"}, follow_redirects=True
    )
    assert "已发布：已通知捐赠方和各村" in page.text
    assert run_status(demo_app, second) == "published"
    again = client.post(
        f"/admin/runs/{second}/publish", data={"confirm": "yes"}, follow_redirects=True
    )
    assert again.status_code == 200 and "无法完成分配" in again.text


def test_bad_weights_and_unknown_run(client: FlaskClient, auth: Any) -> None:
    auth.login("admin")
    page = client.post("/admin/week", data=policy_form(fairness_floor="2", week="48"))
    assert page.status_code == 200
    assert "周次请写成 2026-W48 的格式" in page.text and "field-error" in page.text
    assert client.get("/admin/runs/999999").status_code == 404


@pytest.mark.parametrize("role", [None, "donor", "village", "township", "auditor"])
def test_admin_routes_access(client: FlaskClient, auth: Any, role: str | None) -> None:
    if role is not None:
        auth.login(role)
    for method, path in ADMIN_ROUTES:
        response = getattr(client, method)(path)
        if role is None:
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code == 403, (method, path)
