"""TikTok's webhook endpoint (signed by TikTok, so no CSRF token and no sign-in)."""

from __future__ import annotations

from flask import jsonify, request

from webapp.extensions import csrf
from webapp.webhooks import bp, receiving


@bp.route("/tiktok", methods=["POST"])
@csrf.exempt  # authenticated by TikTok's HMAC signature instead
def tiktok():
    """Receive one TikTok event."""
    status, answer = receiving.receive(
        request.get_data(cache=False), request.headers.get("TikTok-Signature", "")
    )
    return jsonify(answer), status
