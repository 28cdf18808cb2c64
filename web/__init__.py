"""The duijie web platform: Flask app, models, services, pages, API and command line."""

from web.app import create_app

__all__ = ["create_app"]
