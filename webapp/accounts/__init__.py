"""Accounts: connect TikTok accounts through OAuth and keep them connected."""

from flask import Blueprint

from webapp.permissions import WORKSPACE_PREFIX, require_login

bp = Blueprint("accounts", __name__, url_prefix=WORKSPACE_PREFIX + "/accounts")
require_login(bp)
# TikTok sends people back to one address outside any workspace (operators register it); the
# OAuth state names the workspace.
callback_bp = Blueprint("oauth", __name__)
require_login(callback_bp)

# Importing the view module registers its routes on bp.
from webapp.accounts import views  # noqa: E402,F401
