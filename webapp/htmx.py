"""The one place that reads and writes htmx headers, through htmx-flask's API (request.htmx and
its make_response), so every view agrees on what counts as an htmx request."""

from __future__ import annotations

from flask import Flask, Response, request
from htmx_flask import Htmx
from htmx_flask import make_response as htmx_response

_htmx = Htmx()


def init_app(app: Flask) -> None:
    """Enable request.htmx and mark every response as varying on HX-Request."""
    _htmx.init_app(app)

    @app.after_request
    def _vary(response: Response) -> Response:
        response.vary.add("HX-Request")
        return response


def is_htmx() -> bool:
    """Tell whether the current request was sent by htmx (HX-Request: true, not just present)."""
    return bool(request.htmx)


def is_boosted() -> bool:
    """Tell whether htmx sent this request for a boosted link or form (wants a whole page)."""
    return request.htmx.boosted


def wants_partial() -> bool:
    """Tell whether to answer with a fragment rather than a whole page."""
    return is_htmx() and not is_boosted()


def redirect(response: Response, location: str) -> Response:
    """Make htmx follow a redirect with a full page load."""
    return htmx_response(response, redirect=location)
