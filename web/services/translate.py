"""Messages of services in the user's language, in a request or outside one (the CLI)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as babel_gettext


def _(message: str, /, **values: Any) -> str:
    """`message` translated now: in the request's language, or the one a command forces
    (`force_locale`, e.g. `duijie import --lang en`), else the app's default (Chinese:
    web.i18n.select_locale outside a request); with no app at all, the English text."""
    return babel_gettext(message, **values)
