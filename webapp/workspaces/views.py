"""Workspace routes: home (into the current workspace), the list and creating one, the short
addresses from before workspaces, and each workspace's own pages."""

from __future__ import annotations

import logging

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user
from redis.exceptions import RedisError

from webapp import mail, tasks
from webapp.addresses import public_url
from webapp.models import Account, Media, Post, User
from webapp.permissions import REMEMBERED, can, requires
from webapp.workspaces import bp, invitations, invite_bp, members, ws_bp
from webapp.workspaces.roles import LABELS, SUMMARIES, Can, Role, allows

log = logging.getLogger(__name__)

# Short addresses from before workspaces: (prefix, the model whose id follows it, if any).
LEGACY = {
    "posts": Post,
    "compose": Post,  # /compose/<post id>/edit
    "media": Media,
    "accounts": Account,
    "calendar": None,
    "notifications": None,
}


# The workspace's own pages in the menu: (endpoint, label, capability needed to see the entry).
WORKSPACE_PAGES = [
    ("posts.approvals", "Approvals", Can.APPROVE),
    ("workspace.members", "Members", Can.VIEW),
    ("workspace.settings", "Settings", Can.MANAGE),
]


def workspace_menu(role) -> list[tuple[str, str]]:
    """Return the menu entries (endpoint, label) of the workspace's own pages for role."""
    return [
        (endpoint, label)
        for endpoint, label, needed in WORKSPACE_PAGES
        if endpoint in current_app.view_functions and allows(role, needed)
    ]


@bp.route("/")
def home():
    """Open the workspace one was last in (or their first); without any, say what to do."""
    workspace = members.default_for(current_user, session.get(REMEMBERED))
    if workspace is None:
        return redirect(url_for("workspaces.index"))
    return redirect(url_for("dashboard.index", ws=workspace.slug))


@bp.route("/workspaces/")
def index():
    """List the workspaces one can enter, with one's role in each, and a form to create one."""
    rows = [(w, members.role_of(current_user, w)) for w in members.workspaces_of(current_user)]
    return render_template("workspaces/index.html", rows=rows, labels=LABELS, name="")


@bp.route("/workspaces/", methods=["POST"])
def create():
    """Create a workspace with oneself as its manager, and open it."""
    name = request.form.get("name", "")
    try:
        workspace = members.create_workspace(name, current_user)
    except members.RuleError as exc:
        rows = [(w, members.role_of(current_user, w)) for w in members.workspaces_of(current_user)]
        return render_template(
            "workspaces/index.html", rows=rows, labels=LABELS, name=name, error=str(exc)
        ), 422
    flash(f"Workspace “{workspace.name}” is created; you are its manager.", "success")
    return redirect(url_for("dashboard.index", ws=workspace.slug), code=303)


def _legacy(area: str, rest: str):
    model = LEGACY[area]
    head = rest.split("/", 1)[0]
    workspace = None
    if model is not None and head.isdigit() and len(head) < 19:
        row = model.get_or_none(model.id == int(head))
        if row is None:
            abort(404)
        workspace = row.workspace
    else:
        workspace = members.default_for(current_user, session.get(REMEMBERED))
    if workspace is None or members.role_of(current_user, workspace) is None:
        abort(404)
    target = f"/w/{workspace.slug}/{area}/{rest}"
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    # GET keeps working as a plain redirect; a form sent to an old address keeps its method.
    return redirect(target, code=302 if request.method in ("GET", "HEAD") else 307)


def _register_legacy() -> None:
    methods = ["GET", "POST"]
    for area in LEGACY:

        def view(rest: str = "", _area=area):
            return _legacy(_area, rest)

        view.__name__ = f"legacy_{area}"
        view.__doc__ = f"Lead the address /{area}/… from before workspaces into its workspace."
        bp.add_url_rule(f"/{area}/", view.__name__, view, methods=methods)
        bp.add_url_rule(f"/{area}/<path:rest>", view.__name__, view, methods=methods)


_register_legacy()


# --- Members and invitations ---------------------------------------------------------------------


def _members_page(status: int = 200, **form):
    """Render the Members page: the members, and (managers) the open invitations and forms."""
    manager = can(Can.MANAGE)
    values = {
        "invite_email": "",
        "invite_role": Role.EDITOR.value,
        "invite_error": "",
        "error": "",
        **form,
    }
    return render_template(
        "workspaces/members.html",
        rows=members.members_of(g.workspace),
        pending=list(invitations.pending(g.workspace)) if manager else [],
        manager=manager,
        roles=list(Role),
        labels=LABELS,
        summaries=SUMMARIES,
        expires_text=invitations.expires_text,
        **values,
    ), status


@ws_bp.route("/members", endpoint="members")
@requires(Can.VIEW)
def members_page():
    """List the workspace's members with their roles; managers also see open invitations."""
    return _members_page()


@ws_bp.route("/members/<int:user_id>/role", methods=["POST"])
@requires(Can.MANAGE)
def member_role(user_id: int):
    """Give a member another role (never leaving the workspace without a manager)."""
    if members.membership(g.workspace, user_id) is None:
        abort(404)
    try:
        row = members.change_role(g.workspace, user_id, request.form.get("role", ""))
    except members.RuleError as exc:
        return _members_page(422, error=str(exc))
    flash(f"{row.user.display_name} is now {LABELS[Role(row.role)].lower()}.", "success")
    return redirect(url_for("workspace.members"), code=303)


@ws_bp.route("/members/<int:user_id>/remove", methods=["GET", "POST"])
@requires(Can.MANAGE)
def member_remove(user_id: int):
    """Ask for confirmation, then take a member out of the workspace (not its last manager)."""
    row = members.membership(g.workspace, user_id)
    if row is None:
        abort(404)
    problem = members.last_manager_problem(row)
    if request.method == "GET" or problem:
        return render_template(
            "workspaces/member_remove.html", row=row, problem=problem, labels=LABELS
        ), 409 if problem and request.method == "POST" else 200
    try:
        members.remove_member(g.workspace, user_id)
    except members.RuleError as exc:
        return render_template(
            "workspaces/member_remove.html", row=row, problem=str(exc), labels=LABELS
        ), 409
    if user_id == current_user.id:
        flash(f"You left “{g.workspace.name}”.", "success")
        return redirect(url_for("workspaces.home"), code=303)
    flash(f"{row.user.display_name} is no longer a member of this workspace.", "success")
    return redirect(url_for("workspace.members"), code=303)


@ws_bp.route("/invitations", methods=["POST"])
@requires(Can.MANAGE)
def invite():
    """Invite someone by email: the link is emailed (SMTP configured) or shown here once."""
    email, role = request.form.get("email", ""), request.form.get("role", "")
    try:
        invited = invitations.invite(g.workspace, email, role, current_user)
    except members.RuleError as exc:
        return _members_page(422, invite_email=email[:254], invite_role=role, invite_error=str(exc))
    invitation = invited.invitation
    link = public_url(url_for("invitations.accept", token=invited.token))
    if mail.enabled():
        try:
            tasks.enqueue_invitation_email(tasks.connection(), invitation.id, link)
        except RedisError:
            log.warning("the email of invitation %s could not be queued", invitation.id)
        else:
            flash(
                f"Invitation emailed to {invitation.email}. The link works once, for "
                f"{invitations.LIFETIME.days} days.",
                "success",
            )
            return redirect(url_for("workspace.members"), code=303)
    # Shown once, never stored: the page isn't kept by the browser or anything between.
    response = current_app.make_response(
        render_template(
            "workspaces/invite_link.html",
            invitation=invitation,
            link=link,
            labels=LABELS,
            expires=invitations.expires_text(invitation),
            emailed=False,
            mail_failed=mail.enabled(),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@ws_bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
@requires(Can.MANAGE)
def invitation_revoke(invitation_id: int):
    """Withdraw an open invitation: its link stops working."""
    try:
        invitation = invitations.revoke(g.workspace, invitation_id)
    except members.RuleError as exc:
        return _members_page(422, error=str(exc))
    flash(
        f"The invitation of {invitation.email} is withdrawn; its link no longer works.", "success"
    )
    return redirect(url_for("workspace.members"), code=303)


def _invite_page(token: str, status: int = 200, **extra):
    try:
        invitation = invitations.look_up(token)
    except invitations.InvitationError as exc:
        response = current_app.make_response(
            (render_template("workspaces/invite_problem.html", problem=str(exc)), exc.status)
        )
    else:
        existing = User.by_email(invitation.email)
        response = current_app.make_response(
            (
                render_template(
                    "workspaces/invite_accept.html",
                    invitation=invitation,
                    token=token,
                    existing=existing,
                    labels=LABELS,
                    summaries=SUMMARIES,
                    role=Role(invitation.role),
                    expires=invitations.expires_text(invitation),
                    name=extra.pop("name", ""),
                    errors=extra.pop("errors", {}),
                    error=extra.pop("error", ""),
                ),
                status,
            )
        )
    response.headers["Cache-Control"] = "no-store"
    return response


@invite_bp.route("/invite/<token>", methods=["GET", "POST"])
def accept(token: str):
    """Show an invitation (workspace, role) and join it: with one's sign-in, or by setting a
    password for a new login. A used, withdrawn, expired or altered link says so plainly."""
    if request.method == "GET":
        return _invite_page(token)
    try:
        invitation = invitations.look_up(token)
    except invitations.InvitationError:
        return _invite_page(token)
    user = current_user._get_current_object() if current_user.is_authenticated else None
    name, password = request.form.get("name", ""), request.form.get("password", "")
    if user is None and User.by_email(invitation.email) is None:
        errors = invitations.new_person_problems(name, password)
        if errors:
            return _invite_page(token, 422, name=name[:200], errors=errors)
    try:
        workspace, user, role = invitations.accept(token, user, name=name, password=password)
    except invitations.InvitationError:
        return _invite_page(token)
    except members.RuleError as exc:
        return _invite_page(token, 409, name=name[:200], error=str(exc))
    if not current_user.is_authenticated:
        login_user(user)
    session[REMEMBERED] = workspace.slug
    flash(f"Welcome to “{workspace.name}”. You are {LABELS[role].lower()} here.", "success")
    return redirect(url_for("dashboard.index", ws=workspace.slug), code=303)


# --- Settings and deleting the workspace ---------------------------------------------------------

_TRUE = {"on", "1", "true", "yes", "y"}


@ws_bp.route("/settings", methods=["GET", "POST"])
@requires(Can.MANAGE)
def settings():
    """Show and save the workspace's name and whether editors' posts need approval."""
    workspace = g.workspace
    name, approval, error = workspace.name, workspace.approval_required, ""
    if request.method == "POST":
        name = request.form.get("name", "")
        raw = request.form.get("approval_required", "")
        approval = raw.strip().lower() in _TRUE
        if raw and not approval:
            error = "“Require approval” is either on (ticked) or off."
        else:
            try:
                members.rename(workspace, name, approval)
            except members.RuleError as exc:
                error = str(exc)
            else:
                flash("Workspace settings saved.", "success")
                return redirect(url_for("workspace.settings"), code=303)
    return render_template(
        "workspaces/settings.html", name=name[:200], approval=approval, error=error
    ), 422 if error else 200


@ws_bp.route("/delete", methods=["GET", "POST"])
@requires(Can.MANAGE)
def delete():
    """Ask for the workspace's name, then delete it with everything in it; refused while it
    has connected accounts or posts on their way (the page says what to do first)."""
    workspace = g.workspace
    blockers = members.delete_blockers(workspace)
    problem = members.delete_problem(blockers)
    error, status = "", 200
    if request.method == "POST" and not problem:
        try:
            members.delete_workspace(workspace, request.form.get("name", ""))
        except members.RuleError as exc:
            error, status = str(exc), 422
        else:
            if session.get(REMEMBERED) == workspace.slug:
                session.pop(REMEMBERED)
            flash(
                f"Workspace “{workspace.name}” is deleted, with its posts, media and accounts.",
                "success",
            )
            return redirect(url_for("workspaces.home"), code=303)
    elif request.method == "POST":
        status = 409
    counts = {
        "posts": Post.select().where(Post.workspace == workspace.id).count(),
        "media": Media.select()
        .where((Media.workspace == workspace.id) & (Media.status != "deleted"))
        .count(),
        "accounts": Account.select().where(Account.workspace == workspace.id).count(),
        "members": len(members.members_of(workspace)),
    }
    return render_template(
        "workspaces/delete.html",
        blockers=blockers,
        problem=problem,
        error=error,
        counts=counts,
    ), status
