"""Sign in and out, the profile's password change, and "Sign out everywhere"."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

# Importing the view module registers its routes on bp.
from webapp.auth import views  # noqa: E402,F401
