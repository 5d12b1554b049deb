"""Admin Console: Services, Users, Settings, Queue (admins only; members get 403)."""

from flask import Blueprint

from webapp.permissions import require_admin

bp = Blueprint("admin", __name__, url_prefix="/admin")
require_admin(bp)

# Importing the view modules registers their routes on bp.
from webapp.admin import views  # noqa: E402,F401
