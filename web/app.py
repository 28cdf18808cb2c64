"""The application factory: reads as a table of contents of the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext

from web.config import (
    MIGRATIONS_DIR,
    Settings,
    audit_key_path,
    engine_options,
    instance_path,
    normalise_database_url,
    upload_path,
)
from web.extensions import babel, csrf, db, login_manager, migrate


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the duijie app; `overrides` replaces configuration keys (tests use it)."""
    app = Flask(__name__, instance_path=instance_path(), instance_relative_config=True)
    settings = Settings.from_env(Path(app.instance_path))
    app.config.update(settings.flask_config())
    if overrides:
        app.config.update(overrides)
    # Derived after the overrides, so a test's or caller's database URL gets matching options.
    url = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(url)
    register_observability(app)
    register_faults(settings)
    register_uploads(app)
    register_extensions(app)
    register_jobs(app)
    register_mail()
    register_converters(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security_headers(app)
    register_template_helpers(app)
    register_commands(app)
    register_proxy(app)
    return app


def register_proxy(app: Flask) -> None:
    """Trust DUIJIE_TRUSTED_PROXIES reverse proxies' X-Forwarded-For and -Proto headers.

    Rate limits then count per client address, not per proxy.
    """
    hops = int(app.config.get("DUIJIE_TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        proxied = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
        app.wsgi_app = proxied  # type: ignore[method-assign]


def register_observability(app: Flask) -> None:
    """JSON logs with the request id, and the request metrics (web.observability); first, so
    every other hook's lines carry the request id."""
    from web.observability import init_app

    init_app(app)


def register_faults(settings: Settings) -> None:
    """Arm the fault points a fault-injection test names (DUIJIE_FAULT, DUIJIE_FAULT_PAUSE)."""
    from web.services import faults

    faults.arm(settings.fault_points, settings.fault_pauses)


def register_uploads(app: Flask) -> None:
    """The upload folder, from the configuration (after the overrides), for the pages."""
    from web.services.uploads import UploadFolder
    from web.views.uploaded import EXTENSION

    app.extensions[EXTENSION] = UploadFolder(upload_path(app.config, app.instance_path))


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions of web.extensions to this app."""
    from web import models  # noqa: F401  (the models must be known before migrate binds)
    from web.auth import load_user
    from web.i18n import select_locale
    from web.services import audit  # every flush of an audited row writes events

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Flask-Login's own notice, in the reader's language (issue 23).
    login_manager.login_message = lazy_gettext("Please sign in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.localize_callback = str
    login_manager.user_loader(load_user)
    from web.i18n import remember_user_locale

    app.before_request(remember_user_locale)
    # The key file is read from the app's configuration when events are signed or verified
    # (the configuration, not the app: the engine's entry must not keep the engine alive).
    config, instance = app.config, app.instance_path
    with app.app_context():
        audit.remember_key_file(db.engine, lambda: audit_key_path(config, instance))


def register_mail() -> None:
    """Each commit mails the notices its work recorded, with the app's mail settings."""
    from web.unit_of_work import install_mail_on_commit

    install_mail_on_commit()


def register_jobs(app: Flask) -> None:
    """Choose once where background jobs run (RQ, a thread, right away; web.jobs)."""
    from web.jobs import install_runner

    install_runner(app)


def register_converters(app: Flask) -> None:
    """Path numbers bounded to the database's range (web.routing), before any route is added."""
    from web.routing import DatabaseIdConverter

    app.url_map.converters["int"] = DatabaseIdConverter


def register_blueprints(app: Flask) -> None:
    """Mount the pages, the API and the health check."""
    from web.views.account import account
    from web.views.admin import admin
    from web.views.api import api
    from web.views.auth import auth
    from web.views.campaigns import campaigns
    from web.views.catalogue import catalogue
    from web.views.claims import claims
    from web.views.county import county
    from web.views.dashboard import dashboard_pages
    from web.views.deliveries import deliveries
    from web.views.donor import donor
    from web.views.exits import exits
    from web.views.health import health
    from web.views.honours import honours
    from web.views.household import household
    from web.views.household_admin import household_admin
    from web.views.imports import imports
    from web.views.kinds import kinds
    from web.views.ledger import ledger
    from web.views.pairing import pairing
    from web.views.public import public
    from web.views.reports import reports
    from web.views.tokens import tokens
    from web.views.transparency import transparency
    from web.views.village import village
    from web.views.week import week

    app.register_blueprint(public)
    app.register_blueprint(auth)
    app.register_blueprint(account)
    app.register_blueprint(imports)
    app.register_blueprint(tokens)
    app.register_blueprint(health)
    app.register_blueprint(api, url_prefix="/api/v1")
    app.register_blueprint(donor)
    app.register_blueprint(kinds)
    app.register_blueprint(village)
    app.register_blueprint(admin)
    app.register_blueprint(catalogue)
    app.register_blueprint(week)
    app.register_blueprint(deliveries)
    app.register_blueprint(dashboard_pages)
    app.register_blueprint(transparency)
    app.register_blueprint(honours)
    app.register_blueprint(ledger)
    app.register_blueprint(reports)
    app.register_blueprint(household)
    app.register_blueprint(household_admin)
    app.register_blueprint(county)
    app.register_blueprint(pairing)
    app.register_blueprint(exits)
    app.register_blueprint(claims)
    app.register_blueprint(campaigns)
    csrf.exempt(api)


def register_errorhandlers(app: Flask) -> None:
    """Render errors as pages for people and as problem+json for the API."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    from web.errors import handle_database_unavailable, handle_http_error

    for code in (400, 401, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, handle_http_error)
    for lost in (OperationalError, InterfaceError):  # the database restarted, a dropped link
        app.register_error_handler(lost, handle_database_unavailable)


def register_security_headers(app: Flask) -> None:
    """Send a strict Content-Security-Policy and the usual hardening headers on every response."""
    from web import devices, security, sessions

    security.init_app(app)
    sessions.init_app(app)
    devices.init_app(app)


def register_template_helpers(app: Flask) -> None:
    """Expose the locale and category names to every template."""
    from web.i18n import format_number, template_globals

    app.context_processor(template_globals)
    app.add_template_filter(format_number, "num")
    from web.services.titles import wish_title

    app.add_template_filter(wish_title, "wish_title")
    from web.charts import coverage_legend, map_chart

    app.add_template_global(map_chart, "map_chart")
    app.add_template_global(coverage_legend, "coverage_legend")
    from web.views.worklist import menu_helpers

    app.context_processor(menu_helpers)


def register_commands(app: Flask) -> None:
    """Add duijie's own commands next to Flask-Migrate's `db` group."""
    from web.commands import register

    register(app)
