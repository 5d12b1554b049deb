"""Posts: the list with status filters, and the Calendar."""

from __future__ import annotations

import calendar
import datetime as dt

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from webapp.models import AppSettings, Post
from webapp.pagination import paginate
from webapp.permissions import require_login
from webapp.timezones import to_local, to_utc, zone_for

bp = Blueprint("posts", __name__)
require_login(bp)

# The filters of the Posts list, in menu order: (query value, label, statuses).
FILTERS = [
    ("", "All", None),
    ("scheduled", "Scheduled", ["scheduled"]),
    ("publishing", "Publishing", ["publishing"]),
    ("published", "Published", ["published"]),
    ("needs_attention", "Needs attention", ["needs_attention"]),
    ("failed", "Failed", ["failed"]),
    ("drafts", "Drafts", ["draft"]),
]


def visible_posts():
    """Return a query of the posts the current user may see."""
    query = Post.select()
    if not current_user.is_admin:
        query = query.where(Post.author == current_user.id)
    return query


@bp.route("/posts/")
def index():
    """List posts, filtered by status, newest first."""
    chosen = request.args.get("status", "")
    statuses = next((s for value, _label, s in FILTERS if value == chosen), None)
    if chosen and statuses is None:
        abort(404)
    query = visible_posts()
    if statuses:
        query = query.where(Post.status.in_(statuses))
    query = query.order_by(Post.created_at.desc(), Post.id.desc())
    return render_template(
        "posts/index.html",
        filters=FILTERS,
        chosen=chosen,
        page=paginate(query, request.args.get("page")),
    )


@bp.route("/calendar/")
def calendar_view():
    """Show scheduled and published posts on a month or week grid."""
    zone = zone_for(current_user, AppSettings.load().timezone)
    today = dt.datetime.now(zone).date()
    view = request.args.get("view", "month")
    if view not in {"month", "week"}:
        view = "month"
    try:
        anchor = (
            dt.date.fromisoformat(request.args.get("date", ""))
            if request.args.get("date")
            else today
        )
    except ValueError:
        anchor = today
    if view == "month":
        first = anchor.replace(day=1)
        weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
        start, end = weeks[0][0], weeks[-1][-1] + dt.timedelta(days=1)
        prev_date = (first - dt.timedelta(days=1)).replace(day=1)
        next_date = (first + dt.timedelta(days=32)).replace(day=1)
        title = first.strftime("%B %Y")
    else:
        start = anchor - dt.timedelta(days=anchor.weekday())
        weeks = [[start + dt.timedelta(days=i) for i in range(7)]]
        end = start + dt.timedelta(days=7)
        prev_date, next_date = start - dt.timedelta(days=7), start + dt.timedelta(days=7)
        title = f"Week of {start.strftime('%d %B %Y')}"
    lo = to_utc(dt.datetime.combine(start, dt.time()), zone)
    hi = to_utc(dt.datetime.combine(end, dt.time()), zone)
    posts = visible_posts().where(
        Post.status.in_(["scheduled", "publishing", "published", "needs_attention", "failed"])
        & (Post.scheduled_at >= lo)
        & (Post.scheduled_at < hi)
    )
    by_day: dict[dt.date, list] = {}
    for post in posts.order_by(Post.scheduled_at):
        local = to_local(post.scheduled_at, zone)
        by_day.setdefault(local.date(), []).append((local, post))
    return render_template(
        "posts/calendar.html",
        view=view,
        weeks=weeks,
        month=anchor.month if view == "month" else None,
        today=today,
        title=title,
        by_day=by_day,
        zone=zone,
        prev_url=url_for("posts.calendar_view", view=view, date=prev_date.isoformat()),
        next_url=url_for("posts.calendar_view", view=view, date=next_date.isoformat()),
        today_url=url_for("posts.calendar_view", view=view),
    )
