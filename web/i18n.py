"""Language choice: Chinese first, English on request, remembered in the session."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import has_request_context, request, session
from flask_babel import get_locale

from matcher.categories import BY_CODE, CATEGORIES
from matcher.kinds import Catalogue

LOCALES = ("zh_CN", "en")


def select_locale() -> str:
    """Pick the locale: an explicit ?lang=, then the session's choice, then Chinese."""
    if not has_request_context():  # a command or a job: Chinese unless force_locale says
        return "zh_CN"
    wanted = request.args.get("lang")
    if wanted in LOCALES:
        session["lang"] = wanted
        return wanted
    chosen = session.get("lang")
    return chosen if chosen in LOCALES else "zh_CN"


COMMAND_LANGUAGE = "DUIJIE_LANG"  # the environment variable naming the commands' language


def command_language() -> str:
    """The language of duijie's command-line messages: DUIJIE_LANG (zh_CN or en), else Chinese.

    An unknown value is refused with a message naming it (as `duijie import --lang` does).
    """
    import os

    import click

    wanted = os.environ.get(COMMAND_LANGUAGE) or "zh_CN"
    if wanted not in LOCALES:
        raise click.UsageError(
            f"{COMMAND_LANGUAGE} must be one of {', '.join(LOCALES)}, not {wanted!r}"
        )
    return wanted


def speaking_the_command_language(command: Any) -> None:
    """Run `command`'s callback (and its subcommands') with messages in command_language():
    in an app context, under force_locale. Not for long-running commands (serve, worker):
    the forced language would stay with the requests or the forked jobs they run."""
    import functools

    import click
    from flask import has_app_context
    from flask.cli import ScriptInfo
    from flask_babel import force_locale

    for sub in getattr(command, "commands", {}).values():
        speaking_the_command_language(sub)
    callback = command.callback
    if callback is None or getattr(callback, "speaks_command_language", False):
        return

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        language = command_language()
        if has_app_context():
            with force_locale(language):
                return callback(*args, **kwargs)
        app = click.get_current_context().ensure_object(ScriptInfo).load_app()
        with app.app_context(), force_locale(language):
            return callback(*args, **kwargs)

    run.speaks_command_language = True  # type: ignore[attr-defined]
    command.callback = run


def user_locale(user: Any) -> str:
    """The language a user's notices and e-mail are written in: their choice, else Chinese."""
    chosen = getattr(user, "locale", None)
    return chosen if chosen in LOCALES else "zh_CN"


def remember_user_locale() -> None:
    """Keep a signed-in user's language choice on their account, for the notices sent to them.

    Written only when the choice differs from what is stored: once per change, not per page.
    """
    from flask_login import current_user

    chosen = request.args.get("lang") or session.get("lang")
    if chosen not in LOCALES or not getattr(current_user, "is_authenticated", False):
        return
    if getattr(current_user, "role", None) == "household" or current_user.locale == chosen:
        return
    from web.extensions import db

    current_user.locale = chosen
    db.session.commit()


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


def _catalogue() -> Catalogue:
    """The request's catalogue of kinds (loaded once per request)."""
    from web.extensions import db
    from web.services.kinds import request_catalogue

    return request_catalogue(db.session)


def kind_name(code: str | None) -> str:
    """A kind's name in the current language ('' for no kind; the code if unknown)."""
    if not code:
        return ""
    kind = _catalogue().get(code)
    if kind is None:
        return code
    return kind.name_en if is_english() else kind.name_zh


def kind_unit(code: str | None, category: str) -> str:
    """The unit a quantity of this kind is counted in (its category root's if no kind)."""
    kind = _catalogue().unit_of(code, category)
    if kind is None:
        return category_unit(category)
    return kind.unit_en if is_english() else kind.unit_zh


def offer_unit(codes: Iterable[str], category: str) -> str:
    """The unit of an offer's quantity: its kinds' one unit (a general offer: its category's)."""
    first = next(iter(codes), None)
    return kind_unit(first, category)


def kind_names(codes: Iterable[str]) -> str:
    """Several kinds by name, joined ('、' in Chinese)."""
    return (", " if is_english() else "、").join(kind_name(c) for c in codes)


def kind_match(offer: Any, need: Any) -> str:
    """How an offer's kinds meet a need's (供给 X → 需求 Y), for allocation lists."""
    from web.services.kind_match import kind_match as match

    lang = "en" if is_english() else "zh"
    return match(_catalogue(), offer.item_codes, need.item_code, need.accept_codes, lang)


def yuan(value: float | None) -> str:
    """折合金额 as shown: whole yuan with thousands separators and the unit, e.g. '12,300 元'."""
    amount = f"{round(value or 0):,}"
    return f"{amount} CNY" if is_english() else f"{amount} 元"


def format_number(value: float | int | None, digits: int = 0) -> str:
    """A number as shown on a page: thousands separators by locale (1,712; 17,072,221) and
    `digits` decimals; '—' for no value."""
    if value is None:
        return "—"
    from flask_babel import format_decimal

    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return str(format_decimal(value, format=pattern))


SOLVER_STATES = ("optimal", "feasible", "infeasible", "unknown", "manual")


def solver_state(code: str | None) -> str:
    """The solver's status of a run in the user's language ('—' when there is none)."""
    from flask_babel import gettext as _

    names = {
        "optimal": _("optimal (proven best)"),
        "feasible": _("feasible (good, not proven best)"),
        "infeasible": _("infeasible"),
        "unknown": _("no solution found"),
        "manual": _("manual pledges"),
    }
    return names.get(code or "", code or "—")


def urgency_label(level: int | None) -> str:
    """An urgency level 1-5 with its meaning, e.g. '紧急程度 5（最紧急）'."""
    from flask_babel import gettext as _

    meanings = {
        1: _("can wait"),
        2: _("can wait a little"),
        3: _("normal"),
        4: _("urgent"),
        5: _("very urgent"),
    }
    value = int(level or 0)
    meaning = meanings.get(value)
    if meaning is None:
        return _("Urgency %(level)s", level=value)
    return _("Urgency %(level)s of 5 (%(meaning)s)", level=value, meaning=meaning)


def template_globals() -> dict[str, Any]:
    """Values every template can use."""
    return {
        "colon": ": " if is_english() else "：",
        "solver_state": solver_state,
        "urgency_label": urgency_label,
        "current_locale": str(get_locale()),
        "categories": CATEGORIES,
        "category_name": category_name,
        "category_unit": category_unit,
        "kind_match": kind_match,
        "kind_name": kind_name,
        "kind_names": kind_names,
        "kind_unit": kind_unit,
        "offer_unit": offer_unit,
        "yuan": yuan,
        "format_number": format_number,
    }
