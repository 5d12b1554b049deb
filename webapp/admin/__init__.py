"""Admin Console: Services, Users, Settings (admins only; members get 403)."""

from flask import Blueprint

from webapp.permissions import require_admin

bp = Blueprint("admin", __name__, url_prefix="/admin")
require_admin(bp)

from webapp.admin import (
    queue,  # noqa: E402,F401
    views,  # noqa: E402,F401  (registers the routes)
)
