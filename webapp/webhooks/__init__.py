"""TikTok's webhooks: post status news delivered by TikTok."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

# Importing the view module registers its routes on bp.
from webapp.webhooks import views  # noqa: E402,F401
