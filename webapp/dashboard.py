"""The Dashboard: what needs doing next, upcoming posts, recent problems."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from webapp.models import Account, AppSettings, Media, Post, TikTokService
from webapp.permissions import require_login
from webapp.timezones import to_local, zone_for

bp = Blueprint("dashboard", __name__)
require_login(bp)

# "Recent problems": posts that ended without being published, newest first.
PROBLEM_STATUSES = ("failed", "needs_attention", "unconfirmed")


@bp.route("/")
def index():
    """Show the dashboard."""
    service = TikTokService.load()
    accounts = Account.select().where(Account.owner == current_user.id)
    mine = Post.select().where(Post.author == current_user.id)
    # Each list reads its few rows from an index on (author, status, time); the problems come
    # newest first from one such read per status, merged (an IN list can't use the time order).
    upcoming = mine.where(Post.status == "scheduled").order_by(Post.scheduled_at, Post.id).limit(5)
    publishing = (
        mine.where(Post.status == "publishing").order_by(Post.scheduled_at, Post.id).limit(5)
    )
    problems = sorted(
        (
            post
            for status in PROBLEM_STATUSES
            for post in mine.where(Post.status == status)
            .order_by(Post.updated_at.desc(), Post.id.desc())
            .limit(5)
        ),
        key=lambda post: (post.updated_at, post.id),
        reverse=True,
    )[:5]
    steps = [
        ("TikTok app credentials are set", service.is_configured),
        ("A TikTok account is connected", accounts.exists()),
        (
            "A video or photo is uploaded",
            Media.select().where(Media.owner == current_user.id).exists(),
        ),
        ("A post is published or scheduled", mine.exists()),
    ]
    return render_template(
        "dashboard/index.html",
        steps=steps,
        service=service,
        upcoming=list(upcoming),
        problems=problems,
        publishing=list(publishing),
        zone=zone_for(current_user, AppSettings.load().timezone),
        to_local=to_local,
        accounts=list(accounts.where(Account.status != "connected")),
    )
