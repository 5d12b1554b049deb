"""Access rules applied in views (never only in templates): sign-in, the Admin Console, and the
workspace a URL names with the role the route needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Flask, abort, current_app, g, request, session
from flask_login import current_user

from webapp.extensions import login_manager

if TYPE_CHECKING:
    from webapp.workspaces.roles import Can

# Every workspace route starts with this; the views never see `ws` (it becomes g.workspace).
WORKSPACE_PREFIX = "/w/<ws>"
# The workspace a person was last in: where the short addresses (/posts/12, /compose/) lead.
REMEMBERED = "workspace"


def require_login(bp: Blueprint) -> None:
    """Send anonymous users of every route in bp to the sign-in page."""

    @bp.before_request
    def _login_required():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return None


def require_admin(bp: Blueprint) -> None:
    """Send anonymous users to sign in and refuse members (403) on every route in bp."""

    @bp.before_request
    def _admin_required():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return None


def requires(capability: Can):
    """Name the capability a workspace route needs; the check runs before the view (every
    workspace route must name one: tests/test_routes_security.py)."""

    def mark(view):
        view.capability = capability
        return view

    return mark


def capability_of(endpoint: str | None) -> Can | None:
    """Return the capability the view at endpoint declared (None: none declared)."""
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, "capability", None)


def can(capability: Can) -> bool:
    """Tell whether the signed-in person may do capability in the current workspace."""
    from webapp.workspaces.roles import allows

    return allows(g.get("role"), capability)


def link_workspace():
    """Return the workspace the menu's links lead to: the one the page is in, else the one the
    person was last in (or their first), else None (they are in none)."""
    if "workspace" in g and g.workspace is not None:
        return g.workspace
    if "link_workspace" not in g:
        from webapp.workspaces.members import default_for

        g.link_workspace = (
            default_for(current_user, session.get(REMEMBERED))
            if current_user.is_authenticated
            else None
        )
    return g.link_workspace


def init_app(app: Flask) -> None:
    """Resolve the workspace every `/w/<ws>/...` URL names, refusing non-members (404) and
    roles without the route's capability (403); fill `ws` in when url_for builds a
    workspace URL from within one. Call after the database is wired (webapp.db.init_app)."""
    expecting: dict[str, bool] = {}

    @app.url_value_preprocessor
    def _take_slug(endpoint, values):
        if values and "ws" in values:
            g.ws_slug = values.pop("ws")

    @app.before_request
    def _enter_workspace():
        slug = g.pop("ws_slug", None)
        if slug is None:
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        from webapp.models import Workspace
        from webapp.workspaces.members import role_of
        from webapp.workspaces.roles import allows

        workspace = Workspace.get_or_none(Workspace.slug == slug)
        role = role_of(current_user, workspace) if workspace is not None else None
        if role is None:
            abort(404)  # a workspace one isn't in looks like one that doesn't exist
        g.workspace, g.role = workspace, role
        needed = capability_of(request.endpoint)
        if needed is None or not allows(role, needed):
            g.refusal = needed
            abort(403)
        if session.get(REMEMBERED) != slug:
            session[REMEMBERED] = slug
        return None

    @app.url_defaults
    def _fill_slug(endpoint, values):
        if "ws" in values:
            return
        if endpoint not in expecting:
            try:
                expecting[endpoint] = app.url_map.is_endpoint_expecting(endpoint, "ws")
            except KeyError:  # no such endpoint: url_for raises its own BuildError next
                return
        if not expecting[endpoint]:
            return
        workspace = link_workspace()
        if workspace is not None:
            values["ws"] = workspace.slug
