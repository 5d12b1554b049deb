"""Notifications: the list, and marking them read."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.models import Notification, utcnow
from webapp.notifications import bp
from webapp.pagination import paginate


@bp.route("/")
def index():
    """List the user's notifications, newest first."""
    query = (
        Notification.select()
        .where(Notification.user == current_user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return render_template(
        "notifications/index.html", page=paginate(query, request.args.get("page"))
    )


@bp.route("/read", methods=["POST"])
def mark_read():
    """Mark every notification of the user as read."""
    count = (
        Notification.update(read_at=utcnow())
        .where((Notification.user == current_user.id) & Notification.read_at.is_null())
        .execute()
    )
    flash(f"Marked {count} notification{'s' if count != 1 else ''} as read.", "info")
    return redirect(url_for("notifications.index"), code=303)
