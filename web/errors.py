"""Error responses: a page for people, application/problem+json for API clients."""

from __future__ import annotations

import logging

from flask import Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from markupsafe import escape
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
)

log = logging.getLogger(__name__)


def wants_problem_json() -> bool:
    """True for API paths, where errors are answered as RFC 9457 problem documents."""
    return request.path.startswith("/api/")


def problem(status: int, title: str, detail: str = "", **extra: object) -> Response:
    """Build an application/problem+json response."""
    body: dict[str, object] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _matches_any_method(error: MethodNotAllowed) -> bool:
    """False when the 405 is werkzeug's for a path no rule takes with any method: its matcher
    checks the method before a converter refuses the value (an id past the database's integers,
    web.routing.DatabaseIdConverter), so /needs/<20 digits> by PATCH was a 405, by GET a 404."""
    adapter = request.url_rule is None and current_app.url_map.bind_to_environ(request.environ)
    if not adapter:
        return True
    for method in error.valid_methods or ():
        try:
            adapter.match(request.path, method=method)
        except NotFound:
            continue
        except HTTPException:
            return True
        return True
    return False


def handle_http_error(error: Exception) -> Response | tuple[str, int]:
    """Render any HTTP error without a traceback."""
    if not isinstance(error, HTTPException):
        error = InternalServerError()
    if isinstance(error, MethodNotAllowed) and not _matches_any_method(error):
        error = NotFound()
    status = error.code or 500
    if wants_problem_json():
        response = problem(status, error.name, error.description or "")
        if status == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        return response
    return render_template("error.html", status=status, error=error), status


def database_unavailable_message() -> str:
    """What a person reads when the database dropped the connection during their request."""
    return _(
        "The database could not be reached for a moment (restarted or the connection dropped). "
        "Nothing was saved; please try again."
    )


def handle_database_unavailable(error: Exception) -> Response | tuple[str, int]:
    """A dropped or refused database connection: 503, the transaction rolled back, nothing kept.

    SQLAlchemy has already invalidated the broken connection, and the engine pings each
    connection it hands out (pool_pre_ping), so the next request gets a fresh one.
    """
    from web.extensions import db

    log.warning("database unavailable during %s %s: %s", request.method, request.path, error)
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the pool has invalidated it already
        log.info("rollback after a lost connection failed", exc_info=True)
    message = database_unavailable_message()
    if wants_problem_json():
        response = problem(503, "Service Unavailable", message)
    else:
        try:  # the page's header reads the signed-in user, which needs the database again
            page = render_template("error.html", status=503, error=ServiceUnavailable(message))
        except Exception:  # still down: a bare page that needs nothing
            db.session.rollback()
            page = f"<!doctype html><title>503</title><h1>503</h1><p>{escape(message)}</p>"
        response = Response(page, status=503, mimetype="text/html")
    response.headers["Retry-After"] = "5"
    return response
