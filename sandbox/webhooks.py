"""Webhooks signed like TikTok's, delivered in the background with a few retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time

import requests
from flask import Flask, current_app

from sandbox.common import cfg, state


def sign(secret: str, timestamp: int, body: str) -> str:
    """Return the TikTok-Signature header value for body."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},s={digest}"


def send_event(event: str, open_id: str, content: dict) -> None:
    """Queue a webhook for delivery (nothing happens without WEBHOOK_URL)."""
    url = cfg("WEBHOOK_URL")
    record = {
        "event": event,
        "user_openid": open_id,
        "content": content,
        "at": time.time(),
        "delivered": False,
        "attempts": 0,
    }
    st = state()
    with st.lock:
        st.webhooks.append(record)
    if url:
        current_app.extensions["sandbox_webhook_queue"].put((url, record))


def _deliver(app: Flask, jobs: queue.Queue) -> None:
    while True:
        url, record = jobs.get()
        with app.app_context():
            body = json.dumps(
                {
                    "client_key": cfg("CLIENT_KEY"),
                    "event": record["event"],
                    "create_time": int(record["at"]),
                    "user_openid": record["user_openid"],
                    "content": json.dumps(record["content"]),
                }
            )
            for attempt in range(1, 6):
                record["attempts"] = attempt
                headers = {
                    "Content-Type": "application/json",
                    "TikTok-Signature": sign(cfg("CLIENT_SECRET"), int(time.time()), body),
                }
                try:
                    response = requests.post(url, data=body, headers=headers, timeout=5)
                    if 200 <= response.status_code < 300:
                        record["delivered"] = True
                        break
                except requests.RequestException:
                    pass
                time.sleep(min(2**attempt * 0.2, 5))


def init_app(app: Flask) -> None:
    """Start the delivery thread and the ticker that moves publishes along."""
    from sandbox.processing import start_ticker

    jobs: queue.Queue = queue.Queue()
    app.extensions["sandbox_webhook_queue"] = jobs
    threading.Thread(
        target=_deliver, args=(app, jobs), daemon=True, name="sandbox-webhooks"
    ).start()
    start_ticker(app)
