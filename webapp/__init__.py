"""Cadence: the Flask application factory."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, g, request
from werkzeug.routing import IntegerConverter as _WerkzeugInteger

from webapp import config as cfg

__all__ = ["create_app"]


def create_app(config: dict | None = None) -> Flask:
    """Build the web app: defaults, then `.env` and the environment, then the config mapping."""
    settings = cfg.load(config)
    try:
        cfg.fill_secret_key(settings)
        cfg.check(settings)
    except cfg.ConfigError as exc:
        # One line and a non-zero exit for `flask ...`, gunicorn and `make run` alike.
        raise SystemExit(f"Cadence can't start: {exc}") from None
    app = Flask(
        __name__,
        instance_path=str(settings["INSTANCE"]),
        template_folder=str(cfg.ROOT / "templates"),
        static_folder=str(cfg.ROOT / "static"),
    )
    app.config.update(settings)
    cfg.activate(app.config)
    from webapp.models.users import use_password_hash_method

    use_password_hash_method(cfg.password_hash_method(settings))
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = 16 * 1024**2  # forms; media uploads get their own limit
    _secure_cookies(app)

    from webapp import cli, db, error_pages, extensions, htmx, permissions, security

    db.init_app(app)
    permissions.init_app(app)  # after the database: it reads the workspace a URL names
    extensions.init_app(app)
    security.init_app(app)
    htmx.init_app(app)
    from webapp.media.storage import StreamingRequest

    # After htmx-flask, which installs its own request class; ours extends it.
    app.request_class = StreamingRequest
    error_pages.init_app(app)
    cli.init_app(app)
    app.url_map.converters["int"] = IntegerConverter  # before any route is added
    _register_blueprints(app)

    @app.context_processor
    def _layout_values() -> dict:
        from flask_login import current_user

        from webapp.auditkit.views import panel_values
        from webapp.models import AppSettings
        from webapp.notifications.inbox import unread_count
        from webapp.permissions import link_workspace
        from webapp.public import texts
        from webapp.workspaces.members import role_of, workspaces_of
        from webapp.workspaces.roles import LABELS, Can, allows
        from webapp.workspaces.views import workspace_menu

        try:
            signed_in = current_user.is_authenticated
            nav = link_workspace() if signed_in else None
            nav_role = g.get("role") or (role_of(current_user, nav) if nav else None)
            unread = unread_count(current_user.id, nav and nav.id) if signed_in else 0
            return {
                "app_name": AppSettings.load().app_name,
                "unread_notifications": unread,
                "public_links": [] if signed_in else texts.links(),
                # The workspace the page is in (None outside one), the one the menu links to,
                # and the ones the switcher offers.
                "workspace": g.get("workspace"),
                "role": nav_role,
                "nav_workspace": nav,
                "my_workspaces": workspaces_of(current_user) if signed_in else [],
                "role_labels": LABELS,
                "workspace_menu": workspace_menu(nav_role) if nav else [],
                # What the person may do here, for showing buttons (the routes check again).
                "can": lambda capability: allows(nav_role, Can(capability)),
                **panel_values(),
            }
        except Exception:  # noqa: BLE001 - an error page must render even without a database
            return {
                "app_name": "Cadence",
                "unread_notifications": 0,
                "public_links": [],
                "nav_workspace": None,
                "my_workspaces": [],
                "can": lambda capability: False,
            }

    return app


class IntegerConverter(_WerkzeugInteger):
    """An `<int:...>` URL part that fits a database id; a larger number is a 404, not a crash."""

    def __init__(self, map, *args, **kwargs):
        """Cap the number at the largest 64-bit id (SQLite raises past it)."""
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def _secure_cookies(app: Flask) -> None:
    secure = cfg.behind_tls(app.config)
    app.config.update(
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="cadence_session",
        REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        # "Keep me signed in" lasts a month (flask-login's default is a year).
        REMEMBER_COOKIE_DURATION=timedelta(days=30),
        PERMANENT_SESSION_LIFETIME=14 * 24 * 3600,
    )
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    else:
        _warn_about_unread_forwarding(app)


def _warn_about_unread_forwarding(app: Flask) -> None:
    warned = []  # once per process: the first forwarded request tells the whole story

    @app.before_request
    def _forwarded_for_without_proxy_fix() -> None:
        if not warned and "X-Forwarded-For" in request.headers:
            warned.append(True)
            app.logger.warning(
                "Requests carry X-Forwarded-For but PROXY_FIX is 0: every visitor looks like "
                "the proxy at %s, so the sign-in throttle counts them as one address; set "
                "PROXY_FIX to the number of trusted proxies in front of Cadence",
                request.remote_addr,
            )


def _register_blueprints(app: Flask) -> None:
    from webapp import (
        accounts,
        admin,
        auditkit,
        auth,
        composer,
        dashboard,
        media,
        notifications,
        posts,
        public,
        webhooks,
        workspaces,
    )

    for module in (
        workspaces,
        auth,
        dashboard,
        posts,
        accounts,
        media,
        composer,
        admin,
        notifications,
        webhooks,
        public,
        auditkit,
    ):
        app.register_blueprint(module.bp)
    app.register_blueprint(media.pull_bp)
    app.register_blueprint(accounts.callback_bp)
    app.register_blueprint(workspaces.ws_bp)
    app.register_blueprint(workspaces.invite_bp)
