"""Files TikTok pulls (PULL_FROM_URL, and every photo post): unguessable addresses under the
verified media URL prefix, served by `/pull/<token>/<name>` without login, with Range support and
never a redirect (TikTok refuses redirects)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, send_file
from itsdangerous import BadSignature, URLSafeSerializer

from webapp.models import Media

bp = Blueprint("pull", __name__, url_prefix="/pull")
SALT = "cadence-pull-media"


def _signer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def pull_url(media: Media, prefix: str, secret_key: str) -> str:
    """Return the address TikTok downloads media from (prefix + token + file name)."""
    token = _signer(secret_key).dumps(media.id)
    base = prefix if prefix.endswith("/") else prefix + "/"
    return f"{base}{token}/{Path(media.stored_name).name}"


@bp.route("/<token>/<name>")
def serve(token: str, name: str):
    """Send a media file to TikTok (or anyone holding its signed address)."""
    try:
        media_id = _signer(current_app.config["SECRET_KEY"]).loads(token)
    except BadSignature:
        abort(404)
    media = Media.get_or_none((Media.id == media_id) & (Media.status != "deleted"))
    if media is None or Path(media.stored_name).name != name:
        abort(404)
    path = Path(current_app.config["MEDIA_ROOT"]) / media.stored_name
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=media.content_type, conditional=True, etag=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
