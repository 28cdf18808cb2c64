"""Who calls the API and how often: bearer tokens, roles, rate limits, Idempotency-Key.

Session cookies are never credentials here: only `Authorization: Bearer <token>` is, which is
why the API blueprint is exempt from CSRF protection.
"""

from __future__ import annotations

import os
import re
import threading
import time
from typing import Any

from flask import Response, after_this_request, current_app, g, request

from web.api.operation import ApiError, Operation
from web.extensions import db
from web.models import User
from web.services import idempotency, tokens

# Who reads and decides what, by role. Each operation's rows are narrowed to the caller's own
# (web.services.listing): a county office (issue 16) reads its county's needs, the offers reaching
# it and its county's share of published runs, exactly what its pages show, and may verify a
# need of its county when the township is stuck.
ACCOUNT_ROLES = ("admin", "county", "township", "village", "donor", "auditor")
NEED_READERS = ("village", "township", "county", "admin", "auditor")
PLEDGE_READERS = ("donor", "village", "township", "county", "admin", "auditor")
OFFER_READERS = ("donor", "county", "admin", "auditor")
NEED_VERIFIERS = ("township", "county")

DEFAULT_RATE_LIMIT = 1200  # requests per window, per token (per address when anonymous)
DEFAULT_RATE_WINDOW = 60  # seconds
KEY_CHARACTERS = re.compile(r"[\x21-\x7e]+")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="duijie"'}


def setting(name: str, default: float) -> float:
    """A number from the app config, else the environment, else the default."""
    value = current_app.config.get(name)
    if value is None:
        value = os.environ.get(name)
    try:
        return float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def authenticate() -> User | None:
    """The user behind the bearer token; None without one; 401 for a bad, revoked or idle one."""
    header = request.headers.get("Authorization")
    g.api_token = None
    if header is None:
        return None
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "Unauthorized", "send Authorization: Bearer <token>", headers=CHALLENGE)
    # A read notes the token's use in Redis when there is one (no database write on a read).
    uses = token_uses() if request.method in ("GET", "HEAD") else None
    token = tokens.authenticate(db.session, secret.strip(), uses)
    if token is None:
        raise ApiError(
            401, "Unauthorized",
            "the token is unknown, revoked, expired or its user is inactive",
            headers=CHALLENGE,
        )  # fmt: skip
    g.api_token = token
    return token.user


def authorise(op: Operation, user: User | None) -> None:
    """401 without a token on an operation that needs one; 403 for a role it does not allow,
    and for a read-only token on anything but a read."""
    token = g.get("api_token")
    if token is not None and token.scope == "read" and op.method not in ("GET", "HEAD"):
        raise ApiError(403, "Forbidden", "this token may only read: make a write token for this")
    if op.roles is None:
        return
    if user is None:
        raise ApiError(401, "Unauthorized", "this operation needs a token", headers=CHALLENGE)
    if user.role not in op.roles:
        raise ApiError(403, "Forbidden", f"a {user.role} account may not do this")



def _bucket() -> str:
    token = g.get("api_token")
    # The hash, not the row id: ids repeat across databases that share one Redis.
    if token is not None:
        return f"api:token:{token.token_hash[:24]}"
    return f"api:ip:{request.remote_addr}"


def _redis_client(url: str) -> Any:
    """The API's Redis client (short timeouts: the API goes on without Redis)."""
    import redis

    client = current_app.extensions.get("duijie_api_redis")
    if client is None:
        client = redis.Redis.from_url(url, socket_timeout=1)
        current_app.extensions["duijie_api_redis"] = client
    return client


def token_uses() -> Any:
    """The Redis where API reads note token uses (web.services.tokens), or None without one."""
    url = current_app.config.get("DUIJIE_REDIS_URL")
    return _redis_client(url) if url else None


def _redis_count(url: str, bucket: str, window: int) -> tuple[int, int]:
    """Count this request in a fixed window in Redis: (count so far, seconds left)."""
    client = _redis_client(url)
    now = int(time.time())
    key = f"duijie:{bucket}:{now // window}"
    pipe = client.pipeline()
    pipe.incr(key)
    pipe.expire(key, window)
    count = int(pipe.execute()[0])
    return count, window - now % window


def _memory_count(bucket: str, window: int) -> tuple[int, int]:
    """Count this request in a fixed window in this process's memory: (count, seconds left).

    Without Redis (one machine, `make demo`) the API's limit is counted per process: a read
    never writes to the database for it. The windows of past periods are dropped as they end.
    """
    store = current_app.extensions.setdefault("duijie_api_counts", {"lock": threading.Lock()})
    now = int(time.time())
    period = now // window
    with store["lock"]:
        counts: dict[str, int] = store.setdefault(period, {})
        for old in [key for key in store if key not in ("lock", period)]:
            del store[old]
        counts[bucket] = counts.get(bucket, 0) + 1
        return counts[bucket], window - now % window


def limit_rate() -> None:
    """429 with Retry-After once the caller's requests in the window pass the limit.

    Counted in Redis when configured (shared by every process), else in this process's memory;
    never in the database. Every answer says where the caller stands: RateLimit-Limit,
    RateLimit-Remaining, RateLimit-Reset (seconds) and RateLimit-Policy.
    """
    limit = int(setting("DUIJIE_API_RATE_LIMIT", DEFAULT_RATE_LIMIT))
    window = max(1, int(setting("DUIJIE_API_RATE_WINDOW", DEFAULT_RATE_WINDOW)))
    if limit <= 0:
        return
    bucket = _bucket()
    url = current_app.config.get("DUIJIE_REDIS_URL")
    counted = None
    if url:
        try:
            counted = _redis_count(url, bucket, window)
        except Exception:  # Redis down: count in this process until it is back
            current_app.logger.warning("API rate limit: Redis unavailable, counting in memory")
    count, left = counted or _memory_count(bucket, window)
    headers = {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(max(0, limit - count)),
        "RateLimit-Reset": str(left),
        "RateLimit-Policy": f"{limit};w={window}",
    }

    @after_this_request
    def tell(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response

    if count > limit:
        _too_many(limit, window, left)


def _too_many(limit: int, window: int, retry_after: int) -> None:
    raise ApiError(
        429, "Too Many Requests",
        f"at most {limit} requests per {window} seconds; retry after {retry_after} seconds",
        headers={"Retry-After": str(max(1, retry_after))},
    )  # fmt: skip


def _key(op: Operation, user: User | None) -> str | None:
    """The Idempotency-Key of a create that accepts one, checked; None when absent."""
    if not op.idempotent or user is None:
        return None
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= idempotency.MAX_KEY_LENGTH or not KEY_CHARACTERS.fullmatch(key):
        raise ApiError(
            400, "Bad Request",
            f"Idempotency-Key must be 1 to {idempotency.MAX_KEY_LENGTH} visible ASCII characters",
        )  # fmt: skip
    return key


def _fingerprint() -> str:
    return idempotency.request_hash(request.method, request.path, request.get_data(cache=True))


def replay(op: Operation, user: User | None) -> Response | None:
    """The stored answer when this create was already made with the same key; otherwise the key
    is claimed for the create about to run (it commits with the create)."""
    key = _key(op, user)
    if key is None or user is None:
        return None
    try:
        stored = idempotency.find(db.session, user.id, key, _fingerprint())
        if stored is None:
            stored = idempotency.claim(
                db.session, user.id, key,
                method=request.method, path=request.path, fingerprint=_fingerprint(),
            )  # fmt: skip
    except idempotency.KeyReused:
        raise ApiError(
            422, "Unprocessable Content",
            "this Idempotency-Key was already used for a different request",
        ) from None  # fmt: skip
    except idempotency.KeyPending:
        raise ApiError(
            409, "Conflict",
            "a request with this Idempotency-Key is being answered or was interrupted: "
            "retry in a moment; if this persists, check with a GET whether it was made",
            headers={"Retry-After": "1"},
        ) from None  # fmt: skip
    if stored is None:
        return None
    response = Response(stored.body, status=stored.status_code, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def remember(op: Operation, user: User | None, response: Response) -> None:
    """Store a create's answer on its claimed Idempotency-Key; a failed create frees the key."""
    key = _key(op, user)
    if key is None or user is None:
        return
    if 200 <= response.status_code < 300:
        idempotency.store(
            db.session, user.id, key,
            status_code=response.status_code, body=response.get_data(as_text=True),
        )  # fmt: skip
    else:
        idempotency.release(db.session, user.id, key)
