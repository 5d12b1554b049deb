"""Notifications: the list, and marking them read."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.models import Notification
from webapp.notifications import bp, inbox
from webapp.pagination import paginate
from webapp.permissions import requires
from webapp.workspaces.roles import Can


@bp.route("/")
@requires(Can.VIEW)
def index():
    """List the user's notifications in this workspace, newest first."""
    query = inbox.of(current_user.id, g.workspace.id).order_by(
        Notification.created_at.desc(), Notification.id.desc()
    )
    return render_template(
        "notifications/index.html", page=paginate(query, request.args.get("page"))
    )


@bp.route("/read", methods=["POST"])
@requires(Can.VIEW)
def mark_read():
    """Mark every notification of the user in this workspace as read."""
    count = inbox.mark_read(current_user.id, g.workspace.id)
    flash(f"Marked {count} notification{'s' if count != 1 else ''} as read.", "info")
    return redirect(url_for("notifications.index"), code=303)
