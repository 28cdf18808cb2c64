"""Error responses: a page for people, application/problem+json for API clients."""

from __future__ import annotations

from flask import Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError


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


def handle_http_error(error: Exception) -> Response | tuple[str, int]:
    """Render any HTTP error without a traceback."""
    if not isinstance(error, HTTPException):
        error = InternalServerError()
    status = error.code or 500
    if wants_problem_json():
        response = problem(status, error.name, error.description or "")
        if status == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        return response
    return render_template("error.html", status=status, error=error), status
