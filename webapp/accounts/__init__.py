"""Accounts: connect TikTok accounts through OAuth and keep them connected."""

from flask import Blueprint

from webapp.permissions import require_login

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
require_login(bp)

# Importing the view module registers its routes on bp.
from webapp.accounts import views  # noqa: E402,F401
