"""Posts: the list with status filters, a post's page (status, timeline, Retry, Cancel), the
Calendar, and the approval queue with its review page (approve with the approver's consent, or
send back with a comment)."""

from __future__ import annotations

import calendar
import datetime as dt

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from redis.exceptions import RedisError

from webapp import publishing
from webapp.composer import posting
from webapp.extensions import get_redis
from webapp.models import AppSettings, Post, PostTarget, User, utcnow
from webapp.permissions import can, requires
from webapp.posts import bp, history
from webapp.timezones import to_local, zone_for
from webapp.workspaces.roles import Can


@bp.route("/posts/")
@requires(Can.VIEW)
def index():
    """List posts, filtered by status, newest first, a page at a time ("Newer" / "Older" links
    carry the cursor of the page's edge, so a page costs the same at any depth)."""
    chosen = request.args.get("status", "")
    known, statuses = history.statuses_of(chosen)
    if not known:
        abort(404)
    page, accounts = history.list_page(
        g.workspace.id, statuses, request.args.get("older"), request.args.get("newer")
    )
    return render_template(
        "posts/index.html",
        filters=history.FILTERS,
        chosen=chosen,
        page=page,
        accounts=accounts,
        zone=zone_for(current_user, AppSettings.load().timezone),
        to_local=to_local,
    )


def _post_or_404(post_id: int) -> Post:
    post = history.visible_post(g.workspace.id, post_id)
    if post is None:
        abort(404)
    return post


def _status_context(post: Post) -> dict:
    targets = history.targets_of(post)
    return {
        "post": post,
        "targets": targets,
        "live": history.is_live(post, targets),
        "live_message": publishing.live_message,
        "can_approve": can(Can.APPROVE),
        "zone": zone_for(current_user, AppSettings.load().timezone),
        "to_local": to_local,
    }


@bp.app_template_global("tiktok_link")
def tiktok_link(target) -> publishing.TikTokLink | None:
    """Return where "Open on TikTok" leads for a published target (the sandbox in the demo)."""
    return publishing.tiktok_link(target, publishing.web_base(current_app.config))


@bp.route("/posts/<int:post_id>")
@requires(Can.VIEW)
def detail(post_id: int):
    """Show one post: its status per account (updating itself while work runs) and timeline."""
    post = _post_or_404(post_id)
    return render_template(
        "posts/detail.html", events=history.events_of(post), **_status_context(post)
    )


@bp.route("/posts/<int:post_id>/status")
@requires(Can.VIEW)
def status(post_id: int):
    """Return the status widget (htmx polls it every 2 s while work runs) and, out of band, the
    timeline, so both follow the post as it lands."""
    post = _post_or_404(post_id)
    values = {**_status_context(post), "events": history.events_of(post), "oob": True}
    return render_template("posts/_status.html", **values) + render_template(
        "posts/_timeline.html", **values
    )


@bp.route("/posts/<int:post_id>/targets/<int:target_id>/retry", methods=["POST"])
@requires(Can.POST)
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
@requires(Can.POST)
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


@bp.route("/calendar/")
@requires(Can.VIEW)
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
    per_day = history.MONTH_EVENTS_PER_DAY if view == "month" else history.WEEK_EVENTS_PER_DAY
    days = [day for week in weeks for day in week]
    by_day, more = history.calendar_days(g.workspace.id, days, zone, per_day)
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


# --- approval ---------------------------------------------------------------------------------

QUEUE_LIMIT = 200  # a queue longer than this is a team problem, not a paging one


@bp.route("/approvals/")
@requires(Can.APPROVE)
def approvals():
    """List the workspace's posts awaiting approval, the longest-waiting first."""
    posts = list(publishing.awaiting(g.workspace.id).limit(QUEUE_LIMIT))
    authors = {
        u.id: u for u in User.select().where(User.id.in_([p.author_id for p in posts] or [0]))
    }
    return render_template(
        "posts/approvals.html",
        posts=posts,
        authors=authors,
        accounts=history.accounts_of([p.id for p in posts]),
        zone=zone_for(current_user, AppSettings.load().timezone),
        to_local=to_local,
    )


def _review_page(post: Post, context: dict, *, status: int = 200, comment: str = ""):
    return (
        render_template(
            "posts/review.html",
            post=post,
            author=User.get_or_none(User.id == post.author_id),
            comment=comment,
            seen=posting.seen_token(post),
            to_local=to_local,
            **context,
        ),
        status,
    )


@bp.route("/approvals/<int:post_id>", methods=["GET"])
@requires(Can.APPROVE)
def review(post_id: int):
    """Show a submitted post as its author saw it in the composer, decided afresh, with
    Approve and Send back."""
    post = _post_or_404(post_id)
    if post.status != publishing.Status.AWAITING_APPROVAL:
        flash("This post isn't awaiting approval.", "info")
        return redirect(url_for("posts.detail", post_id=post.id), code=303)
    return _review_page(post, posting.review(post, current_user, g.workspace))


@bp.route("/approvals/<int:post_id>", methods=["POST"])
@requires(Can.APPROVE)
def decide(post_id: int):
    """Approve (publish or schedule, with the approver's consent) or send back with a comment;
    refuse with the reasons on the review page (422)."""
    post = _post_or_404(post_id)
    if post.status != publishing.Status.AWAITING_APPROVAL:
        flash("This post isn't awaiting approval any more: someone decided it meanwhile.", "error")
        return redirect(url_for("posts.detail", post_id=post.id), code=303)
    decision = request.form.get("decision", "")
    if decision == "approve":
        done = posting.approve(
            post,
            current_user,
            g.workspace,
            request.form.get("new_time", ""),
            seen=request.form.get("seen", ""),
        )
        if done.reasons:
            return _review_page(post, done.context, status=422)
        if done.post.scheduled_at and done.post.scheduled_at > utcnow():
            local = to_local(done.post.scheduled_at, done.context["zone"])
            flash(
                f"Approved. Scheduled for {local:%Y-%m-%d %H:%M} ({done.context['zone'].key}).",
                "success",
            )
        else:
            flash("Approved and sent for publishing. " + publishing.PROCESSING_NOTICE, "success")
        return redirect(url_for("posts.detail", post_id=post.id), code=303)
    if decision == "send_back":
        comment = request.form.get("comment", "")
        try:
            publishing.send_back(post, current_user, comment)
        except publishing.ApprovalRefused as refused:
            context = posting.review(post, current_user, g.workspace)
            context.update(refused=True, send_back_error=str(refused))
            return _review_page(post, context, status=422, comment=comment)
        flash("Sent back to the author as a draft, with your comment.", "success")
        return redirect(url_for("posts.approvals"), code=303)
    abort(400)
