"""The one place that reads and writes htmx headers."""

from __future__ import annotations

from flask import Flask, Response, request
from htmx_flask import Htmx

_htmx = Htmx()


def init_app(app: Flask) -> None:
    """Enable request.htmx and mark every response as varying on HX-Request."""
    _htmx.init_app(app)

    @app.after_request
    def _vary(response: Response) -> Response:
        response.vary.add("HX-Request")
        return response


def is_htmx() -> bool:
    """Tell whether the current request was sent by htmx."""
    return bool(request.headers.get("HX-Request"))


def is_boosted() -> bool:
    """Tell whether htmx sent this request for a boosted link or form (wants a whole page)."""
    return bool(request.headers.get("HX-Boosted"))


def wants_partial() -> bool:
    """Tell whether to answer with a fragment rather than a whole page."""
    return is_htmx() and not is_boosted()


def redirect(response: Response, location: str) -> Response:
    """Make htmx follow a redirect with a full page load."""
    response.headers["HX-Redirect"] = location
    return response
