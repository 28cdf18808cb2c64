"""Issue 23: committing and publishing ask first and name what will happen; a committed week's
other previews are superseded; a run's allocations are paged and downloadable in full."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from tests.web.week_support import memo_solver, preview  # noqa: F401  (a fixture)
from web.extensions import db
from web.models import AllocationRun

pytestmark = pytest.mark.usefixtures("memo_solver")


def _previews(app: Flask, count: int) -> list[tuple[int, int]]:
    """`count` previews of the demo week: (run id, allocation lines)."""
    with app.app_context():
        runs = [preview() for _ in range(count)]
        db.session.commit()
        found = [(r.id, len((r.output or {}).get("allocations", []))) for r in runs]
        db.session.remove()
    return found


def _status(app: Flask, run: int) -> str:
    with app.app_context():
        found = db.session.get(AllocationRun, run)
        assert found is not None
        status = found.status
        db.session.remove()
    return status


def test_commit_and_publish_ask_first_naming_what_happens(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    (run, lines), (other, _lines) = _previews(demo_app, 2)
    assert lines > 200
    auth.login("admin")
    page = client.get(f"/admin/runs/{run}").text
    question = f"提交后将生成 {lines:,} 条认捐"
    assert question in page and "本周不能再次提交" in page
    assert 'name="confirm"' in page and f'data-confirm="{question}' in page

    # Without the ticked box nothing is committed, and the page says what to confirm.
    refused = client.post(f"/admin/runs/{run}/commit", follow_redirects=True)
    assert "未执行任何操作" in refused.text and question in refused.text
    assert _status(demo_app, run) == "preview"

    done = client.post(f"/admin/runs/{run}/commit", data={"confirm": "yes"}, follow_redirects=True)
    assert _status(demo_app, run) == "committed"
    assert "不能撤回" in done.text  # the publish question

    refused = client.post(f"/admin/runs/{run}/publish", follow_redirects=True)
    assert "未执行任何操作" in refused.text and _status(demo_app, run) == "committed"
    client.post(f"/admin/runs/{run}/publish", data={"confirm": "yes"})
    assert _status(demo_app, run) == "published"

    # The week's other preview is superseded: marked so, with no commit button or re-preview.
    stale = client.get(f"/admin/runs/{other}").text
    assert "已被取代" in stale and "提交分配</button>" not in stale
    assert "调整权重后重新预览" not in stale
    listing = client.get("/admin/week").text
    row = re.search(rf"#{other}</a>.*?</tr>", listing, re.S)
    assert row is not None and "已被取代" in row.group(0)


def test_the_run_page_pages_every_allocation_and_downloads_them(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    ((run, lines),) = _previews(demo_app, 1)
    auth.login("admin")
    first = client.get(f"/admin/runs/{run}").text
    assert f"1–200，共 {lines:,} 条" in first and "下一页" in first
    last_page = -(-lines // 200)
    last = client.get(f"/admin/runs/{run}?page={last_page}").text
    assert f"共 {lines:,} 条" in last and "下一页" not in last and "上一页" in last
    assert last.count("<tr>") - 1 >= lines - 200 * (last_page - 1)
    assert client.get(f"/admin/runs/{run}?page=x").status_code == 400

    sheet = client.get(f"/admin/runs/{run}/allocations.csv")
    assert sheet.status_code == 200 and sheet.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(sheet.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["供给", "捐赠方", "村", "需求"] and len(rows) == lines + 1
    assert all(not r[0].startswith(("=", "+", "-", "@")) for r in rows)
    book = client.get(f"/admin/runs/{run}/allocations.xlsx")
    assert book.status_code == 200
    sheet_rows = list(load_workbook(io.BytesIO(book.data)).active.iter_rows(values_only=True))
    assert len(sheet_rows) == lines + 1
    assert client.get(f"/admin/runs/{run}/allocations.pdf").status_code == 404
    auth.logout()
    auth.login("donor")
    assert client.get(f"/admin/runs/{run}/allocations.csv").status_code == 403


def test_withdrawing_an_offer_asks_first_naming_it(client: FlaskClient, auth: Any) -> None:
    auth.login("donor")
    page = client.get("/donor/offers").text
    found = re.search(
        r'action="/donor/offers/(\d+)/withdraw"[^>]*data-confirm="撤回“([^”]+)”', page
    )
    assert found is not None, "the withdraw form names the offer"
    offer_id, title = found.groups()
    refused = client.post(f"/donor/offers/{offer_id}/withdraw", follow_redirects=True)
    assert "未执行任何操作" in refused.text and title in refused.text
    done = client.post(
        f"/donor/offers/{offer_id}/withdraw", data={"confirm": "yes"}, follow_redirects=True
    )
    assert "供给已撤回" in done.text
