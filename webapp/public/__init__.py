"""Public pages for TikTok's app review: a landing page describing the service, the privacy
policy and the terms of service. Shown only when enabled in Admin Console → Settings."""

from flask import Blueprint

bp = Blueprint("public", __name__)

# Importing the view module registers its routes on bp.
from webapp.public import views  # noqa: E402,F401
