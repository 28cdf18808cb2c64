"""One home for each field rule (issue 18): the same bad value, entered on the form, sent to
the API or imported from a sheet, is refused naming the same field with the same message, in
Chinese and in English (the API answers in English)."""

# ruff: noqa: F811  (the api fixture is imported by name)

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask import Flask, current_app
from flask_babel import force_locale
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from matcher.categories import CATEGORIES
from tests.web.test_api_helpers import Api, api  # noqa: F401  (fixture)
from web import clock
from web.extensions import db
from web.forms import NeedForm, OfferForm
from web.models import User
from web.services.imports import import_file
from web.services.sheets import SheetSettings

OFFER = {
    "category": "goods",
    "title": "冬季棉被",
    "quantity": 200,
    "min_lot": 20,
    "valid_from": "2026-11-23",
    "valid_until": "2026-12-31",
}
NEED = {"category": "goods", "title": "过冬棉被", "quantity": 30, "urgency": 3}
OFFER_CASES = [
    ("quantity", {"quantity": 0}),
    ("quantity", {"quantity": 2_000_000_000}),
    ("min_lot", {"min_lot": 500}),
    ("max_villages", {"max_villages": 0}),
    ("dispatch_lat", {"dispatch_lat": 91}),
    ("dispatch_lon", {"dispatch_lon": 99.5}),
    ("valid_until", {"valid_until": "2026-10-01"}),
    # Validity already ended (tests' today is 2026-11-23, web.clock).
    ("valid_until", {"valid_from": "2026-10-01", "valid_until": "2026-11-22"}),
    ("title", {"title": "棉\u200b被"}),
    ("title", {"title": "   "}),
    ("title", {"title": "被" * 201}),
]
NEED_CASES = [
    ("quantity", {"quantity": -3}),
    ("urgency", {"urgency": 9}),
    ("deadline", {"deadline": "2099-01-01"}),
    ("deadline", {"deadline": "2026-11-22"}),  # passed (today is 2026-11-23)
    ("title", {"title": "gnp\u202eexe"}),
]
CHOICES = [SelectChoice(c.code, c.code) for c in CATEGORIES]


def _form(form_class: type[Any], values: dict[str, Any], lang: str) -> dict[str, str]:
    """The form's refusals, field -> first message, in `lang`."""
    data = MultiDict({"checklist_item": "", **{k: str(v) for k, v in values.items()}})
    with force_locale(lang):
        form = form_class(formdata=data, meta={"csrf": False})
        form.category.choices = CHOICES
        if hasattr(form, "checklist_item"):
            form.checklist_item.choices = [SelectChoice("", "")]
        form.validate()
        return {name: str(messages[0]) for name, messages in form.errors.items()}


def _sheet(kind: str, values: dict[str, Any], username: str, lang: str) -> dict[str, str]:
    """The import's refusals, column key -> message, in `lang` (headers may be the keys)."""
    out = io.StringIO()
    csv.writer(out).writerows([list(values), list(values.values())])
    with force_locale(lang):
        actor = db.session.scalar(select(User).where(User.username == username))
        settings = SheetSettings.from_config(current_app.config, clock.today())
        report = import_file(db.session, kind, out.getvalue().encode(), actor, settings=settings)
    db.session.rollback()
    from web.services.imports import COLUMNS

    keys = {c.header: c.key for c in COLUMNS[kind]}
    return {keys[e.column]: e.message for e in report.errors}


def _api(api: Api, who: str, path: str, values: dict[str, Any]) -> dict[str, str]:
    response = api.post(who, path, values)
    assert response.status_code == 422, response.get_json()
    return {e["field"]: e["message"] for e in response.get_json()["errors"]}


def _same(field: str, form: dict[str, str], sheet: dict[str, str]) -> str:
    """The form's message for the field, which the sheet gives too (naming the cell after it)."""
    assert field in form and field in sheet, (form, sheet)
    message = form[field]
    assert sheet[field] == message or sheet[field].startswith(message), (message, sheet[field])
    return message


@pytest.mark.parametrize(("field", "bad"), OFFER_CASES)
def test_an_offer_field_is_refused_alike_on_form_api_and_sheet(
    api: Api, demo_app: Flask, field: str, bad: dict[str, Any]
) -> None:
    values = {**OFFER, **bad}
    with demo_app.test_request_context():
        english = _same(
            field, _form(OfferForm, values, "en"), _sheet("offers", values, "donor", "en")
        )
        chinese = _same(
            field, _form(OfferForm, values, "zh"), _sheet("offers", values, "donor", "zh")
        )
        assert set(_form(OfferForm, values, "en")) == {field}
        db.session.remove()
    assert english != chinese and not any("\u4e00" <= ch <= "\u9fff" for ch in english)
    assert _api(api, "donor", "/offers", values) == {field: english}


@pytest.mark.parametrize(("field", "bad"), NEED_CASES)
def test_a_need_field_is_refused_alike_on_form_api_and_sheet(
    api: Api, demo_app: Flask, field: str, bad: dict[str, Any]
) -> None:
    values = {**NEED, **bad}
    with demo_app.test_request_context():
        english = _same(
            field, _form(NeedForm, values, "en"), _sheet("needs", values, "village", "en")
        )
        chinese = _same(
            field, _form(NeedForm, values, "zh"), _sheet("needs", values, "village", "zh")
        )
        assert set(_form(NeedForm, values, "en")) == {field}
        db.session.remove()
    assert english != chinese
    assert _api(api, "village", "/needs", values) == {field: english}


def test_a_micro_wish_without_its_note_is_refused_alike_by_form_api_and_rule(
    demo_app: Flask, api: Api
) -> None:
    """The verification note of a micro-wish: one rule (NeedFields.evidence), the same message
    on the form and through the API (the sheet's case is in tests/web/imports/test_imports.py)."""
    from web.forms import WishForm
    from web.models import Household
    from web.services.inputs import NeedFields

    with demo_app.test_request_context(), force_locale("en"):
        rule = str(NeedFields(evidence="  ", wish=True).problem("evidence"))
        assert "verification note" in rule
        assert NeedFields(evidence="", wish=False).problem("evidence") is None
        assert "2000" in str(NeedFields(evidence="核" * 2001, wish=True).problem("evidence"))
        form = WishForm(
            MultiDict({"title": "书包", "quantity": "1", "value": "80"}), meta={"csrf": False}
        )
        form.validate()
        assert [str(m) for m in form.evidence.errors] == [rule]
    with demo_app.app_context():
        village = db.session.scalar(select(User).where(User.username == "village"))
        assert village is not None
        own = db.session.scalar(
            select(Household.id).where(Household.village_id == village.village_id)
        )
        db.session.remove()
    wish = {**NEED, "title": "书包", "quantity": 1, "household_id": own, "estimated_value": 80}
    answer = api.post("village", "/needs", {**wish, "item": "goods.school.stationery"})
    assert answer.status_code == 422
    error = answer.get_json()["errors"][0]
    assert error["field"] == "evidence" and error["message"] == rule
