"""Media: uploaded videos and images with their checked properties."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from webapp.models import Media
from webapp.pagination import paginate
from webapp.permissions import require_login

bp = Blueprint("media", __name__, url_prefix="/media")
require_login(bp)


@bp.route("/")
def index():
    """List the user's media, newest first."""
    query = Media.select().where(Media.owner == current_user.id).order_by(Media.created_at.desc())
    return render_template("media/index.html", page=paginate(query, request.args.get("page")))
