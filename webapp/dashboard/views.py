"""The Dashboard view."""

from __future__ import annotations

from flask import g, render_template
from flask_login import current_user

from webapp.dashboard import bp, overview
from webapp.models import AppSettings
from webapp.permissions import requires
from webapp.timezones import to_local, zone_for
from webapp.workspaces.roles import Can


@bp.route("/")
@requires(Can.VIEW)
def index():
    """Show the dashboard."""
    return render_template(
        "dashboard/index.html",
        zone=zone_for(current_user, AppSettings.load().timezone),
        to_local=to_local,
        **overview.overview(g.workspace),
    )
