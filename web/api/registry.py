"""One decorator per API operation: it validates the request and documents it in OpenAPI.

Each operation names its path, method, roles, query model, body model and response model.
The same record drives the checks done before the view runs (token, role, rate limit,
query and body validation, Idempotency-Key) and the OpenAPI document, so the two cannot drift.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request
from pydantic import BaseModel, ValidationError

from web import clock
from web.api import access
from web.api.operation import ApiError, Call, Operation
from web.api.schemas import MAX_INT
from web.caching import cached_response, etag
from web.extensions import db
from web.models import User
from web.unit_of_work import UNDO, undo_outside

# GET answers served from the page cache while nothing they show has changed (web.caching).
# Runs are left out: a running job's progress moves without an audited change.
CACHED_TAGS = frozenset({"public", "offers", "needs", "allocations"})


def field_errors(error: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """Pydantic's errors as [{field, message}], the field a dotted path."""
    found = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "body"
        found.append({"field": prefix + where, "message": item["msg"]})
    return found


def _query(model: type[BaseModel] | None) -> Any:
    """The query string validated by the operation's model (400 naming the field if bad)."""
    empty = [k for k, v in request.args.items() if v == ""]
    if empty:
        # An empty value is not "no filter": it matches no documented value, so it is refused.
        raise ApiError(
            400,
            "Bad Request",
            f"empty query parameter: {', '.join(empty)} (leave it out instead)",
            errors=[{"field": k, "message": "must not be empty"} for k in empty],
        )
    args = dict(request.args.items())
    if model is None:
        if args:
            raise ApiError(400, "Bad Request", f"unknown query parameter: {', '.join(args)}")
        return None
    try:
        return model.model_validate(args)
    except ValidationError as error:
        errors = field_errors(error)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise ApiError(400, "Bad Request", detail, errors=errors) from None


def _body(model: type[BaseModel] | None) -> Any:
    """The JSON body validated strictly by the operation's model (400, 415 or 422 if bad)."""
    if model is None:
        return None
    raw = request.get_data(cache=True)
    if not raw.strip():
        raw = b"{}"
    elif not (request.mimetype == "application/json" or request.mimetype.endswith("+json")):
        raise ApiError(415, "Unsupported Media Type", "send the body as application/json")
    try:
        # The rules of time (web.services.inputs) judge by the app's today (web.clock).
        return model.model_validate_json(raw, strict=True, context={"today": clock.today()})
    except ValidationError as error:
        if any(e["type"] == "json_invalid" for e in error.errors()):
            raise ApiError(400, "Bad Request", "the body is not valid JSON") from None
        errors = field_errors(error)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise ApiError(422, "Unprocessable Content", detail, errors=errors) from None


def _check_ids(op: Operation, kwargs: dict[str, Any]) -> None:
    """Ids past the database's integer range name nothing: 404 rather than an overflow."""
    for name in op.path_params:
        if not 1 <= kwargs[name] <= MAX_INT:
            raise ApiError(404, "Not Found", f"no such {name.removesuffix('_id')}")


def _json(op: Operation, value: Any, status: int) -> Response:
    """Serialise a view's result through the operation's response model."""
    if op.response is None or value is None:
        return Response(status=204)
    model = value if isinstance(value, op.response) else op.response.model_validate(value)
    body = json.dumps(model.model_dump(mode="json"), ensure_ascii=False)
    return Response(body, status=status, mimetype="application/json")


class Registry:
    """The operations of one blueprint, in the order they were declared."""

    def __init__(self, blueprint: Blueprint) -> None:
        self.blueprint = blueprint
        self.operations: list[Operation] = []

    def operation(
        self,
        rule: str,
        method: str,
        *,
        summary: str,
        tag: str,
        roles: tuple[str, ...] | None = None,
        query: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        errors: tuple[int, ...] = (),
        idempotent: bool = False,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare, validate and document one operation; the view takes (call, **path ids)."""

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            op = Operation(
                rule=rule,
                method=method.upper(),
                name=view.__name__,
                summary=summary,
                description=(view.__doc__ or "").strip(),
                tag=tag,
                roles=roles,
                query=query,
                body=body,
                response=response,
                status=status,
                errors=errors,
                idempotent=idempotent,
                view=view,
            )
            self.operations.append(op)

            def endpoint(**kwargs: Any) -> Response:
                return run(op, kwargs)

            endpoint.__name__ = view.__name__
            self.blueprint.add_url_rule(rule, view.__name__, endpoint, methods=[op.method])
            return view

        return decorate


def run(op: Operation, kwargs: dict[str, Any]) -> Response:
    """Check the caller and the input, run the view, answer JSON or a problem."""
    try:
        user = access.authenticate()
        access.authorise(op, user)
        access.limit_rate()
        _check_ids(op, kwargs)
        call = Call(user, _query(op.query), _body(op.body))
        replay = access.replay(op, user)
        if replay is not None:
            return replay
        if op.method == "GET" and op.tag in CACHED_TAGS:
            identity = None if user is None else f"{user.id}:{user.session_version}"
            return _cached_read(op, call, kwargs, identity)
        return _answer_once(op, call, kwargs, user)
    except ApiError as error:
        return error.response()


def _answer_once(op: Operation, call: Call, kwargs: dict[str, Any], user: User | None) -> Response:
    """Run the view in one unit of work (web.unit_of_work): a success (2xx) commits with the answer
    kept on its Idempotency-Key; a refusal rolls back whatever the view flushed, frees the key
    and commits nothing else."""
    if op.method == "GET":  # a read has nothing to commit
        try:
            return _answer(op, call, kwargs)
        except ApiError as error:
            return error.response()
    try:
        try:
            response = _answer(op, call, kwargs)
        except ApiError as error:
            response = error.response()
        if not 200 <= response.status_code < 300:
            db.session.rollback()
        access.remember(op, user, response)
        db.session.commit()
    except BaseException:  # the view failed, or the commit itself (a dropped connection)
        db.session.rollback()
        undo_outside(db.session)
        raise
    if not 200 <= response.status_code < 300:
        undo_outside(db.session)
    db.session.info.pop(UNDO, None)
    return response


def _cached_read(
    op: Operation, call: Call, kwargs: dict[str, Any], identity: str | None
) -> Response:
    """A read with an ETag from the data version: If-None-Match with it gets 304 (no body, no
    rendering); Cache-Control makes clients and proxies ask again each time. An answer to a
    token is never stored at all (no-store, as web.security sets on everything a signed-in user
    or token holder is shown): the client keeps the ETag it was given, not the body."""
    tag = etag(f"api:{op.name}", identity)
    control = "no-store" if identity else "no-cache"
    if request.if_none_match.contains(tag):
        not_modified = Response(status=304)
        not_modified.set_etag(tag)
        not_modified.headers["Cache-Control"] = control
        return not_modified
    response = cached_response(
        f"api:{op.name}", lambda: _answer(op, call, kwargs), identity=identity
    )
    if response.status_code == 200:
        response.set_etag(tag)
        response.headers["Cache-Control"] = control
    return response


def _answer(op: Operation, call: Call, kwargs: dict[str, Any]) -> Response:
    result = op.view(call, **kwargs)
    value, status = result if isinstance(result, tuple) else (result, op.status)
    return _json(op, value, status)
