"""Whole pages served from the per-process cache while nothing they show has changed.

``@cached_page`` goes under a view's access decorators, so the caller is checked on every
request; what is cached is the view's rendered 200 response. The key holds the path and
query, the signed-in principal's session id (user and session version, so a page rendered for
one village committee is never served to another, and a suspended account or changed password
moves on), the session's CSRF token (forms in the page carry it), the language, and the data
version of ``web.services.page_cache``: every committed change to what the pages show moves it.
A page served from the cache is gzipped (once, when stored) for clients that accept it.

Not cached: a request with messages waiting to be flashed (they would be baked into the page),
a response that is not a 200 HTML or JSON body, and a render that changed the session (its
key would not match the next request). ``DUIJIE_PAGE_CACHE = False`` turns it off; the
``X-Page-Cache`` header says hit, miss or off.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import current_app, make_response, request, session
from werkzeug.wrappers import Response

from web.extensions import db
from web.i18n import select_locale
from web.services import page_cache

F = TypeVar("F", bound=Callable[..., Any])
PAGE_TTL = 60.0  # what follows the clock alone (overdue days, this week) is a minute old at most
CACHEABLE = ("text/html", "application/json")
GZIP_FROM = 1024  # bytes: smaller bodies are sent as they are


@dataclass(frozen=True)
class Stored:
    """A rendered response: what is needed to answer it again, and its body gzipped once for
    the clients that accept it (every browser: the 190 KB map page travels as about a tenth)."""

    body: bytes
    status: int
    content_type: str
    gzipped: bytes | None = None

    @classmethod
    def of(cls, response: Response) -> Stored:
        body = response.get_data()
        packed = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_FROM else None
        return cls(body, response.status_code, response.content_type or "", packed)

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")


def request_key(kind: str, identity: str | None) -> tuple[Any, ...]:
    """What, besides the data version, a page's content depends on."""
    return (
        kind,
        request.path,
        tuple(sorted(request.args.items(multi=True))),
        identity,
        session.get("csrf_token"),
        select_locale(),  # what get_locale() will say, without building a Babel Locale
    )


def enabled() -> bool:
    return bool(current_app.config.get("DUIJIE_PAGE_CACHE", True))


def answer(stored: Stored, state: str) -> Response:
    """The stored page, gzipped when the client accepts it."""
    packed = stored.gzipped is not None and request.accept_encodings["gzip"] > 0
    body = stored.gzipped if packed and stored.gzipped is not None else stored.body
    response = Response(body, status=stored.status, content_type=stored.content_type)
    if packed:
        response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.headers["X-Page-Cache"] = state
    return response


def cached_response(
    kind: str, render: Callable[[], Response], *, identity: str | None = None
) -> Response:
    """The response `render` gives, from the cache when nothing it shows has changed.

    `identity` names the caller when it is not the session's (an API token's user).
    """
    if not enabled() or request.method != "GET" or "_flashes" in session:
        response = render()
        response.headers["X-Page-Cache"] = "off"
        return response
    version = page_cache.data_version(db.session)
    rendered: list[Response] = []

    def compute() -> Stored | None:
        response = render()
        rendered.append(response)
        if (
            response.status_code != 200
            or response.mimetype not in CACHEABLE
            or response.is_streamed
            or "Set-Cookie" in response.headers
            or session.modified
        ):
            return None
        return Stored.of(response)

    stored = page_cache.cached(
        db.session,
        request_key(kind, identity or session.get("_user_id")),
        compute,
        PAGE_TTL,
        keep=lambda value: value is not None,
        version=version,
    )
    if rendered:  # rendered by this request, stored or not
        rendered[0].vary.add("Accept-Encoding")
        rendered[0].headers["X-Page-Cache"] = "miss"
        return rendered[0]
    assert stored is not None  # a hit is always a stored page
    return answer(stored, "hit")


def etag(kind: str, identity: str | None) -> str:
    """The entity tag of a read: what its content depends on (the request_key: path, query,
    caller, language) and the data version, within the minute (what follows the clock)."""
    import hashlib
    import time

    version = page_cache.data_version(db.session)
    minute = int(time.time() // PAGE_TTL)
    basis = repr((request_key(kind, identity), version, minute)).encode()
    return hashlib.sha256(basis).hexdigest()[:32]


def cached_page(view: F) -> F:
    """Serve the view's page from the cache while its data version and caller are the same."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        return cached_response(
            f"page:{request.endpoint}", lambda: make_response(view(*args, **kwargs))
        )

    return cast(F, wrapper)
