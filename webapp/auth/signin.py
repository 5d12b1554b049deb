"""Signing in, the part with rules: the throttles (see throttle.py), the known-device cookie
that exempts a browser from other people's lockouts, and checking a password. The views in
views.py parse the request, call these and render."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, request, url_for
from itsdangerous import BadData, URLSafeTimedSerializer

from webapp.auth import throttle
from webapp.extensions import get_redis
from webapp.models import User, utcnow
from webapp.models.users import spend_a_password_check

# Set after a successful sign-in: this browser knows this email's password (see throttle.py).
DEVICE_COOKIE = "cadence_device"
DEVICE_SECONDS = 180 * 24 * 3600


def safe_next(target: str | None) -> str:
    """Return target if it is a local path, else the dashboard (no open redirects)."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
        ):
            return target
    return url_for("workspaces.home")


def wait_message(seconds: int) -> str:
    unit = "second" if seconds == 1 else "seconds"
    return f"Too many failed sign-in attempts. Try again in {seconds} {unit}."


def _ip() -> str:
    return request.remote_addr or "unknown"


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="cadence known device")


def _email_digest(email: str) -> str:
    # The cookie is signed, not encrypted: it names the email only by a digest.
    return hashlib.sha256(email.encode("utf-8")).hexdigest()[:32]


def known_device(email: str) -> str | None:
    """Return this browser's device id if it has signed in as email before, else None."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or not email:
        return None
    try:
        data = _devices().loads(raw, max_age=DEVICE_SECONDS)
    except BadData:
        return None
    if not isinstance(data, dict) or data.get("e") != _email_digest(email):
        return None
    return data.get("d") if isinstance(data.get("d"), str) else None


def remember_device(response, email: str) -> None:
    """Mark this browser as one that signed in as email (exempt from the others' throttles)."""
    device = known_device(email) or secrets.token_urlsafe(16)
    response.set_cookie(
        DEVICE_COOKIE,
        _devices().dumps({"e": _email_digest(email), "d": device}),
        max_age=DEVICE_SECONDS,
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )


def seconds_locked(email: str) -> int:
    """Return how long password attempts for email from this client must wait (0: none)."""
    per_minute = current_app.config["LOGIN_EMAIL_FAILURES_PER_MINUTE"]
    return throttle.seconds_locked(
        get_redis(), email, _ip(), per_minute=per_minute, device=known_device(email)
    )


def count_failure(email: str) -> int:
    """Count a wrong password for email from this client; return the resulting wait."""
    cfg = current_app.config
    return throttle.record_failure(
        get_redis(),
        email,
        _ip(),
        max_email=cfg["LOGIN_MAX_FAILURES_PER_EMAIL"],
        max_ip=cfg["LOGIN_MAX_FAILURES_PER_IP"],
        window=cfg["LOGIN_FAILURE_WINDOW"],
        per_minute=cfg["LOGIN_EMAIL_FAILURES_PER_MINUTE"],
        device=known_device(email),
    )


@dataclass
class Attempt:
    """What a sign-in attempt came to: the user signed in, or the message and HTTP status."""

    user: User | None = None
    error: str = ""
    status: int = 200


def attempt(email: str, password: str) -> Attempt:
    """Check a sign-in with the throttles; on success record it (the view logs the user in)."""
    locked = seconds_locked(email)
    if locked:
        return Attempt(error=wait_message(locked), status=429)
    if not email or not password:
        return Attempt(error="Enter your email and password.", status=400)
    user = User.by_email(email)
    if user is None:
        # Spend the same time hashing, so response times don't reveal who has a login.
        spend_a_password_check(password)
    if user is None or not user.check_password(password):
        lock = count_failure(email)
        if lock:
            return Attempt(error=wait_message(lock), status=429)
        return Attempt(error="That email and password don't match.", status=401)
    if not user.active:
        return Attempt(error="This user is deactivated. Ask an admin to reactivate it.", status=403)
    throttle.clear(get_redis(), email, _ip(), known_device(email))
    user.last_login_at = utcnow()
    user.save()
    return Attempt(user=user)
