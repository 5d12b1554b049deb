"""The reviewer's Guide panel: while the demo user (Audit Kit → demo email) is signed in, every
page shows the current step of the demo guide and highlights the element to use. Next / Back
move through the steps; Close hides the panel for the rest of the session."""

from __future__ import annotations

from flask import redirect, request, session, url_for
from flask_login import current_user

from webapp.auditkit import bp
from webapp.auditkit.guide import Step, steps
from webapp.models import AuditKit, TikTokService

FIRST_AFTER_SIGN_IN = 1  # step 0 is signing in


def reviewer_signed_in() -> bool:
    """Tell whether the signed-in person is the reviewer's demo user."""
    if not current_user.is_authenticated:
        return False
    email = AuditKit.load().demo_email
    return bool(email) and email.lower() == current_user.email.lower()


def _steps() -> list[Step]:
    return steps(TikTokService.load().audited)


def panel_values() -> dict:
    """Return what base.html needs to draw the panel (empty when it isn't shown)."""
    if not reviewer_signed_in() or session.get("guide_closed"):
        return {}
    guide = _steps()
    index = min(max(session.get("guide_step", FIRST_AFTER_SIGN_IN), 0), len(guide) - 1)
    # Arriving on the page a later step leads to moves the panel on by itself.
    for later in range(index, len(guide) - 1):
        if guide[later].arrives and guide[later].arrives == request.endpoint:
            index = later + 1
            session["guide_step"] = index
            break
    step = guide[index]
    return {"guide": {"step": step, "number": index + 1, "total": len(guide)}}


def _back():
    target = request.referrer or url_for("workspaces.home")
    # Only back to our own pages.
    if not target.startswith(request.host_url):
        target = url_for("workspaces.home")
    return redirect(target, code=303)


@bp.route("/next", methods=["POST"])
def next_step():
    """Move to the next step."""
    last = len(_steps()) - 1
    session["guide_step"] = min(session.get("guide_step", FIRST_AFTER_SIGN_IN) + 1, last)
    return _back()


@bp.route("/back", methods=["POST"])
def previous_step():
    """Move to the previous step."""
    session["guide_step"] = max(session.get("guide_step", FIRST_AFTER_SIGN_IN) - 1, 0)
    return _back()


@bp.route("/close", methods=["POST"])
def close():
    """Hide the panel for this session."""
    session["guide_closed"] = True
    return _back()


@bp.route("/open", methods=["POST"])
def reopen():
    """Show the panel again."""
    session.pop("guide_closed", None)
    return _back()
