"""Redis, flask-login and CSRF protection, each kept in app.extensions."""

from __future__ import annotations

import redis
from flask import Flask, current_app
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

login_manager = LoginManager()
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    """Attach Redis, the login manager and CSRF protection to app."""
    app.extensions["redis"] = redis.Redis.from_url(
        app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    # "basic": a changed IP or browser marks the session non-fresh instead of signing out
    # people on mobile networks every few minutes.
    login_manager.session_protection = "basic"
    csrf.init_app(app)

    @login_manager.user_loader
    def _load_user(session_token: str):
        from webapp.models import User

        # Cookies carry the user's current session token, never the id: a rotated token
        # (sign-out, password change, "Sign out everywhere", deactivation) ends them all.
        if not session_token:
            return None
        user = User.get_or_none(User.session_token == session_token)
        # A deactivated user is signed out on their next request.
        return user if user is not None and user.active else None


def get_redis() -> redis.Redis:
    """Return the app's Redis client."""
    return current_app.extensions["redis"]
