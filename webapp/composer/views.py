"""Create Post views: the page, the live check (htmx) and the submission. Each parses the
request, calls webapp.composer.posting (where the rules are) and renders."""

from __future__ import annotations

import datetime as dt
import hashlib

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import htmx, publishing
from webapp.composer import bp, posting
from webapp.composer.form import parse
from webapp.media.storage import cover_frames
from webapp.models import Media
from webapp.permissions import requires
from webapp.tiktok.rules import PROCESSING_NOTICE
from webapp.workspaces.roles import Can


@bp.app_template_filter("keep_key")
def keep_key(state) -> str:
    """Return a short id-safe key for what the server decided about an input (hx-preserve).

    An input wrapped in an element whose id carries this key is kept exactly as the person left
    it while the key stays the same; when the server's decision changes (an option disabled, a
    toggle greyed) the id changes and the input is drawn again from that same check's values,
    which hx-sync guarantees are the latest (any later change would have aborted that check).
    """
    return hashlib.sha256(repr(state).encode()).hexdigest()[:12]


@bp.context_processor
def approval_note() -> dict:
    """Tell the composer's templates whether this person's posts wait for a manager."""
    workspace = g.get("workspace")
    return {
        "approval_needed": workspace is not None
        and publishing.needs_approval(workspace, g.get("role"))
    }


@bp.route("/", methods=["GET"])
@requires(Can.EDIT)
def create():
    """Show the composer (nothing chosen: no privacy, interactions off, disclosure off)."""
    data = parse(request.args)
    if not data.account_ids:
        only = posting.only_connected_account(g.workspace)
        if only is not None:
            # One account: choose it already (its settings still start untouched).
            args = request.args.copy()
            args["accounts"] = str(only.id)
            data = parse(args)
    return render_template(
        "composer/create.html", **posting.compose(data, current_user, g.workspace)
    )


def _editable(post_id: int):
    post = posting.editable_post(post_id, g.workspace)
    if post is None:
        abort(404)
    return post


@bp.route("/<int:post_id>/edit")
@requires(Can.EDIT)
def edit(post_id: int):
    """Reopen a draft, or a scheduled post that hasn't started publishing, in the composer."""
    post = _editable(post_id)
    data = parse(posting.from_post_args(post, current_user))
    return render_template(
        "composer/create.html",
        review_note=post.review_note if post.status == "draft" else "",
        **posting.compose(data, current_user, g.workspace),
    )


@bp.route("/check", methods=["POST"])
@requires(Can.EDIT)
def check():
    """Re-decide after a change and send back only what the server decides (htmx).

    The answer never carries an input the person can type in or tick with its value: every such
    input is either outside the swapped parts or kept as it is in the page (hx-preserve), so an
    answer that lands late can't undo what was typed meanwhile. A browser without JavaScript
    (the "Update" button) gets the whole page back instead.
    """
    context = posting.compose(parse(request.form), current_user, g.workspace)
    if htmx.is_htmx():
        return render_template("composer/_check_all.html", **context)
    chosen = context["chosen_media"]
    if context["data"].post_type == "video" and chosen and chosen[0].kind == "video":
        # No JavaScript, so no picker loading on its own: this plain round trip draws it.
        context["cover_frames"] = cover_frames(chosen[0])
    return render_template("composer/create.html", **context)


@bp.route("/cover/<int:media_id>")
@requires(Can.EDIT)
def cover(media_id: int):
    """Draw the cover-frame picker of one video; it asks again while its frames aren't ready."""
    media = Media.get_or_none(
        (Media.id == media_id)
        & (Media.workspace == g.workspace.id)
        & (Media.status != "deleted")
        & (Media.kind == "video")
    )
    if media is None:
        abort(404)
    chosen = request.args.get("chosen", type=int)
    # Frames may still be in the making (an upload's check job makes them): ask again shortly.
    pending = media.status == "checking"
    return render_template(
        "composer/_cover_picker.html",
        media=media,
        cover_frames=None if pending else cover_frames(media),
        pending=pending,
        chosen=chosen,
    )


@bp.route("/", methods=["POST"])
@requires(Can.EDIT)
def submit():
    """Refuse (422, the page with its reasons) or record the post and everyone's consent."""
    data = parse(request.form)
    existing = _editable(data.post_id) if data.post_id is not None else None
    done = posting.submit(data, current_user, g.workspace, existing, role=g.role)
    if done.reasons:
        return render_template("composer/create.html", **done.context), 422
    post = done.post
    if done.started_meanwhile:
        flash("This post started publishing meanwhile, so it can no longer be edited.", "error")
        return redirect(url_for("posts.detail", post_id=post.id), code=303)
    if done.awaiting:
        flash(_sent_for_approval(post, done.context["zone"]), "success")
    elif data.action == "save_draft":
        flash("Draft saved.", "success")
    elif data.action == "schedule":
        zone = done.context["zone"]
        local = post.scheduled_at.replace(tzinfo=dt.UTC).astimezone(zone)
        flash(f"Scheduled for {local:%Y-%m-%d %H:%M} ({zone.key}).", "success")
    else:
        flash("Sent for publishing. " + PROCESSING_NOTICE, "success")
    if post.status == "draft":
        return redirect(url_for("posts.index", status="drafts"), code=303)
    return redirect(url_for("posts.detail", post_id=post.id), code=303)


def _sent_for_approval(post, zone) -> str:
    when = "as soon as a manager approves it"
    if post.scheduled_at is not None:
        local = post.scheduled_at.replace(tzinfo=dt.UTC).astimezone(zone)
        when = f"for {local:%Y-%m-%d %H:%M} ({zone.key}) once a manager approves it"
    return f"Sent for approval. Nothing goes to TikTok until then; it will be posted {when}."
