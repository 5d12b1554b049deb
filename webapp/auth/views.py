"""Sign in and out, the profile's password change, and "Sign out everywhere"."""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadData, URLSafeTimedSerializer

from webapp.auth import bp, throttle
from webapp.auth.forms import PasswordChangeForm
from webapp.extensions import get_redis
from webapp.models import User, normalize_email, utcnow
from webapp.models.users import spend_a_password_check

# Set after a successful sign-in: this browser knows this email's password (see throttle.py).
DEVICE_COOKIE = "cadence_device"
DEVICE_SECONDS = 180 * 24 * 3600


def _safe_next(target: str | None) -> str:
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
    return url_for("dashboard.index")


def _wait_message(seconds: int) -> str:
    unit = "second" if seconds == 1 else "seconds"
    return f"Too many failed sign-in attempts. Try again in {seconds} {unit}."


def _ip() -> str:
    return request.remote_addr or "unknown"


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="cadence known device")


def _email_digest(email: str) -> str:
    # The cookie is signed, not encrypted: it names the email only by a digest.
    return hashlib.sha256(email.encode("utf-8")).hexdigest()[:32]


def _known_device(email: str) -> str | None:
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


def _remember_device(response, email: str) -> None:
    """Mark this browser as one that signed in as email (exempt from the others' throttles)."""
    device = _known_device(email) or secrets.token_urlsafe(16)
    response.set_cookie(
        DEVICE_COOKIE,
        _devices().dumps({"e": _email_digest(email), "d": device}),
        max_age=DEVICE_SECONDS,
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )


def _seconds_locked(email: str) -> int:
    """Return how long password attempts for email from this client must wait (0: none)."""
    per_minute = current_app.config["LOGIN_EMAIL_FAILURES_PER_MINUTE"]
    return throttle.seconds_locked(
        get_redis(), email, _ip(), per_minute=per_minute, device=_known_device(email)
    )


def _count_failure(email: str) -> int:
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
        device=_known_device(email),
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form and sign the user in."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    email = normalize_email(request.form.get("email", ""))
    error = None
    status = 200
    if request.method == "POST":
        password = request.form.get("password", "")
        locked = _seconds_locked(email)
        if locked:
            error, status = _wait_message(locked), 429
        elif not email or not password:
            error, status = "Enter your email and password.", 400
        else:
            user = User.by_email(email)
            if user is None:
                # Spend the same time hashing, so response times don't reveal who has a login.
                spend_a_password_check(password)
            if user is not None and user.check_password(password):
                if not user.active:
                    error, status = "This user is deactivated. Ask an admin to reactivate it.", 403
                else:
                    throttle.clear(get_redis(), email, _ip(), _known_device(email))
                    user.last_login_at = utcnow()
                    user.save()
                    login_user(user, remember=bool(request.form.get("remember")))
                    response = redirect(_safe_next(request.args.get("next")), code=303)
                    _remember_device(response, email)
                    return response
            else:
                lock = _count_failure(email)
                error = "That email and password don't match." if not lock else _wait_message(lock)
                status = 401 if not lock else 429
    return render_template("auth/login.html", email=email, error=error), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign the user out; the old session and remember-me cookies stop working."""
    current_user.rotate_session_token()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), code=303)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    """Show the profile and change one's own password (other sessions end)."""
    form = PasswordChangeForm()
    error, status = None, 200
    if form.is_submitted():
        locked = _seconds_locked(current_user.email)
        if locked:
            error, status = _wait_message(locked), 429
        elif not form.validate():
            status = 400
        elif not current_user.check_password(form.current_password.data):
            lock = _count_failure(current_user.email)
            form.current_password.errors.append("That isn't your current password.")
            error, status = (_wait_message(lock), 429) if lock else (None, 400)
        else:
            user = current_user._get_current_object()
            user.set_password(form.new_password.data)  # a new session token: others end
            user.save()
            remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            login_user(user, remember=remember_cookie in request.cookies)
            flash("Your password is changed. You are signed out on your other devices.", "success")
            return redirect(url_for("auth.profile"), code=303)
    return render_template("auth/profile.html", form=form, error=error), status


@bp.route("/profile/sign-out-everywhere", methods=["GET", "POST"])
@login_required
def sign_out_everywhere():
    """Ask for confirmation, then end every session of this user, this one included."""
    if request.method == "GET":
        return render_template("auth/sign_out_everywhere.html")
    current_user.rotate_session_token()
    logout_user()
    flash("You are signed out on every device, this one included.", "info")
    return redirect(url_for("auth.login"), code=303)
