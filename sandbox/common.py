"""Helpers every sandbox endpoint uses: settings, state, TikTok's reply envelope, bearer tokens."""

from __future__ import annotations

import secrets
import time

from flask import current_app, jsonify, request

from sandbox.state import State


def cfg(key: str):
    """Return one sandbox setting."""
    return current_app.config["SANDBOX"][key]


def state() -> State:
    """Return the sandbox's state."""
    return current_app.extensions["sandbox_state"]


def log_id() -> str:
    """Return a log id like TikTok's."""
    return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(10).upper()


def ok(data: dict | None = None, status: int = 200):
    """Answer with TikTok's success envelope."""
    return jsonify(
        {"data": data or {}, "error": {"code": "ok", "message": "", "log_id": log_id()}}
    ), status


def fail(code: str, message: str, status: int, data: dict | None = None):
    """Answer with TikTok's error envelope."""
    return jsonify(
        {"data": data or {}, "error": {"code": code, "message": message, "log_id": log_id()}}
    ), status


def bearer() -> tuple[dict | None, tuple | None]:
    """Return (token record, None) for a live Bearer token, or (None, error reply)."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.startswith("Bearer ") else ""
    record = state().access.get(token) if token else None
    if record is None or record.get("revoked") or record["expires_at"] <= time.time():
        return None, fail(
            "access_token_invalid", "The access token is invalid or not found in the request.", 401
        )
    return record, None


def has_scope(record: dict, scope: str) -> bool:
    """Tell whether a token record carries scope."""
    return scope in record["scopes"]


def scope_error(scope: str):
    """Answer that the token lacks scope."""
    return fail(
        "scope_not_authorized", f"The user did not authorize the scope required: {scope}.", 401
    )
