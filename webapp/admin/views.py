"""Admin Console views."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.addresses import public_url, redirect_uri
from webapp.admin import bp
from webapp.admin.forms import ServicesForm, SettingsForm, UserCreateForm
from webapp.db import db
from webapp.models import AppSettings, TikTokService, User
from webapp.pagination import paginate
from webapp.people import RuleError, change_role, create_user, set_active


@bp.route("/")
def index():
    """Open the Admin Console on its first section."""
    return redirect(url_for("admin.services"))


@bp.route("/services", methods=["GET", "POST"])
def services():
    """Show and save the TikTok service configuration."""
    service = TikTokService.load()
    form = ServicesForm(obj=service)
    if form.validate_on_submit():
        with db.atomic():
            for name in (
                "client_key",
                "share_type",
                "upload_method",
                "media_url_prefix",
                "audited",
                "auth_base_url",
                "api_base_url",
            ):
                setattr(service, name, getattr(form, name).data)
            if form.clear_secret.data:
                service.set_client_secret("")
            elif form.client_secret.data.strip():
                # Blank (or only spaces) keeps the saved secret, as the page says.
                service.set_client_secret(form.client_secret.data.strip())
            service.save()
        flash("TikTok settings saved.", "success")
        return redirect(url_for("admin.services"), code=303)
    status = 400 if form.errors else 200
    return render_template(
        "admin/services.html",
        form=form,
        service=service,
        redirect_uri=redirect_uri(),
        webhook_url=public_url(url_for("webhooks.tiktok")),
        auth_base=service.effective_auth_base_url(current_app.config),
        api_base=service.effective_api_base_url(current_app.config),
        defaults=current_app.config,
    ), status


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    """Show and save the installation settings."""
    row = AppSettings.load()
    form = SettingsForm(obj=row)
    if request.method == "GET":
        # Start the public texts from their templates, so there is something to edit.
        from webapp.public.texts import default_texts

        defaults = default_texts(row)
        for name, page in (
            ("service_description", "about"),
            ("privacy_text", "privacy"),
            ("terms_text", "terms"),
        ):
            if not getattr(row, name).strip():
                getattr(form, name).data = defaults[page]
    if form.validate_on_submit():
        form.populate_obj(row)
        row.save()
        flash("Settings saved.", "success")
        return redirect(url_for("admin.settings"), code=303)
    return render_template("admin/settings.html", form=form), 400 if form.errors else 200


def _users_page(form: UserCreateForm):
    query = User.select().order_by(User.active.desc(), User.email)
    return render_template(
        "admin/users.html", form=form, page=paginate(query, request.args.get("page"), 50)
    )


@bp.route("/users", methods=["GET", "POST"])
def users():
    """List users and create new ones."""
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = create_user(
                form.email.data, form.password.data, role=form.role.data, name=form.name.data or ""
            )
        except RuleError as exc:
            form.email.errors = [*form.email.errors, str(exc)]
        else:
            flash(f"{user.email} can now sign in.", "success")
            return redirect(url_for("admin.users"), code=303)
    return _users_page(form), 400 if form.errors else 200


def _user_or_404(user_id: int) -> User:
    user = User.get_or_none(User.id == user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>/role", methods=["POST"])
def user_role(user_id: int):
    """Change a user's role."""
    user = _user_or_404(user_id)
    try:
        change_role(user, request.form.get("role", ""))
    except RuleError as exc:
        flash(str(exc), "error")
    else:
        flash(f"{user.email} is now {'an admin' if user.is_admin else 'a member'}.", "success")
    return redirect(url_for("admin.users"), code=303)


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
def user_deactivate(user_id: int):
    """Ask for confirmation, then deactivate a user (they are signed out at once)."""
    user = _user_or_404(user_id)
    if request.method == "GET":
        return render_template("admin/user_deactivate.html", user=user)
    try:
        set_active(user, False, acting=current_user)
    except RuleError as exc:
        flash(str(exc), "error")
    else:
        flash(f"{user.email} is deactivated and can no longer sign in.", "success")
    return redirect(url_for("admin.users"), code=303)


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
def user_activate(user_id: int):
    """Let a deactivated user sign in again."""
    user = _user_or_404(user_id)
    set_active(user, True)
    flash(f"{user.email} can sign in again.", "success")
    return redirect(url_for("admin.users"), code=303)
