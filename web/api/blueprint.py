"""The API blueprint and the registry of its operations."""

from __future__ import annotations

from flask import Blueprint

from web.api.registry import Registry

api = Blueprint("api", __name__)
ops = Registry(api)
