"""Inputs that cannot smuggle (issue 24): one title rule for forms, API and household asks;
export quoting that covers full-width, pipe and semicolon forms."""

# ruff: noqa: F811  (the api fixture is imported by name)

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.web.api.test_api_resources import NEED, OFFER
from tests.web.test_api_helpers import Api, api  # noqa: F401  (fixture)
from web.extensions import db
from web.models import Need, Offer
from web.security import spreadsheet_cell, spreadsheet_value
from web.services.titles import title_problem

HIDDEN = {
    "zero-width space": "棉被\u200b",
    "right-to-left override": "棉被\u202egpj.exe",
    "bidi isolate": "\u2066棉被\u2069",
    "control character": "棉\x07被",
    "byte order mark": "\ufeff棉被",
    "line separator": "棉被\u2028棉被",
}


@pytest.mark.parametrize("title", ["", "   ", "\u3000\t "])
def test_a_blank_title_is_refused(title: str) -> None:
    assert title_problem(title) == "blank"


@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_hidden_characters_are_refused(name: str) -> None:
    assert title_problem(HIDDEN[name]) == "characters"


def _count(app: Flask, model: Any) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(model.id))) or 0
        db.session.remove()
    return count


def test_the_api_refuses_whitespace_and_hidden_titles(api: Api, demo_app: Flask) -> None:
    offers, needs = _count(demo_app, Offer), _count(demo_app, Need)
    for title in ("   ", "\t", *HIDDEN.values()):
        answer = api.post("donor", "/offers", {**OFFER, "title": title})
        assert answer.status_code == 422, (title, answer.get_json())
        assert "title" in str(answer.get_json())
        assert api.post("village", "/needs", {**NEED, "title": title}).status_code == 422
    assert (_count(demo_app, Offer), _count(demo_app, Need)) == (offers, needs)
    # A title with spaces around it is kept trimmed.
    made = api.post("donor", "/offers", {**OFFER, "title": "  爱心书包  "})
    assert made.status_code == 201 and made.get_json()["title"] == "爱心书包"


def test_the_need_form_refuses_a_hidden_character(auth: Any, demo_app: Flask) -> None:
    auth.login("village")
    needs = _count(demo_app, Need)
    data = {"category": "goods", "title": "课桌\u202e椅", "quantity": "3", "urgency": "3",
            "deadline": "2027-01-31"}  # fmt: skip
    page = auth.client.post("/village/needs/new", data=data)
    assert page.status_code == 200 and "看不见" in page.text
    assert _count(demo_app, Need) == needs


@pytest.mark.parametrize(
    "text", ['＝HYPERLINK("http://x")', "|cmd", "; =1+1", "  =1+1", "＋1", "－1", "＠SUM(A1)"]
)
def test_export_quotes_full_width_pipe_and_semicolon_forms(text: str) -> None:
    quoted = spreadsheet_cell(text)
    assert quoted == "'" + text
    assert spreadsheet_value(quoted) == text


@pytest.mark.parametrize(
    ("title", "what"),
    [
        ("棉被，联系 13912345678", "phone"),
        ("助听器 452402198001011234", "id_card"),
        ("测试户甲家的棉被", "name"),
    ],
)
def test_a_public_wish_title_that_names_the_household_needs_confirming(
    demo_app: Flask, auth: Any, title: str, what: str
) -> None:
    from tests.web.households.test_household import NAME, activate, ask, register, request_ids
    from web.services.titles import personal_data_in

    assert personal_data_in(title, [NAME]) == [what]
    auth.login("village")
    slip = register(auth.client)
    ask(activate(demo_app, slip))
    (request_id,) = request_ids(demo_app, slip.number)
    data = {"title": title, "quantity": "1", "value": "100"}
    needs = _count(demo_app, Need)
    warned = auth.client.post(f"/village/requests/{request_id}/accept", data=data)
    assert (
        warned.status_code == 200
        and "公开页面" in warned.text
        and 'name="public_ok"' in warned.text
    )
    assert _count(demo_app, Need) == needs  # nothing accepted yet
    with demo_app.app_context():
        from web.models import HelpRequest

        assert db.session.get(HelpRequest, request_id).status == "received"  # type: ignore[union-attr]
        db.session.remove()
    confirmed = auth.client.post(
        f"/village/requests/{request_id}/accept", data={**data, "public_ok": "y"}
    )
    assert confirmed.status_code == 302


@pytest.mark.parametrize("title", ["🎒🎒", "！！！", "…—…", "🙏 ❤️"])
def test_a_title_with_no_words_is_refused(title: str) -> None:
    assert title_problem(title) == "no_words"


@pytest.mark.parametrize("title", ["书包", "A4 纸", "2 袋米", "🎒书包"])
def test_a_title_with_words_is_kept(title: str) -> None:
    assert title_problem(title) is None


def test_the_need_form_and_the_api_refuse_a_title_of_emoji_only(
    auth: Any, api: Api, demo_app: Flask
) -> None:
    needs = _count(demo_app, Need)
    auth.login("village")
    data = {"category": "goods", "title": "🎒🎒", "quantity": "3", "urgency": "3",
            "deadline": "2027-01-31"}  # fmt: skip
    page = auth.client.post("/village/needs/new", data=data)
    assert page.status_code == 200 and "不能只有符号或表情" in page.text
    assert "field-error" in page.text
    answer = api.post("donor", "/offers", {**OFFER, "title": "🎒🎒"})
    assert answer.status_code == 422 and "word" in str(answer.get_json())
    assert _count(demo_app, Need) == needs


def test_a_micro_wish_title_is_shown_without_a_doubled_mark() -> None:
    from web.services.titles import wish_title

    assert wish_title("微心愿：书包") == "书包"
    assert wish_title("微心愿:冬衣") == "冬衣"
    assert wish_title("书包") == "书包"
    assert wish_title("微心愿：") == "微心愿："
