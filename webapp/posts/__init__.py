"""Posts: the list with status filters, each post's page, and the Calendar."""

from flask import Blueprint

from webapp.permissions import WORKSPACE_PREFIX, require_login

bp = Blueprint("posts", __name__, url_prefix=WORKSPACE_PREFIX)
require_login(bp)

# Importing the view module registers its routes on bp.
from webapp.posts import views  # noqa: E402,F401
