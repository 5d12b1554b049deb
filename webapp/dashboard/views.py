"""The Dashboard view."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from webapp.dashboard import bp, overview
from webapp.models import AppSettings
from webapp.timezones import to_local, zone_for


@bp.route("/")
def index():
    """Show the dashboard."""
    return render_template(
        "dashboard/index.html",
        zone=zone_for(current_user, AppSettings.load().timezone),
        to_local=to_local,
        **overview.overview(current_user),
    )
