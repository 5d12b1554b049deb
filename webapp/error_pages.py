"""Friendly error pages: no stack traces, one clear sentence, a way back."""

from __future__ import annotations

import logging

import redis
from flask import Flask, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp import htmx
from webapp.db import UNAVAILABLE

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request could not be understood.",
    403: "You don't have permission to open this page.",
    404: "There is nothing at this address.",
    405: "This address doesn't accept that kind of request.",
    413: "That upload is larger than this server accepts.",
    429: "Too many requests. Please wait a moment and try again.",
    500: "Something went wrong on our side. It has been logged; please try again.",
}

# 503s: the database or Redis can't be reached (down, restarting). Nothing was lost; retrying
# in a moment works once it is back, so the answer says so and carries Retry-After.
DATABASE_DOWN = "Cadence can't reach its database right now. Please try again in a minute."
QUEUE_DOWN = "Cadence can't reach its job queue right now. Please try again in a minute."
RETRY_AFTER = "30"

try:  # the driver's own errors, should one escape peewee's wrapping
    import psycopg2

    DRIVER_UNAVAILABLE: tuple = (psycopg2.OperationalError, psycopg2.InterfaceError)
except ImportError:  # pragma: no cover - psycopg2 is a dependency
    DRIVER_UNAVAILABLE = ()


def _wants_plain() -> bool:
    """htmx swaps fragments and API clients read JSON: neither wants a whole HTML page."""
    if htmx.wants_partial():
        return True
    if request.path.startswith("/webhooks"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def unavailable(message: str, *, database_down: bool):
    """Answer 503 with message: a page in the app's layout (one that reads nothing from the
    database when it is the database that is down), or JSON for htmx and API requests."""
    if _wants_plain():
        response = jsonify({"error": message})
    else:
        if database_down:
            # flask-login loads the signed-in user for every template: with the database
            # down, the page is drawn for an anonymous visitor instead.
            g._login_user = current_app.login_manager.anonymous_user()
        response = render_template(
            "errors/unavailable.html", message=message, database_down=database_down
        )
    return response, 503, {"Retry-After": RETRY_AFTER}


def init_app(app: Flask) -> None:
    """Render every HTTP error with the errors/error.html template."""

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        message = (
            "Your form expired or was sent from another page, so it was not saved. "
            "Reload the page and try again."
        )
        return render_template("errors/error.html", code=400, message=message), 400

    def _database_down(exc: Exception):
        log.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
        return unavailable(DATABASE_DOWN, database_down=True)

    for kind in (*UNAVAILABLE, *DRIVER_UNAVAILABLE):
        app.register_error_handler(kind, _database_down)

    @app.errorhandler(redis.exceptions.ConnectionError)
    @app.errorhandler(redis.exceptions.TimeoutError)
    def _queue_down(exc: Exception):
        log.warning("Redis unavailable on %s %s: %s", request.method, request.path, exc)
        return unavailable(QUEUE_DOWN, database_down=False)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = exc.code or 500
        message = MESSAGES.get(code, exc.description)
        if code == 403 and g.get("refusal"):
            from webapp.workspaces.roles import REFUSALS

            message = REFUSALS[g.refusal]
        return render_template("errors/error.html", code=code, message=message), code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return render_template("errors/error.html", code=500, message=MESSAGES[500]), 500
