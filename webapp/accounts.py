"""Accounts: the TikTok accounts people have connected."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from webapp.models import Account, TikTokService
from webapp.permissions import require_login

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
require_login(bp)

# Where TikTok sends people back after authorizing; operators register this exact URI.
CALLBACK_PATH = "/accounts/tiktok/callback"


@bp.route("/")
def index():
    """List the user's connected accounts."""
    accounts = (
        Account.select()
        .where((Account.owner == current_user.id) & (Account.status != "disconnected"))
        .order_by(Account.display_name)
    )
    return render_template(
        "accounts/index.html", accounts=list(accounts), service=TikTokService.load()
    )
