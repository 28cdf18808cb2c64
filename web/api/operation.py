"""What an API operation is, what its view receives, and the error it answers with.

Kept apart from web.api.registry so that web.api.access (the caller's checks) and the registry
(which runs those checks) both import it, and neither imports the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Response
from pydantic import BaseModel

from web.errors import problem
from web.models import User


class ApiError(Exception):
    """An error answered as a problem document; `errors` lists fields for validation errors."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: object,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> Response:
        """The problem+json response for this error."""
        extra: dict[str, object] = dict(self.extra)
        if self.errors is not None:
            extra["errors"] = self.errors
        answer = problem(self.status, self.title, self.detail, **extra)
        answer.headers.update(self.headers)
        return answer


@dataclass(frozen=True)
class Call:
    """What a view receives: the caller (None when anonymous), its query and its body."""

    user: User | None
    query: Any = None
    body: Any = None

    @property
    def actor(self) -> User:
        """The authenticated caller (operations with roles always have one)."""
        assert self.user is not None
        return self.user


@dataclass(frozen=True)
class Operation:
    """Everything known about one API operation."""

    rule: str
    method: str
    name: str
    summary: str
    description: str
    tag: str
    roles: tuple[str, ...] | None
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    idempotent: bool
    view: Callable[..., Any] = field(repr=False)

    @property
    def path(self) -> str:
        """The OpenAPI path, e.g. /offers/{offer_id}."""
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.rule)

    @property
    def path_params(self) -> list[str]:
        """Names of the path's integer parameters."""
        return re.findall(r"<int:(\w+)>", self.rule)
