"""The import's messages follow the user's language; the sheet's Chinese headers stay as typed."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.web.conftest import Auth
from tests.web.imports.boundary import imported
from web.extensions import db
from web.models import User

HEADER = ["类别", "标题", "说明", "数量", "最小批量", "可去县区", "有效期起", "有效期止"]
BAD_ROWS = [
    HEADER,
    ["物资", "冬季棉被", "", "200", "20", "八步区", "2026-11-23", "2026-12-31"],
    ["物资", "大米", "", "两百", "", "", "2026-11-23", "2026-12-31"],
    ["种子", "化肥", "", "50", "", "", "2026-11-23", "31.12.2026"],
]
# Sentences of the Chinese messages: none may reach a user who chose English.
CHINESE_SENTENCES = (
    "须为",
    "这里是",
    "未知类别",
    "可填",
    "日期格式不对",
    "缺少必填列",
    "请下载模板",
)


def _csv(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _upload(client: FlaskClient, data: bytes) -> str:
    response = client.post(
        "/import/offers",
        data={"file": (io.BytesIO(data), "offers.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    return response.text


def _problems(page: str) -> list[str]:
    """The import page's list of problems, one plain-text line each."""
    listed = re.search(r'<ul class="import-problems">(.*?)</ul>', page, re.S)
    assert listed is not None, page
    items = re.findall(r"<li>(.*?)</li>", listed[1], re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", item)).split()) for item in items]


def test_import_messages_follow_the_chosen_language(client: FlaskClient, auth: Auth) -> None:
    auth.login("donor")
    data = _csv(BAD_ROWS)

    assert client.get("/import/offers?lang=en").status_code == 200  # the session keeps English
    english = _problems(_upload(client, data))
    assert english == [
        "Row 3 · 数量 Quantity must be a whole number greater than 0. This is “两百”.",
        "Row 4 · 类别 Unknown category “种子”; possible: "
        "资金、物资、技能培训、就业岗位、消费扶贫订单、基础设施项目、助学、医疗帮扶.",
        "Row 4 · 有效期止 Wrong date format: write it as 2026-12-31; this is “31.12.2026”.",
    ]
    missing = _upload(client, _csv([["类别", "标题"], ["物资", "棉被"]]))
    assert "Required columns are missing: 数量、有效期起、有效期止." in missing
    for page in ("\n".join(english), missing):
        assert not any(sentence in page for sentence in CHINESE_SENTENCES), page

    assert client.get("/import/offers?lang=zh_CN").status_code == 200  # back to Chinese
    chinese = _problems(_upload(client, data))
    assert chinese == [
        "第 3 行 · 数量 数量必须是大于0的整数。这里是「两百」。",
        "第 4 行 · 类别 未知类别「种子」，可填："
        "资金、物资、技能培训、就业岗位、消费扶贫订单、基础设施项目、助学、医疗帮扶。",
        "第 4 行 · 有效期止 日期格式不对，应写作 2026-12-31，这里是「31.12.2026」。",
    ]
    missing = _upload(client, _csv([["类别", "标题"], ["物资", "棉被"]]))
    assert "缺少必填列：数量、有效期起、有效期止。请下载模板，按模板的表头填写。" in missing


def test_row_prefix_is_translated_and_chinese_outside_a_request(demo_app: Flask) -> None:
    data = _csv(BAD_ROWS[:3])
    with demo_app.test_request_context("/import/offers?lang=en"):
        donor = db.session.scalar(select(User).where(User.username == "donor"))
        assert donor is not None
        report = imported(db.session, "offers", data, donor)
        assert [str(e) for e in report.errors] == [
            "Row 3, “数量”: Quantity must be a whole number greater than 0. This is “两百”."
        ]
        db.session.remove()
    with demo_app.app_context():  # no request, as for `duijie import`: the default, Chinese
        donor = db.session.scalar(select(User).where(User.username == "donor"))
        assert donor is not None
        report = imported(db.session, "offers", data, donor)
        assert [str(e) for e in report.errors] == [
            "第 3 行「数量」：数量必须是大于0的整数。这里是「两百」。"
        ]
        db.session.remove()
