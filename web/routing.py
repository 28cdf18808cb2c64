"""URL converters: a number in a path that the database cannot hold is a 404, not a 500."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter, Map

from web.api.schemas import MAX_INT


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` bounded to the database's integer columns (1 .. 2**31-1 by default).

    Werkzeug's own converter takes any run of digits, and a 20-digit id reaches the database
    and overflows there (a 500 on PostgreSQL and SQLite alike); out of range it does not
    match, so the route answers 404 like any unknown id.
    """

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_INT,
        signed: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)
