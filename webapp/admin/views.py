"""Admin Console views: Services, Settings, Users, Audit Kit, Queue."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from webapp import tasks
from webapp.addresses import public_url, redirect_uri
from webapp.admin import bp
from webapp.admin.forms import AuditKitForm, ServicesForm, SettingsForm, UserCreateForm
from webapp.auditkit import answers, build, inputs, usage
from webapp.db import db
from webapp.extensions import get_redis
from webapp.htmx import wants_partial
from webapp.models import AppSettings, AuditKit, TikTokService, User, Workspace
from webapp.pagination import paginate
from webapp.people import RuleError, change_role, create_user, set_active
from webapp.workspaces.members import RuleError as MemberRuleError
from webapp.workspaces.members import add_member
from webapp.workspaces.roles import LABELS, parse


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
        workspace = Workspace.get_or_none(Workspace.id == int(form.workspace.data or 0))
        try:
            with db.atomic():  # the login and its membership, or neither
                user = create_user(
                    form.email.data,
                    form.password.data,
                    role=form.role.data,
                    name=form.name.data or "",
                    personal_workspace=workspace is None,
                )
                if workspace is not None:
                    add_member(workspace, user, form.workspace_role.data)
        except (RuleError, MemberRuleError) as exc:
            form.email.errors = [*form.email.errors, str(exc)]
        else:
            where = (
                f"“{workspace.name}” as {LABELS[parse(form.workspace_role.data)].lower()}"
                if workspace is not None
                else "their own new workspace"
            )
            flash(f"{user.email} can now sign in, to {where}.", "success")
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


# --- Audit Kit ------------------------------------------------------------------------------------


def _inputs_form(kit: AuditKit, typed: bool) -> AuditKitForm:
    """Return the inputs form: as typed when it was just sent, else as saved."""
    form = AuditKitForm(obj=kit) if typed else AuditKitForm(formdata=None, obj=kit)
    if not typed and not kit.customers:
        form.customers.data = form.accounts_per_customer.data = None
        form.videos_per_account_per_day.data = None
    return form


def _page(form: AuditKitForm, kit: AuditKit, status: int, **overrides):
    data = {**build.contents(), **_mockups_widget(), "usage": usage.measure(), **overrides}
    data["answer_warnings"] = answers.wording_warnings(data["answers"])
    return render_template(
        "admin/audit_kit.html", form=form, has_password=bool(kit.demo_password_enc), **data
    ), status


def _use_measured(form: AuditKitForm, measured: usage.Usage) -> None:
    """Put the real counts into the estimate's fields, keeping everything else as typed."""
    for name, value in measured.fields().items():
        field = getattr(form, name)
        field.data, field.raw_data, field.errors = value, [str(value)], []


def _mockups_widget() -> dict:
    return {
        "mockups": build.mockups_job_state(get_redis()),
        "mockups_built": build.mockups_built(Path(current_app.instance_path)),
    }


@bp.route("/audit-kit", methods=["GET", "POST"])
def audit_kit():
    """Show and save the applicant's inputs, with the kit generated from them."""
    kit = AuditKit.load()
    form = _inputs_form(kit, typed=request.method == "POST")
    if request.method == "GET" and request.args.get("use") == "measured":
        # "Use these numbers": the saved inputs with the real counts in the estimate's fields,
        # for the applicant to check and change; nothing is saved until they press Save.
        measured = usage.measure()
        if measured.offered:
            _use_measured(form, measured)
        return _page(form, kit, 200, usage=measured)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in inputs.FIELDS}
        inputs.save_inputs(kit, values, form.demo_password.data)
        flash("Audit kit inputs saved.", "success")
        return redirect(url_for("admin.audit_kit"), code=303)
    return _page(form, kit, 400 if form.errors else 200)


@bp.route("/audit-kit/answers", methods=["POST"])
def audit_kit_answers():
    """Keep the answers as edited (or go back to the generated text)."""
    kit = AuditKit.load()
    if request.form.get("reset"):
        inputs.save_answers(kit, None)
        flash("Answers regenerated from your inputs.", "success")
        return redirect(url_for("admin.audit_kit") + "#answers", code=303)
    text = request.form.get("answers", "").strip()
    if not text:
        flash("The answers can't be empty; nothing was changed.", "error")
        return redirect(url_for("admin.audit_kit") + "#answers", code=303)
    problem = inputs.too_long(text)
    if problem:
        # Shown again as typed, beside the message, so trimming loses nothing.
        return _page(_inputs_form(kit, typed=False), kit, 400, answers=text, answers_error=problem)
    flagged = inputs.save_answers(kit, text)
    if flagged:
        flash(
            f"Answers saved as edited. {flagged} phrase{'s are' if flagged != 1 else ' is'} "
            "marked beside the text as wording TikTok's guidelines call not acceptable.",
            "info",
        )
    else:
        flash("Answers saved as edited.", "success")
    return redirect(url_for("admin.audit_kit") + "#answers", code=303)


@bp.route("/audit-kit/answers/check", methods=["POST"])
def audit_kit_answers_check():
    """Return the wording warnings for the answers as typed (htmx swaps them in live)."""
    text = request.form.get("answers", "")[: inputs.MAX_ANSWERS + 1000]
    return render_template(
        "admin/_answers_warnings.html", answer_warnings=answers.wording_warnings(text)
    )


@bp.route("/audit-kit/guide")
def audit_kit_guide():
    """Show the demo guide as a page."""
    audited = TikTokService.load().audited
    return render_template(
        "admin/audit_guide_page.html",
        steps=build.guide.steps(audited),
        guide_note=build.guide.variant_note(audited),
        kit=AuditKit.load(),
    )


@bp.route("/audit-kit/mockups.pdf")
def audit_kit_mockups():
    """Send the latest UX mockups PDF (built by the mockups job)."""
    path = build.mockups_file(Path(current_app.instance_path))
    if not path.is_file():
        flash("The UX mockups haven't been built yet: build them first.", "error")
        return redirect(url_for("admin.audit_kit") + "#mockups", code=303)
    return send_file(path, mimetype="application/pdf", download_name=build.MOCKUPS_NAME)


@bp.route("/audit-kit/mockups", methods=["POST"])
def audit_kit_mockups_build():
    """Queue the mockup build; show its progress widget."""
    build.queue_mockups(get_redis())
    if not wants_partial():
        return redirect(url_for("admin.audit_kit") + "#mockups", code=303)
    return render_template("admin/_mockups.html", **_mockups_widget())


@bp.route("/audit-kit/mockups")
def audit_kit_mockups_status():
    """Render the mockup build's widget in its current state."""
    return render_template("admin/_mockups.html", **_mockups_widget())


@bp.route("/audit-kit/kit.zip")
def audit_kit_zip():
    """Send the whole kit as one zip."""
    return Response(
        build.zipped(),
        mimetype="application/zip",
        headers={"Content-Disposition": "attachment; filename=audit-kit.zip"},
    )


# --- Queue ------------------------------------------------------------------------------------


def _ping_state(job_id: str) -> dict:
    state = tasks.ping_state(job_id, get_redis())
    if state is None:
        abort(404)
    return state


@bp.route("/queue")
def queue():
    """Show workers, queue sizes and failed jobs (and a test job's progress when asked)."""
    ping_id = request.args.get("ping")
    return render_template(
        "admin/queue.html",
        ping=_ping_state(ping_id) if ping_id else None,
        **tasks.overview(get_redis()),
    )


@bp.route("/queue/ping", methods=["POST"])
def queue_ping():
    """Send a job through the queue; show the widget that waits for its answer."""
    job = tasks.enqueue_ping(get_redis())
    if not wants_partial():
        return redirect(url_for("admin.queue", ping=job.id), code=303)
    return render_template("admin/_ping.html", **_ping_state(job.id))


@bp.route("/queue/ping/<job_id>")
def queue_ping_status(job_id: str):
    """Render the ping widget in its current state."""
    return render_template("admin/_ping.html", **_ping_state(job_id))
