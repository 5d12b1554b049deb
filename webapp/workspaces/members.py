"""Rules about workspaces and their members, shared by the web app, the CLI and the jobs (no
Flask): creating a workspace, who is in it with which role, and the edges that must hold (a
workspace always keeps a manager)."""

from __future__ import annotations

import re

import peewee as pw

from webapp.db import db
from webapp.models import Membership, User, Workspace
from webapp.workspaces.roles import Role, parse

NAME_MAX = 80
SLUG_MAX = 40


class RuleError(ValueError):
    """A change refused by a rule; the message is written for the person who asked."""


def name_problem(name: str) -> str:
    """Return what is wrong with a workspace name ('' when nothing)."""
    name = (name or "").strip()
    if not name:
        return "Give the workspace a name."
    if len(name) > NAME_MAX:
        return f"A workspace name has at most {NAME_MAX} characters."
    if any(ord(c) < 32 for c in name):
        return "A workspace name can't contain control characters."
    return ""


def _slug_base(name: str) -> str:
    base = (
        re.sub(r"[^a-z0-9]+", "-", re.sub(r"['’]", "", name.lower()))
        .strip("-")[:SLUG_MAX]
        .strip("-")
    )
    return base or "workspace"


def _free_slug(name: str) -> str:
    base = _slug_base(name)
    taken = {
        w.slug
        for w in Workspace.select(Workspace.slug).where(
            (Workspace.slug == base) | Workspace.slug.startswith(base + "-")
        )
    }
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def create_workspace(name: str, manager: User | None) -> Workspace:
    """Create a workspace named name, with manager (when given) as its first manager."""
    problem = name_problem(name)
    if problem:
        raise RuleError(problem)
    for _ in range(5):  # another request may take the same slug in between
        try:
            with db.atomic():
                workspace = Workspace.create(name=name.strip(), slug=_free_slug(name))
                if manager is not None:
                    Membership.create(workspace=workspace, user=manager, role=Role.MANAGER)
                return workspace
        except pw.IntegrityError:
            continue
    raise RuleError("Couldn't name the workspace's address; try again.")


def personal_name(user: User) -> str:
    """Return the name of the workspace a new person gets: their own."""
    # A person's name may hold characters a workspace name refuses (name_problem).
    name = "".join(c for c in user.name or "" if ord(c) >= 32).strip()
    who = name or user.email.split("@")[0]
    return f"{who}'s workspace"[:NAME_MAX]


def role_of(user: User, workspace: Workspace | int) -> Role | None:
    """Return user's role in workspace: their membership's, manager for instance admins, or
    None when they aren't in it."""
    row = (
        Membership.select(Membership.role)
        .where((Membership.workspace == workspace) & (Membership.user == user.id))
        .first()
    )
    if row is not None:
        return parse(row.role)
    return Role.MANAGER if user.is_admin else None


def workspaces_of(user: User) -> list[Workspace]:
    """Return the workspaces user can enter, by name: their own, or every one for admins."""
    query = Workspace.select()
    if not user.is_admin:
        query = query.join(Membership).where(Membership.user == user.id)
    return list(query.order_by(pw.fn.LOWER(Workspace.name), Workspace.id))


def default_for(user: User, remembered: str | None = None) -> Workspace | None:
    """Return the workspace to open for user: the one remembered (when they can still enter
    it), else their first membership, else (admins) the first workspace, else None."""
    if remembered:
        workspace = Workspace.get_or_none(Workspace.slug == remembered)
        if workspace is not None and role_of(user, workspace) is not None:
            return workspace
    first = (
        Workspace.select()
        .join(Membership)
        .where(Membership.user == user.id)
        .order_by(Membership.created_at, Membership.id)
        .first()
    )
    if first is None and user.is_admin:
        first = Workspace.select().order_by(Workspace.id).first()
    return first


def managers_of(workspace: Workspace | int) -> list[int]:
    """Return the ids of the workspace's active managers."""
    return [
        m.user_id
        for m in Membership.select(Membership.user)
        .join(User)
        .where(
            (Membership.workspace == workspace)
            & (Membership.role == Role.MANAGER)
            & (User.active == True)  # noqa: E712
        )
    ]
