"""Admin Console → Audit Kit: the applicant's inputs and the generated kit."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from webapp.admin import bp
from webapp.admin.forms import AuditKitForm
from webapp.auditkit import answers, build
from webapp.extensions import get_redis
from webapp.htmx import wants_partial
from webapp.models import AuditKit, TikTokService

FIELDS = (
    "full_name",
    "org_name",
    "org_website",
    "app_id",
    "org_description",
    "customers",
    "accounts_per_customer",
    "videos_per_account_per_day",
    "instance_public",
    "demo_url",
    "demo_email",
)


MAX_ANSWERS = 50_000


def _inputs_form(kit: AuditKit, typed: bool) -> AuditKitForm:
    """Return the inputs form: as typed when it was just sent, else as saved."""
    form = AuditKitForm(obj=kit) if typed else AuditKitForm(formdata=None, obj=kit)
    if not typed and not kit.customers:
        form.customers.data = form.accounts_per_customer.data = None
        form.videos_per_account_per_day.data = None
    return form


def _page(form: AuditKitForm, kit: AuditKit, status: int, **overrides):
    data = {**build.contents(), **_mockups_widget(), **overrides}
    data["answer_warnings"] = answers.wording_warnings(data["answers"])
    return render_template(
        "admin/audit_kit.html", form=form, has_password=bool(kit.demo_password_enc), **data
    ), status


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
    if form.validate_on_submit():
        for name in FIELDS:
            setattr(kit, name, getattr(form, name).data)
        if form.demo_password.data.strip():
            # Blank (or only spaces, which skip the length check) keeps the saved password.
            kit.set_demo_password(form.demo_password.data)
        kit.save()
        flash("Audit kit inputs saved.", "success")
        return redirect(url_for("admin.audit_kit"), code=303)
    return _page(form, kit, 400 if form.errors else 200)


@bp.route("/audit-kit/answers", methods=["POST"])
def audit_kit_answers():
    """Keep the answers as edited (or go back to the generated text)."""
    kit = AuditKit.load()
    if request.form.get("reset"):
        kit.answers_edited = ""
        flash("Answers regenerated from your inputs.", "success")
    else:
        text = request.form.get("answers", "").strip()
        if not text:
            flash("The answers can't be empty; nothing was changed.", "error")
            return redirect(url_for("admin.audit_kit") + "#answers", code=303)
        if len(text) > MAX_ANSWERS:
            # Shown again as typed, beside the message, so trimming loses nothing.
            over = len(text) - MAX_ANSWERS
            problem = (
                f"The answers are {over:,} character{'s' if over != 1 else ''} over the limit "
                f"of {MAX_ANSWERS:,}; nothing was changed."
            )
            form = _inputs_form(kit, typed=False)
            return _page(form, kit, 400, answers=text, answers_error=problem)
        kit.answers_edited = text
        flagged = len(answers.wording_warnings(text))
        if flagged:
            flash(
                f"Answers saved as edited. {flagged} phrase{'s are' if flagged != 1 else ' is'} "
                "marked beside the text as wording TikTok's guidelines call not acceptable.",
                "info",
            )
        else:
            flash("Answers saved as edited.", "success")
    kit.save()
    return redirect(url_for("admin.audit_kit") + "#answers", code=303)


@bp.route("/audit-kit/answers/check", methods=["POST"])
def audit_kit_answers_check():
    """Return the wording warnings for the answers as typed (htmx swaps them in live)."""
    text = request.form.get("answers", "")[: MAX_ANSWERS + 1000]
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
