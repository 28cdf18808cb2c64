"""Every page route, as every role, with numbers out of the database's range (issue 24).

A path or query number too big for the database's integer columns (2**31 for PostgreSQL's
integer, 2**63 for SQLite's and bigint), negative, or not a number at all is a 404 or a 400,
never a 500: the walk counts the 5xx answers and expects none, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.web.site.test_access_matrix import (
    ROLES,
    _refresh_sessions,
    _request,
    build_world,
    routes,
)
from web.extensions import db

# Out of range for PostgreSQL integer, for a 64-bit integer, far beyond both; negative; text.
BAD_NUMBERS = ("2147483648", "9223372036854775808", "99999999999999999999", "-1", "1e3", "x")
# Tried together (page first: per_page out of range would answer 400 before page is read),
# then per_page alone.
QUERY_NAMES = ("page", "week", "id", "village", "offer", "need", "run", "year")


def _path(rule: Any, values: dict[str, Any], bad: str) -> str:
    """The rule's URL with every number variable `bad` and every other one a real value."""
    out = rule.rule
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__
        number = converter in ("IntegerConverter", "DatabaseIdConverter")
        value = bad if number else values.get(name, "x")
        for candidate in (f"<{name}>", f"<int:{name}>", f"<path:{name}>", f"<string:{name}>"):
            out = out.replace(candidate, str(value))
    return out


def walk(app: Flask) -> tuple[int, list[str]]:
    """Request every page route with each bad number, as each role; (requests, 5xx answers)."""
    client = app.test_client()
    with app.app_context():
        world = build_world()
    errors: list[str] = []
    tried = 0
    for rule, method in routes(app):
        if rule.rule.startswith("/api/") or rule.endpoint == "static":
            continue
        numeric = [n for n in rule.arguments
                   if type(rule._converters[n]).__name__ != "UnicodeConverter"]  # fmt: skip
        for role in ROLES:
            values = {k: v[0] for k, v in world.ids[role].items()}
            urls = []
            for bad in BAD_NUMBERS:
                if numeric:
                    urls.append(_path(rule, values, bad))
                if method == "GET":
                    base = _path(rule, values, "1") if numeric else _path(rule, values, "")
                    query = "&".join(f"{name}={bad}" for name in QUERY_NAMES)
                    urls += [f"{base}?{query}", f"{base}?per_page={bad}"]
            for url in urls:
                response = _request(client, world, role, method, url, rule.endpoint)
                tried += 1
                if response.status_code >= 500:
                    errors.append(f"{method} {url} as {role}: {response.status_code}")
            if method != "GET":
                with app.app_context():
                    _refresh_sessions(world)
                    db.session.remove()
    return tried, errors


def test_no_page_route_answers_5xx_to_numbers_out_of_range(demo_app: Flask) -> None:
    demo_app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 here, as in production
    tried, errors = walk(demo_app)
    assert tried > 1000
    assert not errors, f"{len(errors)} of {tried} requests answered 5xx:\n" + "\n".join(errors)
