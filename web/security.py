"""HTTP hardening: headers on every response, and a session cookie fit for HTTPS."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The session cookie's name when served over HTTPS: browsers accept a __Host- cookie only
# with Secure, Path=/ and no Domain, so no subdomain or plain-HTTP page can plant or read it.
HOST_COOKIE = "__Host-session"


def tile_origin(template: str | None) -> str | None:
    """The origin of a base-map tile URL template ({s} subdomains become *), or None."""
    if not template:
        return None
    parts = urlsplit(template)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"


def content_security_policy(tile_url: str | None) -> str:
    """The CSP; img-src also allows the base-map tile server when one is configured."""
    origin = tile_origin(tile_url)
    if origin is None:
        return CSP
    return CSP.replace("img-src 'self' data: blob:", f"img-src 'self' data: blob: {origin}")


def add_security_headers(response: Response) -> Response:
    """Add CSP (no inline script), anti-framing, nosniff and referrer policy headers."""
    response.headers.setdefault(
        "Content-Security-Policy",
        content_security_policy(current_app.config.get("DUIJIE_MAP_TILE_URL")),
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if carries_personal_data():
        # Nothing a signed-in user or token holder is shown stays in a browser's or proxy's
        # cache (a shared phone, the back button after sign-out): issue 24.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def carries_personal_data() -> bool:
    """Whether this request's answer may carry personal data: anything but a static file asked
    for with a signed-in session or an API token. (Public pages carry none: tests/web/
    test_privacy.py.)"""
    if request.path.startswith("/static/"):
        return False
    return "_user_id" in session or bool(request.headers.get("Authorization"))


def served_over_https(app: Flask) -> bool:
    """DUIJIE_HTTPS=1, or this request came over HTTPS (directly, or per X-Forwarded-Proto
    from one of the DUIJIE_TRUSTED_PROXIES)."""
    if app.config.get("DUIJIE_HTTPS"):
        return True
    return has_request_context() and request.is_secure


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, HttpOnly and SameSite=Lax always (see web.config), and
    over HTTPS Secure and named __Host-session."""

    def get_cookie_name(self, app: Flask) -> str:
        if served_over_https(app):
            return HOST_COOKIE
        return super().get_cookie_name(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        return served_over_https(app) or super().get_cookie_secure(app)

    def get_cookie_domain(self, app: Flask) -> str | None:
        if served_over_https(app):
            return None  # a __Host- cookie carries no Domain
        return super().get_cookie_domain(app)

    def get_cookie_path(self, app: Flask) -> str:
        if served_over_https(app):
            return "/"  # ...and Path=/
        return super().get_cookie_path(app)


class NoResultRows(logging.Filter):
    """Drop SQLAlchemy's DEBUG records of result rows: they would log households' names and
    phones. (Statements stay; their parameters are hidden by the engine's hide_parameters.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Row "))


ROW_FILTER = NoResultRows()

# PostgreSQL puts the refused row's values in its error DETAIL ("Failing row contains (...)",
# "Key (phone)=(139...) already exists"): hide_parameters cannot hide those.
_ROW_DETAIL = re.compile(r"Failing row contains \(.*?\)\.(?=\s|$)", re.DOTALL)
_KEY_DETAIL = re.compile(r"Key \((.*?)\)=\((.*?)\)(?= already exists| is not present)")


def redact(text: str) -> str:
    """Database error text without the values of the row it refused."""
    text = _ROW_DETAIL.sub("Failing row contains (values hidden).", text)
    return _KEY_DETAIL.sub(r"Key (\1)=(value hidden)", text)


class RedactDatabaseValues(logging.Filter):
    """Rewrite logged tracebacks and messages so database errors carry no row values."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


REDACT_FILTER = RedactDatabaseValues()
# Loggers that may carry a database error's text: the app's, SQLAlchemy's and the job worker's.
REDACTED_LOGGERS = ("sqlalchemy.engine.Engine", "sqlalchemy.pool", "rq.worker", "web")


# A spreadsheet cell starting with one of these is run as a formula by Excel and LibreOffice
# (=HYPERLINK(...) leaks data, DDE runs programs): typed text that starts so is quoted. The
# full-width forms (＝＋－＠, which an IME types and spreadsheets may read as formulas), the pipe
# and semicolon of DDE and of separator tricks (issue 24), after any leading spaces too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", ";", "＝", "＋", "－", "＠", "｜")
_LEADING_SPACE = " \u3000\u00a0"


def _formula_like(text: str) -> bool:
    return text.startswith(FORMULA_STARTS) or text.lstrip(_LEADING_SPACE).startswith(FORMULA_STARTS)


def spreadsheet_cell(value: object) -> object:
    """A value safe for a CSV or XLSX export: text that would be a formula gets a leading '."""
    if isinstance(value, str) and _formula_like(value):
        return "'" + value
    return value


def spreadsheet_value(value: object) -> object:
    """A cell read back from an export: the quote spreadsheet_cell added is taken off again."""
    if isinstance(value, str) and value.startswith("'") and _formula_like(value[1:]):
        return value[1:]
    return value


def spreadsheet_rows(table: Iterable[Iterable[object]]) -> list[list[object]]:
    """Every cell of `table` through spreadsheet_cell."""
    return [[spreadsheet_cell(value) for value in line] for line in table]


def init_app(app: Flask) -> None:
    """Install the headers, the session cookie and the log filter on `app`."""
    engine_log = logging.getLogger("sqlalchemy.engine.Engine")
    if ROW_FILTER not in engine_log.filters:
        engine_log.addFilter(ROW_FILTER)
    for logger in (app.logger, *map(logging.getLogger, REDACTED_LOGGERS)):
        if REDACT_FILTER not in logger.filters:
            logger.addFilter(REDACT_FILTER)
    app.after_request(add_security_headers)
    app.session_interface = SessionInterface()
    if app.config.get("DUIJIE_HTTPS"):
        app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"
