"""Posts: the list with status filters, and the Calendar."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import namedtuple

import peewee as pw
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from peewee import fn
from redis.exceptions import RedisError

from webapp import publishing
from webapp.extensions import get_redis
from webapp.models import Account, AppSettings, Post, PostEvent, PostTarget
from webapp.pagination import keyset_page, rows_per_range, value_per_range
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
    ("unconfirmed", "Unconfirmed", ["unconfirmed"]),
    ("drafts", "Drafts", ["draft"]),
    ("cancelled", "Cancelled", ["cancelled"]),
]


def visible_posts():
    """Return a query of the posts the current user may see."""
    query = Post.select()
    if not current_user.is_admin:
        query = query.where(Post.author == current_user.id)
    return query


@bp.route("/posts/")
def index():
    """List posts, filtered by status, newest first, a page at a time ("Newer" / "Older" links
    carry the cursor of the page's edge, so a page costs the same at any depth)."""
    chosen = request.args.get("status", "")
    statuses = next((s for value, _label, s in FILTERS if value == chosen), None)
    if chosen and statuses is None:
        abort(404)
    query = visible_posts()
    if statuses:
        query = query.where(Post.status.in_(statuses))
    page = keyset_page(
        query,
        Post.created_at,
        Post.id,
        older=request.args.get("older"),
        newer=request.args.get("newer"),
    )
    accounts: dict[int, list[str]] = {}
    if page.items:
        rows = (
            PostTarget.select(PostTarget.post, Account.username, Account.display_name)
            .join(Account)
            .where(PostTarget.post.in_([p.id for p in page.items]))
            .tuples()
        )
        for post_id, username, name in rows:
            accounts.setdefault(post_id, []).append(f"@{username}" if username else name)
    return render_template(
        "posts/index.html",
        filters=FILTERS,
        chosen=chosen,
        page=page,
        accounts=accounts,
        zone=zone_for(current_user, AppSettings.load().timezone),
        to_local=to_local,
    )


def _post_or_404(post_id: int) -> Post:
    post = visible_posts().where(Post.id == post_id).get_or_none()
    if post is None:
        abort(404)
    return post


def _status_context(post: Post) -> dict:
    targets = list(
        PostTarget.select(PostTarget, Account)
        .join(Account)
        .where(PostTarget.post == post.id)
        .order_by(Account.display_name)
    )
    live = any(publishing.in_progress(t) for t in targets) and post.status != "draft"
    return {
        "post": post,
        "targets": targets,
        "live": live,
        "live_message": publishing.live_message,
        "zone": zone_for(current_user, AppSettings.load().timezone),
        "to_local": to_local,
    }


@bp.app_template_global("tiktok_link")
def tiktok_link(target) -> publishing.TikTokLink | None:
    """Return where "Open on TikTok" leads for a published target (the sandbox in the demo)."""
    return publishing.tiktok_link(target, publishing.web_base(current_app.config))


@bp.route("/posts/<int:post_id>")
def detail(post_id: int):
    """Show one post: its status per account (updating itself while work runs) and timeline."""
    post = _post_or_404(post_id)
    return render_template("posts/detail.html", events=_events(post), **_status_context(post))


@bp.route("/posts/<int:post_id>/status")
def status(post_id: int):
    """Return the status widget (htmx polls it every 2 s while work runs) and, out of band, the
    timeline, so both follow the post as it lands."""
    post = _post_or_404(post_id)
    values = {**_status_context(post), "events": _events(post), "oob": True}
    return render_template("posts/_status.html", **values) + render_template(
        "posts/_timeline.html", **values
    )


def _events(post: Post) -> list[PostEvent]:
    return list(post.events.order_by(PostEvent.created_at.desc(), PostEvent.id.desc()).limit(200))


@bp.route("/posts/<int:post_id>/targets/<int:target_id>/retry", methods=["POST"])
def retry(post_id: int, target_id: int):
    """Send a failed post again, only where TikTok's answer says a retry can succeed."""
    post = _post_or_404(post_id)
    target = PostTarget.get_or_none((PostTarget.id == target_id) & (PostTarget.post == post.id))
    if target is None:
        abort(404)
    try:
        queued = publishing.retry(target, current_user, get_redis())
    except RedisError:
        flash("Retry recorded; it starts as soon as the job queue is reachable.", "warning")
        return redirect(url_for("posts.detail", post_id=post.id), code=303)
    if queued:
        flash("Trying again. " + publishing.PROCESSING_NOTICE, "success")
    else:
        flash("This post can't be retried: TikTok's answer says a retry would fail too.", "error")
    return redirect(url_for("posts.detail", post_id=post.id), code=303)


@bp.route("/posts/<int:post_id>/cancel", methods=["GET", "POST"])
def cancel(post_id: int):
    """Ask for confirmation, then cancel what hasn't started (the rest can't be recalled)."""
    post = _post_or_404(post_id)
    if post.status != "scheduled":
        flash("Only scheduled posts can be cancelled.", "error")
        return redirect(url_for("posts.detail", post_id=post.id), code=303)
    if request.method == "GET":
        return render_template("posts/cancel.html", **_status_context(post))
    try:
        redis = get_redis()
        redis.ping()
    except RedisError:
        redis = None
    started = publishing.cancel(post, current_user, redis)
    if started:
        flash(
            "Cancelled, except for " + ", ".join(started) + ": already being sent to TikTok.",
            "warning",
        )
    else:
        flash("Post cancelled. Nothing was sent to TikTok.", "success")
    return redirect(url_for("posts.detail", post_id=post.id), code=303)


CALENDAR_STATUSES = [
    "scheduled",
    "publishing",
    "published",
    "needs_attention",
    "failed",
    "unconfirmed",
]
CalendarPost = namedtuple("CalendarPost", "id caption status scheduled_at")
MONTH_EVENTS_PER_DAY = 4  # a month cell shows this many; "+N more" opens the week
WEEK_EVENTS_PER_DAY = 60  # beyond that a day is unreadable; "+N more" opens the Posts list


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
        prev_date = (first - dt.timedelta(days=1)).replace(day=1)
        next_date = (first + dt.timedelta(days=32)).replace(day=1)
        title = first.strftime("%B %Y")
    else:
        start = anchor - dt.timedelta(days=anchor.weekday())
        weeks = [[start + dt.timedelta(days=i) for i in range(7)]]
        prev_date, next_date = start - dt.timedelta(days=7), start + dt.timedelta(days=7)
        title = f"Week of {start.strftime('%d %B %Y')}"
    per_day = MONTH_EVENTS_PER_DAY if view == "month" else WEEK_EVENTS_PER_DAY
    days = [day for week in weeks for day in week]
    by_day, more = _calendar_days(days, zone, per_day)
    return render_template(
        "posts/calendar.html",
        view=view,
        weeks=weeks,
        month=anchor.month if view == "month" else None,
        today=today,
        title=title,
        by_day=by_day,
        more=more,
        detail_prefix=url_for("posts.detail", post_id=0)[:-1],
        zone=zone,
        prev_url=url_for("posts.calendar_view", view=view, date=prev_date.isoformat()),
        next_url=url_for("posts.calendar_view", view=view, date=next_date.isoformat()),
        today_url=url_for("posts.calendar_view", view=view),
    )


def _calendar_days(
    days: list[dt.date], zone, per_day: int
) -> tuple[dict[dt.date, list], dict[dt.date, int]]:
    """Return, for each local day, its first per_day posts (by time) and how many more it has.

    Each day is a range on scheduled_at (its local midnight to the next, in UTC) read from an
    index on (scheduled_at, status), or (author, scheduled_at, status) for an author: one query
    for the rows, at most per_day + 1 per day, and one counting only the days that overflow.
    A month costs the same whether it holds forty posts or forty thousand.
    """
    edges = [to_utc(dt.datetime.combine(day, dt.time()), zone) for day in days]
    edges.append(to_utc(dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time()), zone))
    ranges = list(zip(days, edges, edges[1:], strict=False))

    def in_day(lo: dt.datetime, hi: dt.datetime) -> pw.ModelSelect:
        return visible_posts().where(
            Post.status.in_(CALENDAR_STATUSES)
            & (Post.scheduled_at >= lo)
            & (Post.scheduled_at < hi)
        )

    def firsts(lo, hi) -> pw.ModelSelect:
        return (
            in_day(lo, hi)
            .select(Post.id, Post.caption, Post.status, Post.scheduled_at)
            .order_by(Post.scheduled_at, Post.id)
            .limit(per_day + 1)
        )

    by_day: dict[dt.date, list] = {}
    # Plain rows, not model instances; the day is recomputed from the time in the user's zone.
    for row in rows_per_range(firsts, [(lo, hi) for _day, lo, hi in ranges]):
        post = CalendarPost(*row)
        local = post.scheduled_at.replace(tzinfo=dt.UTC).astimezone(zone)
        by_day.setdefault(local.date(), []).append((local, post))
    more: dict[dt.date, int] = {}
    full = [(day, lo, hi) for day, lo, hi in ranges if len(by_day.get(day, ())) > per_day]
    counts = value_per_range(
        lambda lo, hi: in_day(lo, hi).select(fn.COUNT(pw.SQL("*"))),
        [(lo, hi) for _day, lo, hi in full],
    )
    for (day, _lo, _hi), total in zip(full, counts, strict=True):
        more[day] = total - per_day
        by_day[day] = by_day[day][:per_day]
    return by_day, more
