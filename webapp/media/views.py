"""Media views: the list, streaming upload, the file itself, conversion and deletion."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from webapp import htmx
from webapp.extensions import csrf
from webapp.media import bp, library, pull_bp
from webapp.media import pull as pull_rules
from webapp.media.storage import (
    frame_path,
    path_of,
)
from webapp.models import Media
from webapp.pagination import paginate
from webapp.permissions import requires
from webapp.workspaces.roles import Can

log = logging.getLogger(__name__)


def own_media(media_id: int) -> Media:
    """Return the current user's media, or 404 (never another user's)."""
    media = library.owned(media_id, g.workspace.id)
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
@requires(Can.VIEW)
def index():
    """List the user's media, newest first, with the TikTok rules each file breaks."""
    page = paginate(library.listing(g.workspace.id), request.args.get("page"))
    return render_template("media/index.html", page=page)


@bp.route("/upload", methods=["POST"])
@requires(Can.EDIT)
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
    try:
        done = library.take_uploads(
            [(Path(item.stream.name), item.filename) for item in files],
            current_user.id,
            g.workspace.id,
        )
    finally:
        for item in files:
            item.close()
    if done.kept:
        flash(done.summary(), "success")
    for message in done.refused:
        flash(f"Not uploaded: {message}", "error")
    return _done()


@bp.route("/<int:media_id>/row")
@requires(Can.VIEW)
def row(media_id: int):
    """Return one media's table row: its check's progress while running, then its facts."""
    return render_template("media/_row.html", m=own_media(media_id))


@bp.route("/<int:media_id>/file")
@requires(Can.VIEW)
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
@requires(Can.VIEW)
def frame(media_id: int, ms: int):
    """Send one cover-frame thumbnail of a video."""
    path = frame_path(own_media(media_id), ms)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=3600)


@bp.route("/<int:media_id>/convert", methods=["POST"])
@requires(Can.EDIT)
def convert(media_id: int):
    """Make a TikTok-ready JPEG copy of a photo (PNG, or larger than 1080 px); keep the original."""
    category, message = library.convert(own_media(media_id))
    flash(message, category)
    return _done()


@bp.route("/<int:media_id>/delete", methods=["GET", "POST"])
@requires(Can.EDIT)
def delete(media_id: int):
    """Ask first; refuse while a post that isn't finished uses the file, naming it."""
    media = own_media(media_id)
    if request.method == "GET":
        return render_template("media/delete.html", media=media, posts=library.posts_using(media))
    refusal = library.delete(media)
    if refusal:
        flash(refusal, "error")
        return _done()
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
