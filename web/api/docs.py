"""The OpenAPI document and its interactive documentation page (vendored Swagger UI)."""

from __future__ import annotations

from flask import Response, jsonify, render_template

from web.api.blueprint import api, ops
from web.api.openapi import document


@api.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 document of this API, generated from its operations."""
    return jsonify(document(ops))


@api.get("/docs")
def docs() -> str:
    """Interactive documentation; works offline and under the Content-Security-Policy."""
    return render_template("api/docs.html")
