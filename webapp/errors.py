"""Friendly error pages: no stack traces, one clear sentence, a way back."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

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


def init_app(app: Flask) -> None:
    """Render every HTTP error with the errors/error.html template."""

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        message = (
            "Your form expired or was sent from another page, so it was not saved. "
            "Reload the page and try again."
        )
        return render_template("errors/error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = exc.code or 500
        message = MESSAGES.get(code, exc.description)
        return render_template("errors/error.html", code=code, message=message), code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return render_template("errors/error.html", code=500, message=MESSAGES[500]), 500
