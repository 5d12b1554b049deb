"""The public pages: about, privacy policy, terms of service (shown only when enabled)."""

from __future__ import annotations

from flask import abort, render_template

from webapp.models import AppSettings
from webapp.public import bp
from webapp.public.texts import PAGES, paragraphs, text_of


def _page(page: str):
    settings = AppSettings.load()
    if not settings.public_pages:
        abort(404)
    return render_template(
        "public/page.html",
        title=PAGES[page] if page != "about" else settings.app_name,
        body=paragraphs(text_of(settings, page)),
        settings=settings,
    )


@bp.route("/about")
def about():
    """The landing page describing this instance's service."""
    return _page("about")


@bp.route("/privacy")
def privacy():
    """The privacy policy."""
    return _page("privacy")


@bp.route("/terms")
def terms():
    """The terms of service."""
    return _page("terms")
