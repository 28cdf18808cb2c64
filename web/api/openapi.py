"""The OpenAPI 3.1 document, built from the registered operations and their pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from web.api.registry import Operation, Registry
from web.api.schemas import MAX_INT, Problem
from web.services.idempotency import MAX_KEY_LENGTH

REF = "#/components/schemas/{model}"
PROBLEM_TITLES = {
    400: "Bad request: malformed JSON, a bad query parameter or header",
    401: "No token, or a bad, revoked or inactive one",
    403: "The caller's role or organization may not do this",
    404: "No such resource, or not one the caller may see",
    409: "The resource's state does not allow this",
    415: "The body is not application/json",
    422: "The body failed validation (the fields are listed)",
    429: "Too many requests: retry after the given seconds",
    503: "A service the operation needs (the job queue) cannot be reached; retry later",
}
DESCRIPTION = """\
对接 duijie: aid offers matched to the needs of Hezhou's poor villages.

Authenticate with a personal access token (create one under 账户 → API 令牌 / Account → API
tokens, or `duijie token create USERNAME`) sent as `Authorization: Bearer <token>`. Each
token acts with its user's role. Errors are `application/problem+json` (RFC 9457);
validation errors list the fields under `errors`. Lists take `page` and `per_page` (at
most 500) and answer `total`. Creates accept an `Idempotency-Key` header. Requests are
rate-limited per token: every answer carries `RateLimit-Limit`, `RateLimit-Remaining` and
`RateLimit-Reset`; a 429 carries `Retry-After`.
"""


def _schemas(registry: Registry) -> tuple[dict[tuple[type[BaseModel], str], Any], dict[str, Any]]:
    """JSON Schemas of every body and response model, as component references."""
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Problem, "serialization")]
    for op in registry.operations:
        if op.body is not None:
            wanted.append((op.body, "validation"))
        if op.response is not None:
            wanted.append((op.response, "serialization"))
    unique = list(dict.fromkeys(wanted))
    refs, top = models_json_schema(unique, ref_template=REF)
    defs: dict[str, Any] = top.get("$defs", {})
    for schema in defs.values():
        for name, prop in schema.get("properties", {}).items():
            schema["properties"][name] = _valid_default(prop)
    return refs, defs  # type: ignore[return-value]


def _valid_default(schema: dict[str, Any]) -> dict[str, Any]:
    """A PATCH field left out stays as it is: its `None` default is no value the field takes,
    and a default must be valid against its schema (OpenAPI 3.1), so it is left out."""
    if "default" not in schema or schema["default"] is not None:
        return schema
    branches = schema.get("anyOf", [])
    if schema.get("type") == "null" or any(b.get("type") == "null" for b in branches):
        return schema
    return {k: v for k, v in schema.items() if k != "default"}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: drop the null branch of an optional."""
    branches = schema.get("anyOf")
    if branches:
        rest = [b for b in branches if b.get("type") != "null"]
        if len(rest) == 1:
            merged = {k: v for k, v in schema.items() if k != "anyOf"}
            merged.update(rest[0])
            return {k: v for k, v in merged.items() if not (k == "default" and v is None)}
    return {k: v for k, v in schema.items() if not (k == "default" and v is None)}


def _parameters(op: Operation) -> list[dict[str, Any]]:
    """Path ids, query filters and the Idempotency-Key header of an operation."""
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
        }
        for name in op.path_params
    ]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=REF, mode="validation")
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            prop = _without_null(prop)
            param: dict[str, Any] = {
                "name": name, "in": "query", "required": name in required, "schema": prop,
            }  # fmt: skip
            if "description" in prop:
                param["description"] = prop["description"]
            params.append(param)
    if op.idempotent:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": "a retry with the same key and body gets the first answer back",
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_KEY_LENGTH,
                    "pattern": "^[\\x21-\\x7e]+$",
                },
            }
        )
    return params


def _problem_statuses(op: Operation) -> list[int]:
    """The error statuses an operation can answer."""
    statuses = {401, 429, *op.errors}
    if op.roles is not None:
        statuses.add(403)
    if op.query is not None or op.body is not None or op.idempotent:
        statuses.add(400)
    if op.body is not None:
        statuses |= {415, 422}
    if op.idempotent:
        statuses.add(422)
    if op.path_params:
        statuses.add(404)
    return sorted(statuses)


def _responses(op: Operation, refs: dict[tuple[type[BaseModel], str], Any]) -> dict[str, Any]:
    """The success response and the problem responses of an operation."""
    responses: dict[str, Any] = {}
    if op.response is None:
        responses[str(op.status)] = {"description": "Done"}
    else:
        responses[str(op.status)] = {
            "description": op.summary,
            "content": {"application/json": {"schema": refs[(op.response, "serialization")]}},
        }
    problem = {"application/problem+json": {"schema": refs[(Problem, "serialization")]}}
    for status in _problem_statuses(op):
        entry: dict[str, Any] = {"description": PROBLEM_TITLES[status], "content": problem}
        if status == 429:
            entry["headers"] = {
                "Retry-After": {
                    "description": "seconds to wait",
                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                }
            }
        if status == 401:
            entry["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        responses[str(status)] = entry
    return responses


def _operation(op: Operation, refs: dict[tuple[type[BaseModel], str], Any]) -> dict[str, Any]:
    roles = ", ".join(op.roles) if op.roles else "anyone, no token needed"
    spec: dict[str, Any] = {
        "operationId": op.name,
        "summary": op.summary,
        "description": f"{op.description}\n\nRoles: {roles}.",
        "tags": [op.tag],
        "x-roles": list(op.roles) if op.roles else [],
        "parameters": _parameters(op),
        "responses": _responses(op, refs),
        "security": [{"bearerAuth": []}] if op.roles else [{}, {"bearerAuth": []}],
    }
    if op.body is not None:
        required = bool(op.body.model_json_schema().get("required"))
        spec["requestBody"] = {
            "required": required,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    return spec


def document(registry: Registry, base: str = "/api/v1") -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    refs, schemas = _schemas(registry)
    paths: dict[str, dict[str, Any]] = {}
    for op in registry.operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {"title": "duijie API", "version": "1", "description": DESCRIPTION},
        "servers": [{"url": base}],
        "tags": [
            {"name": "public", "description": "Open to anyone"},
            {"name": "account", "description": "The caller's own account"},
            {"name": "offers", "description": "Donors' offers of aid"},
            {"name": "needs", "description": "Village needs and micro-wishes (微心愿)"},
            {"name": "runs", "description": "Weekly allocation runs (administrators)"},
            {"name": "allocations", "description": "Pledges and their delivery"},
            {"name": "claims", "description": "Claims on micro-wishes (认领)"},
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a personal access token (dj_...)",
                }
            },
        },
    }
