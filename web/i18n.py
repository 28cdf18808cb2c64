"""Language choice: Chinese first, English on request, remembered in the session."""

from __future__ import annotations

from typing import Any

from flask import request, session
from flask_babel import get_locale

from matcher.categories import BY_CODE, CATEGORIES

LOCALES = ("zh_CN", "en")


def select_locale() -> str:
    """Pick the locale: an explicit ?lang=, then the session's choice, then Chinese."""
    wanted = request.args.get("lang")
    if wanted in LOCALES:
        session["lang"] = wanted
        return wanted
    chosen = session.get("lang")
    return chosen if chosen in LOCALES else "zh_CN"


def is_english() -> bool:
    """True when the current request is served in English."""
    return str(get_locale()) == "en"


def category_name(code: str) -> str:
    """The category's name in the current language."""
    category = BY_CODE.get(code)
    if category is None:
        return code
    return category.name_en if is_english() else category.name_zh


def category_unit(code: str) -> str:
    """The category's unit in the current language."""
    category = BY_CODE.get(code)
    if category is None:
        return ""
    return category.unit_en if is_english() else category.unit_zh


def template_globals() -> dict[str, Any]:
    """Values every template can use."""
    return {
        "current_locale": str(get_locale()),
        "categories": CATEGORIES,
        "category_name": category_name,
        "category_unit": category_unit,
    }
