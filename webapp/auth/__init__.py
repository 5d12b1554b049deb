"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.auth import throttle
from webapp.extensions import get_redis
from webapp.models import User, normalize_email, utcnow

bp = Blueprint("auth", __name__)
_DUMMY_HASH = generate_password_hash("not a real password")


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
        ip = request.remote_addr or "unknown"
        r = get_redis()
        locked = throttle.seconds_locked(r, email, ip)
        if locked:
            error, status = _wait_message(locked), 429
        elif not email or not password:
            error, status = "Enter your email and password.", 400
        else:
            user = User.by_email(email)
            if user is None:
                # Spend the same time hashing, so response times don't reveal who has a login.
                check_password_hash(_DUMMY_HASH, password)
            if user is not None and user.check_password(password):
                if not user.active:
                    error, status = "This user is deactivated. Ask an admin to reactivate it.", 403
                else:
                    throttle.clear(r, email)
                    user.last_login_at = utcnow()
                    user.save()
                    login_user(user, remember=bool(request.form.get("remember")))
                    return redirect(_safe_next(request.args.get("next")), code=303)
            else:
                cfg = current_app.config
                lock = throttle.record_failure(
                    r,
                    email,
                    ip,
                    max_email=cfg["LOGIN_MAX_FAILURES_PER_EMAIL"],
                    max_ip=cfg["LOGIN_MAX_FAILURES_PER_IP"],
                    window=cfg["LOGIN_FAILURE_WINDOW"],
                )
                error = "That email and password don't match." if not lock else _wait_message(lock)
                status = 401 if not lock else 429
    return render_template("auth/login.html", email=email, error=error), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign the user out."""
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), code=303)
