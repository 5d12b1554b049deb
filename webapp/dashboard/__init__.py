"""The Dashboard: what needs doing next, upcoming posts, recent problems."""

from flask import Blueprint

from webapp.permissions import WORKSPACE_PREFIX, require_login

bp = Blueprint("dashboard", __name__, url_prefix=WORKSPACE_PREFIX)
require_login(bp)

# Importing the view module registers its routes on bp.
from webapp.dashboard import views  # noqa: E402,F401
