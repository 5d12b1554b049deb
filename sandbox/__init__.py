"""The TikTok sandbox: a small Flask app that speaks TikTok's OAuth and Content Posting API.

It imitates ../shared/spec/tiktok-api.md over real HTTP, errors included, so Cadence can be
tried and tested without TikTok. It shares no code with Cadence's client.
"""

from __future__ import annotations

import os

from flask import Flask

from sandbox.state import State

DEFAULTS = {
    "CLIENT_KEY": "sbx_demo_client_key",
    "CLIENT_SECRET": "sbx_demo_client_secret",
    "APP_NAME": "Cadence (sandbox app)",
    "REDIRECT_URIS": "",  # comma separated; empty: any https URI, or http on localhost
    "ACCESS_TOKEN_TTL": 7200,
    "REFRESH_TOKEN_TTL": 15552000,
    "AUTH_CODE_TTL": 600,
    "UPLOAD_URL_TTL": 3600,
    "PROCESSING_SECONDS": 2.0,
    "MODERATION_SECONDS": 1.0,
    "WEBHOOK_URL": "",
    "VERIFIED_URL_PREFIXES": "",
    "UPLOAD_BASE_URL": "",  # empty: this server's own address
    "UNAUDITED": False,
    "EXTRA_CREATORS": 0,
    "STRICT": True,
    "RATE_CREATOR_INFO": 20,
    "RATE_INIT": 6,
    "RATE_STATUS": 30,
    "RATE_USER_INFO": 600,
    "DAILY_DIRECT_POSTS": 15,
    "DAILY_PENDING_DRAFTS": 5,
    "STATE_FILE": "",
    # The network profile (sandbox.network): round trip per API request, its random extra, and
    # the uplink every upload shares (0: off).
    "LATENCY_MS": 0.0,
    "JITTER_MS": 0.0,
    "UPLINK_MBPS": 0.0,
}

_BOOLS = {"UNAUDITED", "STRICT"}
_INTS = {
    "ACCESS_TOKEN_TTL",
    "REFRESH_TOKEN_TTL",
    "AUTH_CODE_TTL",
    "UPLOAD_URL_TTL",
    "EXTRA_CREATORS",
    "RATE_CREATOR_INFO",
    "RATE_INIT",
    "RATE_STATUS",
    "RATE_USER_INFO",
    "DAILY_DIRECT_POSTS",
    "DAILY_PENDING_DRAFTS",
}
_FLOATS = {"PROCESSING_SECONDS", "MODERATION_SECONDS", "LATENCY_MS", "JITTER_MS", "UPLINK_MBPS"}


def _coerce(key, value):
    if not isinstance(value, str):
        return value
    if key in _BOOLS:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if key in _INTS:
        return int(value)
    if key in _FLOATS:
        return float(value)
    return value


def load_settings(config: dict | None = None) -> dict:
    """Return the settings: defaults, then SANDBOX_* environment variables, then config."""
    settings = dict(DEFAULTS)
    for key in DEFAULTS:
        if f"SANDBOX_{key}" in os.environ:
            settings[key] = os.environ[f"SANDBOX_{key}"]
    for key, value in (config or {}).items():
        settings[key.removeprefix("SANDBOX_")] = value
    return {key: _coerce(key, value) for key, value in settings.items()}


def create_app(config: dict | None = None) -> Flask:
    """Build the sandbox app."""
    app = Flask(__name__)
    settings = load_settings(config)
    app.config["SANDBOX"] = settings
    app.extensions["sandbox_state"] = State(
        extra_creators=settings["EXTRA_CREATORS"], path=settings["STATE_FILE"] or None
    )

    from sandbox import control, network, oauth, posting, upload, webhooks

    webhooks.init_app(app)
    control.init_app(app)
    for module in (oauth, posting, upload, control):
        app.register_blueprint(module.bp)
    app.wsgi_app = network.wrap(app.wsgi_app, settings)
    return app
