"""The approval queue: what editors submitted in a workspace that requires approval, and the
review page where a manager approves a post (their click is the consent) or sends it back."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import publishing
from webapp.composer import posting
from webapp.models import AppSettings, Post, User, utcnow
from webapp.permissions import requires
from webapp.posts import bp, history
from webapp.timezones import to_local, zone_for
from webapp.workspaces.roles import Can

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


def _post_or_404(post_id: int) -> Post:
    post = history.visible_post(g.workspace.id, post_id)
    if post is None:
        abort(404)
    return post


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
