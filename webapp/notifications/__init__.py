"""Notifications: what the app told you (accounts needing attention, later failed posts)."""

from flask import Blueprint

from webapp.permissions import WORKSPACE_PREFIX, require_login

bp = Blueprint("notifications", __name__, url_prefix=WORKSPACE_PREFIX + "/notifications")
require_login(bp)

# Importing the view module registers its routes on bp.
from webapp.notifications import views  # noqa: E402,F401
