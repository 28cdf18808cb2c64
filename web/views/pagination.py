"""Parsing page and per_page query parameters the same way for pages and the API."""

from __future__ import annotations

from collections.abc import Mapping

from web.services.villages import MAX_PER_PAGE


class BadPagination(ValueError):
    """A page or per_page parameter that is not a whole number in range."""


def parse_pagination(args: Mapping[str, str], default_per_page: int = 50) -> tuple[int, int]:
    """Return (page, per_page) from query arguments, or raise BadPagination naming the field."""
    values = {}
    for name, default, upper in (("page", 1, None), ("per_page", default_per_page, MAX_PER_PAGE)):
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
