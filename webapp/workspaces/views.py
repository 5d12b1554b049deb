"""Workspace routes: home (into the current workspace), the list and creating one, the short
addresses from before workspaces, and each workspace's own pages."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from webapp.models import Account, Media, Post
from webapp.permissions import REMEMBERED
from webapp.workspaces import bp, members
from webapp.workspaces.roles import LABELS, Can, allows

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
