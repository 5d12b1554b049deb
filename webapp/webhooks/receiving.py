"""Receiving TikTok's webhook deliveries: verify the signature, remember the delivery and leave
the work to an RQ job; redeliveries of the same body are recognised and ignored. The endpoint
in views.py answers at once with what receive() decided."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

import peewee as pw
from redis.exceptions import RedisError

from webapp import tasks
from webapp.db import db
from webapp.extensions import get_redis
from webapp.models import TikTokService, WebhookEvent

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


def receive(body: bytes, signature: str) -> tuple[int, dict]:
    """Take one delivery; return the HTTP status and JSON answer for TikTok."""
    secret = TikTokService.load().client_secret()
    problem = (
        "TikTok is not configured" if not secret else verify_signature(secret, signature, body)
    )
    if problem:
        log.warning("webhook refused: %s", problem)
        return 401, {"error": problem}
    try:
        payload = json.loads(body)
        event = str(payload["event"])
    except (ValueError, KeyError, TypeError):
        return 400, {"error": "body is not a TikTok event"}
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
        return 200, {"ok": True, "duplicate": True}
    try:
        tasks.enqueue_webhook(get_redis(), record.id)
    except (RedisError, ValueError):
        log.exception("webhook %s could not be queued", record.id)
        # Forget the delivery so TikTok's retry is handled rather than taken for a duplicate.
        record.delete_instance()
        return 503, {"error": "queue unavailable, retry later"}
    return 200, {"ok": True}
