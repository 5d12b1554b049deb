"""Admin Console → Audit Kit: the applicant's inputs and the generated kit."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from webapp.admin import bp
from webapp.admin.forms import AuditKitForm
from webapp.auditkit import answers, build, mockups
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
    data = {**build.contents(), **overrides}
    data["answer_warnings"] = answers.wording_warnings(data["answers"])
    return render_template(
        "admin/audit_kit.html", form=form, has_password=bool(kit.demo_password_enc), **data
    ), status


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
    """Send the UX mockup PDF."""
    return Response(
        mockups.pdf(),
        mimetype="application/pdf",
        headers={"Content-Disposition": "inline; filename=ux-mockups.pdf"},
    )


@bp.route("/audit-kit/kit.zip")
def audit_kit_zip():
    """Send the whole kit as one zip."""
    return Response(
        build.zipped(),
        mimetype="application/zip",
        headers={"Content-Disposition": "attachment; filename=audit-kit.zip"},
    )
