"""Review mode: the Direct Post audit kit, generated from Cadence's own screens and models."""

from flask import Blueprint

from webapp.permissions import require_login

# The reviewer's Guide panel (webapp/auditkit/views.py).
bp = Blueprint("guide", __name__, url_prefix="/guide")
require_login(bp)

# Importing the view module registers its routes on bp.
from webapp.auditkit import views  # noqa: E402,F401
