"""Parsing page and per_page query parameters the same way for pages and the API."""

from __future__ import annotations

from collections.abc import Mapping

from web.services.villages import MAX_PER_PAGE

# The furthest page asked for: its offset (page x per_page) must fit the database's integers,
# or a page number of 20 digits reaches the query and overflows there (a 500, issue 24).
MAX_PAGE = 1_000_000


class BadPagination(ValueError):
    """A page or per_page parameter that is not a whole number in range."""


def parse_pagination(args: Mapping[str, str], default_per_page: int = 50) -> tuple[int, int]:
    """Return (page, per_page) from query arguments, or raise BadPagination naming the field."""
    values = {}
    bounds = (("page", 1, MAX_PAGE), ("per_page", default_per_page, MAX_PER_PAGE))
    for name, default, upper in bounds:
        raw = args.get(name)
        if raw is None or raw == "":
            values[name] = default
            continue
        if not raw.isdigit() or int(raw) < 1:
            raise BadPagination(f"{name} must be a whole number of at least 1, not {raw!r}")
        if upper is not None and int(raw) > upper:
            raise BadPagination(f"{name} must be at most {upper}, not {raw}")
        values[name] = int(raw)
    return values["page"], values["per_page"]
