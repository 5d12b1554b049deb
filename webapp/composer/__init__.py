"""Create Post: the composer, validated live over htmx by the same rules as the final check."""

from flask import Blueprint

from webapp.permissions import WORKSPACE_PREFIX, require_login

bp = Blueprint("composer", __name__, url_prefix=WORKSPACE_PREFIX + "/compose")
require_login(bp)

# Importing the view module registers its routes on bp.
from webapp.composer import views  # noqa: E402,F401
