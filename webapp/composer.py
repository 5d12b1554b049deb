"""Create Post: the composer."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from webapp.models import Account, Media
from webapp.permissions import require_login

bp = Blueprint("composer", __name__, url_prefix="/compose")
require_login(bp)


@bp.route("/")
def create():
    """Show the composer, or what to do first when nothing can be posted yet."""
    accounts = list(
        Account.select().where((Account.owner == current_user.id) & (Account.status == "connected"))
    )
    media_count = Media.select().where(Media.owner == current_user.id).count()
    return render_template("composer/create.html", accounts=accounts, media_count=media_count)
