"""Helpers for the API tests: a token per demo role and a client that sends it.

The fixtures here are imported by the other tests/web/test_api_*.py modules.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from web.extensions import db
from web.models import User
from web.services.tokens import create_token

ROLES = ("admin", "county", "township", "village", "donor", "auditor")


class Api:
    """Calls /api/v1 as a demo user (by username) or anonymously (None)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()
        self.tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self.tokens:
            with self.app.app_context():
                user = db.session.scalar(select(User).where(User.username == username))
                assert user is not None, username
                self.tokens[username] = create_token(db.session, user, "test").secret
                db.session.commit()  # services flush; the caller commits
                db.session.remove()
        return self.tokens[username]

    def headers(self, who: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if who is not None:
            headers["Authorization"] = f"Bearer {self.token(who)}"
        return headers

    def get(self, who: str | None, path: str, **kwargs: Any) -> Any:
        return self.client.get(
            "/api/v1" + path, headers=self.headers(who, kwargs.pop("headers", None)), **kwargs
        )

    def post(self, who: str | None, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.post(
            "/api/v1" + path,
            json=json,
            headers=self.headers(who, kwargs.pop("headers", None)),
            **kwargs,
        )

    def patch(self, who: str | None, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.patch(
            "/api/v1" + path,
            json=json,
            headers=self.headers(who, kwargs.pop("headers", None)),
            **kwargs,
        )


@pytest.fixture
def api(demo_app: Flask) -> Api:
    """An API client on the demo week."""
    return Api(demo_app)


def test_every_demo_role_gets_a_working_token(api: Api) -> None:
    for role in ROLES:
        body = api.get(role, "/me").get_json()
        assert body["role"] == role and body["username"] == role
