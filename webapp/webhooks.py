"""TikTok's webhook endpoint: verify the signature, remember the delivery, answer 200 at once,
and leave the work to an RQ job. Redeliveries of the same body are recognised and ignored."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

import peewee as pw
from flask import Blueprint, jsonify, request
from redis.exceptions import RedisError

from webapp import tasks
from webapp.db import db
from webapp.extensions import csrf, get_redis
from webapp.models import TikTokService, WebhookEvent

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)

MAX_AGE = 300  # seconds: older (or further in the future) signatures are refused


def verify_signature(secret: str, header: str, body: bytes, now: float | None = None) -> str | None:
    """Return why a TikTok-Signature header is unacceptable for body, or None when it's valid."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
        timestamp = int(parts["t"])
        signature = parts["s"]
    except (KeyError, ValueError):
        return "missing or malformed TikTok-Signature"
    if abs((now or time.time()) - timestamp) > MAX_AGE:
        return "stale timestamp"
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    # Constant time, on bytes: compare_digest refuses str with non-ASCII characters.
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return "bad signature"
    return None


@bp.route("/tiktok", methods=["POST"])
@csrf.exempt  # authenticated by TikTok's HMAC signature instead
def tiktok():
    """Receive one TikTok event."""
    body = request.get_data(cache=False)
    secret = TikTokService.load().client_secret()
    problem = (
        "TikTok is not configured"
        if not secret
        else verify_signature(secret, request.headers.get("TikTok-Signature", ""), body)
    )
    if problem:
        log.warning("webhook refused: %s", problem)
        return jsonify({"error": problem}), 401
    try:
        payload = json.loads(body)
        event = str(payload["event"])
    except (ValueError, KeyError, TypeError):
        return jsonify({"error": "body is not a TikTok event"}), 400
    digest = hashlib.sha256(body).hexdigest()
    try:
        with db.atomic():
            record = WebhookEvent.create(
                digest=digest,
                event=event,
                payload=payload,
                user_openid=str(payload.get("user_openid", "")),
            )
    except pw.IntegrityError:
        return jsonify({"ok": True, "duplicate": True})
    try:
        tasks.enqueue_webhook(get_redis(), record.id)
    except (RedisError, ValueError):
        log.exception("webhook %s could not be queued", record.id)
        # Forget the delivery so TikTok's retry is handled rather than taken for a duplicate.
        record.delete_instance()
        return jsonify({"error": "queue unavailable, retry later"}), 503
    return jsonify({"ok": True})
