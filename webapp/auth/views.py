"""Sign in and out, the profile's password change, and "Sign out everywhere"."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from webapp.auth import bp, signin
from webapp.auth.forms import PasswordChangeForm
from webapp.models import normalize_email


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the sign-in form and sign the user in."""
    if current_user.is_authenticated:
        return redirect(signin.safe_next(request.args.get("next")))
    email = normalize_email(request.form.get("email", ""))
    if request.method != "POST":
        return render_template("auth/login.html", email=email, error=None)
    outcome = signin.attempt(email, request.form.get("password", ""))
    if outcome.user is None:
        return render_template("auth/login.html", email=email, error=outcome.error), outcome.status
    login_user(outcome.user, remember=bool(request.form.get("remember")))
    response = redirect(signin.safe_next(request.args.get("next")), code=303)
    signin.remember_device(response, email)
    return response


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
        locked = signin.seconds_locked(current_user.email)
        if locked:
            error, status = signin.wait_message(locked), 429
        elif not form.validate():
            status = 400
        elif not current_user.check_password(form.current_password.data):
            lock = signin.count_failure(current_user.email)
            form.current_password.errors.append("That isn't your current password.")
            error, status = (signin.wait_message(lock), 429) if lock else (None, 400)
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
