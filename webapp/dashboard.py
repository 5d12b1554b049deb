"""The Dashboard: what needs doing next, upcoming posts, recent problems."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from webapp.models import Account, AppSettings, Media, Post, TikTokService
from webapp.permissions import require_login
from webapp.timezones import to_local, zone_for

bp = Blueprint("dashboard", __name__)
require_login(bp)


@bp.route("/")
def index():
    """Show the dashboard."""
    service = TikTokService.load()
    accounts = Account.select().where(Account.owner == current_user.id)
    upcoming = (
        Post.select()
        .where((Post.author == current_user.id) & (Post.status == "scheduled"))
        .order_by(Post.scheduled_at)
        .limit(5)
    )
    problems = (
        Post.select()
        .where(
            (Post.author == current_user.id)
            & Post.status.in_(["failed", "needs_attention", "unconfirmed"])
        )
        .order_by(Post.updated_at.desc())
        .limit(5)
    )
    publishing = (
        Post.select()
        .where((Post.author == current_user.id) & (Post.status == "publishing"))
        .order_by(Post.scheduled_at)
        .limit(5)
    )
    steps = [
        ("TikTok app credentials are set", service.is_configured),
        ("A TikTok account is connected", accounts.count() > 0),
        (
            "A video or photo is uploaded",
            Media.select().where(Media.owner == current_user.id).count() > 0,
        ),
        (
            "A post is published or scheduled",
            Post.select().where(Post.author == current_user.id).count() > 0,
        ),
    ]
    return render_template(
        "dashboard/index.html",
        steps=steps,
        service=service,
        upcoming=list(upcoming),
        problems=list(problems),
        publishing=list(publishing),
        zone=zone_for(current_user, AppSettings.load().timezone),
        to_local=to_local,
        accounts=list(accounts.where(Account.status != "connected")),
    )
