"""Messages of services in the user's language, in a request or outside one (the CLI)."""

from __future__ import annotations

from typing import Any

from flask import has_app_context, has_request_context
from flask_babel import force_locale, get_babel
from flask_babel import gettext as babel_gettext


def _(message: str, /, **values: Any) -> str:
    """`message` translated now: in the request's language, else in the app's default one.

    Outside a request (the `duijie import` command, a shell) the app's locale selector cannot
    read the session, so the default locale (BABEL_DEFAULT_LOCALE, Chinese) is forced; with no
    app at all there is no catalogue and the English text is returned.
    """
    if has_request_context() or not has_app_context():
        return babel_gettext(message, **values)
    with force_locale(get_babel().default_locale):
        return babel_gettext(message, **values)
