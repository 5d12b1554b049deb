"""Media views: the list, streaming upload, the file itself, conversion and deletion."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from redis.exceptions import RedisError
from wtforms import ValidationError

from webapp import htmx
from webapp.db import db
from webapp.extensions import csrf
from webapp.media import bp, pull_bp
from webapp.media import pull as pull_rules
from webapp.media.storage import (
    frame_path,
    path_of,
    receive,
    remove_files,
    start_check,
    start_conversion,
)
from webapp.models import Media, Post, PostMedia
from webapp.pagination import paginate

log = logging.getLogger(__name__)

# Posts in these states still need their media.
ACTIVE_POSTS = ("draft", "scheduled", "publishing", "needs_attention")


def own_media(media_id: int) -> Media:
    """Return the current user's media, or 404 (never another user's)."""
    media = Media.get_or_none(
        (Media.id == media_id) & (Media.owner == current_user.id) & (Media.status != "deleted")
    )
    if media is None:
        abort(404)
    return media


def _done(endpoint: str = "media.index"):
    location = url_for(endpoint)
    if htmx.is_htmx():
        # 200 with HX-Redirect: a 3xx would be followed inside the XHR and the header lost.
        return htmx.redirect(make_response("", 200), location)
    return redirect(location, code=303)


@bp.route("/")
def index():
    """List the user's media, newest first, with the TikTok rules each file breaks."""
    query = (
        Media.select()
        .where((Media.owner == current_user.id) & (Media.status != "deleted"))
        .order_by(Media.created_at.desc(), Media.id.desc())
    )
    return render_template("media/index.html", page=paginate(query, request.args.get("page")))


@bp.route("/upload", methods=["POST"])
@csrf.exempt  # checked below, after sign-in, so strangers can't make us store a body first
def upload():
    """Receive files streamed to disk and keep each as a media row; a job then checks it."""
    try:
        validate_csrf(request.headers.get("X-CSRFToken") or request.form.get("csrf_token"))
    except ValidationError:
        raise CSRFError("The CSRF token is missing or invalid.") from None
    files = [f for f in request.files.getlist("files") if f and f.filename]
    if not files:
        flash("Choose one or more videos or photos to upload.", "error")
        return _done()
    kept, refused = [], []
    for item in files:
        try:
            media = receive(Path(item.stream.name), item.filename, current_user.id)
            try:
                start_check(media)
            except (RedisError, ValueError):
                log.exception("the check of media %s could not be queued", media.id)
                media.delete_instance()
                remove_files(media)
                refused.append(f"{item.filename}: Cadence can't check files right now; try again.")
                continue
        finally:
            item.close()
        media = Media.get_by_id(media.id)
        if media.status == "invalid" and not media.kind:
            # Checked in the request (MEDIA_CHECKS=inline) and not media at all: keep nothing.
            media.delete_instance()
            remove_files(media)
            refused.append(f"{item.filename}: {media.problems[0]}")
            continue
        kept.append(media)
    if kept:
        names = ", ".join(m.original_name for m in kept)
        checking = sum(m.status == "checking" for m in kept)
        flawed = [m for m in kept if m.problems]
        note = f" {len(flawed)} of them break a TikTok rule; see below." if flawed else ""
        if checking:
            note += " Cadence is checking them against TikTok's rules; see below."
        flash(f"Uploaded {names}.{note}", "success")
    for message in refused:
        flash(f"Not uploaded: {message}", "error")
    return _done()


@bp.route("/<int:media_id>/row")
def row(media_id: int):
    """Return one media's table row: its check's progress while running, then its facts."""
    return render_template("media/_row.html", m=own_media(media_id))


@bp.route("/<int:media_id>/file")
def file(media_id: int):
    """Send the file (with Range support) for previews."""
    media = own_media(media_id)
    path = path_of(media)
    if not path.is_file():
        abort(404)
    response = send_file(
        path, mimetype=media.content_type, conditional=True, download_name=media.original_name
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/<int:media_id>/frame/<int:ms>.jpg")
def frame(media_id: int, ms: int):
    """Send one cover-frame thumbnail of a video."""
    path = frame_path(own_media(media_id), ms)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=3600)


@bp.route("/<int:media_id>/convert", methods=["POST"])
def convert(media_id: int):
    """Make a TikTok-ready JPEG copy of a photo (PNG, or larger than 1080 px); keep the original."""
    media = own_media(media_id)
    if media.kind != "photo" or not media.problems:
        flash("This file doesn't need converting.", "info")
        return _done()
    try:
        copy = start_conversion(media)
    except (RedisError, ValueError):
        log.exception("the conversion of media %s could not be queued", media.id)
        flash("Cadence can't convert files right now; try again.", "error")
        return _done()
    if copy.status == "checking":
        flash(f"Making a TikTok-ready copy, “{copy.original_name}”; it appears below.", "success")
    elif copy.kind:
        flash(f"Made a TikTok-ready copy, “{copy.original_name}”; the original is kept.", "success")
    else:
        copy.delete_instance()
        flash(
            f"“{media.original_name}” could not be converted. Try exporting it as JPEG yourself.",
            "error",
        )
    return _done()


def _active_posts(media: Media) -> list[Post]:
    return list(
        Post.select()
        .join(PostMedia)
        .where((PostMedia.media == media.id) & Post.status.in_(ACTIVE_POSTS))
        .distinct()
    )


@bp.route("/<int:media_id>/delete", methods=["GET", "POST"])
def delete(media_id: int):
    """Ask first; refuse while a post that isn't finished uses the file, naming it."""
    media = own_media(media_id)
    posts = _active_posts(media)
    if request.method == "GET":
        return render_template("media/delete.html", media=media, posts=posts)
    if posts:
        names = "; ".join(
            f"“{p.caption[:40] or f'post #{p.id}'}” ({p.status_label.lower()})" for p in posts
        )
        flash(
            f"“{media.original_name}” is used by {names}. Remove it from "
            f"{'that post' if len(posts) == 1 else 'those posts'} or cancel "
            f"{'it' if len(posts) == 1 else 'them'} first.",
            "error",
        )
        return _done()
    with db.atomic():
        if media.post_links.exists():
            # Finished posts keep their history; only the file goes.
            media.status = "deleted"
            media.save()
        else:
            media.delete_instance()
    remove_files(media)
    flash(f"Deleted “{media.original_name}”.", "success")
    return _done()


@pull_bp.route("/<token>/<name>")
def serve(token: str, name: str):
    """Send a media file to TikTok (or anyone holding its signed, unexpired address)."""
    try:
        media = pull_rules.resolve(token, name, current_app.config["SECRET_KEY"])
    except pull_rules.Expired:
        abort(403)  # genuine but too old: the post's publish window is long over
    if media is None:
        abort(404)
    path = Path(current_app.config["MEDIA_ROOT"]) / media.stored_name
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=media.content_type, conditional=True, etag=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
