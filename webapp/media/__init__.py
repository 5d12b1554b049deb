"""Media: upload videos and photos, see what TikTok will think of them, convert or delete them."""

from flask import Blueprint

from webapp.permissions import WORKSPACE_PREFIX, require_login

bp = Blueprint("media", __name__, url_prefix=WORKSPACE_PREFIX + "/media")
require_login(bp)
# Files TikTok pulls (PULL_FROM_URL): signed addresses, no login (see webapp/media/pull.py).
pull_bp = Blueprint("pull", __name__, url_prefix="/pull")

# Importing the view module registers its routes on bp.
from webapp.media import views  # noqa: E402,F401
